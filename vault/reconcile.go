package vault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/vault/index"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// The signed objects are the truth and the index is a cache of what they
// say (docs/vault-format.md, "Index"). reconcile runs at every unlock and
// puts the two back in line where the index lost something: keyrings,
// folders and versions it does not list are verified and recorded again,
// and a file whose head the index points back at an older version follows
// its signed history to the newest one. Each repair is audited and
// reported to the user. Listing the object folders costs a readdir per
// kind; objects are only decrypted when the index misses them.
//
// What reconcile puts back came from a crash (an object made durable whose
// index row was not yet committed) or from someone who edited the index.
// Both are recorded the same way; nothing signed is ever dropped.

// repairs counts what reconcile put back, for the audit trail and the user.
type repairs struct {
	keyrings, folders, versions, heads int
	skipped                            []string    // signed objects that could not be put back, and why
	adopted                            []*Manifest // the versions recorded
}

func (r *repairs) any() bool {
	return r.keyrings+r.folders+r.versions+r.heads > 0 || len(r.skipped) > 0
}

func (r *repairs) summary() string {
	msg := fmt.Sprintf("the index did not list %d keyrings, %d folders and %d versions held as signed objects, and pointed %d files at an older version; it was put back in line with the signed objects",
		r.keyrings, r.folders, r.versions, r.heads)
	if len(r.skipped) > 0 {
		msg += fmt.Sprintf("; %d signed objects could not be put back (run 'coffer check')", len(r.skipped))
	}
	return msg
}

// It adopts only while no writer, in any process, holds the store
// (store.Dir.Exclusive, without waiting): a live writer's manifest is
// stored before its index row is committed, and adopting it in between
// raced the writer — which then lost the compare-and-swap, removed the
// manifest just recorded and tried again, so versions reported imported
// went missing. While writers are at work only heads are put back (they
// concern committed rows); the next open after them adopts the rest.
func (v *Vault) reconcile(ctx context.Context) error {
	if v.ro != nil {
		return v.reconcileReadOnly(ctx)
	}
	var r *repairs
	err := v.objects.Exclusive(ctx, 0, func() (err error) {
		r, err = v.adoptObjects(ctx, nil)
		return err
	})
	if errors.Is(err, store.ErrBusy) {
		// Heads pointed back at an older version are fixed all the same:
		// they concern committed rows only.
		r = &repairs{}
		err = v.fixHeads(ctx, r)
	}
	if err != nil || !r.any() {
		return err
	}
	msg := r.summary()
	v.warnings = append(v.warnings, msg)
	_, err = v.AppendAudit(ctx, audit.Event{Action: audit.Repair, Outcome: audit.OK, Reason: msg})
	return err
}

