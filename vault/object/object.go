// Package object defines the envelope every vault object is stored in: a
// fixed header naming the format version, the object's kind, its ID and its
// signer, then an age-encrypted body, then (for signed kinds) an ed25519
// signature over all of it.
//
// The envelope is the unit a server stores and relays. It reveals the kind,
// the ID, the signer's public key and the size; everything else is inside the
// age ciphertext. See docs/vault-format.md, "Objects".
package object

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Version is the envelope format version written by this package.
const Version = 1

// Magic opens every object.
var Magic = [4]byte{'C', 'F', 'R', 0}

// HeaderSize is the size of the fixed header: magic, version, kind, ID, signer.
const HeaderSize = 4 + 1 + 1 + IDSize + ed25519.PublicKeySize

// IDSize is the size of an object ID in bytes.
const IDSize = 32

// MaxSize bounds any object this package will parse: a chunk is at most a few
// MiB, a manifest of a very large file a few MiB more.
const MaxSize = 64 << 20

// sigContext separates object signatures from any other ed25519 use of the
// same key.
const sigContext = "coffer object signature v1\x00"

// Kind says what an object holds. Kinds are part of the format: never reuse a
// number.
type Kind uint8

const (
	KindChunk    Kind = 1 // a piece of file content, encrypted to a folder key
	KindManifest Kind = 2 // one version of one file
	KindFolder   Kind = 3 // a folder's name and class
	KindKeyring  Kind = 4 // a folder key of one epoch, wrapped to a member
	KindDevice   Kind = 5 // a device certificate, signed by the user key
	KindPolicy   Kind = 6 // a policy document, signed by the issuer key
)

// Kinds lists every kind, in storage order.
var Kinds = []Kind{KindDevice, KindPolicy, KindKeyring, KindFolder, KindChunk, KindManifest}

// String returns the kind's storage name.
func (k Kind) String() string {
	switch k {
	case KindChunk:
		return "chunk"
	case KindManifest:
		return "manifest"
	case KindFolder:
		return "folder"
	case KindKeyring:
		return "keyring"
	case KindDevice:
		return "device"
	case KindPolicy:
		return "policy"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Signed reports whether objects of this kind carry a signature. Chunks do
// not: they are named by a keyed hash of their plaintext, and the signed
// manifest that lists them vouches for them.
func (k Kind) Signed() bool { return k != KindChunk }

func (k Kind) valid() bool { return k >= KindChunk && k <= KindPolicy }

// ID names an object.
type ID [IDSize]byte

// NewRandomID returns a fresh random ID. Object IDs other than chunk IDs are
// random, never derived from names or contents.
func NewRandomID() ID {
	var id ID
	if _, err := rand.Read(id[:]); err != nil {
		panic("object: system random source failed: " + err.Error())
	}
	return id
}

// String returns the ID in lowercase hex.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether the ID is all zeroes.
func (id ID) IsZero() bool { return id == ID{} }

// ParseID parses a hex ID.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*IDSize {
		return id, fmt.Errorf("object ID %q: want %d hex digits", s, 2*IDSize)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("object ID %q: %w", s, err)
	}
	return id, nil
}

// Errors returned by Parse and Verify. They are wrapped; test with errors.Is.
var (
	ErrTruncated    = errors.New("object is truncated")
	ErrNotObject    = errors.New("not a coffer object")
	ErrVersion      = errors.New("object format version is not supported")
	ErrBadSignature = errors.New("object signature is not valid")
	ErrMismatch     = errors.New("object does not match its name")
)

// Object is a parsed envelope. Body is the age ciphertext.
type Object struct {
	Kind      Kind
	ID        ID
	Signer    ed25519.PublicKey // nil for unsigned kinds
	Body      []byte
	Signature []byte // nil for unsigned kinds
}

// Seal builds the envelope for body. Signed kinds need key; unsigned kinds
// must pass nil.
func Seal(kind Kind, id ID, body []byte, key ed25519.PrivateKey) ([]byte, error) {
	if !kind.valid() {
		return nil, fmt.Errorf("object: unknown kind %d", kind)
	}
	if kind.Signed() != (key != nil) {
		return nil, fmt.Errorf("object: %v objects must %s", kind, map[bool]string{true: "be signed", false: "not be signed"}[kind.Signed()])
	}
	n := HeaderSize + len(body)
	if kind.Signed() {
		n += ed25519.SignatureSize
	}
	out := make([]byte, 0, n)
	out = appendHeader(out, kind, id, key)
	out = append(out, body...)
	if kind.Signed() {
		out = append(out, ed25519.Sign(key, signedMessage(out))...)
	}
	return out, nil
}

// AppendHeader appends the header of an unsigned object to dst, so a caller
// can stream the body after it.
func AppendHeader(dst []byte, kind Kind, id ID) []byte {
	return appendHeader(dst, kind, id, nil)
}

