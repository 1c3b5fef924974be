package vault

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/vault/object"
)

// ErrUntrustedSigner is wrapped when an object is validly signed, but by a
// key the reader does not trust.
var ErrUntrustedSigner = errors.New("signed by an untrusted key")

// OpenManifest verifies and decrypts a stored manifest object without a
// vault: the envelope must name id, be signed by trusted, and decrypt with
// folderKey to a valid manifest that names id too. It is the whole read
// path of a manifest, for tools, test vectors and (later) sync.
func OpenManifest(data []byte, id object.ID, trusted ed25519.PublicKey, folderKey age.Identity) (*Manifest, error) {
	o, err := object.Open(data, object.KindManifest, id)
	if err != nil {
		return nil, err
	}
	if !o.Signer.Equal(trusted) {
		return nil, ErrUntrustedSigner
	}
	plain, err := decrypt(o.Body, maxPayload, folderKey)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	m, err := ParseManifest(plain)
	if err != nil {
		return nil, err
	}
	if m.ID != id {
		return nil, fmt.Errorf("%w: manifest names another ID", ErrTampered)
	}
	return m, nil
}

// SealManifest encrypts m to recipient and signs it with key: the write
// path matching OpenManifest.
func SealManifest(m *Manifest, key ed25519.PrivateKey, recipient age.Recipient) ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrMalformed, err)
	}
	return sealObject(object.KindManifest, m.ID, m, key, recipient)
}
