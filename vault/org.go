package vault

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/coffer-vault/coffer/internal/notekey"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// OrgPin is what an enrolled vault trusts, fixed at enrolment from the
// invite code and kept in the passphrase-protected user secret
// (docs/sync-protocol.md, "Trust"), so editing coffer.json cannot swap it.
type OrgPin struct {
	Org    object.ID `json:"org"`
	Admin  []byte    `json:"admin"`  // the admin public key (ed25519)
	Server []byte    `json:"server"` // the server key: log checkpoints and time
	TLS    []byte    `json:"tls"`    // SHA-256 of the server's TLS SubjectPublicKeyInfo
	URL    string    `json:"url"`
}

// UserKeys are the secret keys of a person: what pairing gives a further
// device of theirs.
type UserKeys struct {
	Identity    string `json:"identity"`     // age hybrid identity
	SigningSeed []byte `json:"signing_seed"` // ed25519 seed of the user key
	Email       string `json:"email"`
	Name        string `json:"name"`
}

// DeviceKeys are a device's keys made before its vault (pairing makes them
// first, so that the approving device can certify them).
type DeviceKeys struct {
	ID        object.ID
	Seed      []byte // ed25519 seed of the device key
	Transport []byte // ed25519 seed of the transport key
	Name      string
}

// NewDeviceKeys makes a device's keys.
func NewDeviceKeys(name string) DeviceKeys {
	d := DeviceKeys{ID: object.NewRandomID(), Seed: make([]byte, 32), Transport: make([]byte, 32), Name: name}
	if _, err := rand.Read(d.Seed); err != nil {
		panic("vault: system random source failed: " + err.Error())
	}
	if _, err := rand.Read(d.Transport); err != nil {
		panic("vault: system random source failed: " + err.Error())
	}
	return d
}

// Public returns the device key and the transport key.
func (d DeviceKeys) Public() (device, transport ed25519.PublicKey) {
	return ed25519.NewKeyFromSeed(d.Seed).Public().(ed25519.PublicKey), ed25519.NewKeyFromSeed(d.Transport).Public().(ed25519.PublicKey)
}

// CreateOptions make an enrolled vault.
type CreateOptions struct {
	Org    *OrgPin
	User   *UserKeys   // nil: new user keys
	Device *DeviceKeys // nil: new device keys
}

// transportFile holds the transport key's seed, base64: outside the
// passphrase-protected secret, so a locked device can still sign requests
// (the key decrypts nothing and signs no object); its public key is pinned
// in the user secret.
const transportFile = "keys/transport.key"

// ReadTransportKey reads the transport key of the vault in dir without the
// passphrase, with the device ID it signs for (from coffer.json).
func ReadTransportKey(dir string) (object.ID, ed25519.PrivateKey, error) {
	cfg, err := readConfig(dir)
	if err != nil {
		return object.ID{}, nil, err
	}
	b, err := store.ReadRegular(filepath.Join(dir, transportFile), 256)
	if err != nil {
		return cfg.Device, nil, fmt.Errorf("vault: transport key: %w", err)
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return cfg.Device, nil, fmt.Errorf("vault: %w: malformed transport key", ErrDamaged)
	}
	return cfg.Device, ed25519.NewKeyFromSeed(seed), nil
}

// Org returns the organisation the vault is enrolled in, or nil for a
// standalone vault.
func (v *Vault) Org() *OrgPin { return v.user.Org }

// TransportKey returns the transport key (nil for a standalone vault).
func (v *Vault) TransportKey() ed25519.PrivateKey { return v.transport }

// UserKeys returns the person's secret keys, for pairing a further device.
func (v *Vault) UserKeys() UserKeys {
	return UserKeys{Identity: v.user.Identity, SigningSeed: v.user.SigningSeed, Email: v.user.Email, Name: v.user.Name}
}

// UserKey returns the user's public signing key.
func (v *Vault) UserKey() ed25519.PublicKey { return ed25519.PublicKey(v.cfg.UserKey) }

// UserRecipient returns the user's age recipient.
func (v *Vault) UserRecipient() string { return v.cfg.UserRecipient }

