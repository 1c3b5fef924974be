package cli_test

import (
	"runtime"
	"strings"
	"testing"
)

// TestUnlockThenCommandsWithoutPassphrase: after 'coffer unlock' the next
// commands need no passphrase, their opens are audited as the session's,
// and 'coffer lock' ends it.
func TestUnlockThenCommandsWithoutPassphrase(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sessions need the Linux kernel keyring")
	}
	dir := newVault(t)
	t.Cleanup(func() { run(t, "", "lock", "--vault", dir) })
	if r := run(t, "", "ls", "--vault", dir); r.code != 1 || !strings.Contains(r.stderr, "no passphrase") {
		t.Fatalf("ls before unlock without a passphrase: exit %d\n%s", r.code, r.stderr)
	}
	r := expect(t, 0, "unlock", "--vault", dir, "--idle", "99h")
	if !strings.Contains(r.stdout, "unused for 15m0s") || !strings.Contains(r.stderr, "idle lock is 15m0s") {
		t.Fatalf("unlock with --idle over the policy's idle lock:\n%s%s", r.stdout, r.stderr)
	}
	r = run(t, "", "ls", "--vault", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "Internal") {
		t.Fatalf("ls in the session without a passphrase: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, "", "audit", "--vault", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "session started") || !strings.Contains(r.stdout, "by the unlocked session") {
		t.Fatalf("the audit trail does not show the session:\n%s%s", r.stdout, r.stderr)
	}
	// A wrong COFFER_PASSPHRASE does not matter while the session is open.
	if r := run(t, "not the passphrase", "ls", "--vault", dir); r.code != 0 {
		t.Fatalf("ls in the session with a wrong COFFER_PASSPHRASE: exit %d\n%s", r.code, r.stderr)
	}
	// unlock always asks: a session does not start another.
	if r := run(t, "", "unlock", "--vault", dir); r.code != 1 || !strings.Contains(r.stderr, "no passphrase") {
		t.Fatalf("unlock in a session without a passphrase: exit %d\n%s", r.code, r.stderr)
	}
	if r := run(t, "", "lock", "--vault", dir); r.code != 0 || !strings.Contains(r.stdout, "Locked") {
		t.Fatalf("lock: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, pass, "audit", "--vault", dir); !strings.Contains(r.stdout, "session was ended") {
		t.Fatalf("the audit trail does not show the session's end:\n%s%s", r.stdout, r.stderr)
	}
	if r := run(t, "", "ls", "--vault", dir); r.code != 1 || !strings.Contains(r.stderr, "no passphrase") {
		t.Fatalf("ls after lock without a passphrase: exit %d\n%s", r.code, r.stderr)
	}
	if r := run(t, "", "lock", "--vault", dir); r.code != 0 || !strings.Contains(r.stdout, "No session") {
		t.Fatalf("lock without a session: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
