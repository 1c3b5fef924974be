package oskeyring

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// testName is a name no other test run uses.
func testName(t *testing.T) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "coffer-keyring-test:" + hex.EncodeToString(b[:])
	t.Cleanup(func() { _ = Remove(name) })
	return name
}

func TestPutGetRemove(t *testing.T) {
	name := testName(t)
	if _, err := Get(name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Put: %v, want ErrNotFound", err)
	}
	secret := []byte("AGE-SECRET-KEY-PQ-1EXAMPLE")
	if err := Put(name, secret, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := Get(name)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Get = %q, %v; want %q", got, err, secret)
	}
	// Put again replaces.
	if err := Put(name, []byte("second"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, _ := Get(name); string(got) != "second" {
		t.Fatalf("after a second Put, Get = %q", got)
	}
	if err := Remove(name); err != nil {
		t.Fatal(err)
	}
	if _, err := Get(name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Remove: %v, want ErrNotFound", err)
	}
	if err := Remove(name); err != nil {
		t.Fatalf("Remove of nothing: %v", err)
	}
	if err := Put(name, nil, time.Minute); err == nil {
		t.Error("Put took an empty secret")
	}
	if err := Put(name, make([]byte, MaxSecret+1), time.Minute); err == nil {
		t.Error("Put took a secret over MaxSecret")
	}
}

// TestTimeToLiveIsIdleTime: the kernel removes the secret when its time
// runs out, and Refresh starts the time again.
func TestTimeToLiveIsIdleTime(t *testing.T) {
	name := testName(t)
	if err := Put(name, []byte("s"), time.Second); err != nil {
		t.Fatal(err)
	}
	// Kept past its first second by refreshes 600 ms apart (a time to
	// live is at least what was asked, whatever the clock's fraction of
	// a second).
	for range 4 {
		time.Sleep(600 * time.Millisecond)
		if _, err := Get(name); err != nil {
			t.Fatalf("Get within the time to live: %v", err)
		}
		if err := Refresh(name, time.Second); err != nil {
			t.Fatalf("Refresh within the time to live: %v", err)
		}
	}
	time.Sleep(2100 * time.Millisecond) // at most a second more
	if _, err := Get(name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after the time ran out: %v, want ErrNotFound", err)
	}
	if err := Refresh(name, time.Minute); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Refresh after the time ran out: %v, want ErrNotFound", err)
	}
}

// TestAnotherUserCannotReadIt: a process of another user (nobody) finds
// nothing under the name. Run as root (CI is), the child runs as 65534.
func TestAnotherUserCannotReadIt(t *testing.T) {
	if name := os.Getenv("COFFER_KEYRING_OTHER"); name != "" {
		if got, err := Get(name); err == nil {
			t.Fatalf("another user read %q", got)
		}
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a child as another user")
	}
	name := testName(t)
	if err := Put(name, []byte("not for nobody"), time.Minute); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary in a folder nobody may read: a copy it may run.
	dir, err := os.MkdirTemp("", "coffer-keyring-other-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "keyring.test")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run", "^TestAnotherUserCannotReadIt$")
	cmd.Env = append(os.Environ(), "COFFER_KEYRING_OTHER="+name)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the child as nobody: %v\n%s", err, out)
	}
}

// TestAnotherProcessReadsIt: what one process keeps, the next process of
// the same user finds (this test binary again, as a child).
func TestAnotherProcessReadsIt(t *testing.T) {
	if name := os.Getenv("COFFER_KEYRING_CHILD"); name != "" {
		got, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		os.Stdout.Write(got)
		return
	}
	name := testName(t)
	if err := Put(name, []byte("from the parent"), time.Minute); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestAnotherProcessReadsIt$")
	cmd.Env = append(os.Environ(), "COFFER_KEYRING_CHILD="+name)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !bytes.HasPrefix(out, []byte("from the parent")) {
		t.Fatalf("child read %q", out)
	}
}
