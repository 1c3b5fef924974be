package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/sync/wire"
)

// The real binaries, a real cofferd on loopback, real vaults: what IT and
// an analyst run (docs/sync-protocol.md; README "Sync").

type binaries struct{ coffer, cofferd string }

func build(t *testing.T) binaries {
	t.Helper()
	dir := t.TempDir()
	b := binaries{coffer: filepath.Join(dir, "coffer"), cofferd: filepath.Join(dir, "cofferd")}
	for bin, pkg := range map[string]string{b.coffer: "./cmd/coffer", b.cofferd: "./cmd/cofferd"} {
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Dir = testenv.RepoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	return b
}

func run(t *testing.T, pass, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "COFFER_PASSPHRASE="+pass)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, out)
	}
	return string(out)
}

// server is a running cofferd.
type server struct {
	cmd  *exec.Cmd
	url  string
	data string
	out  *bytes.Buffer
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startServer(t *testing.T, b binaries, data, addr string) *server {
	t.Helper()
	s := &server{url: "https://" + addr, data: data, out: &bytes.Buffer{}}
	s.cmd = exec.Command(b.cofferd, "serve", "--data", data, "--listen", addr)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	serveUntilListening(t, s.cmd, addr, 5*time.Second, s.out.String)
	return s
}

// serveUntilListening starts cmd (a cofferd serve), kills it when the test
// ends, and waits up to limit until addr takes connections; out says what
// it printed, for the failure.
func serveUntilListening(t *testing.T, cmd *exec.Cmd, addr string, limit time.Duration, out func() string) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(limit); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start:\n%s", strings.Join(cmd.Args, " "), out())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

const (
	adminPass   = "the admin's own passphrase 2026"
	laptopPass  = "ann's laptop passphrase 2026"
	desktopPass = "ann's desktop passphrase 2026"
)

var codeRE = regexp.MustCompile(`[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}`)

// TestSyncWithTheRealBinaries: cofferd serve, admin init and invite, a
// laptop enrolled and a desktop paired, an import on one read byte for byte
// on the other, a version arriving through `sync --watch` within the feed's
// budget, the server killed mid-upload and the upload resumed, and a scan of
// the server's folder for names and contents.
func TestSyncWithTheRealBinaries(t *testing.T) {
	b := build(t)
	work := t.TempDir()
	addr := freePort(t)
	srv := startServer(t, b, filepath.Join(work, "server"), addr)
	token, err := os.ReadFile(filepath.Join(work, "server", "bootstrap-token"))
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(work, "admin.key")
	// The organisation's root key refuses a guessable passphrase, as a
	// vault does, before anything is made.
	for _, weak := range []string{"password", "Acme Capital 1"} {
		code, out := runFail(t, weak, b.cofferd, "admin", "init", "--server", srv.url, "--bootstrap", strings.TrimSpace(string(token)), "--key", key, "--org", "Acme Capital")
		if code != 1 || !strings.Contains(out, "too easy to guess") || !strings.Contains(out, "nothing was created") {
			t.Fatalf("admin init with the passphrase %q: exit %d\n%s", weak, code, out)
		}
		if _, err := os.Stat(key); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("a refused admin init left %s: %v", key, err)
		}
	}
	// The key is written before the server makes the organisation (a crash
	// after must not leave an organisation without its admin key); a
	// refused bootstrap takes it away again.
	if code, out := runFail(t, adminPass, b.cofferd, "admin", "init", "--server", srv.url, "--bootstrap", "not-the-token", "--key", key, "--org", "Acme Capital"); code != 1 {
		t.Fatalf("admin init with a wrong token: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(key); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a refused bootstrap left %s: %v", key, err)
	}
	run(t, adminPass, b.cofferd, "admin", "init", "--server", srv.url, "--bootstrap", strings.TrimSpace(string(token)), "--key", key, "--org", "Acme Capital")
	out := run(t, adminPass, b.cofferd, "admin", "invite", "--server", srv.url, "--key", key, "--email", "ann@acme.test", "--role", "manager")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	code := lines[len(lines)-1]
	if !strings.HasPrefix(code, "COFFER1-") {
		t.Fatalf("the invite code is not alone on the last line:\n%s", out)
	}
	laptop, desktop := filepath.Join(work, "laptop"), filepath.Join(work, "desktop")
	run(t, laptopPass, b.coffer, "enroll", "--vault", laptop, "--server", srv.url, "--invite", code, "--name", "Ann Trader", "--device-name", "Ann's laptop")

	// The desktop asks to pair and waits; the laptop approves its code.
	pairing := exec.Command(b.coffer, "enroll", "--vault", desktop, "--server", srv.url, "--invite", code, "--device-name", "Ann's desktop")
	pairing.Env = append(os.Environ(), "COFFER_PASSPHRASE="+desktopPass)
	pr, pw, _ := os.Pipe()
	pairing.Stdout, pairing.Stderr = pw, pw
	if err := pairing.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	sc := bufio.NewScanner(pr)
	var pairCode string
	var pairOut strings.Builder
	for sc.Scan() && pairCode == "" {
		pairOut.WriteString(sc.Text() + "\n")
		pairCode = codeRE.FindString(sc.Text())
	}
	if pairCode == "" {
		t.Fatalf("no pairing code shown:\n%s", pairOut.String())
	}
	// On a terminal, approve shows where the request came from and asks:
	// no approves nothing, and a "y" typed before the question does not
	// answer it. Without a terminal (a script) it approves without
	// asking, and says where the request came from.
	if code, out := runOnTerminal(t, laptopPass, b.coffer, "y\n", "Approve? [y/N]", "n", "device", "approve", "--vault", laptop, pairCode); code != 1 ||
		!strings.Contains(out, `The device "Ann's desktop" asks to join as yours, asked from 127.0.0.1 (`+runtime.GOOS+"/"+runtime.GOARCH+") at ") ||
		!strings.Contains(out, "not approved: the device got nothing") {
		t.Fatalf("device approve on a terminal, answered no: exit %d\n%s", code, out)
	}
	if out := run(t, laptopPass, b.coffer, "device", "approve", "--vault", laptop, pairCode); !strings.Contains(out, `Approved "Ann's desktop" (asked from 127.0.0.1 (`) {
		t.Fatalf("device approve without a terminal:\n%s", out)
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if err := pairing.Wait(); err != nil {
		t.Fatalf("pairing: %v\n%s", err, pairOut.String())
	}

	// Import on the laptop, read on the desktop.
	run(t, laptopPass, b.coffer, "folder", "create", "--vault", laptop, "Project Falcon", "--class", "internal")
	src := filepath.Join(work, "Falcon model.bin")
	content := make([]byte, 12<<20)
	rand.NewChaCha8([32]byte{7}).Read(content)
	os.WriteFile(src, content, 0o600)
	run(t, laptopPass, b.coffer, "import", "--vault", laptop, "--folder", "Project Falcon", src)
	var up, down map[string]int64
	json.Unmarshal([]byte(run(t, laptopPass, b.coffer, "sync", "--vault", laptop, "--json")), &up)
	json.Unmarshal([]byte(run(t, desktopPass, b.coffer, "sync", "--vault", desktop, "--json")), &down)
	if up["versions_up"] != 1 || down["versions_down"] != 1 || down["bytes_down"] < int64(len(content)) {
		t.Fatalf("sync --json: up %v, down %v", up, down)
	}
	exported := filepath.Join(work, "exported.bin")
	run(t, desktopPass, b.coffer, "export", "--vault", desktop, "Project Falcon/Falcon model.bin", "--out", exported)
	if got, _ := os.ReadFile(exported); !bytes.Equal(got, content) {
		t.Fatal("the desktop exports other bytes than the laptop imported")
	}

	// Where the organisation's data is: the admin asks the server.
	out = run(t, adminPass, b.cofferd, "admin", "residency", "--server", srv.url, "--key", key)
	dataAbs, _ := filepath.Abs(srv.data)
	dataAbs, _ = filepath.EvalSymlinks(dataAbs)
	for _, want := range []string{", embedded store.\n", "Folder " + dataAbs + " on host ", " holds the organisation log (e-mail addresses",
		"the server's private signing key", "Objects indexed: ", " of ciphertext\n", "  chunk  ", "Devices: 2 active.\n", "Not known to the server: backups"} {
		if !strings.Contains(out, want) {
			t.Fatalf("admin residency does not say %q:\n%s", want, out)
		}
	}
	var res wire.Residency
	if err := json.Unmarshal([]byte(run(t, adminPass, b.cofferd, "admin", "residency", "--server", srv.url, "--key", key, "--json")), &res); err != nil {
		t.Fatal(err)
	}
	var chunkBytes int64
	for _, o := range res.Objects {
		if o.Kind == "chunk" {
			chunkBytes = o.Bytes
		}
	}
	if res.Backend != "embedded" || len(res.Places) != 1 || chunkBytes < int64(len(content)) || res.Devices["active"] != 2 {
		t.Fatalf("admin residency --json: %+v", res)
	}

	// sync --watch on the desktop: a version imported and pushed on the
	// laptop arrives through the change feed.
	arrived, stopWatch := watchVersions(t, b, desktop, desktopPass)
	time.Sleep(2 * time.Second) // the watcher is waiting on the feed
	os.WriteFile(src, append(content[:1<<20:1<<20], []byte("edited on the laptop")...), 0o600)
	run(t, laptopPass, b.coffer, "import", "--vault", laptop, "--folder", "Project Falcon", src)
	pushed := time.Now()
	run(t, laptopPass, b.coffer, "sync", "--vault", laptop)
	select {
	case at := <-arrived:
		t.Logf("the new version reached the watching desktop %s after the laptop's sync began", at.Sub(pushed).Round(time.Millisecond))
	case <-time.After(15 * time.Second):
		t.Fatal("the new version did not reach the watching desktop")
	}
	stopWatch()

	// The server dies mid-upload; after a restart the push resumes and
	// sends only what is missing.
	big := make([]byte, 96<<20)
	rand.NewChaCha8([32]byte{9}).Read(big)
	bigSrc := filepath.Join(work, "Q3 data.bin")
	os.WriteFile(bigSrc, big, 0o600)
	run(t, laptopPass, b.coffer, "import", "--vault", laptop, "--folder", "Project Falcon", bigSrc)
	push := exec.Command(b.coffer, "sync", "--vault", laptop, "--json")
	push.Env = append(os.Environ(), "COFFER_PASSPHRASE="+laptopPass)
	if err := push.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill the server once some chunks of the file are stored.
	deadline := time.Now().Add(20 * time.Second)
	before := blobs(t, srv.data)
	for blobs(t, srv.data) < before+12 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	srv.cmd.Process.Signal(syscall.SIGKILL)
	srv.cmd.Wait()
	if err := push.Wait(); err == nil {
		t.Log("the push finished before the server died; resuming is still checked below")
	}
	stored := blobs(t, srv.data)
	srv = startServer(t, b, srv.data, addr)
	var resumed map[string]int64
	json.Unmarshal([]byte(run(t, laptopPass, b.coffer, "sync", "--vault", laptop, "--json")), &resumed)
	if resumed["bytes_up"] >= int64(len(big)) && stored > before+12 {
		t.Errorf("the resumed push sent %d bytes, as much as the whole file: it did not resume", resumed["bytes_up"])
	}
	t.Logf("killed with %d of the file's objects stored; the resumed push sent %d MiB of the 96 MiB file", stored-before, resumed["bytes_up"]>>20)
	run(t, desktopPass, b.coffer, "sync", "--vault", desktop)
	run(t, desktopPass, b.coffer, "export", "--vault", desktop, "Project Falcon/Q3 data.bin", "--out", exported, "--force")
	if got, _ := os.ReadFile(exported); !bytes.Equal(got, big) {
		t.Fatal("the file pushed across a server crash does not read back")
	}
	// The desktop dies (kill -9) while pulling; the next sync finishes
	// the pull and nothing is half-recorded.
	os.WriteFile(bigSrc, append(big[:48<<20:48<<20], big[:40<<20]...), 0o600)
	run(t, laptopPass, b.coffer, "import", "--vault", laptop, "--folder", "Project Falcon", bigSrc)
	run(t, laptopPass, b.coffer, "sync", "--vault", laptop)
	pull := exec.Command(b.coffer, "sync", "--vault", desktop)
	pull.Env = append(os.Environ(), "COFFER_PASSPHRASE="+desktopPass)
	chunks := func() int { n, _ := filepath.Glob(filepath.Join(desktop, "objects", "chunk", "*", "*")); return len(n) }
	had := chunks()
	if err := pull.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); chunks() < had+4 && time.Now().Before(deadline); {
		time.Sleep(2 * time.Millisecond)
	}
	pull.Process.Signal(syscall.SIGKILL)
	pull.Wait()
	run(t, desktopPass, b.coffer, "sync", "--vault", desktop)
	run(t, desktopPass, b.coffer, "export", "--vault", desktop, "Project Falcon/Q3 data.bin", "--out", exported, "--force")
	if got, _ := os.ReadFile(exported); !bytes.Equal(got, append(big[:48<<20:48<<20], big[:40<<20]...)) {
		t.Fatal("after a pull killed midway and resumed, the file does not read back")
	}
	run(t, laptopPass, b.coffer, "check", "--vault", laptop)
	run(t, desktopPass, b.coffer, "check", "--vault", desktop)

	// Nothing readable in the server's folder.
	for _, secret := range []string{"Falcon", "Q3 data", "Project", "edited on the laptop", "internal"} {
		filepath.WalkDir(srv.data, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(secret)) || strings.Contains(p, secret) {
					t.Errorf("the server's folder holds %q in %s", secret, p)
				}
			}
			return nil
		})
	}
	devs := run(t, adminPass, b.cofferd, "admin", "devices", "--server", srv.url, "--key", key)
	if !strings.Contains(devs, "Ann's laptop") || !strings.Contains(devs, "Ann's desktop") {
		t.Fatalf("admin devices:\n%s", devs)
	}
}

