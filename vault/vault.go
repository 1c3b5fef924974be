// Package vault is Coffer's encrypted local store: the user's keys, folders
// with their own keys, files as signed and encrypted manifests over
// content-defined, age-encrypted chunks, and the SQLite index that caches
// what those objects say. It decides nothing about policy; app does.
//
// The on-disk format is specified in docs/vault-format.md.
package vault

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/vault/chunk"
	"github.com/coffer-vault/coffer/vault/index"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// FormatVersion is the vault format version this package writes and reads.
const FormatVersion = 1

// MaxChunkSize is the largest chunk a manifest may list.
const MaxChunkSize = chunk.MaxSize

const (
	configFile = "coffer.json"
	userKey    = "keys/user.age"
	deviceKey  = "keys/device.age"
	indexFile  = "index.db"
	objectsDir = "objects"
	formatName = "coffer-vault"
)

// Errors callers test with errors.Is.
var (
	ErrWrongPassphrase = errors.New("wrong passphrase")
	ErrNotVault        = errors.New("not a Coffer vault")
	ErrExists          = errors.New("already exists")
	ErrNotFound        = errors.New("not found")
	ErrTampered        = errors.New("vault data was altered")
	ErrDamaged         = errors.New("vault data is damaged")
)

// config is coffer.json: public, unencrypted facts about the vault.
type config struct {
	Format        string    `json:"format"`
	Version       int       `json:"version"`
	Vault         object.ID `json:"vault"`
	Device        object.ID `json:"device"`
	UserKey       []byte    `json:"user_key"`       // ed25519 public key
	UserRecipient string    `json:"user_recipient"` // age hybrid recipient
}

// Identity names the person a vault belongs to.
type Identity struct {
	Email string
	Name  string
}

// Vault is an unlocked vault. Its methods are safe for concurrent use.
type Vault struct {
	dir     string
	cfg     config
	user    userSecret
	userID  *age.HybridIdentity
	userSig ed25519.PrivateKey
	device  deviceSecret
	devKey  ed25519.PrivateKey
	seal    *sealer
	idx     *index.DB
	objects *store.Dir

	failedUnlocks int
	session       *openSession // the session the vault was opened by (nil: the passphrase)
	warnings      []string     // what Open repaired or noticed, for the user
	// ro is nil for a vault that can be written, else why it cannot
	// (wrapping ErrReadOnly or ErrDiskFull): it was opened read-only, and
	// every write fails with it before anything is attempted.
	ro  error
	now func() time.Time

	transport ed25519.PrivateKey // signs requests (enrolled vaults)

	pullMu      sync.Mutex
	pullRelease func(dirty bool) // the hold of a pull under way (holdForPull)
	// pullFolders holds, during a pull's page, the newest revision
	// received of each folder this vault did not hold yet (under pullMu):
	// a folder is first taken from its revision 0, and each later
	// revision is checked against the one before (checkFolderRevision).
	pullFolders map[object.ID]folderBody
	// pullStored holds the objects a pull stored (under pullMu): of the
	// manifests, only those are recorded by AdoptReceived.
	pullStored map[object.ID]bool

	mu    sync.Mutex
	keys  map[object.ID]map[int]*folderKey // folder → epoch → key
	trust trust                            // who may sign what
	org   *orglog.State                    // the org log as verified (enrolled vaults)
}

// Create makes a new vault in dir (which must be empty or not exist) for the
// given person, protected by passphrase, and returns it unlocked.
func Create(ctx context.Context, dir string, who Identity, passphrase string) (*Vault, error) {
	return CreateWith(ctx, dir, who, passphrase, CreateOptions{})
}

