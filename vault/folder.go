package vault

import (
	"context"
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/vault/index"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// folderBody is the plaintext of a KindFolder object.
type folderBody struct {
	V       int          `json:"v"`
	Folder  object.ID    `json:"folder"`
	Name    string       `json:"name"`
	Class   policy.Class `json:"class"`
	Created int64        `json:"created"`
	// Revision counts class changes (0: as created); Salt is what a
	// widening's approval commits to (vault/class.go).
	Revision int64  `json:"revision,omitempty"`
	Salt     []byte `json:"salt,omitempty"`
}

// folderSealed is the sealed index column of a folder row.
type folderSealed struct {
	Name  string       `json:"name"`
	Class policy.Class `json:"class"`
}

// Folder describes a folder.
type Folder struct {
	ID      object.ID
	Name    string
	Class   policy.Class
	Created time.Time
	Epoch   int
}

const foldersScope = "folders"

// ValidateFolderName checks a folder name: a file name that also has no "/"
// (FOLDER/FILE addresses a file) and no control characters.
func ValidateFolderName(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if strings.Contains(name, "/") {
		return errors.New(`folder name contains "/"`)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return errors.New("folder name contains a control character")
	}
	if strings.TrimSpace(name) != name {
		return errors.New("folder name starts or ends with a space")
	}
	return nil
}

// CreateFolder creates a folder with its own key (epoch 1), wrapped to the
// vault owner. When it fails, the objects it stored are removed.
func (v *Vault) CreateFolder(ctx context.Context, name string, class policy.Class) (_ Folder, err error) {
	if err := ValidateFolderName(name); err != nil {
		return Folder{}, fmt.Errorf("folder %q: %w", name, err)
	}
	if !class.Valid() {
		return Folder{}, fmt.Errorf("folder %q: unknown class %q (want one of %s)", name, class, policy.ClassNames())
	}
	mac := v.seal.nameMAC(foldersScope, name)
	if _, err := v.idx.FolderByMAC(ctx, mac); err == nil {
		return Folder{}, fmt.Errorf("folder %q %w", name, ErrExists)
	}
	f := Folder{ID: object.NewRandomID(), Name: name, Class: class, Created: time.Now().UTC(), Epoch: 1}
	fk, kr, err := newFolderKey(f.ID, 1)
	if err != nil {
		return Folder{}, err
	}
	krID, folderObj := object.NewRandomID(), object.NewRandomID()
	krData, err := sealObject(object.KindKeyring, krID, kr, v.devKey, v.userID.Recipient())
	if err != nil {
		return Folder{}, err
	}
	body := folderBody{V: 1, Folder: f.ID, Name: name, Class: class, Created: f.Created.UnixNano()}
	fData, err := sealObject(object.KindFolder, folderObj, body, v.devKey, fk.recipient)
	if err != nil {
		return Folder{}, err
	}
	end, err := v.beginWrite(ctx)
	if err != nil {
		return Folder{}, err
	}
	defer end(&err)
	defer func() {
		// Nothing names the two objects of a folder that was not
		// recorded: they go, rather than be adopted at the next unlock
		// as a folder the user was told was not made.
		if err != nil {
			ctx := context.WithoutCancel(ctx)
			if _, ferr := v.idx.KeyringByObject(ctx, krID); errors.Is(ferr, index.ErrNotFound) {
				_ = v.objects.Remove(ctx, store.Handle{Kind: object.KindKeyring, ID: krID})
			}
			if _, ferr := v.idx.FolderByObject(ctx, folderObj); errors.Is(ferr, index.ErrNotFound) {
				_ = v.objects.Remove(ctx, store.Handle{Kind: object.KindFolder, ID: folderObj})
			}
		}
	}()
	// Write order: keyring, folder object, sync, then the index row.
	if err := v.objects.Put(ctx, store.Handle{Kind: object.KindKeyring, ID: krID}, krData); err != nil {
		return Folder{}, err
	}
	if err := v.objects.Put(ctx, store.Handle{Kind: object.KindFolder, ID: folderObj}, fData); err != nil {
		return Folder{}, err
	}
	if err := v.objects.Sync(ctx); err != nil {
		return Folder{}, err
	}
	sealed, err := v.seal.sealJSON("folder:"+f.ID.String(), folderSealed{Name: name, Class: class})
	if err != nil {
		return Folder{}, err
	}
	err = v.idx.AddFolder(ctx,
		index.Folder{ID: f.ID, ObjectID: folderObj, NameMAC: mac, Sealed: sealed, Epoch: 1, Created: f.Created},
		index.Keyring{ObjectID: krID, FolderID: f.ID, Epoch: 1})
	if errors.Is(err, index.ErrExists) {
		return Folder{}, fmt.Errorf("folder %q %w", name, ErrExists)
	}
	if err != nil {
		return Folder{}, err
	}
	v.mu.Lock()
	v.keys[f.ID] = map[int]*folderKey{1: fk}
	v.mu.Unlock()
	return f, nil
}

// Folders lists every folder, names and classes taken from the index.
func (v *Vault) Folders(ctx context.Context) ([]Folder, error) {
	rows, err := v.idx.Folders(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Folder, 0, len(rows))
	for _, r := range rows {
		var s folderSealed
		if err := v.seal.openJSON("folder:"+r.ID.String(), r.Sealed, &s); err != nil {
			return nil, fmt.Errorf("folder %s: %w", r.ID.String()[:12], err)
		}
		out = append(out, Folder{ID: r.ID, Name: s.Name, Class: s.Class, Created: r.Created, Epoch: r.Epoch})
	}
	return out, nil
}

// Folder finds a folder by name. Its class is read from the signed folder
// object, not from the index, so editing the index cannot change it.
func (v *Vault) Folder(ctx context.Context, name string) (Folder, error) {
	row, err := v.idx.FolderByMAC(ctx, v.seal.nameMAC(foldersScope, name))
	if errors.Is(err, index.ErrNotFound) {
		return Folder{}, fmt.Errorf("folder %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return Folder{}, err
	}
	body, err := v.readFolderObject(ctx, row)
	if err != nil {
		return Folder{}, err
	}
	if !sameName(body.Name, name) {
		return Folder{}, fmt.Errorf("folder %q: the index points the name at folder %q: %w", name, body.Name, ErrTampered)
	}
	return Folder{ID: row.ID, Name: body.Name, Class: body.Class, Created: row.Created, Epoch: row.Epoch}, nil
}

// folderIdentities returns the identities of every key epoch of a folder,
// for reading objects whose epoch is only known after decryption.
func (v *Vault) folderIdentities(ctx context.Context, folder object.ID) ([]age.Identity, error) {
	rings, err := v.idx.Keyrings(ctx)
	if err != nil {
		return nil, err
	}
	var ids []age.Identity
	for _, r := range rings {
		if r.FolderID != folder {
			continue
		}
		fk, err := v.folderKey(ctx, folder, r.Epoch)
		if err != nil {
			return nil, err
		}
		ids = append(ids, fk.identity)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no key for folder %s: %w", folder.String()[:12], ErrDamaged)
	}
	return ids, nil
}

func (v *Vault) readFolderObject(ctx context.Context, row index.Folder) (folderBody, error) {
	fk, err := v.folderKey(ctx, row.ID, 1)
	if err != nil {
		return folderBody{}, err
	}
	body, err := v.readFolderBody(ctx, row.ObjectID, fk.identity)
	if err == nil && body.Folder != row.ID {
		err = fmt.Errorf("folder object belongs to another folder: %w", ErrTampered)
	}
	return body, err
}

// readFolderBody reads, verifies and decodes a folder object with the
// folder's epoch-1 identity.
func (v *Vault) readFolderBody(ctx context.Context, id object.ID, identity age.Identity) (folderBody, error) {
	var body folderBody
	plain, signer, err := v.openObject(ctx, object.KindFolder, id, 1<<20, identity)
	if err != nil {
		return body, err
	}
	if err := json.Unmarshal(plain, &body); err != nil || body.V != 1 {
		return body, fmt.Errorf("folder object: %w", ErrMalformed)
	}
	if err := v.checkFolderSigner(object.KindFolder, body.Folder, signer); err != nil {
		return body, fmt.Errorf("folder object %s: %w", id.String()[:12], err)
	}
	if !body.Class.Valid() {
		return body, fmt.Errorf("folder object: %w: class %q", ErrMalformed, body.Class)
	}
	if err := ValidateFolderName(body.Name); err != nil {
		return body, fmt.Errorf("folder object: %w: %v", ErrMalformed, err)
	}
	return body, nil
}

// timeOf converts unix nanoseconds to a UTC time.
func timeOf(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// folderKey returns the unwrapped key of a folder's epoch, reading and
// verifying its keyring object the first time.
func (v *Vault) folderKey(ctx context.Context, folder object.ID, epoch int) (*folderKey, error) {
	v.mu.Lock()
	fk := v.keys[folder][epoch]
	v.mu.Unlock()
	if fk != nil {
		return fk, nil
	}
	rings, err := v.idx.Keyrings(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rings {
		if r.FolderID != folder || r.Epoch != epoch {
			continue
		}
		fk, err := v.epochKeyring(ctx, folder, epoch, r.ObjectID)
		if err != nil {
			// Another wrap of the same key may still verify (its first
			// wrap's maker revoked since, say): the key is not lost.
			copies, cerr := v.idx.KeyringCopies(ctx, folder, epoch)
			if cerr != nil {
				return nil, cerr
			}
			for _, id := range copies {
				if fk, cerr = v.epochKeyring(ctx, folder, epoch, id); cerr == nil {
					err = nil
					break
				}
			}
			if err != nil {
				return nil, err
			}
		}
		v.mu.Lock()
		if v.keys[folder] == nil {
			v.keys[folder] = map[int]*folderKey{}
		}
		v.keys[folder][epoch] = fk
		v.mu.Unlock()
		return fk, nil
	}
	return nil, fmt.Errorf("no key for folder %s epoch %d: %w", folder.String()[:12], epoch, ErrDamaged)
}

// epochKeyring reads keyring object id, which the index lists for a
// folder's epoch, and checks that it is that epoch's.
func (v *Vault) epochKeyring(ctx context.Context, folder object.ID, epoch int, id object.ID) (*folderKey, error) {
	fk, err := v.loadKeyring(ctx, id)
	if err != nil {
		return nil, err
	}
	if fk.folder != folder || fk.epoch != epoch {
		return nil, fmt.Errorf("keyring %s names another folder or epoch: %w", id.String()[:12], ErrTampered)
	}
	return fk, nil
}

// checkEpoch checks, in an enrolled vault, that the log committed to an
// epoch's key (an epoch entry, docs/sync-protocol.md): a key exists only
// as the log says. Without it, a manager could plant the next epoch's key
// before being taken off the folder and read what is written after, or a
// key of his own as epoch 1 for a member-to-be. Epoch 1 of a folder the
// log does not know yet (made here, not registered), or whose owner has
// not committed to it yet, passes: keyringPlain then takes it only from the
// owner's devices. It reports whether the key is one the log committed to.
func (v *Vault) checkEpoch(fk *folderKey) (bool, error) {
	v.mu.Lock()
	st := v.org
	v.mu.Unlock()
	if v.user.Org == nil {
		return false, nil
	}
	var f *orglog.FolderState
	if st != nil {
		f = st.Folders[fk.folder]
	}
	var want []byte
	if f != nil {
		want = f.Epochs[int64(fk.epoch)]
	}
	switch {
	case want == nil && fk.epoch == 1:
		return false, nil
	case st == nil:
		return false, fmt.Errorf("%w: the organisation's log must be fetched again (sync) before a key of epoch %d is taken", ErrTampered, fk.epoch)
	case want == nil:
		return false, fmt.Errorf("%w: epoch %d of folder %s is not in the organisation's log", ErrTampered, fk.epoch, fk.folder.String()[:12])
	}
	if subtle.ConstantTimeCompare(fk.commitment(), want) != 1 {
		return false, fmt.Errorf("%w: another key for folder %s epoch %d than the organisation's log committed to", ErrTampered, fk.folder.String()[:12], fk.epoch)
	}
	return true, nil
}

// checkOwnerSigner returns an error unless signer is a device of the
// folder's owner, when the log knows the folder (otherwise the folder's
// signers as checkFolderSigner says: this vault's devices).
func (v *Vault) checkOwnerSigner(folder object.ID, signer ed25519.PublicKey) error {
	v.mu.Lock()
	st := v.org
	v.mu.Unlock()
	if st == nil || st.Folders[folder] == nil {
		return v.checkFolderSigner(object.KindKeyring, folder, signer)
	}
	owner := st.Folders[folder].Owner
	if d := st.DeviceByKey(signer); d != nil && d.Email == owner && !d.Revoked {
		return nil
	}
	v.mu.Lock()
	_, own := v.trust.devices[string(signer)]
	v.mu.Unlock()
	if own && owner == v.user.Email {
		return nil
	}
	return fmt.Errorf("%w: %w (a key of epoch 1 not committed to in the log, signed by someone other than the folder's owner)", ErrTampered, ErrNotAllowedSigner)
}

// checkOrgSigner returns an error unless signer is this vault's device or
// another user's, or a device of the organisation's log.
func (v *Vault) checkOrgSigner(signer ed25519.PublicKey) error {
	v.mu.Lock()
	_, own := v.trust.devices[string(signer)]
	st := v.org
	v.mu.Unlock()
	if own || st != nil && st.DeviceByKey(signer) != nil {
		return nil
	}
	return fmt.Errorf("%w: %w (a keyring signed by no device of the organisation)", ErrTampered, ErrNotAllowedSigner)
}

// ErrNewKeyPending is returned by Put for a folder whose key the log says
// was rotated to an epoch this vault has not received yet: what it wrote
// now would be under a key someone taken off the folder may hold. Sync,
// then try again.
var ErrNewKeyPending = errors.New("the folder's key was changed and the new key has not reached this device yet: sync, then try again")

// ErrRotationOwed is returned by Put on a device of the folder's owner or
// of a manager among its members, for a folder someone stopped reading
// since its key last changed (a guest whose grant ended, a person whose
// devices were all revoked): what it wrote now would be under a key they
// hold. Its next sync changes the key; then writing works again.
var ErrRotationOwed = errors.New("someone no longer reads this folder and its key has not changed since: sync (which changes it), then try again")

// checkCurrentEpoch returns ErrNewKeyPending when the log names a newer
// epoch of the folder than epoch, the newest this vault holds, and
// ErrRotationOwed when someone left the folder's readers since that
// epoch began.
func (v *Vault) checkCurrentEpoch(folder object.ID, epoch int) error {
	v.mu.Lock()
	st := v.org
	v.mu.Unlock()
	if st == nil || st.Folders[folder] == nil {
		return nil
	}
	if last := st.Folders[folder].LastEpoch; int64(epoch) < last {
		return fmt.Errorf("vault: %w (epoch %d; this device has %d)", ErrNewKeyPending, last, epoch)
	}
	// The owner's and managers' devices, which rotate the key at their
	// next sync (before their push), wait for that; an editor's device
	// cannot rotate and writes on, under the current key, rather than
	// wait for someone else's device for days (or for good, if none is
	// left that may rotate).
	if !st.MayShare(v.user.Email, folder) {
		return nil
	}
	if left := st.Leavers(folder, v.TrustedNow()); len(left) > 0 {
		return fmt.Errorf("vault: %w (%s)", ErrRotationOwed, strings.Join(left, ", "))
	}
	return nil
}

func (v *Vault) loadKeyring(ctx context.Context, id object.ID) (*folderKey, error) {
	plain, signer, err := v.openObject(ctx, object.KindKeyring, id, 1<<20, age.Identity(v.userID))
	if err != nil {
		return nil, err
	}
	return v.keyringPlain(id, plain, signer)
}

// keyringPlain decodes an opened keyring and checks that its signer may
// sign keyrings of the folder it names, that the organisation's log
// committed to its key (checkEpoch), and that it agrees with a key of the
// same folder and epoch this vault holds: an epoch has one key, so a
// member cannot slip a key of their own making in as the next epoch.
func (v *Vault) keyringPlain(id object.ID, plain []byte, signer ed25519.PublicKey) (*folderKey, error) {
	var kr keyring
	if err := json.Unmarshal(plain, &kr); err != nil {
		return nil, fmt.Errorf("keyring %s: %w", id.String()[:12], ErrMalformed)
	}
	fk, err := kr.open()
	if err != nil {
		return nil, fmt.Errorf("keyring %s: %w: %v", id.String()[:12], ErrMalformed, err)
	}
	committed, err := v.checkEpoch(fk)
	if err != nil {
		return nil, fmt.Errorf("keyring %s: %w", id.String()[:12], err)
	}
	if committed {
		// The log binds the key, so who wrapped it matters less: any
		// device of the organisation (the server took the upload only
		// from one who could share the folder then). A manager taken off
		// since does not make the wraps he made unreadable.
		if err := v.checkOrgSigner(signer); err != nil {
			return nil, fmt.Errorf("keyring %s: %w", id.String()[:12], err)
		}
	} else if v.user.Org != nil && fk.epoch == 1 {
		// Not committed to yet: only the owner, who made it, vouches.
		if err := v.checkOwnerSigner(fk.folder, signer); err != nil {
			return nil, fmt.Errorf("keyring %s: %w", id.String()[:12], err)
		}
	} else if err := v.checkFolderSigner(object.KindKeyring, fk.folder, signer); err != nil {
		return nil, fmt.Errorf("keyring %s: %w", id.String()[:12], err)
	}
	v.mu.Lock()
	held := v.keys[fk.folder][fk.epoch]
	v.mu.Unlock()
	if held != nil && held.identity.String() != fk.identity.String() {
		return nil, fmt.Errorf("keyring %s: %w: another key for folder %s epoch %d than the one this vault holds", id.String()[:12], ErrTampered, fk.folder.String()[:12], fk.epoch)
	}
	return fk, nil
}