func appendHeader(dst []byte, kind Kind, id ID, key ed25519.PrivateKey) []byte {
	dst = append(dst, Magic[:]...)
	dst = append(dst, Version, byte(kind))
	dst = append(dst, id[:]...)
	if key != nil {
		dst = append(dst, key.Public().(ed25519.PublicKey)...)
	} else {
		dst = append(dst, make([]byte, ed25519.PublicKeySize)...)
	}
	return dst
}

func signedMessage(headerAndBody []byte) []byte {
	msg := make([]byte, 0, len(sigContext)+len(headerAndBody))
	msg = append(msg, sigContext...)
	return append(msg, headerAndBody...)
}

// Parse decodes an envelope without checking the signature; use Verify for
// that. It never panics on any input.
func Parse(data []byte) (*Object, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d-byte limit", ErrNotObject, len(data), MaxSize)
	}
	if len(data) < HeaderSize {
		if len(data) >= 4 && !bytes.Equal(data[:4], Magic[:]) {
			return nil, ErrNotObject
		}
		return nil, fmt.Errorf("%w: %d bytes, header needs %d", ErrTruncated, len(data), HeaderSize)
	}
	if !bytes.Equal(data[:4], Magic[:]) {
		return nil, ErrNotObject
	}
	if data[4] != Version {
		return nil, fmt.Errorf("%w: version %d (this build reads %d); update Coffer", ErrVersion, data[4], Version)
	}
	o := &Object{Kind: Kind(data[5])}
	if !o.Kind.valid() {
		return nil, fmt.Errorf("%w: unknown kind %d", ErrNotObject, data[5])
	}
	copy(o.ID[:], data[6:6+IDSize])
	signer := data[6+IDSize : HeaderSize]
	rest := data[HeaderSize:]
	if o.Kind.Signed() {
		if len(rest) < ed25519.SignatureSize {
			return nil, fmt.Errorf("%w: no room for a signature", ErrTruncated)
		}
		o.Signer = ed25519.PublicKey(bytes.Clone(signer))
		o.Body = rest[:len(rest)-ed25519.SignatureSize]
		o.Signature = rest[len(rest)-ed25519.SignatureSize:]
	} else {
		if !bytes.Equal(signer, make([]byte, ed25519.PublicKeySize)) {
			return nil, fmt.Errorf("%w: unsigned %v names a signer", ErrNotObject, o.Kind)
		}
		o.Body = rest
	}
	return o, nil
}

// Verify checks the signature of a signed object against its embedded signer.
// Whether that signer is trusted is the caller's decision.
func Verify(data []byte, o *Object) error {
	if !o.Kind.Signed() {
		return nil
	}
	if len(data) < HeaderSize+ed25519.SignatureSize {
		return ErrTruncated
	}
	if len(o.Signer) != ed25519.PublicKeySize || len(o.Signature) != ed25519.SignatureSize {
		return ErrBadSignature
	}
	signed := data[:len(data)-ed25519.SignatureSize]
	if !ed25519.Verify(o.Signer, signedMessage(signed), o.Signature) {
		return ErrBadSignature
	}
	return nil
}

// Open parses data, checks it is the object named kind/id and, for signed
// kinds, that its signature is valid. It returns the parsed object.
func Open(data []byte, kind Kind, id ID) (*Object, error) {
	o, err := Parse(data)
	if err != nil {
		return nil, err
	}
	if o.Kind != kind || o.ID != id {
		return nil, fmt.Errorf("%w: stored as %v %s, says %v %s", ErrMismatch, kind, short(id), o.Kind, short(o.ID))
	}
	if err := Verify(data, o); err != nil {
		return nil, err
	}
	return o, nil
}

func short(id ID) string { return id.String()[:12] }

// MarshalJSON writes the ID as a JSON string of lowercase hex, the form
// docs/vault-format.md gives for IDs inside object bodies.
func (id ID) MarshalJSON() ([]byte, error) {
	return []byte(`"` + id.String() + `"`), nil
}

// UnmarshalJSON reads an ID written as lowercase hex, or, as format
// version 1 wrote them before it was settled, as an array of 32 numbers
// (vaults made then, vault/testdata/frozen-v1 among them, stay readable).
func (id *ID) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := ParseID(s)
		if err != nil || strings.ToLower(s) != s {
			return fmt.Errorf("object ID %q: want %d lowercase hex digits", s, 2*IDSize)
		}
		*id = v
		return nil
	}
	var arr [IDSize]byte
	if err := json.Unmarshal(b, &arr); err != nil {
		return fmt.Errorf("object ID: want a string of hex digits: %w", err)
	}
	*id = arr
	return nil
}
