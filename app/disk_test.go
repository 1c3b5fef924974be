package app_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
)

// seedVault makes a vault in dir with a document in an internal folder
// and a confidential one, and closes it.
func seedVault(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	a, err := app.Init(ctx, dir, vault.Identity{Email: "rita@example.com", Name: "Rita Risk"}, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, c := range []policy.Class{policy.Internal, policy.Confidential} {
		if _, err := a.CreateFolder(ctx, string(c), c); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Import(ctx, string(c), "notes.md", strings.NewReader("# Q3\n\nmargin 4.2%\n"), nil); err != nil {
			t.Fatal(err)
		}
	}
}

// auditCount returns how many entries the vault's audit trail holds.
func auditCount(t *testing.T, a *app.App) int {
	t.Helper()
	log, err := a.AuditLog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(log.Breaks) != 0 {
		t.Fatalf("audit trail breaks: %v", log.Breaks)
	}
	return len(log.Events)
}

// TestPreviewNeedsItsAuditRecord opens a vault on read-only storage, one
// on a disk with 0 bytes free and one on a disk with no inode free: listing, versions, the audit trail and
// check work; a preview to the screen, whose record cannot be written, is
// refused with the reason, and nothing is shown.
func TestPreviewNeedsItsAuditRecord(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "vault")
	seedVault(t, dir)
	view := testenv.ReadOnlyView(t, dir)

	disk := testenv.SmallDisk(t, 32<<20)
	full := filepath.Join(disk.Dir, "vault")
	seedVault(t, full)
	disk.Fill(0)
	// Space left, but no inode: SQLite cannot make its shared-memory file,
	// and every command said only "index: unable to open database file".
	inodes := testenv.SmallDisk(t, 32<<20)
	noInodes := filepath.Join(inodes.Dir, "vault")
	seedVault(t, noInodes)
	inodes.FillInodes()

	for _, c := range []struct {
		name, dir string
		want      error
		words     string
	}{
		{"read-only storage", view, vault.ErrReadOnly, "the vault is on read-only storage"},
		{"full disk", full, vault.ErrDiskFull, "the disk holding the vault is full"},
		{"no inode left", noInodes, vault.ErrDiskFull, "the disk holding the vault is full"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := app.Open(ctx, c.dir, pass)
			if err != nil {
				t.Fatalf("unlock: %v", err)
			}
			defer a.Close()
			if w := strings.Join(a.Warnings(), "; "); !strings.Contains(w, "could not be written to the audit trail") || !strings.Contains(w, c.words) {
				t.Errorf("warnings %q do not say that the unlock is not on record, and why", w)
			}
			files, err := a.Files(ctx, "internal")
			if err != nil || len(files) != 1 {
				t.Fatalf("ls: %v, %v", files, err)
			}
			if vs, err := a.Versions(ctx, "internal", "notes.md"); err != nil || len(vs) != 1 {
				t.Fatalf("versions: %v, %v", vs, err)
			}
			n := auditCount(t, a)
			if r, err := a.Check(ctx, nil); err != nil || !r.OK() {
				t.Fatalf("check: %v %+v", err, r)
			}
			if unrecorded, why := a.AuditFailures(); unrecorded < 2 || !errors.Is(why, c.want) {
				t.Errorf("AuditFailures() = %d, %v: the unlock and the check went unrecorded", unrecorded, why)
			}

			p, err := a.Preview(ctx, "internal", "notes.md", app.PreviewOptions{})
			if p != nil || !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.words) {
				t.Fatalf("preview: page %v, %v; want it refused with %q", p != nil, err, c.words)
			}
			t.Logf("preview: %v", err)
			if !strings.Contains(err.Error(), "must be recorded in the audit trail") {
				t.Errorf("preview refusal %q does not say why a record is needed", err)
			}
			if _, err := a.Export(ctx, "internal", "notes.md", filepath.Join(t.TempDir(), "out.md"), app.ExportOptions{}); !errors.Is(err, c.want) {
				t.Errorf("export: %v, want %v", err, c.want)
			}
			// A refusal by policy is still a refusal by policy.
			if _, err := a.Preview(ctx, "confidential", "notes.md", app.PreviewOptions{ToFile: true}); !errors.Is(err, app.ErrBlocked) {
				t.Errorf("preview to file of a confidential document: %v, want blocked", err)
			}
			if got := auditCount(t, a); got != n {
				t.Errorf("the audit trail grew from %d to %d entries on storage that cannot be written", n, got)
			}
			if _, err := a.Import(ctx, "internal", "new.md", strings.NewReader("new"), nil); !errors.Is(err, c.want) {
				t.Errorf("import: %v, want %v", err, c.want)
			}
		})
	}

	// With space again the same preview is shown and recorded.
	disk.Unfill()
	a, err := app.Open(ctx, full, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if len(a.Warnings()) != 0 {
		t.Errorf("warnings once there is space: %v", a.Warnings())
	}
	p, err := a.Preview(ctx, "internal", "notes.md", app.PreviewOptions{})
	if err != nil {
		t.Fatal(err)
	}
	log, err := a.AuditLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := log.Events[len(log.Events)-1]
	if last.Action != audit.Preview || last.Trace != p.TraceCode {
		t.Errorf("last audit entry %+v, want the preview with trace %s", last, p.TraceCode)
	}
}