// CreateWith makes a new vault like Create; for an organisation it pins
// opts.Org and makes a transport key, and it can take the user's keys from
// another device of theirs (pairing) and device keys made beforehand.
//
// A vault that could not be made is removed again: dir is left empty (or
// absent, if it was).
func CreateWith(ctx context.Context, dir string, who Identity, passphrase string, opts CreateOptions) (_ *Vault, err error) {
	if passphrase == "" {
		return nil, errors.New("vault: passphrase is empty")
	}
	entries, rerr := os.ReadDir(dir)
	if rerr == nil && len(entries) > 0 {
		return nil, fmt.Errorf("vault: %s is not empty: %w", dir, ErrExists)
	}
	defer func() {
		if err == nil {
			return
		}
		err = storageErr(dir, err)
		// dir was empty or absent: everything in it is this attempt's.
		if rerr == nil {
			made, _ := os.ReadDir(dir)
			for _, e := range made {
				_ = os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		} else {
			_ = os.RemoveAll(dir)
		}
	}()
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	var userID *age.HybridIdentity
	var userSig ed25519.PrivateKey
	if opts.User != nil {
		if userID, err = age.ParseHybridIdentity(opts.User.Identity); err != nil {
			return nil, fmt.Errorf("vault: user key: %w", err)
		}
		if len(opts.User.SigningSeed) != ed25519.SeedSize {
			return nil, errors.New("vault: user key: bad signing seed")
		}
		userSig = ed25519.NewKeyFromSeed(opts.User.SigningSeed)
	} else {
		if userID, err = age.GenerateHybridIdentity(); err != nil {
			return nil, err
		}
		if _, userSig, err = ed25519.GenerateKey(rand.Reader); err != nil {
			return nil, err
		}
	}
	host, _ := os.Hostname()
	dk := NewDeviceKeys(host)
	if opts.Device != nil {
		dk = *opts.Device
	}
	devKey := ed25519.NewKeyFromSeed(dk.Seed)
	indexKey := make([]byte, 32)
	if _, err := rand.Read(indexKey); err != nil {
		return nil, err
	}
	us := userSecret{V: 1, Identity: userID.String(), SigningSeed: userSig.Seed(), IndexKey: indexKey, Email: who.Email, Name: who.Name,
		DeviceKey: devKey.Public().(ed25519.PublicKey), Checkpoints: true, Org: opts.Org}
	if opts.Org != nil {
		us.TransportKey = ed25519.NewKeyFromSeed(dk.Transport).Public().(ed25519.PublicKey)
		if err := writeTransportKey(dir, dk.Transport); err != nil {
			return nil, err
		}
		if err := writeOrgCopy(dir, opts.Org); err != nil {
			return nil, err
		}
	}
	ds := deviceSecret{V: 1, Device: dk.ID, Seed: devKey.Seed(), Name: dk.Name}
	cfg := config{Format: formatName, Version: FormatVersion, Vault: object.NewRandomID(), Device: ds.Device,
		UserKey: userSig.Public().(ed25519.PublicKey), UserRecipient: userID.Recipient().String()}

	// Write order: keys first, config last — a directory without
	// coffer.json is not a vault, so a crash here leaves nothing half-made
	// that Open would accept.
	scrypt, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return nil, err
	}
	scrypt.SetWorkFactor(ScryptWorkFactor)
	if err := writeSealedFile(filepath.Join(dir, userKey), us, scrypt); err != nil {
		return nil, err
	}
	if err := writeSealedFile(filepath.Join(dir, deviceKey), ds, userID.Recipient()); err != nil {
		return nil, err
	}
	v, err := open(ctx, dir, cfg, us, ds)
	if err != nil {
		return nil, err
	}
	if opts.Org != nil {
		v.transport = ed25519.NewKeyFromSeed(dk.Transport)
	}
	err = v.writeCheckpoint(checkpoint{})
	cert := deviceCert{V: 1, Device: ds.Device, Key: devKey.Public().(ed25519.PublicKey), Name: ds.Name, Email: who.Email, Created: time.Now().UnixNano()}
	data, err2 := sealObject(object.KindDevice, ds.Device, cert, userSig, userID.Recipient())
	err = errors.Join(err, err2)
	if err == nil {
		err = v.objects.Put(ctx, store.Handle{Kind: object.KindDevice, ID: ds.Device}, data)
	}
	if err == nil {
		err = v.objects.Sync(ctx)
	}
	if err == nil {
		err = v.loadDevices(ctx)
	}
	if err == nil {
		_, err = v.SetPolicy(ctx, policy.Default(who.Email, time.Now()))
	}
	if err != nil {
		v.Close()
		return nil, fmt.Errorf("vault: %w", err)
	}
	cfgJSON, _ := json.MarshalIndent(cfg, "", "  ")
	if err := store.WriteFileAtomic(filepath.Join(dir, configFile), append(cfgJSON, '\n'), 0o600); err != nil {
		v.Close()
		return nil, fmt.Errorf("vault: %w", err)
	}
	return v, nil
}

