package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/vault/index"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// What the sync client asks of the vault (docs/sync-protocol.md, "Client:
// push and pull"). The vault never talks to the network: the client moves
// envelopes; the vault decides what is pushed and verifies all it receives
// before anything of it enters the index.

// Outgoing is an object to push, with the routing metadata the server
// records.
type Outgoing struct {
	Kind   object.Kind
	ID     object.ID
	Folder object.ID
	// Manifests only.
	File   object.ID
	Parent object.ID
	Seq    int
	Chunks []ManifestRef
}

// Outgoing lists, in push order, what the server has not acknowledged:
// keyrings, folder objects, then versions oldest first — only what this
// device signed. Another device's object recorded as unpushed (a pull
// killed between storing what it received and recording it, whose
// leftovers the next open adopted) came from the server: it is marked
// pushed here, never offered, since the server refuses it from this
// device and the push would stop at it for good.
func (v *Vault) Outgoing(ctx context.Context) ([]Outgoing, error) {
	var out []Outgoing
	rings, err := v.ownUnpushed(ctx, object.KindKeyring)
	if err != nil {
		return nil, err
	}
	for _, id := range rings {
		k, err := v.idx.KeyringByObject(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, Outgoing{Kind: object.KindKeyring, ID: id, Folder: k.FolderID})
	}
	folders, err := v.ownUnpushed(ctx, object.KindFolder)
	if err != nil {
		return nil, err
	}
	for _, id := range folders {
		f, err := v.idx.FolderByObject(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, Outgoing{Kind: object.KindFolder, ID: id, Folder: f.ID})
	}
	vers, err := v.ownUnpushed(ctx, object.KindManifest)
	if err != nil {
		return nil, err
	}
	for _, id := range vers {
		row, err := v.idx.Version(ctx, id)
		if err != nil {
			return nil, err
		}
		line, err := v.idx.FileByID(ctx, row.FileID)
		if err != nil {
			return nil, err
		}
		refs, err := v.idx.VersionChunks(ctx, id)
		if err != nil {
			return nil, err
		}
		o := Outgoing{Kind: object.KindManifest, ID: id, Folder: line.FolderID, File: line.Origin, Parent: row.Parent, Seq: row.Seq}
		for _, r := range refs {
			o.Chunks = append(o.Chunks, ManifestRef{ID: r.ID, Size: r.Size})
		}
		out = append(out, o)
	}
	return out, nil
}

// ownUnpushed lists the unpushed objects of kind this device signed, and
// marks the others pushed (Outgoing).
func (v *Vault) ownUnpushed(ctx context.Context, kind object.Kind) ([]object.ID, error) {
	ids, err := v.idx.Unpushed(ctx, kind)
	if err != nil {
		return nil, err
	}
	own := ids[:0]
	for _, id := range ids {
		if !v.authoredElsewhere(ctx, kind, id) {
			own = append(own, id)
			continue
		}
		if err := v.idx.MarkPushed(ctx, kind, id); err != nil {
			return nil, err
		}
	}
	return own, nil
}

// Envelope returns a stored object as it is on disk.
func (v *Vault) Envelope(ctx context.Context, kind object.Kind, id object.ID) ([]byte, error) {
	return v.objects.Get(ctx, store.Handle{Kind: kind, ID: id})
}

// MarkPushed records that the server acknowledged objects.
func (v *Vault) MarkPushed(ctx context.Context, kind object.Kind, ids ...object.ID) error {
	return v.idx.MarkPushed(ctx, kind, ids...)
}

