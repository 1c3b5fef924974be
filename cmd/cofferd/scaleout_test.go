package main_test

import (
	"bytes"
	"encoding/hex"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/testenv"
)

// scaleServer is a running `cofferd serve --postgres … --s3 …`.
type scaleServer struct {
	cmd  *exec.Cmd
	url  string
	addr string
	mu   sync.Mutex
	out  bytes.Buffer
}

func (s *scaleServer) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

func (s *scaleServer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.Write(p)
}

// startScaleServer starts cofferd on the shared PostgreSQL database and
// bucket, listening on addr, and waits until it listens.
func startScaleServer(t *testing.T, b binaries, dsn, bucket string, s3 *testenv.S3, addr string, extra ...string) *scaleServer {
	t.Helper()
	s := &scaleServer{url: "https://" + addr, addr: addr}
	s.cmd = exec.Command(b.cofferd, append([]string{"serve", "--postgres", dsn, "--s3", bucket, "--listen", addr}, extra...)...)
	s.cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+s3.AccessKey, "AWS_SECRET_ACCESS_KEY="+s3.SecretKey)
	s.cmd.Stdout, s.cmd.Stderr = s, s
	serveUntilListening(t, s.cmd, addr, 10*time.Second, s.output)
	return s
}

var fingerprintRE = regexp.MustCompile(`TLS key fingerprint: ([0-9a-f]{64})`)

