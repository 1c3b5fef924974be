package wire

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coffer-vault/coffer/vault/object"
)

// Invite is what an invite code carries (docs/sync-protocol.md, "Invite
// codes").
type Invite struct {
	Org       object.ID
	AdminFP   [32]byte // SHA-256 of the admin public key
	TLS       [32]byte // SHA-256 of the server's TLS SubjectPublicKeyInfo
	Seed      [32]byte // the invite key's ed25519 seed
	ServerURL string
}

const invitePrefix = "COFFER1-"

// ErrInviteCode is wrapped by every error ParseInvite returns.
var ErrInviteCode = errors.New("not a valid invite code")

// Key returns the invite's private key.
func (i Invite) Key() ed25519.PrivateKey { return ed25519.NewKeyFromSeed(i.Seed[:]) }

// String returns the invite code.
func (i Invite) String() string {
	b := []byte{1}
	b = append(b, i.Org[:]...)
	b = append(b, i.AdminFP[:]...)
	b = append(b, i.TLS[:]...)
	b = append(b, i.Seed[:]...)
	b = append(b, i.ServerURL...)
	return invitePrefix + base64.RawURLEncoding.EncodeToString(b)
}

// ParseInvite decodes an invite code (spaces and line breaks from copying
// are ignored).
func ParseInvite(code string) (Invite, error) {
	var inv Invite
	code = strings.Join(strings.Fields(code), "")
	rest, ok := strings.CutPrefix(code, invitePrefix)
	if !ok {
		return inv, fmt.Errorf("%w: it should start with %s", ErrInviteCode, invitePrefix)
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(b) < 1+4*32+len("https://x") || b[0] != 1 {
		return inv, fmt.Errorf("%w: it is cut short or mistyped", ErrInviteCode)
	}
	b = b[1:]
	copy(inv.Org[:], b[0:32])
	copy(inv.AdminFP[:], b[32:64])
	copy(inv.TLS[:], b[64:96])
	copy(inv.Seed[:], b[96:128])
	inv.ServerURL = string(b[128:])
	u, err := url.Parse(inv.ServerURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || !utf8.ValidString(inv.ServerURL) || strings.ContainsFunc(inv.ServerURL, unicode.IsControl) {
		return inv, fmt.Errorf("%w: it holds no https server address (mistyped, cut short, or with extra text)", ErrInviteCode)
	}
	return inv, nil
}

// crockford is Crockford's base32 alphabet: no I, L, O or U to misread.
var crockford = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// PairingCode is the code a new device shows and an existing device's user
// types to approve it: 60 bits of SHA-256 over everything the request
// says, as XXXX-XXXX-XXXX. A server that swapped the request's keys would
// need a collision within the minutes the code is on screen.
func PairingCode(id object.ID, r PairingRequest) string {
	h := sha256.New()
	fmt.Fprintf(h, "coffer pairing v1\n%s\n%s\n", id, r.Device.String())
	for _, s := range []string{base64.StdEncoding.EncodeToString(r.Key), base64.StdEncoding.EncodeToString(r.Transport), r.Recipient, r.Email, r.Name} {
		fmt.Fprintf(h, "%d:%s\n", len(s), s)
	}
	c := crockford.EncodeToString(h.Sum(nil))[:12]
	return c[0:4] + "-" + c[4:8] + "-" + c[8:12]
}

// NormalizePairingCode accepts a code typed with spaces, lowercase or
// without dashes, and the letters Crockford reads as digits.
func NormalizePairingCode(s string) string {
	s = strings.ToUpper(strings.NewReplacer("-", "", " ", "", "O", "0", "I", "1", "L", "1").Replace(s))
	if len(s) != 12 {
		return s
	}
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12]
}

// String returns the ID in lowercase hex.
func (h HexID) String() string { return object.ID(h).String() }

// TimeText is the text the server signs to vouch for its clock in the
// response to the request with nonce.
func TimeText(org object.ID, t time.Time, nonce string) string {
	return fmt.Sprintf("coffer time v1\norg %s\ntime %d\nnonce %s\n", org, t.UnixNano(), nonce)
}

// SignTime returns the Coffer-Time and Coffer-Time-Signature values.
func SignTime(key ed25519.PrivateKey, org object.ID, t time.Time, nonce string) (string, string) {
	sig := ed25519.Sign(key, []byte(TimeText(org, t, nonce)))
	return strconv.FormatInt(t.UnixNano(), 10), base64.StdEncoding.EncodeToString(sig)
}

// VerifyTime checks a response's time against the server key and the
// request's nonce, and returns it.
func VerifyTime(server ed25519.PublicKey, org object.ID, nonce, timeHeader, sigHeader string) (time.Time, error) {
	ns, err := strconv.ParseInt(timeHeader, 10, 64)
	if err != nil {
		return time.Time{}, errors.New("the server's time is missing or malformed")
	}
	sig, err := base64.StdEncoding.DecodeString(sigHeader)
	t := time.Unix(0, ns)
	if err != nil || !ed25519.Verify(server, []byte(TimeText(org, t, nonce)), sig) {
		return time.Time{}, errors.New("the server's time is not signed by the server key")
	}
	return t, nil
}
