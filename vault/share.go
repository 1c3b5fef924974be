package vault

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault/index"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// Sharing a folder with people of the organisation (docs/sync-protocol.md,
// "Folders, sharing and guests"). The vault makes and checks keyring
// wraps; the sync client asks the server which exist and moves them.

// ErrNotAddressed is wrapped by Receive for an object that is not for this
// vault: a keyring wrapped to someone else, or a version of a folder whose
// key has not reached this device yet. The client skips it.
var ErrNotAddressed = errors.New("not addressed to this vault")

// wrapID is the object ID of the keyring wrap of fk for email: a keyed
// hash only holders of the folder key can compute, the same on every
// device, so a wrap is made once whoever makes it. gen is the log's
// generation of email's user (orglog.UserState.Generation): a person
// enrolled anew, with new keys, needs new wraps (the old ones are to the
// keys of their lost laptop); generation 1 adds nothing.
func wrapID(fk *folderKey, email string, gen int) object.ID {
	k, err := hkdf.Key(sha256.New, fk.chunkKey, nil, "coffer keyring wrap v1", 32)
	if err != nil {
		panic("vault: HKDF of a 32-byte key failed: " + err.Error())
	}
	m := hmac.New(sha256.New, k)
	m.Write([]byte(strconv.Itoa(fk.epoch)))
	m.Write([]byte{0})
	m.Write([]byte(email))
	if gen > 1 {
		m.Write([]byte{0})
		m.Write([]byte(strconv.Itoa(gen)))
	}
	return object.ID(m.Sum(nil))
}

// userGeneration is the log's generation of email's user: 1 in a
// standalone vault or for someone the log does not know.
func (v *Vault) userGeneration(email string) int {
	if st := v.OrgState(); st != nil && st.Users[email] != nil && st.Users[email].Generation > 1 {
		return st.Users[email].Generation
	}
	return 1
}

// Wrap is a keyring wrap one reader needs: an epoch of a folder's key for
// one person.
type Wrap struct {
	Folder object.ID
	Epoch  int
	Email  string
	ID     object.ID
}

// FolderEpochs returns the epochs of a folder this vault holds keys for,
// oldest first.
func (v *Vault) FolderEpochs(ctx context.Context, folder object.ID) ([]int, error) {
	if err := v.loadAllKeys(ctx); err != nil {
		return nil, err
	}
	var out []int
	for _, fk := range v.knownKeys()[folder] {
		out = append(out, fk.epoch)
	}
	return out, nil
}

// WrapsFor lists the wraps of every epoch of folder that readers need
// (whether they exist is the server's to say).
func (v *Vault) WrapsFor(ctx context.Context, folder object.ID, readers []string) ([]Wrap, error) {
	if err := v.loadAllKeys(ctx); err != nil {
		return nil, err
	}
	var out []Wrap
	for _, fk := range v.knownKeys()[folder] {
		for _, email := range readers {
			out = append(out, Wrap{Folder: folder, Epoch: fk.epoch, Email: email, ID: wrapID(fk, email, v.userGeneration(email))})
		}
	}
	return out, nil
}

// SealWrap makes the keyring envelope of w: the epoch's key encrypted to
// the age recipient the org log certifies for w.Email — never one the
// server supplied — and signed by this device. A restricted folder is
// never wrapped to a guest.
func (v *Vault) SealWrap(ctx context.Context, w Wrap) ([]byte, error) {
	st := v.OrgState()
	if st == nil {
		return nil, errors.New("vault: not enrolled in an organisation")
	}
	u := st.Users[w.Email]
	if u == nil {
		return nil, fmt.Errorf("vault: %s is not a user of the organisation's log", w.Email)
	}
	if u.Role == policy.Guest {
		f, err := v.folderByID(ctx, w.Folder)
		if err != nil {
			return nil, err
		}
		if f.Class == policy.Restricted {
			return nil, fmt.Errorf("vault: folder %q is restricted: its documents are never shared with guests", f.Name)
		}
	}
	r, err := age.ParseHybridRecipient(u.Recipient)
	if err != nil {
		return nil, fmt.Errorf("vault: the log's recipient for %s: %w", w.Email, err)
	}
	fk, err := v.folderKey(ctx, w.Folder, w.Epoch)
	if err != nil {
		return nil, err
	}
	if wrapID(fk, w.Email, v.userGeneration(w.Email)) != w.ID {
		return nil, errors.New("vault: the wrap's ID is not the one its key gives")
	}
	kr := keyring{V: 1, Folder: w.Folder, Epoch: w.Epoch, Identity: fk.identity.String(), ChunkKey: fk.chunkKey}
	return sealObject(object.KindKeyring, w.ID, kr, v.devKey, r)
}

