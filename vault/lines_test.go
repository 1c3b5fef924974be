package vault

import (
	"bytes"
	"context"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

func testVault(t *testing.T) (*Vault, Folder) {
	t.Helper()
	ctx := context.Background()
	v, err := Create(ctx, filepath.Join(t.TempDir(), "v"), Identity{Email: "ann@example.com", Name: "Ann"}, "lines test passphrase")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	f, err := v.CreateFolder(ctx, "Deals", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	return v, f
}

// plant stores a manifest that another device of the user wrote while
// apart: a child of parent with its own time, listing the chunks of the
// version like.
func plant(t *testing.T, v *Vault, f Folder, like Version, parent Version, name string, at time.Time, file object.ID) *Manifest {
	t.Helper()
	ctx := context.Background()
	src, err := v.manifestByID(ctx, like.ID)
	if err != nil {
		t.Fatal(err)
	}
	fk, err := v.folderKey(ctx, f.ID, f.Epoch)
	if err != nil {
		t.Fatal(err)
	}
	m := &Manifest{V: 1, ID: object.NewRandomID(), Folder: f.ID, Epoch: f.Epoch, File: file, Seq: parent.Seq + 1, Parent: parent.ID,
		Name: name, Size: src.Size, Type: src.Type, AuthorDevice: v.device.Device, AuthorUser: v.user.Email, Time: at, Chunks: src.Chunks}
	if parent.ID.IsZero() {
		m.Seq = 1
	}
	data, err := SealManifest(m, v.devKey, fk.recipient)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.objects.Put(ctx, store.Handle{Kind: object.KindManifest, ID: m.ID}, data); err != nil {
		t.Fatal(err)
	}
	return m
}

func (v *Vault) manifestByID(ctx context.Context, id object.ID) (m *Manifest, err error) {
	folders, err := v.idx.Folders(ctx)
	if err != nil {
		return nil, err
	}
	for _, fr := range folders {
		if m, err = v.readManifest(ctx, fr.ID, id); err == nil {
			return m, nil
		}
	}
	return nil, err
}

func names(t *testing.T, v *Vault, f Folder) map[string]FileInfo {
	t.Helper()
	files, err := v.Files(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]FileInfo{}
	for _, fi := range files {
		out[fi.Name] = fi
	}
	return out
}

// TestSiblingsBecomeLines: two edits of one version made apart are both
// kept; the earlier (by signed time) continues the file, the later is a
// conflict line named after its device and time — whatever order they
// arrive in.
func TestSiblingsBecomeLines(t *testing.T) {
	ctx := context.Background()
	for _, order := range []string{"later first", "earlier first"} {
		t.Run(order, func(t *testing.T) {
			v, f := testVault(t)
			v1, err := v.Put(ctx, f, "Q3 model.xlsx", bytes.NewReader([]byte("version one")), PutOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC)
			origin := v1.File
			var early, late *Manifest
			if order == "later first" {
				late = plant(t, v, f, v1, v1, "Q3 model.xlsx", t0.Add(time.Minute), origin)
				if err := v.reconcile(ctx); err != nil {
					t.Fatal(err)
				}
				early = plant(t, v, f, v1, v1, "Q3 model.xlsx", t0, origin)
			} else {
				early = plant(t, v, f, v1, v1, "Q3 model.xlsx", t0, origin)
				if err := v.reconcile(ctx); err != nil {
					t.Fatal(err)
				}
				late = plant(t, v, f, v1, v1, "Q3 model.xlsx", t0.Add(time.Minute), origin)
			}
			if err := v.reconcile(ctx); err != nil {
				t.Fatal(err)
			}
			got := names(t, v, f)
			main, conflictName := got["Q3 model.xlsx"], "Q3 model (conflict "+v.device.Name+" 2026-11-30 14-06).xlsx"
			conflict, ok := got[conflictName]
			if len(got) != 2 || main.Head != early.ID || !ok || conflict.Head != late.ID || !conflict.Conflict || main.Conflict {
				t.Fatalf("files %+v", got)
			}
			vers, err := v.Versions(ctx, f, conflictName)
			if err != nil || len(vers) != 2 || vers[0].ID != v1.ID || vers[1].ID != late.ID {
				t.Fatalf("the conflict's history: %+v %v", vers, err)
			}
			if r, err := v.Check(ctx, nil); err != nil || !r.OK() {
				t.Fatalf("check: %+v %v", r, err)
			}
		})
	}
}

// TestStaleImportIsAConflict: content made from version 1 and imported
// after version 2 arrived is kept beside it, not made current over it.
func TestStaleImportIsAConflict(t *testing.T) {
	ctx := context.Background()
	v, f := testVault(t)
	v1, _ := v.Put(ctx, f, "terms.txt", bytes.NewReader([]byte("price 40")), PutOptions{})
	v2, _ := v.Put(ctx, f, "terms.txt", bytes.NewReader([]byte("price 41")), PutOptions{})
	stale, err := v.Put(ctx, f, "terms.txt", bytes.NewReader([]byte("price 39, from v1")), PutOptions{Base: v1.ID})
	if err != nil || !stale.Conflict {
		t.Fatalf("stale import: %+v %v", stale, err)
	}
	got := names(t, v, f)
	if got["terms.txt"].Head != v2.ID || len(got) != 2 {
		t.Fatalf("files %+v", got)
	}
	for name, fi := range got {
		if name != "terms.txt" && (!strings.Contains(name, "(conflict ") || fi.Head != stale.ID) {
			t.Fatalf("conflict line %q %+v", name, fi)
		}
	}
}

// TestSameNameTwoFiles: a file created under one name on two devices; the
// one created first keeps the name, whichever arrived first.
func TestSameNameTwoFiles(t *testing.T) {
	ctx := context.Background()
	v, f := testVault(t)
	mine, _ := v.Put(ctx, f, "memo.md", bytes.NewReader([]byte("# mine")), PutOptions{})
	// The other device made its memo.md an hour before.
	other := plant(t, v, f, mine, Version{}, "memo.md", mine.Time.Add(-time.Hour), object.NewRandomID())
	if err := v.reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	got := names(t, v, f)
	if got["memo.md"].Head != other.ID || len(got) != 2 {
		t.Fatalf("files %+v", got)
	}
	for name, fi := range got {
		if name != "memo.md" && fi.Head != mine.ID {
			t.Fatalf("%q should be the later file: %+v", name, fi)
		}
	}
}

// TestConflictLinesOfOneMinute: three edits of one version made apart on
// one device within a minute (or by three people whose devices share a
// name): two conflict lines whose names would be the same, device and
// minute alike. Each gets its own name; before, both took the same one
// on every try, the layout never succeeded, and every sync of every
// member stopped at "line name: already exists".
func TestConflictLinesOfOneMinute(t *testing.T) {
	ctx := context.Background()
	v, f := testVault(t)
	v1, err := v.Put(ctx, f, "shared.txt", bytes.NewReader([]byte("version one")), PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC)
	var planted []*Manifest
	for i := range 4 {
		planted = append(planted, plant(t, v, f, v1, v1, "shared.txt", t0.Add(time.Duration(i)*10*time.Second), v1.File))
	}
	if err := v.reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	got := names(t, v, f)
	if len(got) != 4 || got["shared.txt"].Head != planted[0].ID {
		t.Fatalf("files %v", slices.Sorted(maps.Keys(got)))
	}
	heads := map[object.ID]bool{}
	for name, fi := range got {
		heads[fi.Head] = true
		if name != "shared.txt" && !strings.HasPrefix(name, "shared (conflict "+v.device.Name+" 2026-11-30 14-05") {
			t.Errorf("conflict line %q", name)
		}
	}
	if len(heads) != 4 {
		t.Fatalf("files %v show %d of the 4 versions", slices.Sorted(maps.Keys(got)), len(heads))
	}
	if r, err := v.Check(ctx, nil); err != nil || !r.OK() {
		t.Fatalf("check: %+v %v", r, err)
	}
}