// adoptObjects records in the index every verified object it does not
// list — of the manifests, only those in onlyManifests when that is not
// nil — and moves heads to the newest version of their history.
// (Keyrings and folders a pull stored may be recorded by a later pull,
// once their folder has arrived: every one not listed is adopted.)
func (v *Vault) adoptObjects(ctx context.Context, onlyManifests map[object.ID]bool) (*repairs, error) {
	r := &repairs{}
	rings, err := v.unknownObjects(ctx, object.KindKeyring)
	if err != nil {
		return nil, err
	}
	folders, err := v.unknownObjects(ctx, object.KindFolder)
	if err != nil {
		return nil, err
	}
	manifests, err := v.unknownObjects(ctx, object.KindManifest)
	if err != nil {
		return nil, err
	}
	if onlyManifests != nil {
		manifests = slices.DeleteFunc(manifests, func(id object.ID) bool { return !onlyManifests[id] })
	}
	if len(rings)+len(folders)+len(manifests) > 0 {
		found, err := v.adoptKeyrings(ctx, rings)
		if err != nil {
			return nil, err
		}
		if err := v.adoptFolders(ctx, folders, r); err != nil {
			return nil, err
		}
		rows, err := v.idx.Folders(ctx)
		if err != nil {
			return nil, err
		}
		have := map[object.ID]bool{}
		for _, f := range rows {
			have[f.ID] = true
		}
		for _, k := range found {
			if !have[k.FolderID] {
				continue // its folder object has not arrived yet: recorded with it
			}
			// Another wrap of a key recorded already is recorded as a copy
			// and is no repair (a manager's wrap for the owner, say).
			if added, err := v.idx.AddKeyring(ctx, k); err == nil {
				if added {
					r.keyrings++
				}
			} else {
				r.skipped = append(r.skipped, fmt.Sprintf("keyring/%s: %v", k.ObjectID, err))
			}
		}
		if err := v.adoptManifests(ctx, manifests, r); err != nil {
			return nil, err
		}
	}
	if err := v.fixHeads(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// unknownObjects lists the stored objects of kind the index does not name.
func (v *Vault) unknownObjects(ctx context.Context, kind object.Kind) ([]object.ID, error) {
	known, err := v.idx.ObjectIDs(ctx, kind)
	if err != nil {
		return nil, err
	}
	var out []object.ID
	err = v.objects.List(ctx, kind, func(id object.ID, _ int64) error {
		if !known[id] {
			out = append(out, id)
		}
		return nil
	})
	return out, err
}

// adoptKeyrings verifies keyrings the index does not list and makes their
// keys usable; the rows are recorded once their folders are.
func (v *Vault) adoptKeyrings(ctx context.Context, ids []object.ID) ([]index.Keyring, error) {
	if err := v.loadAllKeys(ctx); err != nil {
		return nil, err
	}
	var found []index.Keyring
	for _, id := range ids {
		fk, err := v.loadKeyring(ctx, id)
		if err != nil {
			continue // not a keyring a certified device of this user wrote: a leftover or a plant; check reports it
		}
		v.cacheKey(fk)
		found = append(found, index.Keyring{ObjectID: id, FolderID: fk.folder, Epoch: fk.epoch})
	}
	return found, nil
}

// loadAllKeys unwraps every keyring the index lists.
func (v *Vault) loadAllKeys(ctx context.Context) error {
	rings, err := v.idx.Keyrings(ctx)
	if err != nil {
		return err
	}
	for _, k := range rings {
		if _, err := v.folderKey(ctx, k.FolderID, k.Epoch); err != nil && !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrTampered) && !errors.Is(err, ErrMalformed) {
			return err
		}
	}
	return nil
}

func (v *Vault) cacheKey(fk *folderKey) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.keys[fk.folder] == nil {
		v.keys[fk.folder] = map[int]*folderKey{}
	}
	if v.keys[fk.folder][fk.epoch] == nil {
		v.keys[fk.folder][fk.epoch] = fk
	}
}

// knownKeys returns every unwrapped folder key, by folder.
func (v *Vault) knownKeys() map[object.ID][]*folderKey {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := map[object.ID][]*folderKey{}
	for folder, epochs := range v.keys {
		for _, fk := range epochs {
			out[folder] = append(out[folder], fk)
		}
		sort.Slice(out[folder], func(i, j int) bool { return out[folder][i].epoch < out[folder][j].epoch })
	}
	return out
}