// folderByID returns a folder by ID, its class read from the signed folder
// object.
func (v *Vault) folderByID(ctx context.Context, id object.ID) (Folder, error) {
	row, err := v.idx.FolderByID(ctx, id)
	if errors.Is(err, index.ErrNotFound) {
		return Folder{}, fmt.Errorf("folder %s: %w", id.String()[:12], ErrNotFound)
	}
	if err != nil {
		return Folder{}, err
	}
	body, err := v.readFolderObject(ctx, row)
	if err != nil {
		return Folder{}, err
	}
	return Folder{ID: row.ID, Name: body.Name, Class: body.Class, Created: row.Created, Epoch: row.Epoch}, nil
}

// NewEpoch is a folder key epoch made and not yet adopted: the sync
// client appends its epoch entry to the organisation's log (Commit) and,
// once the log took it, adopts it (AdoptEpoch). Made but never adopted (the
// log took another rotation first, or the process stopped), it is
// forgotten: nothing was stored.
type NewEpoch struct {
	Folder object.ID
	Epoch  int
	Commit []byte // orglog.EpochCommitment of the key
	fk     *folderKey
	kr     keyring
}

// MakeEpoch makes a fresh key for the folder's next epoch: one past the
// newest the organisation's log names (in a standalone vault, the newest
// it holds).
func (v *Vault) MakeEpoch(ctx context.Context, folder object.ID) (*NewEpoch, error) {
	f, err := v.folderByID(ctx, folder)
	if err != nil {
		return nil, err
	}
	epochs, err := v.FolderEpochs(ctx, folder)
	if err != nil {
		return nil, err
	}
	if len(epochs) == 0 {
		return nil, fmt.Errorf("folder %q: %w: no key held", f.Name, ErrDamaged)
	}
	// The log's next, in an enrolled vault: an epoch this vault holds
	// beyond the log's last would not be one the log committed to.
	epoch := epochs[len(epochs)-1] + 1
	if st := v.OrgState(); st != nil && st.Folders[folder] != nil {
		epoch = int(max(st.Folders[folder].LastEpoch, 1)) + 1
	}
	fk, kr, err := newFolderKey(folder, epoch)
	if err != nil {
		return nil, err
	}
	return &NewEpoch{Folder: folder, Epoch: epoch, fk: fk, kr: kr,
		Commit: fk.commitment()}, nil
}

// FolderAnchor returns what the owner's anchor entry (orglog.Anchor)
// commits to: SHA-256 of the envelope of folder's object as made with the
// folder (revision 0). A vault that holds a later revision has no such
// envelope to give: ErrNotFound.
func (v *Vault) FolderAnchor(ctx context.Context, folder object.ID) ([]byte, error) {
	row, err := v.idx.FolderByID(ctx, folder)
	if err != nil {
		return nil, err
	}
	body, err := v.readFolderObject(ctx, row)
	if err != nil {
		return nil, err
	}
	if body.Revision != 0 {
		return nil, fmt.Errorf("folder %s: this vault holds revision %d, not the first: %w", folder.String()[:12], body.Revision, ErrNotFound)
	}
	data, err := v.objects.Get(ctx, store.Handle{Kind: object.KindFolder, ID: row.ObjectID})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	return sum[:], nil
}