// OrgState returns the organisation's log as this device verified it (nil
// for a standalone vault).
func (v *Vault) OrgState() *orglog.State {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.org
}

// OrgEntries returns the organisation log's entries from index start to
// the end of what this device verified, parsed (nil for a standalone
// vault).
func (v *Vault) OrgEntries(ctx context.Context, start int64) ([]*orglog.Entry, error) {
	st := v.OrgState()
	if st == nil || start >= st.Size {
		return nil, nil
	}
	raws, err := v.idx.OrgEntries(ctx, max(start, 0), st.Size)
	if err != nil {
		return nil, err
	}
	out := make([]*orglog.Entry, len(raws))
	for i, raw := range raws {
		if out[i], err = orglog.Parse(raw); err != nil {
			return nil, fmt.Errorf("vault: %w: the organisation's log in the index: entry %d: %v", ErrTampered, start+int64(i), err)
		}
	}
	return out, nil
}

// SignUserEntry signs an org log entry with the user key, together with
// extra signers (an invite key).
func (v *Vault) SignUserEntry(e *orglog.Entry, extra ...ed25519.PrivateKey) ([]byte, error) {
	signers := []note.Signer{notekey.Signer(orglog.UserName, v.userSig)}
	for _, k := range extra {
		signers = append(signers, notekey.Signer(orglog.InviteName, k))
	}
	return orglog.Sign(e, signers...)
}

// DeviceCert returns this device's certificate object, for enrolment.
func (v *Vault) DeviceCert(ctx context.Context) ([]byte, error) {
	return v.objects.Get(ctx, store.Handle{Kind: object.KindDevice, ID: v.device.Device})
}

// CertifyDevice makes the certificate object of another device of the
// user (pairing): signed by the user key, encrypted to the user.
func (v *Vault) CertifyDevice(id object.ID, key ed25519.PublicKey, name string) ([]byte, error) {
	cert := deviceCert{V: 1, Device: id, Key: key, Name: name, Email: v.user.Email, Created: time.Now().UnixNano()}
	return sealObject(object.KindDevice, id, cert, v.userSig, v.userID.Recipient())
}

// SealUserKeys encrypts the user's keys to a pairing device's ephemeral
// recipient.
func (v *Vault) SealUserKeys(recipient string) ([]byte, error) {
	r, err := age.ParseHybridRecipient(recipient)
	if err != nil {
		return nil, fmt.Errorf("pairing recipient: %w", err)
	}
	plain, err := json.Marshal(v.UserKeys())
	if err != nil {
		return nil, err
	}
	return encrypt(plain, r)
}

// OpenUserKeys decrypts a pairing bundle with the ephemeral identity.
func OpenUserKeys(bundle []byte, id *age.HybridIdentity) (UserKeys, error) {
	var k UserKeys
	plain, err := decrypt(bundle, 1<<20, id)
	if err != nil {
		return k, fmt.Errorf("pairing bundle: %w", err)
	}
	if err := json.Unmarshal(plain, &k); err != nil || len(k.SigningSeed) != ed25519.SeedSize {
		return k, fmt.Errorf("pairing bundle: %w", ErrMalformed)
	}
	if _, err := age.ParseHybridIdentity(k.Identity); err != nil {
		return k, fmt.Errorf("pairing bundle: %w", ErrMalformed)
	}
	return k, nil
}

// ErrOrgLog is wrapped by AcceptOrgLog's errors: the server's log is not
// one this device can accept.
var ErrOrgLog = errors.New("the organisation's log from the server cannot be trusted")

