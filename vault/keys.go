package vault

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/text/unicode/norm"

	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/vault/chunk"
	"github.com/coffer-vault/coffer/vault/object"
)

// ScryptWorkFactor is the log2 scrypt cost of the passphrase wrap. 2^17 keeps
// unlock well under the 1 s budget on a 2-core machine while costing an
// attacker ~0.3 s of a core per guess.
const ScryptWorkFactor = 17

// userSecret is the passphrase-wrapped content of keys/user.age.
type userSecret struct {
	V           int    `json:"v"`
	Identity    string `json:"identity"`     // age hybrid identity (AGE-SECRET-KEY-PQ-1…)
	SigningSeed []byte `json:"signing_seed"` // ed25519 seed of the user key
	IndexKey    []byte `json:"index_key"`    // seals index columns
	Email       string `json:"email"`
	Name        string `json:"name"`
	// DeviceKey pins this device's ed25519 public key, so that
	// keys/device.age (encrypted to the public user recipient, which anyone
	// can do) is authenticated by the passphrase. Vaults made before it
	// rely on the device certificate alone until their next unlock adds it.
	DeviceKey []byte `json:"device_key,omitempty"`
	// Checkpoints says this vault keeps a signed checkpoint (see
	// checkpoint.go), so a missing one is tampering, not an old vault.
	Checkpoints bool `json:"checkpoints,omitempty"`
	// Org pins the organisation of an enrolled vault (nil: standalone).
	Org *OrgPin `json:"org,omitempty"`
	// TransportKey pins the transport key's public half (enrolled vaults).
	TransportKey []byte `json:"transport_key,omitempty"`
}

// deviceSecret is the content of keys/device.age, encrypted to the user.
type deviceSecret struct {
	V      int       `json:"v"`
	Device object.ID `json:"device"`
	Seed   []byte    `json:"seed"`
	Name   string    `json:"name"`
}

// deviceCert is the body of a KindDevice object: the user key vouches that
// Key signs for Device.
type deviceCert struct {
	V       int       `json:"v"`
	Device  object.ID `json:"device"`
	Key     []byte    `json:"key"`
	Name    string    `json:"name"`
	Email   string    `json:"email"`
	Created int64     `json:"created"` // unix nanoseconds
}

// keyring is the body of a KindKeyring object: one epoch of a folder key.
type keyring struct {
	V        int       `json:"v"`
	Folder   object.ID `json:"folder"`
	Epoch    int       `json:"epoch"`
	Identity string    `json:"identity"`  // age hybrid identity of the folder
	ChunkKey []byte    `json:"chunk_key"` // keys the chunk-naming hash
}

// folderKey is an unwrapped keyring, ready for use.
type folderKey struct {
	folder    object.ID
	epoch     int
	identity  *age.HybridIdentity
	recipient *age.HybridRecipient
	namer     *chunk.Namer
	splitter  *chunk.Splitter
	chunkKey  []byte // as in the keyring: for wrapping it again
}

// commitment is the org log's commitment to this key
// (orglog.EpochCommitment): what its epoch entry holds.
func (fk *folderKey) commitment() []byte {
	return orglog.EpochCommitment(fk.folder, int64(fk.epoch), fk.recipient.String(), fk.chunkKey)
}

func newFolderKey(folder object.ID, epoch int) (*folderKey, keyring, error) {
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		return nil, keyring{}, err
	}
	ck := make([]byte, 32)
	if _, err := rand.Read(ck); err != nil {
		return nil, keyring{}, err
	}
	kr := keyring{V: 1, Folder: folder, Epoch: epoch, Identity: id.String(), ChunkKey: ck}
	fk, err := kr.open()
	return fk, kr, err
}

func (kr keyring) open() (*folderKey, error) {
	if kr.V != 1 {
		return nil, fmt.Errorf("keyring version %d is not supported", kr.V)
	}
	if kr.Epoch < 1 {
		return nil, fmt.Errorf("keyring: epoch %d (epochs begin at 1)", kr.Epoch)
	}
	id, err := age.ParseHybridIdentity(kr.Identity)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if len(kr.ChunkKey) != 32 {
		return nil, errors.New("keyring: chunk key must be 32 bytes")
	}
	nameKey, err := hkdf.Key(sha256.New, kr.ChunkKey, nil, "coffer chunk names v1", 32)
	if err != nil {
		return nil, err
	}
	cutKey, err := hkdf.Key(sha256.New, kr.ChunkKey, nil, "coffer chunk boundaries v1", 32)
	if err != nil {
		return nil, err
	}
	namer, err := chunk.NewNamer(nameKey)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	splitter, err := chunk.NewSplitter(cutKey)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return &folderKey{folder: kr.Folder, epoch: kr.Epoch, identity: id, recipient: id.Recipient(), namer: namer, splitter: splitter, chunkKey: kr.ChunkKey}, nil
}

// maxPayload bounds the plaintext of any object other than a chunk.
const maxPayload = 48 << 20

