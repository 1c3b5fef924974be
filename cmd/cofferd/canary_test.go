package main_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWipeLeavesNothingOnDisk (the canary test): a vault on its own ext4
// file system, loop-mounted, holds 1,000 unique strings in documents of
// every class, previewed and exported where allowed (the exports and
// sources live elsewhere); its caches and temporary files go to that file
// system too. After a wipe, a raw image of the file system holds none of
// the strings, no key file, no keyring. Needs root (mount); skipped
// otherwise.
func TestWipeLeavesNothingOnDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the canary test mounts an ext4 image: it needs root")
	}
	if _, err := exec.LookPath("mkfs.ext4"); err != nil {
		t.Skip("no mkfs.ext4 (e2fsprogs)")
	}
	work := t.TempDir()
	img, mnt := filepath.Join(work, "fs.img"), filepath.Join(work, "mnt")
	os.MkdirAll(mnt, 0o700)
	if out, err := exec.Command("truncate", "-s", "96M", img).CombinedOutput(); err != nil {
		t.Fatalf("truncate: %v %s", err, out)
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v %s", err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot loop-mount an image here: %v %s", err, out)
	}
	mounted := true
	unmount := func() {
		if mounted {
			exec.Command("sync").Run()
			if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
				t.Fatalf("umount: %v %s", err, out)
			}
			mounted = false
		}
	}
	t.Cleanup(func() {
		if mounted {
			exec.Command("umount", "-l", mnt).Run()
		}
	})

	b := build(t)
	srv := startServer(t, b, filepath.Join(work, "server"), freePort(t))
	token, _ := os.ReadFile(filepath.Join(work, "server", "bootstrap-token"))
	key := filepath.Join(work, "admin.key")
	admin := func(args ...string) string {
		return run(t, adminPass, b.cofferd, append([]string{"admin", args[0], "--server", srv.url, "--key", key}, args[1:]...)...)
	}
	run(t, adminPass, b.cofferd, "admin", "init", "--server", srv.url, "--bootstrap", strings.TrimSpace(string(token)), "--key", key)
	const pass = "canary trader passphrase 2026"
	vaultDir := filepath.Join(mnt, "vault")
	os.MkdirAll(filepath.Join(mnt, "cache"), 0o700)
	os.MkdirAll(filepath.Join(mnt, "tmp"), 0o700)
	env := append(os.Environ(), "COFFER_PASSPHRASE="+pass, "XDG_CACHE_HOME="+filepath.Join(mnt, "cache"), "TMPDIR="+filepath.Join(mnt, "tmp"))
	coffer := func(args ...string) (string, int) {
		cmd := exec.Command(b.coffer, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	must := func(args ...string) string {
		out, code := coffer(args...)
		if code != 0 {
			t.Fatalf("coffer %v: exit %d\n%s", args, code, out)
		}
		return out
	}
	must("enroll", "--vault", vaultDir, "--server", srv.url, "--name", "Canary Trader", "--device-name", "canary",
		"--invite", lastLine(admin("invite", "--email", "canary@acme.test", "--role", "manager")))

	var canaries []string
	src := filepath.Join(work, "sources")
	os.MkdirAll(src, 0o700)
	for _, class := range []string{"public", "internal", "confidential", "restricted"} {
		folder := "Folder " + class
		must("folder", "create", "--vault", vaultDir, folder, "--class", class)
		for d := 0; d < 5; d++ {
			var doc strings.Builder
			for i := 0; i < 50; i++ {
				c := make([]byte, 12)
				rand.Read(c)
				s := "CANARY-" + hex.EncodeToString(c)
				canaries = append(canaries, s)
				fmt.Fprintf(&doc, "line %d of %s: %s\n", i, class, s)
			}
			name := fmt.Sprintf("doc%d.txt", d)
			os.WriteFile(filepath.Join(src, class+name), []byte(doc.String()), 0o600)
		}
		srcs, _ := filepath.Glob(filepath.Join(src, class+"doc*.txt"))
		must(append([]string{"import", "--vault", vaultDir, "--folder", folder}, srcs...)...)
		for d := 0; d < 5; d++ {
			name := fmt.Sprintf("%sdoc%d.txt", class, d)
			path := folder + "/" + name
			// Previewed everywhere (to a file where that is allowed);
			// exported where allowed — outside the image.
			if out, code := coffer("preview", "--vault", vaultDir, path, "--out", filepath.Join(work, "p-"+class+name+".png")); code != 0 && code != 3 {
				t.Fatalf("preview %s: exit %d\n%s", path, code, out)
			}
			if out, code := coffer("export", "--vault", vaultDir, path, "--out", filepath.Join(work, "export-"+class+name)); code != 0 && code != 3 {
				t.Fatalf("export %s: exit %d\n%s", path, code, out)
			}
		}
	}
	if len(canaries) != 1000 {
		t.Fatalf("%d canaries", len(canaries))
	}
	must("sync", "--vault", vaultDir)
	// What must be gone afterwards, as it is now.
	var secrets [][]byte
	for _, f := range []string{"keys/user.age", "keys/device.age", "keys/transport.key"} {
		b, err := os.ReadFile(filepath.Join(vaultDir, f))
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, b)
	}
	rings, _ := filepath.Glob(filepath.Join(vaultDir, "objects", "keyring", "*", "*"))
	for _, r := range rings {
		b, _ := os.ReadFile(r)
		secrets = append(secrets, b)
	}
	if len(rings) < 4 {
		t.Fatalf("%d keyrings found", len(rings))
	}

	admin("wipe", "--device", deviceID(t, admin, "canary"))
	if out, code := coffer("ls", "--vault", vaultDir); code != 4 || !strings.Contains(out, "wiped") {
		t.Fatalf("after the wipe: exit %d\n%s", code, out)
	}
	if out := admin("receipts"); !strings.Contains(out, "Receipt verified") {
		t.Fatalf("no receipt:\n%s", out)
	}
	unmount()

	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, c := range canaries {
		if bytes.Contains(raw, []byte(c)) {
			found++
		}
	}
	if found > 0 {
		t.Errorf("%d of the 1000 canary strings are in the raw file system after the wipe", found)
	}
	for i, s := range secrets {
		// A key file's or keyring's bytes, or any 64-byte stretch of them.
		probe := s
		if len(probe) > 64 {
			probe = s[len(s)/2 : len(s)/2+64]
		}
		if bytes.Contains(raw, probe) {
			t.Errorf("secret %d (of %d: key files, then keyrings) is in the raw file system after the wipe", i, len(secrets))
		}
	}
	if !bytes.Contains(raw, []byte("This Coffer vault was wiped")) {
		t.Error("the notice is not on the file system (is this the right image?)")
	}
}
