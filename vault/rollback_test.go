package vault_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
)

// rollbackVault returns a closed vault with a confidential folder holding
// terms.txt in three versions and notes.txt in one, and a public folder.
func rollbackVault(t *testing.T) string {
	t.Helper()
	v, dir := newVault(t)
	deals := mustFolder(t, v, "Deals", policy.Confidential)
	mustFolder(t, v, "Lobby", policy.Public)
	for _, s := range []string{"price: 40\n", "price: 41\n", "price: 42\n"} {
		put(t, v, deals, "terms.txt", []byte(s))
	}
	put(t, v, deals, "notes.txt", []byte("notes\n"))
	if _, err := v.AppendAudit(context.Background(), audit.Event{Action: audit.Export, Outcome: audit.Blocked, Folder: deals.ID.String()}); err != nil {
		t.Fatal(err)
	}
	v.Close()
	return dir
}

func openDeals(t *testing.T, dir string) (*vault.Vault, vault.Folder) {
	t.Helper()
	v, err := vault.Open(context.Background(), dir, testPass)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	f, err := v.Folder(context.Background(), "Deals")
	if err != nil {
		t.Fatal(err)
	}
	return v, f
}

// TestIndexEditsAreUndone edits index.db without keys — points a file back
// at an old version, deletes version and folder rows — and expects the
// next unlock to follow the signed objects, say so, and audit it.
func TestIndexEditsAreUndone(t *testing.T) {
	ctx := context.Background()
	base := rollbackVault(t)
	cases := map[string]string{
		"head pointed back": `UPDATE files SET head = (SELECT id FROM versions WHERE seq = 1 AND file_id = files.id)`,
		"newest versions deleted": `DELETE FROM version_chunks WHERE version_id IN (SELECT id FROM versions WHERE seq = 3);
			DELETE FROM versions WHERE seq = 3;
			UPDATE files SET head = (SELECT id FROM versions WHERE seq = 2 AND file_id = files.id) WHERE head NOT IN (SELECT id FROM versions)`,
		"file and folder deleted": `DELETE FROM sources; DELETE FROM version_chunks; DELETE FROM chunks; DELETE FROM versions; DELETE FROM files;
			DELETE FROM keyrings; DELETE FROM folders`,
	}
	for name, q := range cases {
		t.Run(name, func(t *testing.T) {
			dir := copyVault(t, base)
			exec(t, rawIndex(t, dir), q)
			v, deals := openDeals(t, dir)
			if got := string(read(t, v, deals, "terms.txt", 0)); got != "price: 42\n" {
				t.Fatalf("terms.txt reads %q after the edit, want the newest version", got)
			}
			vers, err := v.Versions(ctx, deals, "terms.txt")
			if err != nil || len(vers) != 3 {
				t.Fatalf("versions after the edit: %d, %v", len(vers), err)
			}
			if folders, _ := v.Folders(ctx); len(folders) != 2 {
				t.Fatalf("%d folders after the edit, want 2", len(folders))
			}
			if w := v.Warnings(); len(w) != 1 || !strings.Contains(w[0], "put back in line with the signed objects") {
				t.Fatalf("the user is not told: %q", w)
			}
			log, err := v.AuditEvents(ctx)
			if err != nil || len(log.Breaks) != 0 {
				t.Fatalf("audit: %v, breaks %v", err, log.Breaks)
			}
			if last := log.Events[len(log.Events)-1]; last.Action != audit.Repair {
				t.Fatalf("last audit event is %s, want the repair", last.Action)
			}
			if r, err := v.Check(ctx, nil); err != nil || !r.OK() {
				t.Fatalf("check after the repair: %+v, %v", r, err)
			}
		})
	}
}

// TestSwappedNamesAreRefused moves name lookup keys and sealed values
// between rows: asking for one file or folder must never hand out another.
func TestSwappedNamesAreRefused(t *testing.T) {
	ctx := context.Background()
	base := rollbackVault(t)
	t.Run("file name MACs swapped", func(t *testing.T) {
		dir := copyVault(t, base)
		db := rawIndex(t, dir)
		exec(t, db, `CREATE TEMP TABLE m AS SELECT id, name_mac FROM files; UPDATE files SET name_mac = randomblob(32);
			UPDATE files SET name_mac = (SELECT m.name_mac FROM m WHERE m.id != files.id)`)
		db.Close()
		v, deals := openDeals(t, dir)
		for _, name := range []string{"terms.txt", "notes.txt"} {
			_, err := v.Stat(ctx, deals, name)
			if !errors.Is(err, vault.ErrTampered) {
				t.Errorf("Stat(%s) after the swap: %v", name, err)
			}
		}
		r, err := v.Check(ctx, nil)
		if err != nil || r.OK() {
			t.Fatalf("check misses the swap: %+v, %v", r, err)
		}
	})
	t.Run("folder name MACs swapped", func(t *testing.T) {
		dir := copyVault(t, base)
		exec(t, rawIndex(t, dir), `CREATE TEMP TABLE m AS SELECT id, name_mac FROM folders; UPDATE folders SET name_mac = randomblob(32);
			UPDATE folders SET name_mac = (SELECT m.name_mac FROM m WHERE m.id != folders.id)`)
		v, err := vault.Open(ctx, dir, testPass)
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		f, err := v.Folder(ctx, "Lobby")
		if !errors.Is(err, vault.ErrTampered) {
			t.Fatalf("Folder(Lobby) after the swap: %+v, %v", f, err)
		}
		if r, err := v.Check(ctx, nil); err != nil || r.OK() {
			t.Fatalf("check misses the swap: %v", err)
		}
	})
	t.Run("version sealed values swapped", func(t *testing.T) {
		dir := copyVault(t, base)
		exec(t, rawIndex(t, dir), `UPDATE versions SET sealed = (SELECT v2.sealed FROM versions v2 WHERE v2.id != versions.id LIMIT 1) WHERE seq = 2`)
		v, _ := openDeals(t, dir)
		if r, err := v.Check(ctx, nil); err != nil || r.OK() {
			t.Fatalf("check misses the swapped sealed value: %v", err)
		}
	})
}

