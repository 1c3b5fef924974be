package main_test

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
	const annPass, bobPass, gailPass = "ann manager passphrase 2026", "bob analyst passphrase 2026", "gail consultant passphrase 2026"
	ann, bob, gail := filepath.Join(work, "ann"), filepath.Join(work, "bob"), filepath.Join(work, "gail")
	run(t, annPass, b.coffer, "enroll", "--vault", ann, "--server", srv.url, "--name", "Ann Manager",
		"--invite", lastLine(admin("invite", "--email", "ann@acme.test", "--role", "manager")))
	run(t, bobPass, b.coffer, "enroll", "--vault", bob, "--server", srv.url, "--name", "Bob Analyst",
		"--invite", lastLine(admin("invite", "--email", "bob@acme.test", "--role", "member")))

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

	// The admin's policy reaches every device; nobody sets it locally.
	pol := filepath.Join(work, "policy.json")
	os.WriteFile(pol, []byte(`{"max_unlock_failures": 5, "idle_lock_minutes": 7}`), 0o600)
	admin("policy", "--set", pol)
	run(t, bobPass, b.coffer, "sync", "--vault", bob)
	if out := run(t, bobPass, b.coffer, "policy", "--vault", bob); !strings.Contains(out, "7") {
		t.Fatalf("bob's policy after the admin's:\n%s", out)
	}
	if code, out := runFail(t, bobPass, b.coffer, "policy", "--vault", bob, "--set", pol); code != 3 || !strings.Contains(out, "admin") {
		t.Fatalf("bob set a policy: exit %d\n%s", code, out)
	}

	// The admin ends the consultant's access: refused, and the folder gone.
	admin("guest", "--email", "gail@consult.test", "--folders", members.ID[:16], "--end")
	if code, out := runFail(t, gailPass, b.coffer, "sync", "--vault", gail); code != 3 || !strings.Contains(out, "ended") {
		t.Fatalf("gail's sync after her access ended: exit %d\n%s", code, out)
	}
	if out := run(t, gailPass, b.coffer, "ls", "--vault", gail); strings.Contains(out, "Project Falcon") {
		t.Fatalf("gail still lists the folder:\n%s", out)
	}
}
