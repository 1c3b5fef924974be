package vault_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

const wipePass = "wipe test passphrase 2026"

// enrolledVault makes a vault as enrolment does (org pins, transport key)
// with a folder and a document, closed.
func enrolledVault(t *testing.T) (string, vault.DeviceKeys, *vault.OrgPin) {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "vault")
	pub := func() []byte { p, _, _ := ed25519.GenerateKey(rand.Reader); return p }
	pin := &vault.OrgPin{Org: object.NewRandomID(), Admin: pub(), Server: pub(), TLS: make([]byte, 32), URL: "https://127.0.0.1:1"}
	dk := vault.NewDeviceKeys("Ann's laptop")
	v, err := vault.CreateWith(ctx, dir, vault.Identity{Email: "ann@acme.test", Name: "Ann"}, wipePass, vault.CreateOptions{Org: pin, Device: &dk})
	if err != nil {
		t.Fatal(err)
	}
	f, err := v.CreateFolder(ctx, "Deals", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Put(ctx, f, "terms.txt", strings.NewReader("price 42, a secret"), vault.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	v.Close()
	return dir, dk, pin
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// TestWipe: keys, keyrings, index and objects go; a notice and the
// receipt stay; the receipt verifies with the transport key; the
// passphrase opens nothing; once the receipt is sent, the transport key
// goes too.
func TestWipe(t *testing.T) {
	dir, dk, pin := enrolledVault(t)
	extra := filepath.Join(t.TempDir(), "copies")
	os.MkdirAll(extra, 0o700)
	os.WriteFile(filepath.Join(extra, "memo.txt"), []byte("a copy"), 0o600)
	order := vault.WipeOrder{Cause: vault.CauseAdmin, Org: pin.Org, Device: dk.ID, Entry: strings.Repeat("ab", 32),
		Reason: "lost in a taxi", Issued: time.Now(), OrgName: "Acme Capital", Extra: []string{extra}}
	// A copy of the index a repair set aside goes too; a receipt planted
	// before the wipe (it would be sent instead) is replaced.
	os.WriteFile(filepath.Join(dir, "index.db.replaced-1700000000"), []byte("an old index"), 0o600)
	os.WriteFile(filepath.Join(dir, "WIPE-RECEIPT"), []byte("a planted receipt"), 0o600)
	receipt, err := vault.Wipe(dir, order)
	if err != nil {
		t.Fatal(err)
	}
	got := files(t, dir)
	want := []string{"WIPE-RECEIPT", "WIPED.txt", "coffer.json", "keys/org.json", "keys/transport.key"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("after the wipe the folder holds %v, want %v", got, want)
	}
	if _, err := os.Stat(extra); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the copies folder survived: %v", err)
	}
	_, transport := dk.Public()
	r, err := wire.OpenReceipt(receipt, transport)
	if err != nil || r.Device != dk.ID || r.Org != pin.Org || r.Cause != "admin" || r.Order != order.Entry || r.Files < 5 {
		t.Fatalf("receipt %+v %v", r, err)
	}
	notice, _ := os.ReadFile(filepath.Join(dir, vault.WipeNotice))
	if !strings.Contains(string(notice), "Acme Capital") || !strings.Contains(string(notice), "lost in a taxi") {
		t.Errorf("notice: %s", notice)
	}
	_, err = vault.Open(context.Background(), dir, wipePass)
	var we *vault.WipedError
	if !errors.As(err, &we) || !errors.Is(err, vault.ErrWiped) {
		t.Fatalf("open after the wipe: %v", err)
	}
	if !bytes.Equal(vault.PendingReceipt(dir), receipt) {
		t.Fatal("the receipt is not pending")
	}
	if err := vault.ReceiptSent(dir); err != nil {
		t.Fatal(err)
	}
	if vault.PendingReceipt(dir) != nil {
		t.Error("the receipt is still pending after it was sent")
	}
	for _, f := range files(t, dir) {
		if strings.HasPrefix(f, "keys/") {
			t.Errorf("%s remains after the receipt was sent", f)
		}
	}
}

// TestWipeInterrupted: a wipe killed after its order was written, or
// after the keys went, is finished by the next Open, which then refuses.
func TestWipeInterrupted(t *testing.T) {
	for _, stage := range []string{"order written", "keys gone"} {
		t.Run(stage, func(t *testing.T) {
			dir, dk, pin := enrolledVault(t)
			order := vault.WipeOrder{Cause: vault.CauseAdmin, Org: pin.Org, Device: dk.ID, Entry: strings.Repeat("cd", 32), Issued: time.Now()}
			if _, err := vault.Wipe(filepath.Join(t.TempDir(), "nothing"), order); !errors.Is(err, vault.ErrNotVault) {
				t.Fatalf("wipe of a folder that is no vault: %v", err)
			}
			// What a crash leaves: the order on disk and, later, no keys.
			b := []byte(`{"cause":"admin","org":"` + pin.Org.String() + `","device":"` + dk.ID.String() + `","entry":"` + order.Entry + `","reason":"","issued":"2026-11-30T10:00:00Z"}`)
			if err := os.WriteFile(filepath.Join(dir, "WIPING"), b, 0o600); err != nil {
				t.Fatal(err)
			}
			if stage == "keys gone" {
				os.Remove(filepath.Join(dir, "keys", "user.age"))
				os.Remove(filepath.Join(dir, "keys", "device.age"))
			}
			if _, err := vault.Open(context.Background(), dir, wipePass); !errors.Is(err, vault.ErrWiped) {
				t.Fatalf("open after a crash mid-wipe: %v", err)
			}
			for _, f := range files(t, dir) {
				if strings.HasPrefix(f, "objects/") || f == "index.db" || f == "keys/user.age" || f == "WIPING" {
					t.Errorf("%s remains after the wipe was finished", f)
				}
			}
			if vault.PendingReceipt(dir) == nil {
				t.Error("no receipt after the wipe was finished")
			}
		})
	}
}

// TestWipeAfterWrongPassphrases: the policy's wipe_after_failures wipes
// the vault at that many wrong passphrases in a row.
func TestWipeAfterWrongPassphrases(t *testing.T) {
	ctx := context.Background()
	dir, _, _ := enrolledVault(t)
	v, err := vault.Open(ctx, dir, wipePass)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SetWipeAfterFailures(4); err != nil {
		t.Fatal(err)
	}
	v.Close()
	warned := false
	for i := 1; i <= 3; i++ {
		_, err := vault.Open(ctx, dir, "wrong passphrase")
		if !errors.Is(err, vault.ErrWrongPassphrase) && !errors.Is(err, vault.ErrLocked) {
			t.Fatalf("wrong passphrase %d: %v", i, err)
		}
		// The last ones before the wipe say it comes.
		if errors.Is(err, vault.ErrWrongPassphrase) && i >= 2 {
			want := fmt.Sprintf("%d more wrong and your organisation's policy wipes this vault", 4-i)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("wrong passphrase %d: %v, want %q", i, err, want)
			}
			warned = true
		}
	}
	if !warned {
		t.Error("no wrong passphrase said the wipe was coming")
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "user.age")); err != nil {
		t.Fatalf("wiped before the fourth: %v", err)
	}
	// The fourth may meet the backoff first; wait it out as a thief would.
	for i := 0; i < 100; i++ {
		_, err = vault.Open(ctx, dir, "wrong passphrase")
		if !errors.Is(err, vault.ErrLocked) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !errors.Is(err, vault.ErrWiped) {
		t.Fatalf("the fourth wrong passphrase: %v", err)
	}
	if _, err := vault.Open(ctx, dir, wipePass); !errors.Is(err, vault.ErrWiped) {
		t.Fatalf("the right passphrase after the wipe: %v", err)
	}
}