// AcceptOrgLog verifies and keeps new entries of the org log: entries are
// those from the index's size on, checkpoint the server's signed
// checkpoint. The log must extend what this device verified before (its
// signed checkpoint records the size and tree hash), every entry must obey
// the rules (orglog.State.Apply), and the tree hash of all of them must be
// the checkpoint's. Only then are they stored, the device's checkpoint
// advanced, and the devices the log certifies trusted.
func (v *Vault) AcceptOrgLog(ctx context.Context, start int64, entries [][]byte, checkpointMsg []byte) (*orglog.State, error) {
	pin := v.user.Org
	if pin == nil {
		return nil, errors.New("vault: not enrolled in an organisation")
	}
	if v.OrgIsView(ctx) {
		return nil, fmt.Errorf("%w: this guest's vault holds a view of the log, not the log", ErrOrgLog)
	}
	cp, err := orglog.OpenCheckpoint(checkpointMsg, ed25519.PublicKey(pin.Server))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOrgLog, err)
	}
	if cp.Org != pin.Org {
		return nil, fmt.Errorf("%w: the checkpoint is of another organisation", ErrOrgLog)
	}
	st, hashes, have, err := v.loadOrgLog(ctx)
	if err != nil && !errors.Is(err, errOrgLogShort) {
		return nil, err
	}
	if cp.Size < have {
		return nil, fmt.Errorf("%w: the server's log has %d entries, fewer than the %d this device verified: it was rolled back or forked", ErrOrgLog, cp.Size, have)
	}
	if start != have || int64(len(entries)) < cp.Size-have {
		return nil, fmt.Errorf("%w: the server sent entries %d..%d, this device needs %d..%d", ErrOrgLog, start, start+int64(len(entries)), have, cp.Size)
	}
	entries = entries[:cp.Size-have]
	for i, raw := range entries {
		if _, err := st.Apply(raw, time.Time{}); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrOrgLog, err)
		}
		if err := hashes.Append(have+int64(i), raw); err != nil {
			return nil, err
		}
	}
	th, err := hashes.TreeHash(cp.Size)
	if err != nil {
		return nil, err
	}
	if th != cp.Hash {
		return nil, fmt.Errorf("%w: its entries do not match its signed checkpoint (size %d)", ErrOrgLog, cp.Size)
	}
	// It must extend the log this device verified before.
	if mine, err := v.readCheckpoint(); err != nil {
		return nil, err
	} else if mine.OrgSize > 0 {
		if old, err := hashes.TreeHash(mine.OrgSize); err != nil || old != mine.OrgHash {
			return nil, fmt.Errorf("%w: it does not extend the log this device verified before (size %d): the server rewrote or forked it", ErrOrgLog, mine.OrgSize)
		}
	}
	if err := v.checkOwnEntry(st); err != nil {
		return nil, err
	}
	if len(entries) > 0 {
		if err := v.idx.AppendOrgEntries(ctx, have, entries, hashes[tlog.StoredHashCount(have):]); err != nil {
			return nil, err
		}
	}
	err = v.advanceCheckpoint(func(c *checkpoint) bool {
		changed := false
		if cp.Size > c.OrgSize {
			c.OrgSize, c.OrgHash, changed = cp.Size, cp.Hash, true
		}
		if c.advanceServerTime(cp.Time) {
			changed = true
		}
		return changed
	})
	if err != nil {
		return nil, err
	}
	v.trustOrg(st)
	return st, nil
}

