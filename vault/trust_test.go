package vault

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"github.com/coffer-vault/coffer/vault/object"
)

// TestEachKindHasItsSigners is the table of docs/vault-format.md, "Who may
// sign what": a key trusted for one kind signs no other.
func TestEachKindHasItsSigners(t *testing.T) {
	key := func() ed25519.PublicKey {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		return pub
	}
	user, self, other, stranger := key(), key(), key(), key()
	tr := trust{user: user, issuer: user, self: self,
		devices: map[string]object.ID{string(self): {1}, string(other): {2}}}
	want := map[object.Kind]map[string]bool{
		object.KindDevice:   {"user": true},
		object.KindPolicy:   {"user": true},
		object.KindKeyring:  {"self": true, "other device": true},
		object.KindFolder:   {"self": true, "other device": true},
		object.KindManifest: {"self": true, "other device": true},
		object.KindChunk:    {},
	}
	keys := map[string]ed25519.PublicKey{"user": user, "self": self, "other device": other, "stranger": stranger}
	for kind, allowed := range want {
		for name, k := range keys {
			if got := tr.allows(kind, k); got != allowed[name] {
				t.Errorf("%v signed by %s: allowed %v, want %v", kind, name, got, allowed[name])
			}
		}
	}
	if !tr.allowsAudit(self) || tr.allowsAudit(other) || tr.allowsAudit(user) {
		t.Error("only this device's key may sign its audit chain")
	}
}

func TestLocalKeys(t *testing.T) {
	a := &Vault{user: userSecret{IndexKey: make([]byte, 32)}}
	b := &Vault{user: userSecret{IndexKey: append(make([]byte, 31), 1)}}
	k := a.LocalKey("pdfium compile cache")
	if len(k) != 32 || string(k) != string(a.LocalKey("pdfium compile cache")) {
		t.Fatal("a local key is not stable")
	}
	if string(k) == string(a.LocalKey("another cache")) || string(k) == string(b.LocalKey("pdfium compile cache")) {
		t.Fatal("local keys of other purposes or vaults collide")
	}
}
