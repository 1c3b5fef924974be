//go:build unix

package testenv

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The servers the scale-out store's tests start for themselves: a private
// PostgreSQL (Debian's postgresql package) and versitygw, an S3-compatible
// gateway over a folder (`go install
// github.com/versity/versitygw/cmd/versitygw@v1.8.0`; `make test-deps`
// puts it in bin/tools). Without them a test skips, saying what to
// install, except in CI (CI set), where it fails: CI installs both.

// PostgreSQL is a private PostgreSQL server for one test, reached on a
// Unix socket only (no TCP port), with trust authentication for its one
// role.
type PostgreSQL struct {
	Socket string // the socket's folder: the host of a DSN
	Data   string // the server's data folder (to scan its files)
	t      testing.TB
	n      int
}

// DSN returns a libpq connection string for the server's database name.
func (p *PostgreSQL) DSN(name string) string {
	return fmt.Sprintf("host=%s user=coffer dbname=%s sslmode=disable", p.Socket, name)
}

// NewDatabase makes an empty database and returns its DSN.
func (p *PostgreSQL) NewDatabase() string {
	p.t.Helper()
	p.n++
	name := fmt.Sprintf("coffer_test_%d", p.n)
	if out, err := exec.Command(psql(p.t), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", p.Socket, "-U", "coffer", "-d", "postgres",
		"-c", "CREATE DATABASE "+name).CombinedOutput(); err != nil {
		p.t.Fatalf("testenv: create database %s: %v\n%s", name, err, out)
	}
	return p.DSN(name)
}

// Dump returns pg_dump's plain-text dump of the database dsn names.
func (p *PostgreSQL) Dump(dsn string) []byte {
	p.t.Helper()
	out, err := exec.Command(postgresBin(p.t, "pg_dump"), "-d", dsn).Output()
	if err != nil {
		p.t.Fatalf("testenv: pg_dump: %v", err)
	}
	return out
}

// missing skips the test, or fails it in CI, for want of what.
func missing(t testing.TB, what, install string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("testenv: %s is missing (CI installs it: %s)", what, install)
	}
	t.Skipf("skipped: %s is missing; install it with: %s", what, install)
}

// postgresBin finds a PostgreSQL server program (initdb, postgres).
func postgresBin(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(matches) == 0 {
		missing(t, "PostgreSQL's "+name, "apt-get install postgresql (or make test-deps)")
	}
	return matches[len(matches)-1]
}

func psql(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("psql"); err == nil {
		return p
	}
	return postgresBin(t, "psql")
}

// unprivileged returns the credential a server runs under: PostgreSQL
// refuses to run as root, so as root it runs as the postgres user
// (Debian's package makes it), else as this user (nil).
func unprivileged(t testing.TB) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		missing(t, "the postgres user", "apt-get install postgresql (or make test-deps)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// StartPostgreSQL starts a private PostgreSQL server for the test, stopped
// (and its files removed) when the test ends.
func StartPostgreSQL(t testing.TB) *PostgreSQL {
	t.Helper()
	initdb, postgres := postgresBin(t, "initdb"), postgresBin(t, "postgres")
	cred := unprivileged(t)
	// Not under t.TempDir: its folders are 0700 root's, closed to the
	// postgres user.
	dir, err := os.MkdirTemp("", "coffer-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	as := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(name, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
		cmd.Dir = dir
		return cmd
	}
	data := filepath.Join(dir, "data")
	if out, err := as(initdb, "-D", data, "-U", "coffer", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C").CombinedOutput(); err != nil {
		t.Fatalf("testenv: initdb: %v\n%s", err, out)
	}
	var log bytes.Buffer
	cmd := as(postgres, "-D", data, "-k", dir, "-c", "listen_addresses=", "-c", "fsync=off", "-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: start postgres: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT) // fast shutdown
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	p := &PostgreSQL{Socket: dir, Data: data, t: t}
	for i := 0; ; i++ {
		if c, err := net.Dial("unix", filepath.Join(dir, ".s.PGSQL.5432")); err == nil {
			c.Close()
			// The socket answers a little before the server takes
			// connections.
			if out, err := exec.Command(psql(t), "-X", "-q", "-h", dir, "-U", "coffer", "-d", "postgres", "-c", "SELECT 1").CombinedOutput(); err == nil {
				return p
			} else if i > 200 {
				t.Fatalf("testenv: postgres does not answer: %v\n%s\n%s", err, out, log.String())
			}
		}
		if i > 200 {
			t.Fatalf("testenv: postgres did not start:\n%s", log.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// S3 is a private S3-compatible server (versitygw over a folder) for one
// test.
type S3 struct {
	URL       string // http://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Dir       string // the folder under it: one sub-folder per bucket
	Cmd       *exec.Cmd
}

// versitygw finds the versitygw program: on PATH, or in bin/tools.
func versitygw(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	p := filepath.Join(RepoRoot(t), "bin", "tools", "versitygw")
	if _, err := os.Stat(p); err != nil {
		missing(t, "versitygw (an S3-compatible server)", "make test-deps (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
	}
	return p
}

// StartS3 starts versitygw on a loopback port over a fresh folder, stopped
// when the test ends.
func StartS3(t testing.TB) *S3 {
	t.Helper()
	bin := versitygw(t)
	s := &S3{AccessKey: "coffer-test", SecretKey: "coffer-test-secret-key", Dir: t.TempDir()}
	var log bytes.Buffer
	for attempt := 0; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		log.Reset()
		cmd := exec.Command(bin, "--port", addr, "--access", s.AccessKey, "--secret", s.SecretKey, "posix", s.Dir)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.Dir}
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Start(); err != nil {
			t.Fatalf("testenv: start versitygw: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		up := false
		for i := 0; i < 400 && !up; i++ {
			select {
			case <-exited:
				i = 400
				continue
			default:
			}
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				up = true
				break
			}
			time.Sleep(25 * time.Millisecond)
		}
		if up {
			s.URL, s.Cmd = "http://"+addr, cmd
			t.Cleanup(func() { cmd.Process.Kill(); <-exited })
			return s
		}
		cmd.Process.Kill()
		<-exited
		// Another process may have taken the port between Close and
		// the start.
		if attempt == 2 || !strings.Contains(log.String(), "address already in use") {
			t.Fatalf("testenv: versitygw did not start:\n%s", log.String())
		}
	}
}
