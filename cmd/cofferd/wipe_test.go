package main_test

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// deviceID finds a device's ID in `cofferd admin devices --json` by name.
func deviceID(t *testing.T, admin func(...string) string, name string) string {
	t.Helper()
	var devs []struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		State string `json:"state"`
		OS    string `json:"os"`
	}
	if err := json.Unmarshal([]byte(admin("devices", "--json")), &devs); err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if d.Name == name {
			return d.ID
		}
	}
	t.Fatalf("no device %q in %+v", name, devs)
	return ""
}

// TestWipeWithTheRealBinaries: three devices of one analyst. The laptop
// sits locked, its sync --watch running without a passphrase; the desktop
// is unlocked and syncing; the tablet is off. IT wipes all three: the two
// online ones destroy their keys within seconds and IT holds their
// verified receipts; the tablet wipes itself when it next starts, before
// any passphrase is asked. Afterwards the passphrase opens nothing.
func TestWipeWithTheRealBinaries(t *testing.T) {
	b := build(t)
	work := t.TempDir()
	srv := startServer(t, b, filepath.Join(work, "server"), freePort(t))
	token, err := os.ReadFile(filepath.Join(work, "server", "bootstrap-token"))
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(work, "admin.key")
	admin := func(args ...string) string {
		return run(t, adminPass, b.cofferd, append([]string{"admin", args[0], "--server", srv.url, "--key", key}, args[1:]...)...)
	}
	run(t, adminPass, b.cofferd, "admin", "init", "--server", srv.url, "--bootstrap", strings.TrimSpace(string(token)), "--key", key, "--org", "Acme Capital")
	const pass = "ann trader passphrase 2026"
	laptop, desktop, tablet := filepath.Join(work, "laptop"), filepath.Join(work, "desktop"), filepath.Join(work, "tablet")
	for i, dir := range []string{laptop, desktop, tablet} {
		code := lastLine(admin("invite", "--email", []string{"ann@acme.test", "bob@acme.test", "cat@acme.test"}[i], "--role", "manager"))
		run(t, pass, b.coffer, "enroll", "--vault", dir, "--server", srv.url, "--invite", code, "--device-name", filepath.Base(dir))
		run(t, pass, b.coffer, "folder", "create", "--vault", dir, "Desk", "--class", "confidential")
		src := filepath.Join(work, "pnl.txt")
		os.WriteFile(src, []byte("P&L: a secret figure"), 0o600)
		run(t, pass, b.coffer, "import", "--vault", dir, "--folder", "Desk", src)
		run(t, pass, b.coffer, "sync", "--vault", dir)
	}
	if out := admin("devices"); !strings.Contains(out, "linux/") && !strings.Contains(out, "darwin/") && !strings.Contains(out, "windows/") {
		t.Errorf("the device list shows no OS:\n%s", out)
	}

	// The laptop: locked, watching. The desktop: unlocked, watching.
	watch := func(dir string, withPass bool) (*exec.Cmd, <-chan string) {
		cmd := exec.Command(b.coffer, "sync", "--vault", dir, "--watch")
		cmd.Env = os.Environ()
		if withPass {
			cmd.Env = append(cmd.Env, "COFFER_PASSPHRASE="+pass)
		}
		r, w, _ := os.Pipe()
		cmd.Stdout, cmd.Stderr = w, w
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		lines := make(chan string, 100)
		go func() {
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		return cmd, lines
	}
	lw, lout := watch(laptop, false)
	dw, dout := watch(desktop, true)
	time.Sleep(2 * time.Second) // both wait on the feed

	for _, d := range []struct {
		name string
		cmd  *exec.Cmd
		out  <-chan string
	}{{"laptop", lw, lout}, {"desktop", dw, dout}} {
		id := deviceID(t, admin, d.name)
		start := time.Now()
		out := admin("wipe", "--device", id, "--reason", "lost in a taxi", "--wait", "20s")
		if !strings.Contains(out, "Receipt verified") || !strings.Contains(out, "by order of the admin") {
			t.Fatalf("wipe of the %s:\n%s", d.name, out)
		}
		t.Logf("%s: order to verified receipt in %s", d.name, time.Since(start).Round(time.Millisecond))
		done := make(chan error, 1)
		go func() { done <- d.cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("the %s's sync --watch did not end after the wipe", d.name)
		}
		var said strings.Builder
		for l := range d.out {
			said.WriteString(l + "\n")
		}
		if !strings.Contains(said.String(), "wiped") {
			t.Errorf("the %s's sync --watch did not say it was wiped:\n%s", d.name, said.String())
		}
	}

	// The tablet was off: the order waits for it. A digit or two of an ID
	// is refused (one digit wiped whichever device's ID began with it);
	// the order names the device it went to.
	tabletID := deviceID(t, admin, "tablet")
	if code, out := runFail(t, adminPass, b.cofferd, "admin", "wipe", "--server", srv.url, "--key", key, "--device", tabletID[:1]); code != 1 || !strings.Contains(out, "at least 8 hex digits") {
		t.Fatalf("a wipe by one digit of an ID: exit %d\n%s", code, out)
	}
	if out := admin("wipe", "--device", tabletID[:8]); !strings.Contains(out, `"tablet" of`) {
		t.Errorf("the wipe order does not name the device:\n%s", out)
	}
	if out := admin("devices"); !strings.Contains(out, "wipe pending") || strings.Count(out, "wiped") != 2 {
		t.Errorf("the device list after the orders:\n%s", out)
	}
	// The residency report counts the tablet among the devices that may
	// still hold copies.
	if out := admin("residency"); !strings.Contains(out, "Devices: 1 wipe pending, 2 wiped.\n") ||
		!strings.Contains(out, "  1 device ordered wiped did not answer yet.\n") {
		t.Errorf("residency with one wipe pending:\n%s", out)
	}
	code, out := runFail(t, pass, b.coffer, "ls", "--vault", tablet)
	if code != 4 || !strings.Contains(out, "wiped by order of Acme Capital's administrator") {
		t.Fatalf("the tablet's next start: exit %d\n%s", code, out)
	}
	// The notice's lines are lines, not a "\n" spelt out.
	if strings.Contains(out, `\n`) || !strings.Contains(out, "\n        Its keys and documents were destroyed") {
		t.Errorf("the wipe notice as the terminal shows it:\n%s", out)
	}
	if out := admin("receipts"); strings.Count(out, "Receipt verified") != 3 {
		t.Fatalf("receipts:\n%s", out)
	}

	// Nothing left decrypts; nothing of the document is left.
	for _, dir := range []string{laptop, desktop, tablet} {
		code, out := runFail(t, pass, b.coffer, "ls", "--vault", dir)
		if code != 4 || !strings.Contains(out, "wiped") {
			t.Errorf("%s with the passphrase after the wipe: exit %d\n%s", dir, code, out)
		}
		_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err != nil || fi.IsDir() {
				return nil
			}
			rel, _ := filepath.Rel(dir, p)
			switch rel {
			case "coffer.json", "WIPED.txt", "WIPE-RECEIPT", "WIPE-RECEIPT-SENT":
			default:
				t.Errorf("%s: %s survived the wipe", filepath.Base(dir), rel)
			}
			return nil
		})
	}
}