func writeSealedFile(path string, v any, r age.Recipient) error {
	plain, err := json.Marshal(v)
	if err != nil {
		return err
	}
	body, err := encrypt(plain, r)
	if err != nil {
		return err
	}
	return store.WriteFileAtomic(path, body, 0o600)
}

// Exists reports whether dir holds a vault.
func Exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, configFile))
	return err == nil
}

func readConfig(dir string) (config, error) {
	var cfg config
	data, err := store.ReadRegular(filepath.Join(dir, configFile), 1<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, fmt.Errorf("%s: %w (no %s; create one with 'coffer init')", dir, ErrNotVault, configFile)
	}
	if err != nil {
		return cfg, fmt.Errorf("vault: %w", err)
	}
	if err := json.Unmarshal(data, &cfg); err != nil || cfg.Format != formatName {
		return cfg, fmt.Errorf("%s: %w (%s is not a vault config)", dir, ErrNotVault, configFile)
	}
	if cfg.Version != FormatVersion {
		return cfg, fmt.Errorf("%s: vault format %d is not supported by this build (reads %d); update Coffer", dir, cfg.Version, FormatVersion)
	}
	return cfg, nil
}

// Open unlocks the vault in dir with passphrase. A wrong passphrase returns
// an error wrapping ErrWrongPassphrase; after DefaultMaxFailures of them in
// a row, Open refuses for growing intervals with a *LockedError. Attempts
// are serialised between processes, so parallel guesses each count.
//
// Every key the vault then trusts is proven by the passphrase: the user
// keys are inside keys/user.age; the device key must be the one the user
// pinned there and that a device certificate signed by the user key
// certifies. The index must reach the signed checkpoint, or Open fails
// with ErrNeedsRebuild.
func Open(ctx context.Context, dir, passphrase string) (*Vault, error) {
	return OpenWith(ctx, dir, passphrase, Options{})
}

// Options tune OpenWith.
type Options struct {
	// Now is this device's clock (time.Now if nil); tests move it. It
	// judges deadlines together with the server time the vault verified
	// (TrustedNow).
	Now func() time.Time
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dir, passphrase string, opt Options) (*Vault, error) {
	return openWith(ctx, dir, passphrase, opt, func(cfg config) (userSecret, int, error) {
		return unlockUser(dir, cfg, passphrase)
	})
}

// userSource proves the user's keys of the vault described by cfg: by the
// passphrase (unlockUser) or by a session (openSession). It returns how
// many wrong passphrases preceded it.
type userSource func(cfg config) (userSecret, int, error)

// openWith opens the vault with the user keys user proves; passphrase
// is "" when a session proved them.
func openWith(ctx context.Context, dir, passphrase string, opt Options, user userSource) (*Vault, error) {
	if err := Wiped(dir); err != nil {
		// An interrupted wipe is finished before anything else.
		if _, ferr := FinishWipe(dir); ferr != nil {
			return nil, ferr
		}
		return nil, Wiped(dir)
	}
	k, err := unlockKeys(dir, user)
	if err != nil {
		return nil, err
	}
	v, err := k.open(ctx)
	if err != nil {
		return nil, err
	}
	if opt.Now != nil {
		v.now = opt.Now
	}
	if err := v.checkState(ctx, passphrase); err != nil {
		v.Close()
		return nil, err
	}
	if err := v.loadOrg(ctx); err != nil {
		v.Close()
		return nil, err
	}
	// Folders this user may no longer read (a guest's grant ended while
	// the device was off; unshared) go before anything is shown or
	// adopted back.
	if err := v.finishDrops(ctx); err != nil {
		v.Close()
		return nil, fmt.Errorf("vault: finish destroying a folder: %w", err)
	}
	dropped, err := v.DropUnreadable(ctx)
	if err != nil {
		v.Close()
		return nil, fmt.Errorf("vault: destroy a folder this user may no longer read: %w", err)
	}
	for _, d := range dropped {
		v.warnings = append(v.warnings, d.Message())
	}
	if err := v.reconcile(ctx); err != nil {
		v.Close()
		return nil, fmt.Errorf("vault: compare the index with the signed objects: %w", err)
	}
	return v, nil
}