// watchVersions runs `coffer sync --watch --json` on vault and reports
// the time of every round that brought versions down; stop interrupts it.
func watchVersions(t *testing.T, b binaries, vault, pass string) (arrived <-chan time.Time, stop func()) {
	t.Helper()
	watch := exec.Command(b.coffer, "sync", "--vault", vault, "--watch", "--json")
	watch.Env = append(os.Environ(), "COFFER_PASSPHRASE="+pass)
	wr, ww, _ := os.Pipe()
	watch.Stdout, watch.Stderr = ww, os.Stderr
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	ww.Close()
	t.Cleanup(func() { watch.Process.Kill() })
	times := make(chan time.Time, 8)
	go func() {
		sc := bufio.NewScanner(wr)
		for sc.Scan() {
			var st map[string]int64
			if json.Unmarshal(sc.Bytes(), &st) == nil && st["versions_down"] > 0 {
				times <- time.Now()
			}
		}
	}()
	return times, func() { watch.Process.Signal(os.Interrupt); watch.Wait() }
}

// blobs counts the server's stored object files.
func blobs(t *testing.T, data string) int {
	n := 0
	root := filepath.Join(data, "blobs")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, p)
		if err == nil && !d.IsDir() && !strings.HasPrefix(rel, "tmp"+string(filepath.Separator)) {
			n++
		}
		return nil
	})
	return n
}
