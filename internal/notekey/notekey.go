// Package notekey signs and verifies signed notes (golang.org/x/mod/sumdb/note)
// with ed25519 keys Coffer already holds, instead of note's own encoded key
// strings: a device key, a user key or the organisation's admin key.
//
// A note's key name must be non-empty UTF-8 without spaces or "+"; callers
// use names such as "coffer-device-<hex ID>".
package notekey

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"golang.org/x/mod/sumdb/note"
)

// algEd25519 is note's algorithm byte for Ed25519 keys.
const algEd25519 = 1

// keyHash is note's key hash: the first four bytes, big-endian, of
// SHA-256(name || "\n" || alg || public key).
func keyHash(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte("\n"))
	h.Write([]byte{algEd25519})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

type signer struct {
	name string
	hash uint32
	key  ed25519.PrivateKey
}

func (s *signer) Name() string                    { return s.name }
func (s *signer) KeyHash() uint32                 { return s.hash }
func (s *signer) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.key, msg), nil }

// Signer returns a note.Signer that signs as name with key.
func Signer(name string, key ed25519.PrivateKey) note.Signer {
	pub := key.Public().(ed25519.PublicKey)
	return &signer{name: name, hash: keyHash(name, pub), key: key}
}

// Verifier returns a note.Verifier for name's public key.
func Verifier(name string, pub ed25519.PublicKey) (note.Verifier, error) {
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		return nil, fmt.Errorf("notekey: %w", err)
	}
	return note.NewVerifier(vkey)
}

// Open verifies msg, a signed note, against the one key name/pub and
// returns its text. Signatures by other keys are ignored; at least one
// valid signature by pub is required.
func Open(msg []byte, name string, pub ed25519.PublicKey) (string, error) {
	v, err := Verifier(name, pub)
	if err != nil {
		return "", err
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return "", err
	}
	return n.Text, nil
}

// Sign signs text (which must end in a newline) as name with key.
func Sign(text, name string, key ed25519.PrivateKey) ([]byte, error) {
	return note.Sign(&note.Note{Text: text}, Signer(name, key))
}