// unlocked is what the passphrase proved, before the index is opened.
type unlocked struct {
	dir    string
	cfg    config
	us     userSecret
	ds     deviceSecret
	failed int
}

func unlockKeys(dir string, user userSource) (*unlocked, error) {
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	us, failed, err := user(cfg)
	if err != nil {
		return nil, err
	}
	if err := checkUser(cfg, us); err != nil {
		return nil, err
	}
	userID, _ := age.ParseHybridIdentity(us.Identity) // checked by checkUser
	var ds deviceSecret
	if err := readSealedFile(filepath.Join(dir, deviceKey), &ds, userID); err != nil {
		return nil, fmt.Errorf("vault: device key: %w", err)
	}
	if ds.Device != cfg.Device || len(ds.Seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("vault: %w: device key does not match %s", ErrTampered, configFile)
	}
	devPub := ed25519.NewKeyFromSeed(ds.Seed).Public().(ed25519.PublicKey)
	if us.DeviceKey != nil && !devPub.Equal(ed25519.PublicKey(us.DeviceKey)) {
		return nil, fmt.Errorf("vault: %w: keys/device.age holds another key than the one your passphrase protects", ErrTampered)
	}
	return &unlocked{dir: dir, cfg: cfg, us: us, ds: ds, failed: failed}, nil
}

// open opens the index and trusts the certified devices. A vault that
// keeps a checkpoint must have an index already: a missing one is not
// silently made anew (Rebuild moves the old one aside first, and passes
// create).
func (k *unlocked) open(ctx context.Context) (*Vault, error) {
	return k.openIndex(ctx, false)
}

func (k *unlocked) openIndex(ctx context.Context, create bool) (*Vault, error) {
	if _, err := os.Stat(filepath.Join(k.dir, indexFile)); errors.Is(err, fs.ErrNotExist) && k.us.Checkpoints && !create {
		return nil, fmt.Errorf("vault: %w: %w: the index was removed (%s is missing)", ErrTampered, ErrNeedsRebuild, indexFile)
	}
	v, err := open(ctx, k.dir, k.cfg, k.us, k.ds)
	if err != nil {
		return nil, err
	}
	v.failedUnlocks = k.failed
	if err := v.loadDevices(ctx); err != nil {
		v.Close()
		return nil, err
	}
	if k.us.Org != nil {
		if v.transport, err = readTransportKey(k.dir, k.us.TransportKey); err != nil {
			v.Close()
			return nil, err
		}
		if err := checkOrgCopy(k.dir, k.us.Org); err != nil {
			v.Close()
			return nil, err
		}
	}
	return v, nil
}

