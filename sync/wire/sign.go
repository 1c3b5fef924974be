package wire

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dunglas/httpsfv"
)

// Request signatures in the manner of RFC 9421 (HTTP Message Signatures),
// docs/sync-protocol.md "Request authentication". Every request covers the
// same components, in this order; the signature label is "coffer".
var covered = []string{"@method", "@path", "@query", "content-digest", "coffer-protocol"}

const (
	sigLabel = "coffer"
	// MaxSkew is how far a request's created time may be from the
	// server's clock, and the longest a signature may be valid.
	MaxSkew = 60 * time.Second
)

// Errors from VerifyRequest; test with errors.Is.
var (
	ErrUnsigned  = errors.New("request is not signed")
	ErrBadSig    = errors.New("request signature is not valid")
	ErrClockSkew = errors.New("request time is too far from the server's clock")
	ErrExpired   = errors.New("request signature has expired")
)

// Digest returns the Content-Digest field value of body (RFC 9530).
func Digest(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
}

// SignRequest signs req, whose body is body (nil for none), as keyID with
// key at now. It sets Coffer-Protocol, Content-Digest, Signature-Input and
// Signature, and returns the nonce, which the server's time signature will
// name.
func SignRequest(req *http.Request, body []byte, keyID string, key ed25519.PrivateKey, now time.Time) (string, error) {
	var n [16]byte
	if _, err := rand.Read(n[:]); err != nil {
		return "", err
	}
	nonce := base64.StdEncoding.EncodeToString(n[:])
	req.Header.Set(HeaderProtocol, strconv.Itoa(ProtocolVersion))
	req.Header.Set("Content-Digest", Digest(body))
	params := signatureParams(now.Unix(), now.Add(MaxSkew).Unix(), nonce, keyID)
	base, err := signatureBase(req, params)
	if err != nil {
		return "", err
	}
	sig := ed25519.Sign(key, []byte(base))
	req.Header.Set("Signature-Input", sigLabel+"="+params)
	d := httpsfv.NewDictionary()
	d.Add(sigLabel, httpsfv.NewItem(sig))
	v, err := httpsfv.Marshal(d)
	if err != nil {
		return "", err
	}
	req.Header.Set("Signature", v)
	return nonce, nil
}

// signatureParams serialises the inner list of covered components with its
// parameters, as it appears after "coffer=" in Signature-Input and on the
// "@signature-params" line of the signature base.
func signatureParams(created, expires int64, nonce, keyID string) string {
	il := httpsfv.InnerList{Params: httpsfv.NewParams()}
	for _, c := range covered {
		il.Items = append(il.Items, httpsfv.NewItem(c))
	}
	il.Params.Add("created", created)
	il.Params.Add("expires", expires)
	il.Params.Add("nonce", nonce)
	il.Params.Add("keyid", keyID)
	il.Params.Add("alg", "ed25519")
	return marshalInner(il)
}

func marshalInner(il httpsfv.InnerList) string {
	d := httpsfv.NewDictionary()
	d.Add(sigLabel, il)
	v, err := httpsfv.Marshal(d)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(v, sigLabel+"=")
}

// signatureBase builds RFC 9421's signature base for the covered
// components of req.
func signatureBase(req *http.Request, params string) (string, error) {
	var b strings.Builder
	for _, c := range covered {
		var v string
		switch c {
		case "@method":
			v = req.Method
		case "@path":
			v = req.URL.EscapedPath()
			if v == "" {
				v = "/"
			}
		case "@query":
			v = "?" + req.URL.RawQuery
		default:
			vals := req.Header.Values(c)
			if len(vals) != 1 {
				return "", fmt.Errorf("%w: want one %s header", ErrBadSig, c)
			}
			v = strings.TrimSpace(vals[0])
		}
		fmt.Fprintf(&b, "%q: %s\n", c, v)
	}
	fmt.Fprintf(&b, "%q: %s", "@signature-params", params)
	return b.String(), nil
}

// Signed is what a verified signature says.
type Signed struct {
	KeyID   string
	Nonce   string
	Created time.Time
}

