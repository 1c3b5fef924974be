package vault

import (
	"context"
	"errors"
	"time"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/vault/index"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// Writes that fail, and what they leave (docs/vault-format.md, "Write
// order" and "Full disks and read-only storage").
//
// An import puts chunks, then its manifest, then records the version in
// the index. If it fails half-way — the disk filled up, the source could
// not be read, the user cancelled — what it put is named by no index row.
// A writer cannot simply remove the chunks it put: another process may
// have put the same chunk (same content, same name) meanwhile and be about
// to record it. So writes hold the object store (store.Dir.Hold) from
// their first object to their index row, and leftovers are removed only
// while nobody holds it (store.Dir.Reclaim): then whatever no index row
// names was left by a writer that is gone. A failed write removes its own
// manifest (its ID is random, nobody else's) and reclaims at once if it is
// alone; otherwise the last writer to finish, the next writer to start, or
// `coffer check --repair` does.

// beginWrite starts a write of objects that the index will name, and
// returns the function that ends it, which takes the write's error: a
// failed write's leftovers are reclaimed, and the error is marked when the
// storage caused it. A read-only vault refuses at once.
func (v *Vault) beginWrite(ctx context.Context) (end func(errp *error), err error) {
	if v.ro != nil {
		return nil, v.ro
	}
	v.reclaimIfLeft(ctx)
	release, err := v.objects.Hold(ctx)
	if err != nil {
		return nil, v.storageErr(err)
	}
	return func(errp *error) {
		release(*errp != nil)
		v.reclaimIfLeft(context.WithoutCancel(ctx))
		*errp = v.storageErr(*errp)
	}, nil
}

// reclaimIfLeft removes what writers that are gone left, if there may be
// any and nobody is writing now. It never waits and never fails: what it
// cannot do now, the next writer or `check --repair` does.
func (v *Vault) reclaimIfLeft(ctx context.Context) {
	if v.ro == nil && v.objects.Marked() {
		_, _ = v.objects.Reclaim(ctx, 0, v.leftovers)
	}
}

// Reclaimed says what ReclaimLeftovers removed.
type Reclaimed = store.Reclaimed

// ReclaimLeftovers removes the objects no index row names and that no
// stored signed object needs — left by writes that failed or were killed —
// and the temp files of interrupted writes. It runs only while no other
// writer, in any process, is between putting objects and recording them:
// it waits up to wait for them, then fails with an error wrapping
// store.ErrBusy.
func (v *Vault) ReclaimLeftovers(ctx context.Context, wait time.Duration) (r Reclaimed, err error) {
	if v.ro != nil {
		return r, v.ro
	}
	r, err = v.objects.Reclaim(ctx, wait, v.leftovers)
	return r, v.storageErr(err)
}

// ErrBusy is wrapped by ReclaimLeftovers when other writers did not finish
// within its wait.
var ErrBusy = store.ErrBusy

// leftovers lists what no index row names and nothing signed needs. It is
// called while no writer holds the store, so the index it reads is final:
//
//   - a keyring, folder or manifest object the index does not name whose
//     envelope does not open (a write cut short). One that opens is kept
//     whatever it says: reconcile records it, or check reports it;
//   - a chunk the index does not name (neither the chunks table nor any
//     version's chunk list), unless a stored manifest the index does not
//     name lists it. If such a manifest cannot be read with the keys this
//     vault holds, no chunk is taken: it might need any of them.
func (v *Vault) leftovers(ctx context.Context) ([]store.Handle, error) {
	var out []store.Handle
	var unnamed []*Manifest
	unreadable := false
	for _, kind := range []object.Kind{object.KindKeyring, object.KindFolder, object.KindManifest} {
		ids, err := v.unknownObjects(ctx, kind)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			h := store.Handle{Kind: kind, ID: id}
			data, err := v.objects.Get(ctx, h)
			if err != nil {
				continue // gone meanwhile, or not a file: check reports it
			}
			if _, err := object.Open(data, kind, id); err != nil {
				out = append(out, h)
				continue
			}
			if kind == object.KindManifest {
				if m, err := v.readUnnamedManifest(ctx, id, data); err == nil {
					unnamed = append(unnamed, m)
				} else {
					unreadable = true
				}
			}
		}
	}
	if unreadable {
		return out, nil
	}
	named, err := v.idx.NamedChunks(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range unnamed {
		for _, c := range m.Chunks {
			named[c.ID] = true
		}
	}
	err = v.objects.List(ctx, object.KindChunk, func(id object.ID, _ int64) error {
		if !named[id] {
			out = append(out, store.Handle{Kind: object.KindChunk, ID: id})
		}
		return nil
	})
	return out, err
}

// readUnnamedManifest opens a stored manifest the index does not name
// with any folder key this vault holds, for the chunks it lists.
func (v *Vault) readUnnamedManifest(ctx context.Context, id object.ID, data []byte) (*Manifest, error) {
	if err := v.loadAllKeys(ctx); err != nil {
		return nil, err
	}
	for _, fks := range v.knownKeys() {
		ids := make([]age.Identity, len(fks))
		for i, fk := range fks {
			ids[i] = fk.identity
		}
		o, err := object.Open(data, object.KindManifest, id)
		if err != nil {
			return nil, err
		}
		plain, err := decrypt(o.Body, maxPayload, ids...)
		if err != nil {
			continue
		}
		return ParseManifest(plain)
	}
	return nil, errors.New("no folder key of this vault opens it")
}

// discardManifest removes the manifest of a version that could not be
// recorded, unless the index names it after all (another process found
// and recorded it meanwhile).
func (v *Vault) discardManifest(ctx context.Context, id object.ID) {
	ctx = context.WithoutCancel(ctx)
	if _, err := v.idx.Version(ctx, id); errors.Is(err, index.ErrNotFound) {
		_ = v.objects.Remove(ctx, store.Handle{Kind: object.KindManifest, ID: id})
	}
}
