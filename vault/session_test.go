//go:build linux

package vault_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
)

// startSession starts a session on a fresh vault and closes the vault, as
// `coffer unlock` does; the session is ended when the test ends.
func startSession(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("sessions need the Linux kernel keyring")
	}
	v, dir := newVault(t)
	f := mustFolder(t, v, "Deals", policy.Internal)
	put(t, v, f, "memo.txt", []byte("the memo"))
	if _, err := v.StartSession(context.Background(), time.Minute, time.Hour); err != nil {
		t.Fatal(err)
	}
	v.Close()
	t.Cleanup(func() { _ = vault.EndSession(dir) })
	return dir
}

func TestSessionOpensWithoutPassphrase(t *testing.T) {
	ctx := context.Background()
	dir := startSession(t)
	if !vault.HasSession(dir) {
		t.Fatal("HasSession is false after StartSession")
	}
	for range 2 { // any number of opens
		v, err := vault.OpenSession(ctx, dir, vault.Options{})
		if err != nil {
			t.Fatalf("OpenSession: %v", err)
		}
		f, err := v.Folder(ctx, "Deals")
		if err != nil {
			t.Fatal(err)
		}
		var got strings.Builder
		if _, err := v.WriteTo(ctx, &got, f, "memo.txt", 0); err != nil || got.String() != "the memo" {
			t.Fatalf("read %q, %v through the session", got.String(), err)
		}
		v.Close()
	}
	if err := vault.EndSession(dir); err != nil {
		t.Fatal(err)
	}
	if vault.HasSession(dir) {
		t.Error("keys/session.age is still there after EndSession")
	}
	if _, err := vault.OpenSession(ctx, dir, vault.Options{}); !errors.Is(err, vault.ErrNoSession) {
		t.Fatalf("OpenSession after EndSession: %v, want ErrNoSession", err)
	}
	// The passphrase still opens it.
	v, err := vault.Open(ctx, dir, testPass)
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
}

// TestSessionFileAloneOpensNothing is the thief's copy of the vault folder,
// or the same laptop after a reboot: keys/session.age without the
// identity in the keyring.
func TestSessionFileAloneOpensNothing(t *testing.T) {
	ctx := context.Background()
	dir := startSession(t)
	stolen := copyVault(t, dir)
	if err := vault.EndSession(dir); err != nil { // the keyring forgets it
		t.Fatal(err)
	}
	if !vault.HasSession(stolen) {
		t.Fatal("the copy has no keys/session.age")
	}
	_, err := vault.OpenSession(ctx, stolen, vault.Options{})
	if !errors.Is(err, vault.ErrNoSession) {
		t.Fatalf("OpenSession of a copy with its session file: %v, want ErrNoSession", err)
	}
}

// TestSessionEndsAtItsDeadline: however busy, a session ends at its
// deadline, and what is left of it is removed.
func TestSessionEndsAtItsDeadline(t *testing.T) {
	ctx := context.Background()
	dir := startSession(t)
	later := func() time.Time { return time.Now().Add(time.Hour + time.Minute) }
	_, err := vault.OpenSession(ctx, dir, vault.Options{Now: later})
	if !errors.Is(err, vault.ErrNoSession) || !strings.Contains(err.Error(), "ended at") {
		t.Fatalf("OpenSession past the deadline: %v, want ErrNoSession saying when it ended", err)
	}
	if vault.HasSession(dir) {
		t.Error("the session file outlived the session")
	}
	if _, err := vault.OpenSession(ctx, dir, vault.Options{}); !errors.Is(err, vault.ErrNoSession) {
		t.Fatalf("OpenSession after the session ended: %v", err)
	}
}

// TestSessionFileReplaced: a session file damaged, or replaced by one
// that the keyring's identity does not open (an old session's, another
// vault's), opens nothing and is removed; the passphrase still works.
func TestSessionFileReplaced(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		replace func(t *testing.T, path string)
	}{
		{"flipped byte", func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)-20] ^= 1
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"sealed to another identity", func(t *testing.T, path string) {
			other, err := age.GenerateHybridIdentity()
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			w, err := age.Encrypt(f, other.Recipient())
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(`{"v":1,"user":{"v":1},"idle_s":60,"until":"2999-01-01T00:00:00Z"}`))
			w.Close()
			f.Close()
		}},
		{"an earlier session's", func(t *testing.T, path string) {
			old, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// A new session replaces the identity in the keyring.
			v, err := vault.Open(ctx, filepath.Dir(filepath.Dir(path)), testPass)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.StartSession(ctx, time.Minute, time.Hour); err != nil {
				t.Fatal(err)
			}
			v.Close()
			if err := os.WriteFile(path, old, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := startSession(t)
			tc.replace(t, filepath.Join(dir, "keys", "session.age"))
			if _, err := vault.OpenSession(ctx, dir, vault.Options{}); !errors.Is(err, vault.ErrNoSession) {
				t.Fatalf("OpenSession: %v, want ErrNoSession", err)
			}
			if vault.HasSession(dir) {
				t.Error("the replaced session file was left")
			}
			v, err := vault.Open(ctx, dir, testPass)
			if err != nil {
				t.Fatalf("the passphrase after a replaced session file: %v", err)
			}
			v.Close()
		})
	}
}