// ParseSignature reads the key ID and parameters of req's signature
// without checking it, so that the server can look up the key.
func ParseSignature(req *http.Request) (Signed, httpsfv.InnerList, error) {
	var s Signed
	in := req.Header.Values("Signature-Input")
	if len(in) == 0 || len(req.Header.Values("Signature")) == 0 {
		return s, httpsfv.InnerList{}, ErrUnsigned
	}
	d, err := httpsfv.UnmarshalDictionary(in)
	if err != nil {
		return s, httpsfv.InnerList{}, fmt.Errorf("%w: Signature-Input: %v", ErrBadSig, err)
	}
	m, ok := d.Get(sigLabel)
	il, isList := m.(httpsfv.InnerList)
	if !ok || !isList || len(d.Names()) != 1 {
		return s, il, fmt.Errorf("%w: want one %q signature", ErrBadSig, sigLabel)
	}
	if len(il.Items) != len(covered) {
		return s, il, fmt.Errorf("%w: covers other components", ErrBadSig)
	}
	for i, it := range il.Items {
		if c, ok := it.Value.(string); !ok || c != covered[i] || len(it.Params.Names()) != 0 {
			return s, il, fmt.Errorf("%w: covers other components", ErrBadSig)
		}
	}
	if names := strings.Join(il.Params.Names(), ","); names != "created,expires,nonce,keyid,alg" {
		return s, il, fmt.Errorf("%w: parameters %s", ErrBadSig, names)
	}
	created, _ := il.Params.Get("created")
	nonce, _ := il.Params.Get("nonce")
	keyID, _ := il.Params.Get("keyid")
	alg, _ := il.Params.Get("alg")
	c, ok1 := created.(int64)
	n, ok2 := nonce.(string)
	k, ok3 := keyID.(string)
	if !ok1 || !ok2 || !ok3 || alg != "ed25519" || len(n) < 16 || len(n) > 64 || k == "" {
		return s, il, fmt.Errorf("%w: bad parameters", ErrBadSig)
	}
	return Signed{KeyID: k, Nonce: n, Created: time.Unix(c, 0)}, il, nil
}

// VerifyRequest checks req's signature with key at the server's time now:
// the body digest, the signature over the base, the created time within
// MaxSkew of now, and the expiry. Nonce reuse is the caller's to check
// (it needs shared state).
func VerifyRequest(req *http.Request, body []byte, key ed25519.PublicKey, now time.Time) (Signed, error) {
	s, err := VerifyHeaders(req, key, now)
	if err != nil {
		return s, err
	}
	return s, VerifyBody(req, body)
}

// VerifyBody checks that body is the one req's Content-Digest names. With
// VerifyHeaders first it is VerifyRequest: a server verifies the headers
// before it reads a body, so that no one unauthenticated makes it hold
// one.
func VerifyBody(req *http.Request, body []byte) error {
	if got := req.Header.Get("Content-Digest"); got != Digest(body) {
		return fmt.Errorf("%w: the body does not match its digest", ErrBadSig)
	}
	return nil
}

// VerifyHeaders is VerifyRequest without the body: the signature covers
// the Content-Digest field, not the body it names (VerifyBody).
func VerifyHeaders(req *http.Request, key ed25519.PublicKey, now time.Time) (Signed, error) {
	s, il, err := ParseSignature(req)
	if err != nil {
		return s, err
	}
	if v := req.Header.Values(HeaderProtocol); len(v) != 1 || v[0] != strconv.Itoa(ProtocolVersion) {
		return s, fmt.Errorf("%w: protocol version", ErrBadSig)
	}
	if v := req.Header.Values("Content-Digest"); len(v) != 1 {
		return s, fmt.Errorf("%w: Content-Digest", ErrBadSig)
	}
	sd, err := httpsfv.UnmarshalDictionary(req.Header.Values("Signature"))
	if err != nil {
		return s, fmt.Errorf("%w: Signature: %v", ErrBadSig, err)
	}
	m, ok := sd.Get(sigLabel)
	item, isItem := m.(httpsfv.Item)
	sig, isBytes := item.Value.([]byte)
	if !ok || !isItem || !isBytes || len(sig) != ed25519.SignatureSize {
		return s, fmt.Errorf("%w: Signature", ErrBadSig)
	}
	base, err := signatureBase(req, marshalInner(il))
	if err != nil {
		return s, err
	}
	if !ed25519.Verify(key, []byte(base), sig) {
		return s, ErrBadSig
	}
	expires, _ := il.Params.Get("expires")
	exp, ok := expires.(int64)
	if !ok || exp < s.Created.Unix() || time.Duration(exp-s.Created.Unix())*time.Second > MaxSkew {
		return s, fmt.Errorf("%w: bad expiry", ErrBadSig)
	}
	if skew := now.Sub(s.Created); skew > MaxSkew || skew < -MaxSkew {
		return s, fmt.Errorf("%w (%s)", ErrClockSkew, skew.Round(time.Second))
	}
	if now.Unix() > exp {
		return s, ErrExpired
	}
	return s, nil
}