// adoptFolders records folders whose signed object the index does not
// list, and revisions (class changes) of folders it holds, oldest first: a
// revision that may follow the one held becomes current (the one it
// replaces goes), a superseded one goes, one that may not (a widening
// without the admin's approval) is reported.
func (v *Vault) adoptFolders(ctx context.Context, ids []object.ID, r *repairs) error {
	keys := v.knownKeys()
	type found struct {
		id   object.ID
		body folderBody
	}
	var all []found
	for _, id := range ids {
		var body folderBody
		var err error = ErrNotFound
		for folder, fks := range keys {
			if fks[0].epoch != 1 {
				continue
			}
			body, err = v.readFolderBody(ctx, id, fks[0].identity)
			if err == nil {
				if body.Folder != folder {
					err = fmt.Errorf("%w: names another folder than its key's", ErrTampered)
				}
				break
			}
		}
		if err != nil {
			continue // no key of ours opens it: a leftover or a plant; check reports it
		}
		all = append(all, found{id, body})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].body.Folder != all[j].body.Folder {
			return all[i].body.Folder.String() < all[j].body.Folder.String()
		}
		return all[i].body.Revision < all[j].body.Revision
	})
	held := map[object.ID]index.Folder{}
	rows, err := v.idx.Folders(ctx)
	if err != nil {
		return err
	}
	for _, row := range rows {
		held[row.ID] = row
	}
	for _, f := range all {
		id, body := f.id, f.body
		if row, ok := held[body.Folder]; ok {
			cur, err := v.readFolderObject(ctx, row)
			if err == nil {
				err = v.checkRevision(cur, body)
			}
			switch {
			case errors.Is(err, ErrSuperseded):
				_ = v.objects.Remove(ctx, store.Handle{Kind: object.KindFolder, ID: id})
			case err != nil:
				r.skipped = append(r.skipped, fmt.Sprintf("folder/%s: %v", id, err))
			default:
				if err := v.pointFolderAt(ctx, row, id, body); err != nil {
					return err
				}
				row.ObjectID = id
				held[body.Folder] = row
				r.folders++
			}
			continue
		}
		fks := keys[body.Folder]
		row := index.Folder{ID: body.Folder, ObjectID: id, NameMAC: v.seal.nameMAC(foldersScope, body.Name),
			Epoch: fks[len(fks)-1].epoch, Created: timeOf(body.Created)}
		row.Sealed, err = v.seal.sealJSON("folder:"+body.Folder.String(), folderSealed{Name: body.Name, Class: body.Class})
		if err != nil {
			return err
		}
		if err := v.idx.AddFolderRow(ctx, row); err != nil {
			r.skipped = append(r.skipped, fmt.Sprintf("folder/%s: %v", id, err))
			continue
		}
		held[body.Folder] = row
		r.folders++
	}
	return nil
}

// adoptManifests records versions whose signed manifest the index does not
// list, oldest first within each file so that heads move forward.
func (v *Vault) adoptManifests(ctx context.Context, ids []object.ID, r *repairs) error {
	keys := v.knownKeys()
	var found []*Manifest
	for _, id := range ids {
		m, err := v.findManifest(ctx, id, keys)
		if err != nil {
			continue // a partial write or a plant; check reports it
		}
		if err := v.verifyContent(ctx, m); err != nil {
			r.skipped = append(r.skipped, fmt.Sprintf("manifest/%s: %v", id, err))
			continue
		}
		found = append(found, m)
	}
	sort.Slice(found, func(i, j int) bool {
		a, b := found[i], found[j]
		if a.File != b.File {
			return a.File.String() < b.File.String()
		}
		return a.Seq < b.Seq
	})
	handles := make([]store.Handle, 0, len(found))
	for _, m := range found {
		handles = append(handles, store.Handle{Kind: object.KindManifest, ID: m.ID})
		for _, c := range m.Chunks {
			handles = append(handles, store.Handle{Kind: object.KindChunk, ID: c.ID})
		}
	}
	// Another process may have stored these objects without making them
	// durable yet: the index must never name an object that is not.
	if err := v.objects.SyncObjects(ctx, handles); err != nil {
		return err
	}
	// Each signed file is laid out again with its new versions: a version
	// whose place another holds becomes a conflict line, never dropped.
	byOrigin := map[object.ID][]*Manifest{}
	var origins []object.ID
	for _, m := range found {
		if byOrigin[m.File] == nil {
			origins = append(origins, m.File)
		}
		byOrigin[m.File] = append(byOrigin[m.File], m)
	}
	for _, origin := range origins {
		ms := byOrigin[origin]
		if err := v.layout(ctx, ms[0].Folder, origin, ms, false); err != nil {
			for _, m := range ms {
				r.skipped = append(r.skipped, fmt.Sprintf("manifest/%s: %v", m.ID, err))
			}
			continue
		}
		r.versions += len(ms)
		r.adopted = append(r.adopted, ms...)
	}
	return nil
}