// unlockUser decrypts keys/user.age with passphrase under the unlock lock,
// counting a wrong passphrase, and checks the secret against coffer.json.
// It returns how many wrong passphrases preceded a success.
func unlockUser(dir string, cfg config, passphrase string) (userSecret, int, error) {
	var us userSecret
	// Without the lock (storage that cannot hold a lock file: read-only
	// media) the guess is not serialised with others; a lock that another
	// process keeps is waited for, then refused: guesses in parallel must
	// each count.
	if unlock, err := lockFile(dir, "unlock"); err == nil {
		defer unlock()
	} else if errors.Is(err, ErrLockHeld) {
		return us, 0, err
	}
	if err := checkLockout(dir, time.Now()); err != nil {
		return us, 0, err
	}
	scrypt, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return us, 0, err
	}
	err = readSealedFile(filepath.Join(dir, userKey), &us, scrypt)
	// scrypt's 128 MiB of scratch is garbage now; hand it back at once so
	// it does not set the heap size (and RSS) for everything that follows.
	runtime.GC()
	debug.FreeOSMemory()
	if err != nil {
		if errors.Is(err, age.ErrIncorrectIdentity) {
			n, max, wipe := recordFailure(dir, time.Now())
			if wipe > 0 && n >= wipe {
				return us, 0, wipeForFailures(dir, cfg, n)
			}
			// The wipe is said before it comes: unsynced work goes with it.
			if left := wipe - n; wipe > 0 && left <= 3 {
				return us, 0, fmt.Errorf("%w (%d more wrong and your organisation's policy wipes this vault: anything not synced yet is lost)", ErrWrongPassphrase, left)
			}
			if left := max - n; left > 0 && left <= 3 {
				return us, 0, fmt.Errorf("%w (%d more before unlock is refused for a while)", ErrWrongPassphrase, left)
			}
			return us, 0, ErrWrongPassphrase
		}
		return us, 0, fmt.Errorf("vault: user key: %w", err)
	}
	if err := checkUser(cfg, us); err != nil {
		return us, 0, err
	}
	return us, clearFailures(dir), nil
}

// checkUser checks a decrypted user secret against coffer.json: the keys
// it holds must be the ones the vault names.
func checkUser(cfg config, us userSecret) error {
	userID, err := age.ParseHybridIdentity(us.Identity)
	if err != nil {
		return fmt.Errorf("vault: user key: %w: %v", ErrDamaged, err)
	}
	if len(us.SigningSeed) != ed25519.SeedSize {
		return fmt.Errorf("vault: user key: %w: bad signing key", ErrDamaged)
	}
	pub := ed25519.NewKeyFromSeed(us.SigningSeed).Public().(ed25519.PublicKey)
	if !pub.Equal(ed25519.PublicKey(cfg.UserKey)) || userID.Recipient().String() != cfg.UserRecipient {
		return fmt.Errorf("vault: %w: %s does not match the keys it names", ErrTampered, configFile)
	}
	return nil
}

// Warnings returns what Open repaired or noticed that the user should
// know, in words for them.
func (v *Vault) Warnings() []string { return v.warnings }

// FailedUnlocks returns how many wrong passphrases were tried since the
// previous successful unlock, for the audit trail.
func (v *Vault) FailedUnlocks() int { return v.failedUnlocks }

func readSealedFile(path string, v any, id age.Identity) error {
	body, err := store.ReadRegular(path, 4<<20)
	if err != nil {
		return err
	}
	plain, err := decrypt(body, 1<<20, id)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	return nil
}

func open(ctx context.Context, dir string, cfg config, us userSecret, ds deviceSecret) (*Vault, error) {
	userID, err := age.ParseHybridIdentity(us.Identity)
	if err != nil {
		return nil, err
	}
	seal, err := newSealer(us.IndexKey)
	if err != nil {
		return nil, fmt.Errorf("vault: %w: %v", ErrDamaged, err)
	}
	// On storage that cannot be written the vault opens read-only: what
	// only reads works, every write fails up front with the reason.
	ro := writableStorage(dir)
	objects, err := store.OpenDirWith(filepath.Join(dir, objectsDir),
		store.DirOptions{Locks: filepath.Join(dir, locksDir), ReadOnly: ro != nil})
	if err != nil {
		return nil, storageErr(dir, err)
	}
	idxPath := filepath.Join(dir, indexFile)
	idx, err := index.OpenWith(ctx, idxPath, index.Options{ReadOnly: ro != nil})
	if kind := storageKind(dir, err); err != nil && ro == nil && kind != nil {
		// A full disk: SQLite cannot set up the files it reads an index
		// in WAL mode through. The index is read as it is, and the vault
		// is read-only until it is opened again with space to write.
		if rdonly, rerr := index.OpenWith(ctx, idxPath, index.Options{ReadOnly: true}); rerr == nil {
			idx, err, ro = rdonly, nil, &storageError{kind: kind, err: fmt.Errorf("the index cannot be opened for writing: %w", err)}
		}
	}
	if err != nil {
		return nil, storageErr(dir, err)
	}
	v := &Vault{now: time.Now, ro: ro,
		dir: dir, cfg: cfg, user: us, userID: userID,
		userSig: ed25519.NewKeyFromSeed(us.SigningSeed),
		device:  ds, devKey: ed25519.NewKeyFromSeed(ds.Seed),
		seal: seal, idx: idx, objects: objects,
		keys: map[object.ID]map[int]*folderKey{},
	}
	// Device keys become trusted through certificates (loadDevices); until
	// then nothing but the user key is.
	v.trust = trust{user: ed25519.PublicKey(cfg.UserKey), issuer: ed25519.PublicKey(cfg.UserKey),
		self: v.devKey.Public().(ed25519.PublicKey), devices: map[string]object.ID{}}
	if err := v.checkVaultID(ctx); err != nil {
		idx.Close()
		return nil, v.storageErr(err)
	}
	return v, nil
}