// loadOrgLog replays the org log the index holds, checks it against the
// signed checkpoint (it must not be shorter, and its first OrgSize entries
// must hash to OrgHash), and returns the state with the stored hashes.
func (v *Vault) loadOrgLog(ctx context.Context) (*orglog.State, orglog.Hashes, int64, error) {
	n, err := v.idx.OrgLogSize(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	entries, err := v.idx.OrgEntries(ctx, 0, n)
	if err != nil {
		return nil, nil, 0, err
	}
	st := &orglog.State{}
	var hashes orglog.Hashes
	for i, raw := range entries {
		if _, err := st.Apply(raw, time.Time{}); err != nil {
			return nil, nil, 0, fmt.Errorf("vault: %w: the organisation's log in the index: %v", ErrTampered, err)
		}
		if err := hashes.Append(int64(i), raw); err != nil {
			return nil, nil, 0, err
		}
	}
	if n > 0 && !st.Admin.Equal(ed25519.PublicKey(v.user.Org.Admin)) {
		return nil, nil, 0, fmt.Errorf("vault: %w: the organisation's log names another admin key than the one your passphrase protects", ErrTampered)
	}
	c, err := v.readCheckpoint()
	if err != nil {
		return nil, nil, 0, err
	}
	if n < c.OrgSize {
		// Cut short (an index rebuilt or rolled back): the rest comes from
		// the server and must then hash to the checkpoint's OrgHash;
		// until then this state is not trusted (loadOrg).
		return st, hashes, n, errOrgLogShort
	}
	if c.OrgSize > 0 {
		if th, err := hashes.TreeHash(c.OrgSize); err != nil || th != c.OrgHash {
			return nil, nil, 0, fmt.Errorf("vault: %w: the organisation's log in the index differs from the one the signed checkpoint names", ErrTampered)
		}
	}
	return st, hashes, n, nil
}

// errOrgLogShort says the index holds fewer org log entries than the
// device verified before.
var errOrgLogShort = errors.New("the organisation's log in the index is shorter than the one this device verified")

// loadOrg loads the org log at unlock and trusts the devices it certifies;
// a log cut short is trusted for nothing until the server's log restores
// it (AcceptOrgLog).
func (v *Vault) loadOrg(ctx context.Context) error {
	if v.user.Org == nil {
		return nil
	}
	if st, ok, err := v.loadOrgView(ctx); ok || err != nil {
		if err != nil {
			return err
		}
		if err := v.checkOwnEntry(st); err != nil {
			return fmt.Errorf("vault: %w", err)
		}
		v.trustOrg(st)
		return nil
	}
	st, _, _, err := v.loadOrgLog(ctx)
	if errors.Is(err, errOrgLogShort) {
		v.warnings = append(v.warnings, "the organisation's log must be fetched again from the server before other devices are trusted (sync)")
		return nil
	}
	if err != nil {
		return err
	}
	if err := v.checkOwnEntry(st); err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	v.trustOrg(st)
	return nil
}

// checkOwnEntry checks that the log's user of this vault's e-mail has this
// vault's keys (a log that names other keys for the owner is not theirs).
func (v *Vault) checkOwnEntry(st *orglog.State) error {
	u := st.Users[v.user.Email]
	if u == nil {
		return nil // not yet enrolled (enrolment in progress)
	}
	if !u.Key.Equal(ed25519.PublicKey(v.cfg.UserKey)) || u.Recipient != v.cfg.UserRecipient {
		return fmt.Errorf("%w: it names other keys for %s than this vault's", ErrOrgLog, v.user.Email)
	}
	return nil
}

// trustOrg trusts, for keyrings, folders and manifests, the devices the
// log certifies for this vault's user and has not revoked.
func (v *Vault) trustOrg(st *orglog.State) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.org = st
	v.trust.org = st
	for _, d := range st.DevicesOf(v.user.Email) {
		if d.Revoked {
			if d.ID != v.device.Device {
				delete(v.trust.devices, string(d.Key))
			}
			continue
		}
		v.trust.devices[string(d.Key)] = d.ID
	}
}

// DeviceName returns the certified name of a device of the organisation,
// or "" if the log does not know it.
func (v *Vault) deviceNameOf(id object.ID) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	if id == v.device.Device {
		return v.device.Name
	}
	if v.org != nil {
		if d := v.org.Devices[id]; d != nil {
			return d.Name
		}
	}
	return ""
}

// writeTransportKey writes the transport key's seed.
func writeTransportKey(dir string, seed []byte) error {
	return store.WriteFileAtomic(filepath.Join(dir, transportFile), []byte(base64.StdEncoding.EncodeToString(seed)+"\n"), 0o600)
}

// readTransportKey reads the transport key at unlock and checks it against
// the pin in the user secret.
func readTransportKey(dir string, pin []byte) (ed25519.PrivateKey, error) {
	if pin == nil {
		return nil, nil
	}
	_, key, err := ReadTransportKey(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("vault: %w: %s is missing", ErrDamaged, transportFile)
	}
	if err != nil {
		return nil, err
	}
	if !key.Public().(ed25519.PublicKey).Equal(ed25519.PublicKey(pin)) {
		return nil, fmt.Errorf("vault: %w: %s holds another key than the one your passphrase protects", ErrTampered, transportFile)
	}
	return key, nil
}

// DeviceKey returns this device's public signing key.
func (v *Vault) DeviceKey() ed25519.PublicKey { return v.devKey.Public().(ed25519.PublicKey) }