// TestWipeEndsTheSession: a wipe shreds the session file with the keys
// and takes the identity out of the keyring.
func TestWipeEndsTheSession(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sessions need the Linux kernel keyring")
	}
	ctx := context.Background()
	dir, dk, pin := enrolledVault(t)
	v, err := vault.Open(ctx, dir, wipePass)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.StartSession(ctx, time.Minute, time.Hour); err != nil {
		t.Fatal(err)
	}
	v.Close()
	t.Cleanup(func() { _ = vault.EndSession(dir) })
	order := vault.WipeOrder{Cause: vault.CauseAdmin, Org: pin.Org, Device: dk.ID, Entry: strings.Repeat("ab", 32),
		Reason: "lost in a taxi", Issued: time.Now(), OrgName: "Acme Capital"}
	if _, err := vault.Wipe(dir, order); err != nil {
		t.Fatal(err)
	}
	if vault.HasSession(dir) {
		t.Error("keys/session.age survived the wipe")
	}
	if _, err := vault.OpenSession(ctx, dir, vault.Options{}); !errors.Is(err, vault.ErrWiped) {
		t.Fatalf("OpenSession of a wiped vault: %v, want ErrWiped", err)
	}
}

func TestStartSessionRefusesBadIdle(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sessions need the Linux kernel keyring")
	}
	v, dir := newVault(t)
	for _, idle := range []time.Duration{0, time.Millisecond, 13 * time.Hour} {
		if _, err := v.StartSession(context.Background(), idle, time.Hour); err == nil {
			t.Errorf("StartSession took idle %v", idle)
		}
	}
	if vault.HasSession(dir) {
		t.Error("a refused session left its file")
	}
}

// TestSessionFileLeftAfterTimeout: when the keyring no longer holds the
// identity (timed out, restarted), the file is what is left of the
// session, and the next open removes it.
func TestSessionFileLeftAfterTimeout(t *testing.T) {
	ctx := context.Background()
	dir := startSession(t)
	stolen := copyVault(t, dir)
	if err := vault.EndSession(dir); err != nil { // the identity leaves the keyring
		t.Fatal(err)
	}
	if _, err := vault.OpenSession(ctx, stolen, vault.Options{}); !errors.Is(err, vault.ErrNoSession) {
		t.Fatalf("OpenSession: %v, want ErrNoSession", err)
	}
	if vault.HasSession(stolen) {
		t.Error("keys/session.age is left after the session timed out")
	}
}

// TestSessionPathPlanted: whoever can write into the vault folder (a
// synced or shared folder) plants a link or a named pipe where the
// session file goes. Neither a lock nor an open writes through the link
// or waits on the pipe: the planted thing is removed, what the link
// points to is untouched.
func TestSessionPathPlanted(t *testing.T) {
	ctx := context.Background()
	for _, plant := range []string{"symlink", "fifo"} {
		t.Run(plant, func(t *testing.T) {
			dir := startSession(t)
			path := filepath.Join(dir, "keys", "session.age")
			precious := filepath.Join(t.TempDir(), "precious.txt")
			if err := os.WriteFile(precious, []byte("not the vault's"), 0o600); err != nil {
				t.Fatal(err)
			}
			plantAt := func() {
				t.Helper()
				if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
					t.Fatal(err)
				}
				var err error
				if plant == "symlink" {
					err = os.Symlink(precious, path)
				} else {
					err = syscall.Mkfifo(path, 0o600)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			done := make(chan error, 1)
			plantAt()
			go func() {
				_, err := vault.OpenSession(ctx, dir, vault.Options{})
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, vault.ErrNoSession) {
					t.Fatalf("OpenSession with a planted %s: %v, want ErrNoSession", plant, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("OpenSession hangs on a planted %s", plant)
			}
			plantAt()
			go func() { done <- vault.EndSession(dir) }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("EndSession with a planted %s: %v", plant, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("EndSession hangs on a planted %s", plant)
			}
			if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the planted %s is still there: %v", plant, err)
			}
			if b, err := os.ReadFile(precious); err != nil || string(b) != "not the vault's" {
				t.Errorf("what the link pointed to was changed: %q, %v", b, err)
			}
		})
	}
}