// TestScaleOutWithTheRealBinaries: two cofferd on one PostgreSQL database
// and one S3 bucket (a real PostgreSQL and versitygw, started here), as
// behind a load balancer. They start at once and make one organisation's
// storage, one TLS key (the devices' pin) and one bootstrap token between
// them (both print it, until it is used); ann's laptop talks to one, bob's to the other, and what ann shares
// and writes reaches bob, new versions through `sync --watch`; a server killed and started again
// serves on, stateless; and neither the database nor the bucket holds a
// name or a byte of content in the clear.
func TestScaleOutWithTheRealBinaries(t *testing.T) {
	b := build(t)
	pg, s3 := testenv.StartPostgreSQL(t), testenv.StartS3(t)
	dsn, bucket := pg.NewDatabase(), s3.URL+"/coffer-blobs"
	// Storage named twice, half or not at all is a usage error; keys in
	// the bucket's URL are refused without being echoed.
	for _, args := range [][]string{{}, {"--data", t.TempDir(), "--postgres", dsn, "--s3", bucket}, {"--postgres", dsn}, {"--s3", bucket}} {
		code, out := runFail(t, "", b.cofferd, append([]string{"serve", "--listen", freePort(t)}, args...)...)
		if code != 2 || !strings.Contains(out, "--postgres DSN with --s3 URL") {
			t.Fatalf("serve %v: exit %d\n%s", args, code, out)
		}
	}
	code, out := runFail(t, "", b.cofferd, "serve", "--listen", freePort(t), "--postgres", dsn, "--s3", "http://AKIAEXAMPLE:s3cr3t@127.0.0.1:9/coffer")
	if code != 1 || !strings.Contains(out, "AWS_SECRET_ACCESS_KEY") || strings.Contains(out, "s3cr3t") {
		t.Fatalf("serve with keys in the URL: exit %d\n%s", code, out)
	}
	addrA, addrB := freePort(t), freePort(t)
	var a, bb *scaleServer
	var wg sync.WaitGroup
	wg.Go(func() { a = startScaleServer(t, b, dsn, bucket, s3, addrA) })
	metricsB := freePort(t)
	wg.Go(func() { bb = startScaleServer(t, b, dsn, bucket, s3, addrB, "--metrics", metricsB) })
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	// Both have printed their banner once they listen.
	var token string
	var pins []string
	for _, s := range []*scaleServer{a, bb} {
		out := s.output()
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out, "listening on") && time.Now().Before(deadline); out = s.output() {
			time.Sleep(20 * time.Millisecond)
		}
		// Both print the one token (kept in the database until it is
		// used: a server that crashed after printing loses nothing).
		m := regexp.MustCompile(`bootstrap token: ([0-9a-f]+)`).FindStringSubmatch(out)
		if m == nil || (token != "" && m[1] != token) {
			t.Fatalf("the servers printed no bootstrap token, or two:\n%s\n%s", a.output(), bb.output())
		}
		token = m[1]
		m = fingerprintRE.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no TLS fingerprint printed:\n%s", out)
		}
		pins = append(pins, m[1])
		if strings.Contains(out, s3.SecretKey) {
			t.Fatalf("the S3 secret key in cofferd's output:\n%s", out)
		}
	}
	if token == "" || pins[0] != pins[1] {
		t.Fatalf("token %q, fingerprints %v: want one token and one TLS key for both servers", token, pins)
	}

	key := filepath.Join(t.TempDir(), "admin.key")
	// The token from the environment: not in the process list.
	adminInit := exec.Command(b.cofferd, "admin", "init", "--server", a.url, "--key", key, "--org", "Acme Capital", "--fingerprint", pins[0])
	adminInit.Env = append(os.Environ(), "COFFER_PASSPHRASE="+adminPass, "COFFERD_BOOTSTRAP="+token)
	if out, err := adminInit.CombinedOutput(); err != nil {
		t.Fatalf("admin init: %v\n%s", err, out)
	}
	invite := func(srv *scaleServer, email, role string) string {
		return lastLine(run(t, adminPass, b.cofferd, "admin", "invite", "--server", srv.url, "--key", key, "--email", email, "--role", role))
	}
	const annPass, bobPass = "ann manager passphrase 2026", "bob analyst passphrase 2026"
	work := t.TempDir()
	ann, bob := filepath.Join(work, "ann"), filepath.Join(work, "bob")
	run(t, annPass, b.coffer, "enroll", "--vault", ann, "--server", a.url, "--name", "Ann Manager", "--invite", invite(a, "ann@acme.test", "manager"))
	run(t, bobPass, b.coffer, "enroll", "--vault", bob, "--server", bb.url, "--name", "Bob Analyst", "--invite", invite(bb, "bob@acme.test", "member"))

	run(t, annPass, b.coffer, "folder", "create", "--vault", ann, "Project Falcon", "--class", "internal")
	content := make([]byte, 3<<20)
	rand.NewChaCha8([32]byte{3}).Read(content)
	marker := []byte("Falcon: price 42, closing 2027-01-15")
	copy(content[1<<20:], marker)
	src := filepath.Join(work, "Falcon model.bin")
	os.WriteFile(src, content, 0o600)
	run(t, annPass, b.coffer, "import", "--vault", ann, "--folder", "Project Falcon", src)
	run(t, annPass, b.coffer, "sync", "--vault", ann)
	run(t, annPass, b.coffer, "share", "--vault", ann, "Project Falcon", "--with", "bob@acme.test", "--role", "editor")
	run(t, annPass, b.coffer, "sync", "--vault", ann)
	run(t, bobPass, b.coffer, "sync", "--vault", bob)
	exported := filepath.Join(work, "exported.bin")
	run(t, bobPass, b.coffer, "export", "--vault", bob, "Project Falcon/Falcon model.bin", "--out", exported)
	if got, _ := os.ReadFile(exported); !bytes.Equal(got, content) {
		t.Fatal("bob, on the other server, exports other bytes than ann imported")
	}

	// bob watches through his server; ann's next versions, written
	// through the other, reach him. (That the other server's write wakes
	// his feed at once, rather than his watch's next round, is
	// TestOtherServersWritesWakeTheFeed in sync/server.)
	arrived, stopWatch := watchVersions(t, b, bob, bobPass)
	for i := range 2 {
		time.Sleep(2 * time.Second) // the watcher is waiting on the feed
		os.WriteFile(src, append(content[:1<<20:1<<20], []byte("edited on ann's laptop "+string(rune('A'+i)))...), 0o600)
		run(t, annPass, b.coffer, "import", "--vault", ann, "--folder", "Project Falcon", src)
		start := time.Now()
		run(t, annPass, b.coffer, "sync", "--vault", ann)
		synced := time.Now()
		select {
		case at := <-arrived:
			t.Logf("version %d reached bob through the other server %s after ann's sync ended (%s after it began)",
				i+2, at.Sub(synced).Round(time.Millisecond), at.Sub(start).Round(time.Millisecond))
		case <-time.After(20 * time.Second):
			t.Fatal("the new version did not reach bob's watch on the other server")
		}
	}
	stopWatch()

	// A server killed and started again: nothing of the organisation was
	// in it.
	a.cmd.Process.Signal(syscall.SIGKILL)
	a.cmd.Wait()
	a = startScaleServer(t, b, dsn, bucket, s3, addrA)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(a.output(), "listening on") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Contains(a.output(), "bootstrap token") || !strings.Contains(a.output(), pins[0]) {
		t.Fatalf("a server started after the organisation was made:\n%s", a.output())
	}
	os.WriteFile(src, []byte("after the restart"), 0o600)
	run(t, annPass, b.coffer, "import", "--vault", ann, "--folder", "Project Falcon", src)
	run(t, annPass, b.coffer, "sync", "--vault", ann)
	run(t, bobPass, b.coffer, "sync", "--vault", bob)
	run(t, bobPass, b.coffer, "export", "--vault", bob, "Project Falcon/Falcon model.bin", "--out", exported, "--force")
	if got, _ := os.ReadFile(exported); string(got) != "after the restart" {
		t.Fatalf("after a server restart bob reads %q", got)
	}
	// The second server's metrics (its own plain-HTTP listener): bob's
	// requests counted there, nothing of the organisation's named.
	resp, err := http.Get("http://" + metricsB + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`cofferd_http_requests_total\{code="200",route="GET /v1/objects/\{kind\}/\{id\}"\} [1-9]`).Match(metrics) ||
		bytes.Contains(metrics, []byte("bob@acme.test")) {
		t.Fatalf("the second server's metrics:\n%.3000s", metrics)
	}
	devs := run(t, adminPass, b.cofferd, "admin", "devices", "--server", bb.url, "--key", key)
	if !strings.Contains(devs, "ann@acme.test") || !strings.Contains(devs, "bob@acme.test") {
		t.Fatalf("admin devices through the other server:\n%s", devs)
	}

	// Neither the database nor the bucket holds a name or content in the
	// clear (bytea comes out of pg_dump as hex: both forms are looked for).
	dump := pg.Dump(dsn)
	if !bytes.Contains(dump, []byte("coffer_objects")) {
		t.Fatalf("pg_dump printed no objects table:\n%.2000s", dump)
	}
	// The bootstrap token, kept until it was used, is gone.
	if bytes.Contains(dump, []byte(token)) || bytes.Contains(dump, []byte(hex.EncodeToString([]byte(token)))) {
		t.Error("the database keeps the bootstrap token after the organisation was made")
	}
	for _, secret := range []string{"Falcon", "Project", "edited on ann", "after the restart", string(marker)} {
		if bytes.Contains(dump, []byte(secret)) || bytes.Contains(dump, []byte(hex.EncodeToString([]byte(secret)))) {
			t.Errorf("the database holds %q", secret)
		}
		filepath.WalkDir(s3.Dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(secret)) || strings.Contains(p, secret) {
					t.Errorf("the bucket holds %q in %s", secret, p)
				}
			}
			return nil
		})
	}
}
