//go:build linux

package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Disk is a small file system of its own, mounted for one test: a real
// ext4 image on a loop device where the machine has mkfs.ext4 (else a
// tmpfs of that size), so that it fills up, and can be remounted read-only,
// as a real disk does. COFFER_TEST_DISK=tmpfs chooses the tmpfs.
type Disk struct {
	Dir  string // the mount point
	Kind string // "ext4" or "tmpfs"
	t    testing.TB
	fill string // the file Fill grows
}

// SmallDisk mounts a file system of size bytes for the test. It skips the
// test, saying why, where this process may not mount one (not root, no
// CAP_SYS_ADMIN, not Linux).
func SmallDisk(t testing.TB, size int64) *Disk {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: mounting a small file system needs root (run the tests as root, or in a container that may mount)")
	}
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	d := &Disk{Dir: dir, t: t}
	var args []string
	if _, err := exec.LookPath("mkfs.ext4"); err == nil && os.Getenv("COFFER_TEST_DISK") != "tmpfs" {
		img := filepath.Join(t.TempDir(), "disk.img")
		if err := os.WriteFile(img, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(img, size); err != nil {
			t.Fatal(err)
		}
		// No blocks reserved for root: the tests run as root, and a
		// disk full for root is what they need.
		if out, err := exec.Command("mkfs.ext4", "-q", "-F", "-m", "0", "-E", "lazy_itable_init=0,lazy_journal_init=0", img).CombinedOutput(); err != nil {
			t.Fatalf("mkfs.ext4: %v\n%s", err, out)
		}
		d.Kind, args = "ext4", []string{"-o", "loop", img, dir}
	} else {
		d.Kind, args = "tmpfs", []string{"-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir}
	}
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		t.Skipf("skipped: cannot mount a small %s file system here (%v: %s)", d.Kind, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			// Still busy (a process the test started): let go when it is.
			_ = exec.Command("umount", "-l", dir).Run()
			t.Logf("umount %s: %v: %s", dir, err, out)
		}
	})
	return d
}

// Free returns the bytes that can still be written.
func (d *Disk) Free() int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.Dir, &st); err != nil {
		d.t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// Fill writes a file until at most leave bytes are free (0: until the file
// system refuses to store another byte).
func (d *Disk) Fill(leave int64) {
	d.t.Helper()
	if d.fill == "" {
		d.fill = filepath.Join(d.Dir, "filler")
	}
	f, err := os.OpenFile(d.fill, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		d.t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for _, block := range []int{1 << 20, 64 << 10, 4 << 10, 512, 1} {
		for {
			if leave > 0 && d.Free()-int64(block) < leave {
				break
			}
			if _, err := f.Write(buf[:block]); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					d.t.Fatal(err)
				}
				break
			}
		}
		if err := f.Sync(); err != nil && !errors.Is(err, syscall.ENOSPC) {
			d.t.Fatal(err)
		}
	}
}

// FillInodes makes empty files until the file system refuses another
// (no inode left), with bytes still free.
func (d *Disk) FillInodes() {
	d.t.Helper()
	dir := filepath.Join(d.Dir, "inodes")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		d.t.Fatal(err)
	}
	for i := 0; ; i++ {
		f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(i)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, syscall.ENOSPC) {
			return
		}
		if err != nil {
			d.t.Fatal(err)
		}
		f.Close()
	}
}

// Unfill removes what Fill wrote.
func (d *Disk) Unfill() {
	d.t.Helper()
	if d.fill == "" {
		return
	}
	if err := os.Remove(d.fill); err != nil && !errors.Is(err, os.ErrNotExist) {
		d.t.Fatal(err)
	}
	syscall.Sync()
}

// ReadOnly remounts the file system read-only, or back read-write.
func (d *Disk) ReadOnly(ro bool) {
	d.t.Helper()
	opt := "remount,rw"
	if ro {
		opt = "remount,ro"
	}
	if out, err := exec.Command("mount", "-o", opt, d.Dir).CombinedOutput(); err != nil {
		d.t.Fatalf("mount -o %s: %v: %s", opt, err, out)
	}
}

// ReadOnlyView bind-mounts dir read-only at a new path for the test and
// returns that path: the same files, on storage that refuses every write.
// It skips the test where this process may not mount.
func ReadOnlyView(t testing.TB, dir string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: a read-only bind mount needs root on Linux")
	}
	view := filepath.Join(t.TempDir(), "read-only")
	if err := os.Mkdir(view, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "--bind", dir, view).CombinedOutput(); err != nil {
		t.Skipf("skipped: cannot bind-mount here (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if err := exec.Command("umount", view).Run(); err != nil {
			_ = exec.Command("umount", "-l", view).Run()
		}
	})
	if out, err := exec.Command("mount", "-o", "remount,bind,ro", view).CombinedOutput(); err != nil {
		t.Fatalf("remount the bind mount read-only: %v: %s", err, out)
	}
	return view
}