// encrypt age-encrypts plain to recipients.
func encrypt(plain []byte, recipients ...age.Recipient) ([]byte, error) {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, recipients...)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decrypt age-decrypts body, reading at most limit bytes of plaintext.
// The plaintext is read to its end, so that a stream cut short fails.
func decrypt(body []byte, limit int64, identities ...age.Identity) ([]byte, error) {
	if limit < 0 {
		return nil, fmt.Errorf("a plaintext limit of %d bytes", limit)
	}
	r, err := age.Decrypt(bytes.NewReader(body), identities...)
	if err != nil {
		return nil, err
	}
	// age's plaintext is shorter than its ciphertext (header, and a tag
	// per 64 KiB), so one buffer of the body's size holds it: growing one
	// from 512 bytes (io.ReadAll) cost a 1 MiB chunk a dozen allocations,
	// copies and twice its size in fresh pages. (limit+1 only when it is
	// smaller: it overflows at math.MaxInt64.)
	size := int64(len(body))
	if limit < size {
		size = limit + 1
	}
	plain := make([]byte, size)
	n := 0
	for n < len(plain) {
		// Not io.ReadFull: age reports a stream cut short as
		// io.ErrUnexpectedEOF, which ReadFull also means by a short read.
		m, err := r.Read(plain[n:])
		n += m
		if err == io.EOF { // the end, authenticated
			return plain[:n], nil
		}
		if err != nil {
			return nil, err
		}
	}
	// Full: over the limit, unless age's framing is not as above.
	rest, err := io.ReadAll(io.LimitReader(r, limit+1-int64(n)))
	if err != nil {
		return nil, err
	}
	plain = append(plain, rest...)
	if int64(len(plain)) > limit {
		return nil, fmt.Errorf("plaintext is over the %d-byte limit", limit)
	}
	return plain, nil
}

// sealObject encodes v as JSON, encrypts it to recipients and signs the
// envelope with key.
func sealObject(kind object.Kind, id object.ID, v any, key ed25519.PrivateKey, recipients ...age.Recipient) ([]byte, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	body, err := encrypt(plain, recipients...)
	if err != nil {
		return nil, err
	}
	return object.Seal(kind, id, body, key)
}

// LocalKey returns a 32-byte key for purpose, derived from the index key
// inside the passphrase-protected secret (HKDF-SHA-256): for this device's
// caches that someone who can write the user's folders must not be able to
// forge, such as the compiled PDF renderer. Each purpose gets its own key.
func (v *Vault) LocalKey(purpose string) []byte {
	k, err := hkdf.Key(sha256.New, v.user.IndexKey, nil, "coffer local key v1: "+purpose, 32)
	if err != nil {
		panic("vault: HKDF of a 32-byte key failed: " + err.Error())
	}
	return k
}

// sealer seals index columns and computes name MACs with keys derived from
// the user's index key. Sealed values are bound to a context string (table
// and row ID) so they cannot be moved between rows.
type sealer struct {
	seal   func(ad, plain []byte) []byte
	open   func(ad, sealed []byte) ([]byte, error)
	macKey []byte
}

func newSealer(indexKey []byte) (*sealer, error) {
	if len(indexKey) != 32 {
		return nil, errors.New("index key must be 32 bytes")
	}
	aeadKey, err := hkdf.Key(sha256.New, indexKey, nil, "coffer index seal v1", chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	macKey, err := hkdf.Key(sha256.New, indexKey, nil, "coffer index name mac v1", 32)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(aeadKey)
	if err != nil {
		return nil, err
	}
	s := &sealer{macKey: macKey}
	s.seal = func(ad, plain []byte) []byte {
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			panic("vault: system random source failed: " + err.Error())
		}
		return aead.Seal(nonce, nonce, plain, ad)
	}
	s.open = func(ad, sealed []byte) ([]byte, error) {
		if len(sealed) < aead.NonceSize()+aead.Overhead() {
			return nil, errors.New("sealed value is truncated")
		}
		return aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], ad)
	}
	return s, nil
}

// sealBucket is the granularity sealed values are padded to, so that their
// length says little about what they hold (a folder's class, the length of
// an e-mail address): see docs/vault-format.md, "Index".
const sealBucket = 256

// sealJSON seals v under context ad, padded with JSON whitespace to a
// multiple of sealBucket bytes (readers ignore trailing whitespace).
func (s *sealer) sealJSON(ad string, v any) ([]byte, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	padded := (len(plain)/sealBucket + 1) * sealBucket
	plain = append(plain, bytes.Repeat([]byte(" "), padded-len(plain))...)
	return s.seal([]byte(ad), plain), nil
}

// openJSON opens a sealed value into v.
func (s *sealer) openJSON(ad string, sealed []byte, v any) error {
	plain, err := s.open([]byte(ad), sealed)
	if err != nil {
		return fmt.Errorf("%w: a sealed index value does not open", ErrTampered)
	}
	return json.Unmarshal(plain, v)
}

// nameMAC returns the lookup MAC of a name in a scope (a folder ID, or
// "folders"). Names are compared in Unicode NFC, so a name typed on one
// system finds the same file imported on another.
func (s *sealer) nameMAC(scope, name string) []byte {
	m := hmac.New(sha256.New, s.macKey)
	m.Write([]byte(scope))
	m.Write([]byte{0})
	m.Write([]byte(norm.NFC.String(name)))
	return m.Sum(nil)
}