// ReadOnly returns nil for a vault that can be written, else why it cannot
// (an error wrapping ErrReadOnly or ErrDiskFull): on read-only storage, or
// on a disk so full that even its index had to be read as it is. Such a
// vault lists, reads and checks; every write fails with this error.
func (v *Vault) ReadOnly() error { return v.ro }

// checkVaultID binds the index to this vault, so an index copied from
// another vault is refused rather than half-trusted.
func (v *Vault) checkVaultID(ctx context.Context) error {
	got, err := v.idx.GetMeta(ctx, "vault")
	if errors.Is(err, index.ErrNotFound) {
		return v.idx.SetMeta(ctx, "vault", v.cfg.Vault[:])
	}
	if err != nil {
		return err
	}
	if string(got) != string(v.cfg.Vault[:]) {
		return fmt.Errorf("vault: %w: %s belongs to another vault", ErrTampered, indexFile)
	}
	return nil
}

// Close releases the vault. Key material stays in memory until collected;
// Go offers no reliable way to zero it.
func (v *Vault) Close() error {
	v.endPull(true)
	return v.idx.Close()
}

// Dir returns the vault's folder.
func (v *Vault) Dir() string { return v.dir }

// Owner returns the vault owner's identity.
func (v *Vault) Owner() Identity { return Identity{Email: v.user.Email, Name: v.user.Name} }

// DeviceID returns this device's ID.
func (v *Vault) DeviceID() object.ID { return v.device.Device }

// DeviceName returns this device's name (its host name when created).
func (v *Vault) DeviceName() string { return v.device.Name }

// Objects returns the object store. Tests use it to damage objects.
func (v *Vault) Objects() *store.Dir { return v.objects }

// openObject reads kind/id, checks its envelope, signature and signer, and
// decrypts its body with ids, reading at most limit bytes. For keyrings,
// folder objects and manifests the signer is checked only as a current
// device of the organisation: the caller checks it against the folder the
// object names (checkFolderSigner) once it is open.
func (v *Vault) openObject(ctx context.Context, kind object.Kind, id object.ID, limit int64, ids ...age.Identity) ([]byte, ed25519.PublicKey, error) {
	data, err := v.objects.Get(ctx, store.Handle{Kind: kind, ID: id})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, fmt.Errorf("%v %s is missing: %w", kind, id.String()[:12], ErrDamaged)
		}
		return nil, nil, err
	}
	return v.openData(data, kind, id, limit, ids...)
}

func (v *Vault) openData(data []byte, kind object.Kind, id object.ID, limit int64, ids ...age.Identity) ([]byte, ed25519.PublicKey, error) {
	o, err := object.Open(data, kind, id)
	if err != nil {
		return nil, nil, fmt.Errorf("%v %s: %w: %w", kind, id.String()[:12], ErrDamaged, err)
	}
	if kind.Signed() {
		if err := v.checkSigner(kind, o.Signer); err != nil {
			return nil, nil, fmt.Errorf("%v %s: %w", kind, id.String()[:12], err)
		}
	}
	plain, err := decrypt(o.Body, limit, ids...)
	if err != nil {
		return nil, nil, fmt.Errorf("%v %s: %w: %v", kind, id.String()[:12], ErrDamaged, err)
	}
	return plain, o.Signer, nil
}