// findManifest decrypts an unlisted manifest with whichever folder's keys
// open it, and verifies it names that folder.
func (v *Vault) findManifest(ctx context.Context, id object.ID, keys map[object.ID][]*folderKey) (*Manifest, error) {
	for folder, fks := range keys {
		ids := make([]age.Identity, len(fks))
		for i, fk := range fks {
			ids[i] = fk.identity
		}
		plain, signer, err := v.openObject(ctx, object.KindManifest, id, maxPayload, ids...)
		if err != nil {
			continue
		}
		if err := v.checkFolderSigner(object.KindManifest, folder, signer); err != nil {
			return nil, fmt.Errorf("manifest %s: %w", id.String()[:12], err)
		}
		m, err := ParseManifest(plain)
		if err != nil {
			return nil, err
		}
		if m.ID != id || m.Folder != folder {
			return nil, fmt.Errorf("manifest %s was moved from another place: %w", id.String()[:12], ErrTampered)
		}
		if err := v.checkAuthor(m, signer); err != nil {
			return nil, fmt.Errorf("manifest %s: %w", id.String()[:12], err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("manifest %s: no folder key opens it: %w", id.String()[:12], ErrNotFound)
}

// verifyContent reads every chunk of m, so that a manifest whose chunks
// did not all become durable before a crash is not recorded as a version.
func (v *Vault) verifyContent(ctx context.Context, m *Manifest) error {
	fk, err := v.folderKey(ctx, m.Folder, m.Epoch)
	if err != nil {
		return err
	}
	for i, ref := range m.Chunks {
		if _, err := v.readChunk(ctx, fk, ref); err != nil {
			return fmt.Errorf("chunk %d of %d: %w", i+1, len(m.Chunks), err)
		}
	}
	return nil
}

// fixHeads moves every head the index points back at an older version to
// the newest version of its signed history.
func (v *Vault) fixHeads(ctx context.Context, r *repairs) error {
	stale, err := v.idx.StaleHeads(ctx)
	if err != nil || len(stale) == 0 {
		return err
	}
	files := map[object.ID]bool{}
	for _, s := range stale {
		files[s.File] = true
	}
	for file := range files {
		rows, err := v.idx.Versions(ctx, file)
		if err != nil {
			return err
		}
		children := map[object.ID][]object.ID{}
		var head object.ID
		for _, s := range stale {
			if s.File == file {
				head = s.Head
			}
		}
		for _, row := range rows {
			children[row.Parent] = append(children[row.Parent], row.ID)
		}
		tip := head
		for len(children[tip]) == 1 {
			tip = children[tip][0]
		}
		if len(children[tip]) > 1 {
			r.skipped = append(r.skipped, fmt.Sprintf("file %s: its history forks", file.String()[:12]))
			continue
		}
		if err := v.idx.SetHead(ctx, file, tip); err != nil {
			return err
		}
		r.heads++
	}
	return nil
}

// reconcileReadOnly is reconcile for a vault that cannot be written: it
// finds what reconcile would record — signed objects the index does not
// list that verify, files pointed back at an older version — and, if there
// is any, refuses the vault: showing an index that hides a version, with
// no way to put it back, is what reconcile exists to prevent. The vault
// opens once it can be written (or the disk has space again).
func (v *Vault) reconcileReadOnly(ctx context.Context) error {
	n := 0
	rings, err := v.unknownObjects(ctx, object.KindKeyring)
	if err != nil {
		return err
	}
	if err := v.loadAllKeys(ctx); err != nil {
		return err
	}
	for _, id := range rings {
		if fk, err := v.loadKeyring(ctx, id); err == nil {
			v.cacheKey(fk)
			n++
		}
	}
	keys := v.knownKeys()
	folders, err := v.unknownObjects(ctx, object.KindFolder)
	if err != nil {
		return err
	}
	for _, id := range folders {
		for _, fks := range keys {
			if _, err := v.readFolderBody(ctx, id, fks[0].identity); err == nil {
				n++
				break
			}
		}
	}
	manifests, err := v.unknownObjects(ctx, object.KindManifest)
	if err != nil {
		return err
	}
	for _, id := range manifests {
		if m, err := v.findManifest(ctx, id, keys); err == nil && v.verifyContent(ctx, m) == nil {
			n++
		}
	}
	stale, err := v.idx.StaleHeads(ctx)
	if err != nil {
		return err
	}
	if n+len(stale) == 0 {
		return nil
	}
	return fmt.Errorf("the index does not list %d signed objects and points %d files at an older version, and it cannot be put back in line with them now: %w",
		n, len(stale), v.ro)
}