// Known reports whether the vault holds an object: folders and versions
// the index lists, keyrings the index lists or the store holds, chunks
// stored.
func (v *Vault) Known(ctx context.Context, kind object.Kind, id object.ID) (bool, error) {
	switch kind {
	case object.KindManifest:
		_, err := v.idx.Version(ctx, id)
		return err == nil, ignoreNotFound(err)
	case object.KindKeyring:
		// Or stored and not yet recorded (its folder has not arrived):
		// taking it again would count as a new key each time, and the
		// pull would read the feed again for ever.
		if _, err := v.idx.KeyringByObject(ctx, id); err == nil || !errors.Is(err, index.ErrNotFound) {
			return err == nil, err
		}
	case object.KindFolder:
		_, err := v.idx.FolderByObject(ctx, id)
		return err == nil, ignoreNotFound(err)
	}
	_, err := v.objects.Stat(ctx, store.Handle{Kind: kind, ID: id})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func ignoreNotFound(err error) error {
	if errors.Is(err, index.ErrNotFound) {
		return nil
	}
	return err
}

// ErrRejected is wrapped by every error a Receive method returns for an
// object from the server that does not verify: nothing of it is kept.
var ErrRejected = errors.New("object from the server rejected")

func rejected(kind object.Kind, id object.ID, format string, args ...any) error {
	return fmt.Errorf("%w: %v %s: %s", ErrRejected, kind, id.String()[:12], fmt.Sprintf(format, args...))
}

// Receive verifies an envelope pulled from the server and stores it,
// without touching the index (AdoptReceived does): its kind and ID, its
// signature by a key allowed for its kind, and that it decrypts with this
// vault's keys. A manifest is returned, not stored: its chunks are to be
// received next (ReceiveChunk), then the manifest kept (KeepManifest).
func (v *Vault) Receive(ctx context.Context, kind object.Kind, id object.ID, data []byte) (*Manifest, error) {
	o, err := object.Open(data, kind, id)
	if err != nil {
		return nil, rejected(kind, id, "%v", err)
	}
	var m *Manifest
	switch kind {
	case object.KindDevice:
		if !o.Signer.Equal(v.trust.user) {
			if st := v.OrgState(); st != nil {
				if d := st.Devices[id]; d != nil && d.Email == v.user.Email && d.Revoked {
					// A device of this person's earlier enrolment (a lost
					// laptop, signed by the user key it held): not this
					// vault's to keep, and no tampering.
					return nil, nil
				}
			}
			return nil, rejected(kind, id, "not signed by your user key")
		}
	case object.KindKeyring:
		if !v.addressed(o.Body) {
			return nil, fmt.Errorf("keyring %s: %w", id.String()[:12], ErrNotAddressed)
		}
		fk, err := v.keyringFrom(data, id)
		if err != nil {
			return nil, rejected(kind, id, "%v", err)
		}
		v.cacheKey(fk) // the folder's versions that follow need it
	case object.KindFolder:
		if err := v.checkSigner(kind, o.Signer); err != nil {
			return nil, rejected(kind, id, "%v", err)
		}
		if !v.opensWithHeldKey(ctx, o.Body) {
			// A folder whose key has not reached this device (or never
			// will: a guest granted a restricted folder): not kept.
			return nil, fmt.Errorf("folder %s: %w", id.String()[:12], ErrNotAddressed)
		}
		if err := v.checkRevokedFolderSigner(ctx, o.Signer, data, id); err != nil {
			return nil, rejected(kind, id, "%v", err)
		}
		// A revision of a folder held here (a class change) must follow
		// the one held.
		if err := v.checkFolderRevision(ctx, data, id); errors.Is(err, ErrSuperseded) || errors.Is(err, ErrNotAddressed) {
			return nil, fmt.Errorf("folder %s: %w", id.String()[:12], err)
		} else if err != nil {
			return nil, rejected(kind, id, "%v", err)
		}
	case object.KindManifest:
		// Kept only once its chunks are (KeepManifest).
		if m, err = v.manifestFrom(ctx, data, id); errors.Is(err, ErrNotAddressed) {
			return nil, err
		} else if err != nil {
			return nil, rejected(kind, id, "%v", err)
		}
		if held, err := v.folderArrived(ctx, m.Folder); err != nil {
			return nil, err
		} else if !held {
			// Its folder waits for its earlier revisions: so does it.
			return nil, fmt.Errorf("version %s: %w: its folder has not arrived", id.String()[:12], ErrNotAddressed)
		}
		return m, nil
	default:
		return nil, rejected(kind, id, "not an object the server relays")
	}
	if err := v.holdForPull(ctx); err != nil {
		return nil, err
	}
	if err := v.objects.Put(ctx, store.Handle{Kind: kind, ID: id}, data); err != nil {
		return nil, v.storageErr(err)
	}
	v.pulled(id)
	return m, nil
}

// pulled notes that this pull stored object id, for AdoptReceived.
func (v *Vault) pulled(id object.ID) {
	v.pullMu.Lock()
	defer v.pullMu.Unlock()
	if v.pullStored == nil {
		v.pullStored = map[object.ID]bool{}
	}
	v.pullStored[id] = true
}

// folderArrived reports whether folder is held, or its first revision was
// received in this pull.
func (v *Vault) folderArrived(ctx context.Context, folder object.ID) (bool, error) {
	v.pullMu.Lock()
	_, pending := v.pullFolders[folder]
	v.pullMu.Unlock()
	if pending {
		return true, nil
	}
	_, err := v.idx.FolderByID(ctx, folder)
	if errors.Is(err, index.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// holdForPull holds the object store from the first object a pull stores
// until AdoptReceived has recorded them (or the vault closes): until then
// nothing names them, and they must not be taken for leftovers.
func (v *Vault) holdForPull(ctx context.Context) error {
	v.pullMu.Lock()
	defer v.pullMu.Unlock()
	if v.pullRelease != nil {
		return nil
	}
	if v.ro != nil {
		return v.ro
	}
	release, err := v.objects.Hold(ctx)
	if err != nil {
		return v.storageErr(err)
	}
	v.pullRelease = release
	return nil
}

// endPull ends the hold of a pull; failed says objects may be left.
func (v *Vault) endPull(failed bool) {
	v.pullMu.Lock()
	release := v.pullRelease
	v.pullRelease = nil
	v.pullFolders = nil
	v.pullStored = nil
	v.pullMu.Unlock()
	if release != nil {
		release(failed)
	}
}

// KeepManifest stores a manifest that Receive verified, once every chunk it
// names is stored (ReceiveChunk): a version whose content did not all
// arrive is not kept.
func (v *Vault) KeepManifest(ctx context.Context, m *Manifest, data []byte) error {
	for _, ref := range m.Chunks {
		if _, err := v.objects.Stat(ctx, store.Handle{Kind: object.KindChunk, ID: ref.ID}); err != nil {
			return fmt.Errorf("version %s: chunk %s did not arrive: %w", m.ID.String()[:12], ref.ID.String()[:12], err)
		}
	}
	if err := v.holdForPull(ctx); err != nil {
		return err
	}
	if err := v.objects.Put(ctx, store.Handle{Kind: object.KindManifest, ID: m.ID}, data); err != nil {
		return v.storageErr(err)
	}
	v.pulled(m.ID)
	return nil
}

// keyringFrom verifies and opens a keyring envelope.
func (v *Vault) keyringFrom(data []byte, id object.ID) (*folderKey, error) {
	plain, signer, err := v.openData(data, object.KindKeyring, id, 1<<20, age.Identity(v.userID))
	if err != nil {
		return nil, err
	}
	return v.keyringPlain(id, plain, signer)
}

// manifestFrom verifies and opens a manifest envelope with the keys of the
// folders the vault holds (keyrings received before it included).
func (v *Vault) manifestFrom(ctx context.Context, data []byte, id object.ID) (*Manifest, error) {
	o, err := object.Open(data, object.KindManifest, id)
	if err != nil {
		return nil, err
	}
	if err := v.checkSigner(object.KindManifest, o.Signer); err != nil {
		return nil, err
	}
	if err := v.loadAllKeys(ctx); err != nil {
		return nil, err
	}
	for folder, fks := range v.knownKeys() {
		ids := make([]age.Identity, len(fks))
		for i, fk := range fks {
			ids[i] = fk.identity
		}
		plain, err := decrypt(o.Body, maxPayload, ids...)
		if err != nil {
			continue
		}
		m, err := ParseManifest(plain)
		if err != nil {
			return nil, err
		}
		if m.ID != id || m.Folder != folder {
			return nil, fmt.Errorf("%w: it names another ID or folder", ErrTampered)
		}
		if err := v.checkFolderSigner(object.KindManifest, folder, o.Signer); err != nil {
			return nil, err
		}
		if err := v.checkAuthor(m, o.Signer); err != nil {
			return nil, err
		}
		if err := v.checkWroteUnder(ctx, m, o.Signer); err != nil {
			return nil, err
		}
		return m, nil
	}
	return nil, fmt.Errorf("version %s: %w: no folder key of this vault opens it (yet)", id.String()[:12], ErrNotAddressed)
}

// addressed reports whether an age-encrypted body has a stanza this
// vault's user identity opens (only the header is read).
func (v *Vault) addressed(body []byte) bool {
	_, err := age.Decrypt(bytes.NewReader(body), v.userID)
	var miss *age.NoIdentityMatchError
	return !errors.As(err, &miss)
}

// ReceiveChunk verifies a chunk pulled for m — it decrypts with m's folder
// key, its keyed hash is its name and its size the one m lists — and
// stores it.
func (v *Vault) ReceiveChunk(ctx context.Context, m *Manifest, ref ManifestRef, data []byte) error {
	fk, err := v.folderKey(ctx, m.Folder, m.Epoch)
	if err != nil {
		return err
	}
	plain, _, err := v.openData(data, object.KindChunk, ref.ID, ref.Size, fk.identity)
	if err != nil {
		return rejected(object.KindChunk, ref.ID, "%v", err)
	}
	if int64(len(plain)) != ref.Size || fk.namer.ID(plain) != ref.ID {
		return rejected(object.KindChunk, ref.ID, "its content does not match its name")
	}
	if err := v.holdForPull(ctx); err != nil {
		return err
	}
	return v.storageErr(v.objects.Put(ctx, store.Handle{Kind: object.KindChunk, ID: ref.ID}, data))
}

// PullResult says what AdoptReceived recorded.
type PullResult struct {
	Keyrings, Folders, Versions int
	Conflicts                   int      // conflict lines the pull made
	Skipped                     []string // received objects that could not be recorded, and why
}

// AdoptReceived records what Receive stored, as reconcile does for any
// object the index does not list (verified again, made durable, laid out
// in lines), marks it as held by the server, and audits the pull.
func (v *Vault) AdoptReceived(ctx context.Context) (_ *PullResult, err error) {
	defer func() {
		v.endPull(err != nil)
		v.reclaimIfLeft(context.WithoutCancel(ctx))
		err = v.storageErr(err)
	}()
	before, err := v.idx.ConflictLines(ctx)
	if err != nil {
		return nil, err
	}
	// Of the manifests, only those this pull stored: another process's
	// import may have put one it has not recorded yet (reconcile adopts
	// leftovers).
	v.pullMu.Lock()
	stored := v.pullStored
	v.pullMu.Unlock()
	if stored == nil {
		stored = map[object.ID]bool{}
	}
	r, err := v.adoptObjects(ctx, stored)
	if err != nil {
		return nil, err
	}
	after, err := v.idx.ConflictLines(ctx)
	if err != nil {
		return nil, err
	}
	res := &PullResult{Keyrings: r.keyrings, Folders: r.folders, Versions: r.versions, Skipped: r.skipped, Conflicts: max(after-before, 0)}
	for _, m := range r.adopted {
		// Another device's versions came from the server; this device's
		// own (a crash leftover adopted here) are still to push.
		if m.AuthorDevice != v.device.Device {
			if err := v.idx.MarkPushed(ctx, object.KindManifest, m.ID); err != nil {
				return nil, err
			}
		}
	}
	// Received keyrings and folder objects are marked pushed by the
	// next Outgoing, which offers only what this device signed.
	if res.Keyrings+res.Folders+res.Versions > 0 || len(res.Skipped) > 0 {
		reason := fmt.Sprintf("pulled %d folders and %d versions (%d conflicts)", res.Folders, res.Versions, res.Conflicts)
		if len(res.Skipped) > 0 {
			reason += "; " + strconv.Itoa(len(res.Skipped)) + " could not be recorded"
		}
		if _, err := v.AppendAudit(ctx, audit.Event{Action: audit.Sync, Outcome: audit.OK, Reason: reason}); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// authoredElsewhere reports whether a stored object was signed by another
// device than this one.
func (v *Vault) authoredElsewhere(ctx context.Context, kind object.Kind, id object.ID) bool {
	data, err := v.objects.Get(ctx, store.Handle{Kind: kind, ID: id})
	if err != nil {
		return false
	}
	o, err := object.Parse(data)
	return err == nil && !o.Signer.Equal(v.trust.self)
}

// UnsentAudit returns this device's audit entries after the last one the
// server acknowledged, at most limit.
func (v *Vault) UnsentAudit(ctx context.Context, limit int) ([]index.AuditRow, error) {
	sent, err := v.auditSent(ctx)
	if err != nil {
		return nil, err
	}
	return v.idx.AuditAfter(ctx, sent, limit)
}

const metaAuditSent, metaFeedCursor = "audit_sent", "feed_cursor"

func (v *Vault) auditSent(ctx context.Context) (int64, error) { return v.metaInt(ctx, metaAuditSent) }

// MarkAuditSent records that the server holds this device's audit chain
// up to seq.
func (v *Vault) MarkAuditSent(ctx context.Context, seq int64) error {
	return v.idx.SetMeta(ctx, metaAuditSent, []byte(strconv.FormatInt(seq, 10)))
}

// FeedCursor returns the change feed's cursor: the last event applied.
func (v *Vault) FeedCursor(ctx context.Context) (int64, error) { return v.metaInt(ctx, metaFeedCursor) }

// SetFeedCursor records the feed's cursor.
func (v *Vault) SetFeedCursor(ctx context.Context, seq int64) error {
	return v.idx.SetMeta(ctx, metaFeedCursor, []byte(strconv.FormatInt(seq, 10)))
}

func (v *Vault) metaInt(ctx context.Context, key string) (int64, error) {
	b, err := v.idx.GetMeta(ctx, key)
	if errors.Is(err, index.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(string(b), 10, 64)
}

// opensWithHeldKey reports whether the epoch-1 key of a folder this vault
// holds opens an age-encrypted body (only the header is read).
func (v *Vault) opensWithHeldKey(ctx context.Context, body []byte) bool {
	if err := v.loadAllKeys(ctx); err != nil {
		return false
	}
	for _, fks := range v.knownKeys() {
		if fks[0].epoch != 1 {
			continue
		}
		if _, err := age.Decrypt(bytes.NewReader(body), fks[0].identity); err == nil {
			return true
		}
	}
	return false
}