// EpochCommitment returns the log's commitment (orglog.EpochCommitment)
// to the key of a folder's epoch this vault holds: what the folder's
// owner appends for epoch 1 when registering it.
func (v *Vault) EpochCommitment(ctx context.Context, folder object.ID, epoch int) ([]byte, error) {
	fk, err := v.folderKey(ctx, folder, epoch)
	if err != nil {
		return nil, err
	}
	return fk.commitment(), nil
}

// AdoptEpoch keeps a new epoch's key, wrapped to this vault's user, and
// records it as the folder's current epoch: every later version is written
// under it. In an enrolled vault the log must hold its epoch entry already.
// The wraps to the folder's other readers are the sync client's to make
// (WrapsFor, SealWrap); this device's own next versions wait for nothing.
func (v *Vault) AdoptEpoch(ctx context.Context, ne *NewEpoch) (err error) {
	if _, err := v.checkEpoch(ne.fk); err != nil {
		return err
	}
	end, err := v.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer end(&err)
	folder, epoch, fk := ne.Folder, ne.Epoch, ne.fk
	id := wrapID(fk, v.user.Email, v.userGeneration(v.user.Email))
	data, err := sealObject(object.KindKeyring, id, ne.kr, v.devKey, v.userID.Recipient())
	if err != nil {
		return err
	}
	if err := v.objects.Put(ctx, store.Handle{Kind: object.KindKeyring, ID: id}, data); err != nil {
		return err
	}
	if err := v.objects.Sync(ctx); err != nil {
		return err
	}
	v.cacheKey(fk)
	if _, err := v.idx.AddKeyring(ctx, index.Keyring{ObjectID: id, FolderID: folder, Epoch: epoch}); err != nil {
		v.mu.Lock()
		delete(v.keys[folder], epoch)
		v.mu.Unlock()
		if _, kerr := v.idx.KeyringByObject(context.WithoutCancel(ctx), id); errors.Is(kerr, index.ErrNotFound) {
			_ = v.objects.Remove(context.WithoutCancel(ctx), store.Handle{Kind: object.KindKeyring, ID: id})
		}
		return err
	}
	_, err = v.AppendAudit(ctx, audit.Event{Action: audit.Share, Outcome: audit.OK, Folder: folder.String(),
		Reason: fmt.Sprintf("the folder's key was rotated to epoch %d", epoch)})
	return err
}

// HeldFolders lists the folders this vault holds.
func (v *Vault) HeldFolders(ctx context.Context) ([]object.ID, error) {
	rows, err := v.idx.Folders(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]object.ID, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out, nil
}

const metaDropping = "dropping_folders"

// DropFolder destroys what this vault holds of a folder it may no longer
// read — a guest's grant ended, its owner took this user off it: the keys
// first (keyring objects removed, the unwrapped keys forgotten), then the
// index rows, then the folder object, versions and chunks. The intent is
// recorded first, so a crash in between is finished at the next unlock
// (FinishDrops) and nothing of the folder is adopted back meanwhile.
func (v *Vault) DropFolder(ctx context.Context, folder object.ID, reason string) error {
	if v.ro != nil {
		return v.ro
	}
	if err := v.markDropping(ctx, folder, true); err != nil {
		return err
	}
	if err := v.dropFolder(ctx, folder); err != nil {
		return err
	}
	if _, err := v.AppendAudit(ctx, audit.Event{Action: audit.Share, Outcome: audit.OK, Folder: folder.String(),
		Reason: "the folder's keys and documents were destroyed on this device: " + reason}); err != nil {
		return err
	}
	return v.markDropping(ctx, folder, false)
}

