package app_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
)

// TestSealedLengthsHideClassAndEmail: a thief reads index.db without keys.
// The sealed columns are ciphertext, but their lengths used to tell each
// folder's class and the length of the owner's e-mail. Two vaults of owners
// with very different e-mails do the same things in folders whose classes
// are permuted; every sealed value of a kind (folder, version, audit entry
// of one action and outcome) must have one length across both.
func TestSealedLengthsHideClassAndEmail(t *testing.T) {
	ctx := context.Background()
	classes := []policy.Class{policy.Public, policy.Internal, policy.Confidential, policy.Restricted}
	names := []string{"Wwww", "Xxxx", "Yyyy", "Zzzz"}
	lengths := map[string]map[int]string{} // kind → length → where seen
	for i, email := range []string{"a@b.io", "alexandra.konstantinopoulou@research.example-bank.com"} {
		dir := filepath.Join(t.TempDir(), "vault")
		a, err := app.Init(ctx, dir, vault.Identity{Email: email, Name: "Owner"}, pass)
		if err != nil {
			t.Fatal(err)
		}
		for j, name := range names {
			class := classes[(j+2*i)%len(classes)] // the second vault's classes are permuted
			if _, err := a.CreateFolder(ctx, name, class); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Import(ctx, name, "notes.txt", strings.NewReader("the same notes\n"), nil); err != nil {
				t.Fatal(err)
			}
			_, _ = a.Export(ctx, name, "notes.txt", filepath.Join(t.TempDir(), "out.txt"), app.ExportOptions{})
			if _, err := a.Preview(ctx, name, "notes.txt", app.PreviewOptions{}); err != nil {
				t.Fatal(err)
			}
			_, _ = a.CopyText(ctx, name, "notes.txt")
		}
		a.Close()
		db, err := sql.Open("sqlite", filepath.Join(dir, "index.db"))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			"SELECT 'folder', length(sealed) FROM folders",
			"SELECT 'version', length(sealed) FROM versions",
			"SELECT 'audit ' || action || ' ' || outcome, length(sealed) FROM audit",
		} {
			rows, err := db.Query(q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var kind string
				var n int
				if err := rows.Scan(&kind, &n); err != nil {
					t.Fatal(err)
				}
				if lengths[kind] == nil {
					lengths[kind] = map[int]string{}
				}
				lengths[kind][n] = email
			}
			rows.Close()
		}
		db.Close()
	}
	for kind, seen := range lengths {
		if len(seen) > 1 {
			t.Errorf("%s: sealed lengths %v differ with class or e-mail", kind, seen)
		}
	}
	if len(lengths) < 6 {
		t.Fatalf("only %d kinds of sealed value compared: %v", len(lengths), lengths)
	}
	t.Log(fmt.Sprint(lengths))
}
