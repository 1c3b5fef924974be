package oskeyring

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
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
	// Kept alive past its first second by Gets half a second apart.
	for range 4 {
		time.Sleep(500 * time.Millisecond)
		if _, err := Get(name); err != nil {
			t.Fatalf("Get within the time to live: %v", err)
		}
		if err := Refresh(name, 2*time.Second); err != nil {
			t.Fatalf("Refresh within the time to live: %v", err)
		}
	}
	time.Sleep(3 * time.Second)
	if _, err := Get(name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after the time ran out: %v, want ErrNotFound", err)
	}
	if err := Refresh(name, time.Minute); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Refresh after the time ran out: %v, want ErrNotFound", err)
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
