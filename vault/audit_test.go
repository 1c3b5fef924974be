package vault_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
)

// auditVault returns a closed vault with six chained audit entries.
func auditVault(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	v, dir := newVault(t)
	f := mustFolder(t, v, "Deals", policy.Confidential)
	for i, o := range []audit.Outcome{audit.OK, audit.Blocked, audit.OK, audit.Blocked, audit.OK, audit.OK} {
		if _, err := v.AppendAudit(ctx, audit.Event{Action: audit.Export, Outcome: o, Folder: f.ID.String(), Version: i + 1}); err != nil {
			t.Fatal(err)
		}
	}
	log, err := v.AuditEvents(ctx)
	if err != nil || len(log.Events) != 6 || len(log.Breaks) != 0 {
		t.Fatalf("fresh chain: %d events, breaks %v, %v", len(log.Events), log.Breaks, err)
	}
	v.Close()
	return dir
}

func rawIndex(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestAuditTamperIsDetected edits the audit table behind Coffer's back in
// each way an attacker with the laptop could, and expects the chain to
// report where.
func TestAuditTamperIsDetected(t *testing.T) {
	cases := []struct {
		name   string
		tamper string
		at     int // position of the first break
	}{
		{"delete", "DELETE FROM audit WHERE seq = 3", 3},
		{"delete first", "DELETE FROM audit WHERE seq = 1", 1},
		{"edit outcome", "UPDATE audit SET outcome = 'ok' WHERE seq = 4", 4},
		{"edit time", "UPDATE audit SET at = at - 3600000000000 WHERE seq = 2", 2},
		{"insert", `INSERT INTO audit SELECT 99, at + 1, action, 'ok', sealed, hash, hash, signer, sig FROM audit WHERE seq = 6;
			UPDATE audit SET seq = 7 WHERE seq = 99`, 7},
		{"insert between", `UPDATE audit SET seq = seq + 10 WHERE seq >= 4;
			INSERT INTO audit SELECT 4, at, action, outcome, sealed, prev, hash, signer, sig FROM audit WHERE seq = 3`, 4},
		{"reorder", `UPDATE audit SET seq = 100 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3;
			UPDATE audit SET seq = 3 WHERE seq = 100`, 2},
		{"swap sealed details", `UPDATE audit SET sealed = (SELECT sealed FROM audit WHERE seq = 5) WHERE seq = 6`, 6},
		{"forged signature", "UPDATE audit SET sig = zeroblob(64) WHERE seq = 5", 5},
	}
	ctx := context.Background()
	base := auditVault(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "v")
			testenv.CopyDir(t, base, dir)
			exec(t, rawIndex(t, dir), tc.tamper)
			v, err := vault.Open(ctx, dir, testPass)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			log, err := v.AuditEvents(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(log.Breaks) == 0 {
				t.Fatal("tampering not detected")
			}
			if got := log.Breaks[0].Position; got != tc.at {
				t.Errorf("first break at position %d, want %d: %v", got, tc.at, log.Breaks)
			}
		})
	}
}

// TestFolderClassCannotBeLiftedInTheIndex points a confidential folder's
// index row at the public folder's signed object, and swaps the sealed
// columns: both are refused, never read as "public".
func TestFolderClassCannotBeLiftedInTheIndex(t *testing.T) {
	ctx := context.Background()
	v, dir := newVault(t)
	mustFolder(t, v, "Deals", policy.Confidential)
	mustFolder(t, v, "Lobby", policy.Public)
	v.Close()
	for name, q := range map[string]string{
		"object swap": `UPDATE folders SET object_id = (SELECT object_id FROM folders ORDER BY created_at DESC LIMIT 1) WHERE created_at = (SELECT min(created_at) FROM folders)`,
		"sealed swap": `UPDATE folders SET sealed = (SELECT sealed FROM folders ORDER BY created_at DESC LIMIT 1) WHERE created_at = (SELECT min(created_at) FROM folders)`,
	} {
		t.Run(name, func(t *testing.T) {
			copyTo := filepath.Join(t.TempDir(), "v")
			testenv.CopyDir(t, dir, copyTo)
			exec(t, rawIndex(t, copyTo), q)
			v, err := vault.Open(ctx, copyTo, testPass)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			folders, ferr := v.Folders(ctx)
			for _, f := range folders {
				if f.Name == "Deals" && f.Class != policy.Confidential {
					t.Fatalf("Deals listed as %s", f.Class)
				}
			}
			f, err := v.Folder(ctx, "Deals")
			if err == nil && f.Class != policy.Confidential {
				t.Fatalf("Deals read as %s", f.Class)
			}
			if err == nil && ferr == nil {
				r, _ := v.Check(ctx, nil)
				if r == nil || r.OK() {
					t.Fatal("the edit went unnoticed by check")
				}
			}
			if err != nil && !errors.Is(err, vault.ErrTampered) && !errors.Is(err, vault.ErrDamaged) {
				t.Errorf("error says neither tampered nor damaged: %v", err)
			}
		})
	}
}