func (v *Vault) dropFolder(ctx context.Context, folder object.ID) error {
	if v.ro != nil {
		// Half a drop (keys gone, rows kept) would be worse than none:
		// the vault is refused until it can be written.
		return v.ro
	}
	rings, folders, manifests, chunks, err := v.idx.FolderObjects(ctx, folder)
	if err != nil {
		return err
	}
	// Keyrings the index does not list (a wrap received but not adopted)
	// are found by opening them.
	if err := v.objects.List(ctx, object.KindKeyring, func(id object.ID, _ int64) error {
		if fk, err := v.loadKeyring(ctx, id); err == nil && fk.folder == folder {
			rings = append(rings, id)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, id := range rings {
		if err := v.objects.Remove(ctx, store.Handle{Kind: object.KindKeyring, ID: id}); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if err := v.objects.Sync(ctx); err != nil {
		return err
	}
	v.mu.Lock()
	delete(v.keys, folder)
	v.mu.Unlock()
	if err := v.idx.DeleteFolder(ctx, folder); err != nil {
		return err
	}
	for _, set := range []struct {
		kind object.Kind
		ids  []object.ID
	}{{object.KindFolder, folders}, {object.KindManifest, manifests}, {object.KindChunk, chunks}} {
		for _, id := range set.ids {
			if err := v.objects.Remove(ctx, store.Handle{Kind: set.kind, ID: id}); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
	}
	return v.objects.Sync(ctx)
}

// markDropping adds or removes a folder from the drops in progress.
func (v *Vault) markDropping(ctx context.Context, folder object.ID, on bool) error {
	cur, err := v.dropping(ctx)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	for _, f := range cur {
		if f != folder {
			out.WriteString(f.String() + "\n")
		}
	}
	if on {
		out.WriteString(folder.String() + "\n")
	}
	return v.idx.SetMeta(ctx, metaDropping, append([]byte{}, out.Bytes()...))
}

func (v *Vault) dropping(ctx context.Context) ([]object.ID, error) {
	b, err := v.idx.GetMeta(ctx, metaDropping)
	if errors.Is(err, index.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []object.ID
	for _, line := range bytes.Fields(b) {
		id, err := object.ParseID(string(line))
		if err != nil {
			return nil, fmt.Errorf("vault: %w: the drops in progress", ErrTampered)
		}
		out = append(out, id)
	}
	return out, nil
}

// finishDrops completes drops a crash interrupted, at unlock, before
// reconcile could adopt their objects back.
func (v *Vault) finishDrops(ctx context.Context) error {
	ids, err := v.dropping(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := v.dropFolder(ctx, id); err != nil {
			return err
		}
		if err := v.markDropping(ctx, id, false); err != nil {
			return err
		}
	}
	return nil
}

// GuestExpiry reports, for a guest's vault, when its grant ends and
// whether it has ended — judged by the later of the highest server time
// this device verified and its own clock, so that a clock set back cannot
// extend it. ok is false for a vault that is not a guest's.
func (v *Vault) GuestExpiry() (expires time.Time, ended, ok bool) {
	st := v.OrgState()
	if st == nil {
		return time.Time{}, false, false
	}
	u := st.Users[v.user.Email]
	if u == nil || u.Role != policy.Guest {
		return time.Time{}, false, false
	}
	g := st.Grants[v.user.Email]
	if g == nil {
		return time.Time{}, true, true
	}
	return g.Expires, !v.TrustedNow().Before(g.Expires), true
}

// Now reads this device's clock (time.Now unless Options.Now set it).
func (v *Vault) Now() time.Time { return v.now() }

// TrustedNow returns the later of this device's clock, the highest server
// time it verified (in the signed checkpoint) and its newest audit entry
// written since.
func (v *Vault) TrustedNow() time.Time {
	now := v.now()
	var after int64
	if c, err := v.readCheckpoint(); err == nil && c.ServerTime > 0 {
		if t := time.Unix(0, c.ServerTime); t.After(now) {
			now = t
		}
		after = c.ServerAudit
	}
	// The newest audit entry was written by this device's clock before:
	// the clock set back since does not make now earlier than it. Entries
	// from before the server last vouched for the time do not count
	// (LastAuditTime): a clock days ahead wrote them, and once it was set
	// right and the lease renewed, the vault wiped itself at its first
	// hour offline.
	if t, err := v.idx.LastAuditTimeAfter(context.Background(), after); err == nil && t.After(now) {
		now = t
	}
	return now
}

// Dropped is a folder DropUnreadable destroyed.
type Dropped struct {
	ID     object.ID
	Name   string // "" if its folder object could not be read
	Reason string
	// Unpushed counts the versions made on this device that had not
	// reached the server: the server takes nothing from someone who
	// may no longer write the folder, so they went with it.
	Unpushed int
}

// Message says what happened, for the user.
func (d Dropped) Message() string {
	name := d.Name
	if name == "" {
		name = d.ID.String()[:12]
	}
	msg := fmt.Sprintf("Folder %q was removed from this device: %s.", name, d.Reason)
	switch {
	case d.Unpushed == 1:
		msg += " 1 version made here had not reached the server and was removed with it."
	case d.Unpushed > 1:
		msg += fmt.Sprintf(" %d versions made here had not reached the server and were removed with it.", d.Unpushed)
	}
	return msg
}

// unpushedIn counts this device's versions of folder the server has not
// acknowledged.
func (v *Vault) unpushedIn(ctx context.Context, folder object.ID) (int, error) {
	ids, err := v.ownUnpushed(ctx, object.KindManifest)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		row, err := v.idx.Version(ctx, id)
		if err != nil {
			continue
		}
		if file, err := v.idx.FileByID(ctx, row.FileID); err == nil && file.FolderID == folder {
			n++
		}
	}
	return n, nil
}

// DropUnreadable destroys every folder this vault holds that the org log
// no longer lets its user read (at TrustedNow), and says which. Folders
// the log does not know yet (made here, not registered) stay.
func (v *Vault) DropUnreadable(ctx context.Context) ([]Dropped, error) {
	st := v.OrgState()
	if st == nil {
		return nil, nil
	}
	held, err := v.HeldFolders(ctx)
	if err != nil {
		return nil, err
	}
	now := v.TrustedNow()
	var dropped []Dropped
	for _, f := range held {
		if st.Folders[f] == nil || st.FolderRole(v.user.Email, f, now) != "" {
			continue
		}
		d := Dropped{ID: f, Reason: "its owner no longer shares it with you"}
		if g := st.Grants[v.user.Email]; g != nil && g.Folders[f] {
			d.Reason = "your guest access ended on " + g.Expires.UTC().Format("2006-01-02 15:04") + " UTC"
		}
		if folder, err := v.folderByID(ctx, f); err == nil {
			d.Name = folder.Name
		}
		if d.Unpushed, err = v.unpushedIn(ctx, f); err != nil {
			return dropped, err
		}
		if err := v.DropFolder(ctx, f, d.Reason); err != nil {
			return dropped, err
		}
		dropped = append(dropped, d)
	}
	sort.Slice(dropped, func(i, j int) bool { return dropped[i].Name < dropped[j].Name })
	return dropped, nil
}

// FolderRestricted reports whether a folder this vault holds is of the
// restricted class (read from its signed folder object).
func (v *Vault) FolderRestricted(ctx context.Context, folder object.ID) (bool, error) {
	f, err := v.folderByID(ctx, folder)
	return f.Class == policy.Restricted, err
}

// SyncMeta returns a value the sync client keeps in the index ("" if
// none).
func (v *Vault) SyncMeta(ctx context.Context, key string) (string, error) {
	b, err := v.idx.GetMeta(ctx, "sync_"+key)
	if errors.Is(err, index.ErrNotFound) {
		return "", nil
	}
	return string(b), err
}

// SetSyncMeta sets a value the sync client keeps in the index.
func (v *Vault) SetSyncMeta(ctx context.Context, key, value string) error {
	return v.idx.SetMeta(ctx, "sync_"+key, []byte(value))
}
