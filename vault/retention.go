package vault

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// Expired is a version retention would remove.
type Expired struct {
	Folder string
	Name   string
	Seq    int
	Size   int64
	Time   time.Time
	id     object.ID
}

// PlanRetention lists the versions that keep (per class) lets go at now: a
// version goes only if it is older than Days, is not among its file's
// newest Last versions, and is not current. Days 0 keeps everything. Age
// is judged by the time in the signed manifest, never by the index, whose
// dates anyone with the vault folder can change.
func (v *Vault) PlanRetention(ctx context.Context, keep map[policy.Class]policy.Keep, now time.Time) ([]Expired, error) {
	folders, err := v.Folders(ctx)
	if err != nil {
		return nil, err
	}
	var out []Expired
	for _, f := range folders {
		k := keep[f.Class]
		if k.Days <= 0 {
			continue
		}
		cutoff := now.Add(-time.Duration(k.Days) * 24 * time.Hour)
		files, err := v.idx.Files(ctx, f.ID)
		if err != nil {
			return nil, err
		}
		for _, file := range files {
			rows, err := v.idx.Versions(ctx, file.ID)
			if err != nil {
				return nil, err
			}
			sort.Slice(rows, func(i, j int) bool { return rows[i].Seq > rows[j].Seq }) // newest first
			for i, row := range rows {
				if i < k.Last || row.ID == file.Head {
					continue
				}
				m, err := v.manifest(ctx, file, row)
				if err != nil {
					return nil, fmt.Errorf("retention: %w", err)
				}
				if !m.Time.Before(cutoff) {
					continue
				}
				out = append(out, Expired{Folder: f.Name, Name: m.Name, Seq: m.Seq, Size: m.Size, Time: m.Time, id: m.ID})
			}
		}
	}
	return out, nil
}

// ApplyRetention removes the planned versions: first from the index (one
// transaction), then their manifests and the chunks nothing uses any more.
// A crash in between leaves only leftovers, which check reports as such.
//
// It runs while no writer holds the object store: an import that found a
// chunk in the index, and so did not store it again, must not record its
// version after retention removed that chunk. It waits a little for
// writers, then fails with an error wrapping ErrBusy (the next run does
// it).
func (v *Vault) ApplyRetention(ctx context.Context, plan []Expired) (chunks int, err error) {
	if len(plan) == 0 {
		return 0, nil
	}
	if v.ro != nil {
		return 0, v.ro
	}
	ids := make([]object.ID, len(plan))
	for i, e := range plan {
		ids[i] = e.id
	}
	err = v.objects.Exclusive(ctx, retentionWait, func() error {
		orphans, err := v.idx.DeleteVersions(ctx, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := v.objects.Remove(ctx, store.Handle{Kind: object.KindManifest, ID: id}); err != nil {
				return err
			}
		}
		for _, id := range orphans {
			if err := v.objects.Remove(ctx, store.Handle{Kind: object.KindChunk, ID: id}); err != nil {
				return err
			}
		}
		chunks = len(orphans)
		return v.objects.Sync(ctx)
	})
	return chunks, v.storageErr(err)
}

// retentionWait is how long retention waits for writers to finish.
const retentionWait = 2 * time.Second

// LastRetention returns when retention last ran, or the zero time.
func (v *Vault) LastRetention(ctx context.Context) time.Time {
	b, err := v.idx.GetMeta(ctx, "retention_last")
	if err != nil {
		return time.Time{}
	}
	var t time.Time
	if t.UnmarshalText(b) != nil {
		return time.Time{}
	}
	return t
}

// SetLastRetention records when retention ran.
func (v *Vault) SetLastRetention(ctx context.Context, t time.Time) error {
	b, _ := t.UTC().MarshalText()
	return v.idx.SetMeta(ctx, "retention_last", b)
}
