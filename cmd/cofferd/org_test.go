package main_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runFail runs a command that must fail and returns its exit code and
// output.
func runFail(t *testing.T, pass, bin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "COFFER_PASSPHRASE="+pass)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("%s %v succeeded or did not run (%v):\n%s", filepath.Base(bin), args, err, out)
	}
	return ee.ExitCode(), string(out)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestOrganisationWithTheRealBinaries: a manager shares a folder with an
// analyst, the admin grants a consultant that folder for a day and
// publishes a policy; the analyst reads and obeys it, the consultant reads
// the folder she was given and nothing else, cannot export, and loses it
// when the admin ends her access.
func TestOrganisationWithTheRealBinaries(t *testing.T) {
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
	const annPass, bobPass, gailPass, carolPass = "ann manager passphrase 2026", "bob analyst passphrase 2026",
		"gail consultant passphrase 2026", "carol compliance passphrase 2026"
	ann, bob, gail, carol := filepath.Join(work, "ann"), filepath.Join(work, "bob"), filepath.Join(work, "gail"), filepath.Join(work, "carol")
	run(t, annPass, b.coffer, "enroll", "--vault", ann, "--server", srv.url, "--name", "Ann Manager",
		"--invite", lastLine(admin("invite", "--email", "ann@acme.test", "--role", "manager")))
	run(t, bobPass, b.coffer, "enroll", "--vault", bob, "--server", srv.url, "--name", "Bob Analyst",
		"--invite", lastLine(admin("invite", "--email", "bob@acme.test", "--role", "member")))
	run(t, carolPass, b.coffer, "enroll", "--vault", carol, "--server", srv.url, "--name", "Carol Compliance",
		"--invite", lastLine(admin("invite", "--email", "carol@acme.test", "--role", "compliance")))
	run(t, annPass, b.coffer, "sync", "--vault", ann) // learns of carol: details go to her from now on
	// A member may not make folders: an empty list says where they come from.
	if out := run(t, bobPass, b.coffer, "ls", "--vault", bob); !strings.Contains(out, "folders shared with you arrive with 'coffer sync'") {
		t.Fatalf("bob's empty list:\n%s", out)
	}

	// A member may not make folders; a manager may.
	if code, out := runFail(t, bobPass, b.coffer, "folder", "create", "--vault", bob, "Bob's own", "--class", "internal"); code != 3 {
		t.Fatalf("a member made a folder: exit %d\n%s", code, out)
	}
	run(t, annPass, b.coffer, "folder", "create", "--vault", ann, "Project Falcon", "--class", "confidential")
	run(t, annPass, b.coffer, "folder", "create", "--vault", ann, "Project Hawk", "--class", "confidential")
	src := filepath.Join(work, "Falcon terms.txt")
	os.WriteFile(src, []byte("Falcon: price 42, closing 2027-01-15"), 0o600)
	run(t, annPass, b.coffer, "import", "--vault", ann, "--folder", "Project Falcon", src)
	hawk := filepath.Join(work, "Hawk memo.txt")
	os.WriteFile(hawk, []byte("Hawk: not for consultants"), 0o600)
	run(t, annPass, b.coffer, "import", "--vault", ann, "--folder", "Project Hawk", hawk)
	run(t, annPass, b.coffer, "sync", "--vault", ann)

	// Share with bob as viewer; he reads it.
	if code, out := runFail(t, bobPass, b.coffer, "share", "--vault", bob, "Project Falcon", "--with", "ann@acme.test"); code == 0 || !strings.Contains(out, "Project Falcon") {
		t.Fatalf("bob shared a folder he does not hold: exit %d\n%s", code, out)
	}
	run(t, annPass, b.coffer, "share", "--vault", ann, "Project Falcon", "--with", "bob@acme.test")
	run(t, bobPass, b.coffer, "sync", "--vault", bob)
	if out := run(t, bobPass, b.coffer, "ls", "--vault", bob, "--folder", "Project Falcon"); !strings.Contains(out, "Falcon terms.txt") {
		t.Fatalf("bob's ls:\n%s", out)
	}
	var members struct {
		ID      string `json:"id"`
		Members []struct {
			Email, Role string
		} `json:"members"`
	}
	if err := json.Unmarshal([]byte(run(t, annPass, b.coffer, "members", "--vault", ann, "Project Falcon", "--json")), &members); err != nil {
		t.Fatal(err)
	}
	if len(members.Members) != 2 || members.Members[1].Email != "bob@acme.test" || members.Members[1].Role != "viewer" {
		t.Fatalf("members: %+v", members)
	}
	// A viewer cannot import into the folder.
	if code, out := runFail(t, bobPass, b.coffer, "import", "--vault", bob, "--folder", "Project Falcon", hawk); code != 3 || !strings.Contains(out, "editor") {
		t.Fatalf("a viewer imported: exit %d\n%s", code, out)
	}

	// The admin grants a consultant the folder for a day.
	out := admin("guest", "--email", "gail@consult.test", "--folders", members.ID[:16], "--expires", "24h")
	run(t, gailPass, b.coffer, "enroll", "--vault", gail, "--server", srv.url, "--name", "Gail Consultant", "--invite", lastLine(out))
	run(t, annPass, b.coffer, "sync", "--vault", ann) // ann's device wraps the key to gail
	run(t, gailPass, b.coffer, "sync", "--vault", gail)
	if out := run(t, gailPass, b.coffer, "ls", "--vault", gail); !strings.Contains(out, "Project Falcon") || strings.Contains(out, "Hawk") {
		t.Fatalf("gail's folders:\n%s", out)
	}
	if code, out := runFail(t, gailPass, b.coffer, "export", "--vault", gail, "Project Falcon/Falcon terms.txt", "--out", filepath.Join(work, "leak.txt")); code != 3 {
		t.Fatalf("a guest exported: exit %d\n%s", code, out)
	}
	if code, out := runFail(t, gailPass, b.coffer, "members", "--vault", gail, "Project Falcon"); code != 3 {
		t.Fatalf("a guest listed members: exit %d\n%s", code, out)
	}

	// Compliance reads the guest's blocked export, with device and
	// address; the server printed it as a CEF line for the SIEM.
	// The admin's grant, from the organisation's log, is in the same
	// trail: who let the consultant in, to what, until when.
	var blocked, grant, invited map[string]any
	for _, line := range strings.Split(run(t, carolPass, b.coffer, "audit", "--vault", carol, "--org", "--json", "--user", "gail@consult.test"), "\n") {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) != nil {
			continue
		}
		switch {
		case e["action"] == "export" && e["outcome"] == "blocked":
			blocked = e
		case e["action"] == "org-grant":
			grant = e
		case e["action"] == "org-join":
			invited = e
		}
	}
	if grant == nil || grant["user"] != "admin" || grant["folder"] != members.ID ||
		!strings.Contains(grant["reason"].(string), "guest gail@consult.test may read 1 folder(s) ("+members.ID[:8]+") until ") {
		t.Fatalf("compliance's view of the admin's grant to the guest: %v", grant)
	}
	if invited == nil || invited["user"] != "gail@consult.test" {
		t.Fatalf("compliance's view of the guest joining: %v", invited)
	}
	// Who shared the folder with bob: ann, under --user bob and under
	// --folder alike.
	for _, args := range [][]string{{"--user", "bob@acme.test"}, {"--folder", members.ID[:10]}} {
		out := run(t, carolPass, b.coffer, append([]string{"audit", "--vault", carol, "--org"}, args...)...)
		if !regexp.MustCompile(`org-share +ok +ann@acme\.test .*shared folder ` + members.ID[:8] + ` with bob@acme\.test as viewer`).MatchString(out) {
			t.Fatalf("audit --org %v does not show ann sharing the folder with bob:\n%s", args, out)
		}
		// The log's entries are placed among the devices' by time (they
		// all came first: a newcomer's finding): none is followed by a
		// device's entry made before it.
		lines := strings.Split(strings.TrimSpace(out), "\n")
		devices := 0
		for i, line := range lines {
			f := strings.Fields(line)
			if len(f) < 3 || !strings.HasPrefix(f[2], "org-") {
				devices++
				continue
			}
			if i+1 < len(lines) {
				if g := strings.Fields(lines[i+1]); len(g) > 2 && !strings.HasPrefix(g[2], "org-") && g[1] < f[1] {
					t.Fatalf("audit --org %v: %q comes before an earlier device entry %q:\n%s", args, line, lines[i+1], out)
				}
			}
		}
		if devices == 0 || devices == len(lines) {
			t.Fatalf("audit --org %v shows the log's entries or the devices' alone:\n%s", args, out)
		}
	}
	if blocked == nil || blocked["file_name"] != "Falcon terms.txt" || blocked["folder_name"] != "Project Falcon" ||
		blocked["device_name"] == "" || blocked["ip"] != "127.0.0.1" {
		t.Fatalf("compliance's view of the guest's blocked export: %v", blocked)
	}
	if cef := srv.out.String(); !strings.Contains(cef, "CEF:0|Coffer|coffer|cofferd|export|export blocked|") || !strings.Contains(cef, "suser=gail@consult.test") ||
		strings.Contains(cef, "Falcon") {
		t.Fatalf("the server's CEF alert:\n%s", cef)
	}
	// Followed live: a second attempt reaches compliance within seconds.
	follow := exec.Command(b.coffer, "audit", "--vault", carol, "--org", "--follow", "--cef", "--since", "1m")
	follow.Env = append(os.Environ(), "COFFER_PASSPHRASE="+carolPass)
	fr, fw, _ := os.Pipe()
	follow.Stdout, follow.Stderr = fw, os.Stderr
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	fw.Close()
	defer follow.Process.Kill()
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(fr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	time.Sleep(2 * time.Second) // caught up, waiting on the server
	attempted := time.Now()
	runFail(t, gailPass, b.coffer, "export", "--vault", gail, "Project Falcon/Falcon terms.txt", "--out", filepath.Join(work, "leak2.txt"))
	deadline := time.After(10 * time.Second)
	for seen := 0; ; {
		select {
		case l := <-lines:
			if strings.Contains(l, "|export blocked|") && strings.Contains(l, "suser=gail@consult.test") {
				seen++
			}
			if seen == 2 { // the first attempt (since 1m), then the new one
				t.Logf("the blocked attempt reached compliance %s after the attempt began", time.Since(attempted).Round(time.Millisecond))
				goto followed
			}
		case <-deadline:
			t.Fatalf("compliance did not see the second blocked export within 10 s (%d seen)", seen)
		}
	}
followed:
	if code, out := runFail(t, bobPass, b.coffer, "audit", "--vault", bob, "--org"); code != 3 {
		t.Fatalf("a member read the organisation's trail: exit %d\n%s", code, out)
	}
	// A trace code off a page Ann rendered resolves to her, anywhere.
	run(t, annPass, b.coffer, "folder", "create", "--vault", ann, "Desk notes", "--class", "internal")
	notes := filepath.Join(work, "notes.txt")
	os.WriteFile(notes, []byte("Desk notes: call the client at 9"), 0o600)
	run(t, annPass, b.coffer, "import", "--vault", ann, "--folder", "Desk notes", notes)
	out = run(t, annPass, b.coffer, "preview", "--vault", ann, "Desk notes/notes.txt", "--out", filepath.Join(work, "page.png"))
	m := regexp.MustCompile(`trace code ([0-9A-Z-]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no trace code:\n%s", out)
	}
	run(t, annPass, b.coffer, "sync", "--vault", ann)
	if out := run(t, carolPass, b.coffer, "trace", "--vault", carol, "--org", m[1]); !strings.Contains(out, "ann@acme.test") || !strings.Contains(out, "notes.txt") {
		t.Fatalf("trace --org:\n%s", out)
	}
	// A risk officer who joins later cannot read the details sent before
	// (sealed to the officers of that time), and is told so instead of
	// "not in the trail".
	frank := filepath.Join(work, "frank")
	const frankPass = "frank risk officer passphrase 2026"
	run(t, frankPass, b.coffer, "enroll", "--vault", frank, "--server", srv.url, "--name", "Frank Risk",
		"--invite", lastLine(admin("invite", "--email", "frank@acme.test", "--role", "risk")))
	if code, out := runFail(t, frankPass, b.coffer, "trace", "--vault", frank, "--org", m[1]); code != 1 || !strings.Contains(out, "sealed to the compliance and risk officers of their time") {
		t.Fatalf("trace --org by an officer who joined later: exit %d\n%s", code, out)
	}
	if out := run(t, frankPass, b.coffer, "audit", "--vault", frank, "--org"); !strings.Contains(out, "(details sealed to the officers of its time)") {
		t.Fatalf("audit --org by an officer who joined later:\n%s", out)
	}

	// The admin's policy reaches every device; nobody sets it locally.
	pol := filepath.Join(work, "policy.json")
	os.WriteFile(pol, []byte(`{"max_unlock_failures": 5, "idle_lock_minutes": 7}`), 0o600)
	// Publishing lists what changes (here from no policy at all).
	if out := admin("policy", "--set", pol); !strings.Contains(out, "idle_lock_minutes: not set → 7") || !strings.Contains(out, "max_unlock_failures: not set → 5") {
		t.Fatalf("policy --set does not list the changes:\n%s", out)
	}
	run(t, bobPass, b.coffer, "sync", "--vault", bob)
	if out := run(t, bobPass, b.coffer, "policy", "--vault", bob); !strings.Contains(out, "7") {
		t.Fatalf("bob's policy after the admin's:\n%s", out)
	}
	if code, out := runFail(t, bobPass, b.coffer, "policy", "--vault", bob, "--set", pol); code != 3 || !strings.Contains(out, "admin") {
		t.Fatalf("bob set a policy: exit %d\n%s", code, out)
	}

	// The admin ends the consultant's access — --end alone, as its usage
	// says (it needed --folders) —: refused, and the folder gone.
	if out := admin("guest", "--email", "gail@consult.test", "--end"); !strings.Contains(out, "Ended gail@consult.test's guest access") {
		t.Fatalf("guest --end:\n%s", out)
	}
	if code, out := runFail(t, gailPass, b.coffer, "sync", "--vault", gail); code != 3 || !strings.Contains(out, "ended") {
		t.Fatalf("gail's sync after her access ended: exit %d\n%s", code, out)
	}
	if out := run(t, gailPass, b.coffer, "ls", "--vault", gail); strings.Contains(out, "Project Falcon") || !strings.Contains(out, "guest access has ended") {
		t.Fatalf("gail still lists the folder:\n%s", out)
	}
}