// TestRemovedIndexIsRebuilt removes index.db, or puts back an older copy of
// it, or removes the checkpoint: unlock refuses and says to rebuild; the
// rebuild finds every document and keeps the audit trail honest.
func TestRemovedIndexIsRebuilt(t *testing.T) {
	ctx := context.Background()
	base := rollbackVault(t)
	older := filepath.Join(t.TempDir(), "older-index")
	testenv.CopyDir(t, base, older) // an index from before the next edits
	v, deals := openDeals(t, base)
	put(t, v, deals, "terms.txt", []byte("price: 43\n"))
	// As app does for every import: the audit trail, and so the signed
	// checkpoint, moves past what the older index holds.
	if _, err := v.AppendAudit(ctx, audit.Event{Action: audit.Import, Outcome: audit.OK, Folder: deals.ID.String()}); err != nil {
		t.Fatal(err)
	}
	v.Close()

	cases := []struct {
		name   string
		attack func(dir string)
		trail  string // what the rebuild says of the audit trail
	}{
		{"index removed", func(dir string) {
			for _, f := range []string{"index.db", "index.db-wal", "index.db-shm"} {
				os.Remove(filepath.Join(dir, f))
			}
		}, "not in the index any more"},
		{"older index put back", func(dir string) {
			for _, f := range []string{"index.db", "index.db-wal", "index.db-shm"} {
				os.Remove(filepath.Join(dir, f))
				if b, err := os.ReadFile(filepath.Join(older, f)); err == nil {
					os.WriteFile(filepath.Join(dir, f), b, 0o600)
				}
			}
		}, "not in the index any more"},
		{"checkpoint removed", func(dir string) {
			os.Remove(filepath.Join(dir, "checkpoint"))
		}, "checkpoint was missing or altered"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyVault(t, base)
			tc.attack(dir)
			_, err := vault.Open(ctx, dir, testPass)
			if !errors.Is(err, vault.ErrNeedsRebuild) || !errors.Is(err, vault.ErrTampered) {
				t.Fatalf("Open after the attack: %v", err)
			}
			v, rep, err := vault.Rebuild(ctx, dir, testPass)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			if !strings.Contains(rep.Trail, tc.trail) {
				t.Errorf("rebuild says of the trail %q, want %q", rep.Trail, tc.trail)
			}
			deals, err := v.Folder(ctx, "Deals")
			if err != nil {
				t.Fatal(err)
			}
			if got := string(read(t, v, deals, "terms.txt", 0)); got != "price: 43\n" {
				t.Fatalf("terms.txt after rebuild: %q", got)
			}
			if vers, _ := v.Versions(ctx, deals, "terms.txt"); len(vers) != 4 {
				t.Fatalf("%d versions after rebuild, want 4", len(vers))
			}
			if f, err := v.Folder(ctx, "Lobby"); err != nil || f.Class != policy.Public {
				t.Fatalf("Lobby after rebuild: %+v, %v", f, err)
			}
			log, err := v.AuditEvents(ctx)
			if err != nil || len(log.Breaks) != 0 {
				t.Fatalf("the rebuilt trail does not verify: %v %v", err, log.Breaks)
			}
			if log.Events[0].Seq == 1 && tc.name != "checkpoint removed" {
				t.Fatalf("the trail restarted at entry 1 as if nothing happened")
			}
			if last := log.Events[len(log.Events)-1]; last.Action != audit.Rebuild {
				t.Fatalf("last event %s, want the rebuild", last.Action)
			}
			if r, err := v.Check(ctx, nil); err != nil || !r.OK() {
				t.Fatalf("check after rebuild: %+v %v", r, err)
			}
			v.Close()
			// And it opens normally from now on.
			v2, err := vault.Open(ctx, dir, testPass)
			if err != nil {
				t.Fatal(err)
			}
			v2.Close()
		})
	}
}
