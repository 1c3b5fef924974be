package notekey

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

func TestSignOpenRoundTrip(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	msg, err := Sign("hello\n", "coffer-test", key)
	if err != nil {
		t.Fatal(err)
	}
	text, err := Open(msg, "coffer-test", key.Public().(ed25519.PublicKey))
	if err != nil || text != "hello\n" {
		t.Fatalf("Open = %q, %v", text, err)
	}
	// The hash must be note's own: a verifier built by note from the same
	// key accepts the signature.
	vkey, _ := note.NewEd25519VerifierKey("coffer-test", key.Public().(ed25519.PublicKey))
	v, _ := note.NewVerifier(vkey)
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		t.Fatalf("note.Open with note's verifier: %v", err)
	}
}

func TestOpenRefusesOtherKeysAndEdits(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	msg, _ := Sign("serial 7\n", "coffer-test", key)
	if _, err := Open(msg, "coffer-test", other.Public().(ed25519.PublicKey)); err == nil {
		t.Fatal("a note signed by another key was accepted")
	}
	edited := []byte(strings.Replace(string(msg), "serial 7", "serial 8", 1))
	if _, err := Open(edited, "coffer-test", key.Public().(ed25519.PublicKey)); err == nil {
		t.Fatal("an edited note was accepted")
	}
	forged, _ := Sign("serial 9\n", "coffer-test", other)
	if _, err := Open(forged, "coffer-test", key.Public().(ed25519.PublicKey)); err == nil {
		t.Fatal("a note signed by another key under the same name was accepted")
	}
}
