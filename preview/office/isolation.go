package office

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// Isolation is the sandbox a conversion runs in, strongest first.
type Isolation int

const (
	// Auto asks for the strongest sandbox the system allows.
	Auto Isolation = iota
	// Namespaces runs LibreOffice in its own user, mount, PID, network
	// and IPC namespaces: no network, the root filesystem read-only, its
	// folder a tmpfs of its own that the kernel frees when it exits.
	Namespaces
	// RootNamespaces is Namespaces without the user namespace, for a
	// process running as root where user namespaces are refused (in some
	// containers).
	RootNamespaces
	// SharedMemory runs LibreOffice with its folder in /dev/shm (RAM),
	// 0700, and without network isolation: only its proxy setting, which
	// points nowhere, keeps it off the network.
	SharedMemory
	// TempFolder runs LibreOffice with its folder in the user's temp
	// folder, 0700, on disk: Windows, macOS, and Linux without /dev/shm.
	TempFolder
)

func (i Isolation) String() string {
	switch i {
	case Auto:
		return "auto"
	case Namespaces:
		return "no network, private RAM folder, read-only system (Linux namespaces)"
	case RootNamespaces:
		return "no network, private RAM folder, read-only system (Linux namespaces, as root)"
	case SharedMemory:
		return "private RAM folder in /dev/shm; network not isolated (namespaces refused)"
	case TempFolder:
		return "private folder on disk; network not isolated"
	}
	return "unknown"
}

// RAMBacked reports whether the converter's folder, which holds the
// document and the PDF while it runs, lives in memory only.
func (i Isolation) RAMBacked() bool { return i != TempFolder && i != Auto }

// NoNetwork reports whether the converter runs without any network.
func (i Isolation) NoNetwork() bool { return i == Namespaces || i == RootNamespaces }

// job is one conversion for a sandbox.
type job struct {
	program   string // LibreOffice's executable
	data      []byte // the document
	ext       string // its extension, one of formats
	profile   string // registrymodifications.xcu
	timeout   time.Duration
	maxMemory int64 // bytes resident, and in the folder where it is shared
	maxOutput int64 // bytes of PDF
}

// Why a sandbox killed a conversion.
type killReason int

const (
	notKilled killReason = iota
	killedTime
	killedMemory
	killedOutput
	killedCancel
)

// status is how a conversion ended when it was not killed.
type status int

const (
	statusOK      status = iota
	statusNoPDF          // LibreOffice exited without writing a PDF
	statusFailed         // LibreOffice, or the sandbox, failed
	statusSandbox        // the sandbox could not be set up
)

// result is what a sandbox returns of one conversion.
type result struct {
	pdf    []byte
	status status
	exit   string // how the process ended, for messages
	killed killReason
	stderr []byte // the last of LibreOffice's error output
}

// Private folders (the folder modes) are named with this prefix, hold an
// owner lock for as long as their conversion runs, and are removed after
// it; RemoveStale removes those whose owner died.
const (
	privatePrefix = "coffer-office-"
	ownerLock     = "owner.lock"
)

// privateFolder makes a 0700 folder in base and takes its owner lock.
// Remove it with the returned function.
func privateFolder(base string) (dir string, remove func(), err error) {
	dir, err = os.MkdirTemp(base, privatePrefix)
	if err != nil {
		return "", nil, err
	}
	l := flock.New(filepath.Join(dir, ownerLock), flock.SetPermissions(0o600))
	if ok, err := l.TryLock(); err != nil || !ok {
		_ = os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, func() {
		_ = os.RemoveAll(dir)
		_ = l.Unlock()
	}, nil
}

// RemoveStale removes the private folders of conversions whose process
// died (their owner lock is free) from every place this package puts
// them. Coffer calls it at every start; folders of running conversions,
// in this process or another, are left alone.
func RemoveStale() {
	for _, base := range privateBases() {
		entries, err := os.ReadDir(base)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !e.IsDir() || !strings.HasPrefix(e.Name(), privatePrefix) {
				continue
			}
			dir := filepath.Join(base, e.Name())
			l := flock.New(filepath.Join(dir, ownerLock), flock.SetPermissions(0o600))
			ok, err := l.TryLock()
			if err != nil || !ok {
				continue
			}
			_ = os.RemoveAll(dir)
			_ = l.Unlock()
		}
	}
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

func (t *tail) Bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.buf)
}

// capped collects at most max bytes and calls over once when more come.
type capped struct {
	mu   sync.Mutex
	max  int64
	buf  bytes.Buffer
	over func()
	hit  bool
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hit {
		return len(p), nil
	}
	if int64(c.buf.Len()+len(p)) > c.max {
		c.hit = true
		c.over()
		return len(p), nil
	}
	c.buf.Write(p)
	return len(p), nil
}

func (c *capped) Bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Bytes()
}
