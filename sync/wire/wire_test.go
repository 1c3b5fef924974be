package wire

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/vault/object"
)

func newKey(t testing.TB) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func signed(t *testing.T, method, target string, body []byte, key ed25519.PrivateKey, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SignRequest(req, body, "device:abc", key, at); err != nil {
		t.Fatal(err)
	}
	return req
}

func TestSignedRequests(t *testing.T) {
	key := newKey(t)
	pub := key.Public().(ed25519.PublicKey)
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"folder":"x"}`)
	req := signed(t, "POST", "https://coffer.test/v1/objects/has?x=1", body, key, now)
	s, err := VerifyRequest(req, body, pub, now.Add(5*time.Second))
	if err != nil || s.KeyID != "device:abc" || len(s.Nonce) < 16 {
		t.Fatalf("verify: %+v, %v", s, err)
	}
	cases := map[string]struct {
		edit func(r *http.Request) []byte
		now  time.Time
		want error
	}{
		"other body":      {func(r *http.Request) []byte { return []byte(`{"folder":"y"}`) }, now, ErrBadSig},
		"other method":    {func(r *http.Request) []byte { r.Method = "PUT"; return body }, now, ErrBadSig},
		"other path":      {func(r *http.Request) []byte { r.URL.Path = "/v1/objects/hax"; return body }, now, ErrBadSig},
		"other query":     {func(r *http.Request) []byte { r.URL.RawQuery = "x=2"; return body }, now, ErrBadSig},
		"digest replaced": {func(r *http.Request) []byte { b := []byte("z"); r.Header.Set("Content-Digest", Digest(b)); return b }, now, ErrBadSig},
		"unsigned":        {func(r *http.Request) []byte { r.Header.Del("Signature"); return body }, now, ErrUnsigned},
		"clock ahead":     {func(r *http.Request) []byte { return body }, now.Add(-2 * time.Minute), ErrClockSkew},
		"expired":         {func(r *http.Request) []byte { return body }, now.Add(61 * time.Second), ErrClockSkew},
		"other protocol":  {func(r *http.Request) []byte { r.Header.Set(HeaderProtocol, "1"); return body }, now, ErrBadSig},
		"extra signature label": {func(r *http.Request) []byte {
			r.Header.Set("Signature-Input", r.Header.Get("Signature-Input")+`, evil=("@method");created=1;expires=2;nonce="aaaaaaaaaaaaaaaaaaaa";keyid="admin";alg="ed25519"`)
			return body
		}, now, ErrBadSig},
		"fewer components": {func(r *http.Request) []byte {
			r.Header.Set("Signature-Input", strings.Replace(r.Header.Get("Signature-Input"), ` "@query"`, "", 1))
			return body
		}, now, ErrBadSig},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := signed(t, "POST", "https://coffer.test/v1/objects/has?x=1", body, key, now)
			b := tc.edit(r)
			if _, err := VerifyRequest(r, b, pub, tc.now); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	other := newKey(t).Public().(ed25519.PublicKey)
	if _, err := VerifyRequest(req, body, other, now); !errors.Is(err, ErrBadSig) {
		t.Fatalf("verified with another key: %v", err)
	}
}

func TestInviteCode(t *testing.T) {
	inv := Invite{Org: object.NewRandomID(), ServerURL: "https://coffer.acme.test:8443"}
	rand.Read(inv.AdminFP[:])
	rand.Read(inv.TLS[:])
	rand.Read(inv.Seed[:])
	code := inv.String()
	// Copied from an e-mail: broken over lines, with spaces.
	got, err := ParseInvite(" " + code[:20] + "\n " + code[20:] + "\n")
	if err != nil || got != inv {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "COFFER2-" + code[8:], code[:40], code[:len(code)-3] + "!!!",
		Invite{Org: inv.Org, ServerURL: "http://plain.test"}.String()} {
		if _, err := ParseInvite(bad); !errors.Is(err, ErrInviteCode) {
			t.Errorf("ParseInvite(%.30q…) = %v", bad, err)
		}
	}
}

func TestPairingCode(t *testing.T) {
	id := object.NewRandomID()
	r := PairingRequest{Email: "ann@acme.test", Device: HexID(object.NewRandomID()), Key: make([]byte, 32), Transport: make([]byte, 32),
		Recipient: "age1pq…", Name: "Ann's desktop"}
	c := PairingCode(id, r)
	if len(c) != 14 || c != PairingCode(id, r) || NormalizePairingCode(strings.ToLower(strings.ReplaceAll(c, "-", " "))) != c {
		t.Fatalf("code %q", c)
	}
	r.Key[0] = 1
	if PairingCode(id, r) == c {
		t.Fatal("another key gave the same code")
	}
}

func TestServerTime(t *testing.T) {
	key := newKey(t)
	org := object.NewRandomID()
	now := time.Unix(1_800_000_000, 123)
	tv, sig := SignTime(key, org, now, "nonce-1")
	got, err := VerifyTime(key.Public().(ed25519.PublicKey), org, "nonce-1", tv, sig)
	if err != nil || !got.Equal(now) {
		t.Fatalf("verify: %v %v", got, err)
	}
	if _, err := VerifyTime(key.Public().(ed25519.PublicKey), org, "nonce-2", tv, sig); err == nil {
		t.Fatal("a time signed for another request verified")
	}
}

// FuzzParseSignature: Signature-Input and Signature come from anyone.
func FuzzParseSignature(f *testing.F) {
	key := newKey(f)
	req, _ := http.NewRequest("GET", "https://x.test/v1/feed", nil)
	SignRequest(req, nil, "device:abc", key, time.Unix(1, 0))
	f.Add(req.Header.Get("Signature-Input"), req.Header.Get("Signature"))
	f.Fuzz(func(t *testing.T, input, sig string) {
		r, _ := http.NewRequest("GET", "https://x.test/v1/feed", nil)
		r.Header.Set("Signature-Input", input)
		r.Header.Set("Signature", sig)
		r.Header.Set(HeaderProtocol, strconv.Itoa(ProtocolVersion))
		r.Header.Set("Content-Digest", Digest(nil))
		_, _ = VerifyRequest(r, nil, key.Public().(ed25519.PublicKey), time.Unix(1, 0))
	})
}

// FuzzParseInvite: invite codes are pasted by people from e-mails.
func FuzzParseInvite(f *testing.F) {
	inv := Invite{Org: object.NewRandomID(), ServerURL: "https://x.test"}
	f.Add(inv.String())
	f.Fuzz(func(t *testing.T, code string) {
		inv, err := ParseInvite(code)
		if err == nil && !strings.HasPrefix(inv.ServerURL, "https://") {
			t.Fatalf("accepted server %q", inv.ServerURL)
		}
	})
}

func TestFuzzSeedsPresent(t *testing.T) {
	if os.Getenv("COFFER_WRITE_SEEDS") != "" {
		key := newKey(t)
		req, _ := http.NewRequest("GET", "https://x.test/v1/feed", nil)
		SignRequest(req, nil, "device:abc", key, time.Unix(1, 0))
		in, sig := req.Header.Get("Signature-Input"), req.Header.Get("Signature")
		enc := func(a, b string) []byte {
			return []byte("go test fuzz v1\nstring(" + quote(a) + ")\nstring(" + quote(b) + ")\n")
		}
		testenv.WriteFuzzSeeds(t, "FuzzParseSignature", map[string][]byte{
			"good": enc(in, sig), "empty": enc("", ""), "no-params": enc(`coffer=("@method")`, sig),
			"two-labels": enc(in+`, x=()`, sig), "bad-bytes": enc(in, "coffer=:!!:"),
		})
		inv := Invite{Org: object.NewRandomID(), ServerURL: "https://coffer.acme.test"}
		one := func(s string) []byte { return []byte("go test fuzz v1\nstring(" + quote(s) + ")\n") }
		testenv.WriteFuzzSeeds(t, "FuzzParseInvite", map[string][]byte{
			"good": one(inv.String()), "http": one(Invite{ServerURL: "http://x.test"}.String()), "short": one("COFFER1-AAAA"),
			"other-prefix": one("COFFER9-" + inv.String()[8:]), "spaces": one(" " + inv.String() + " \n"),
		})
	}
	testenv.CheckFuzzSeeds(t)
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
