package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/orgtest"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/vault"
)

// leaseOrg runs a real cofferd on loopback with a policy of a 2-hour lease
// and a 3-day deadline, and enrols one device; it returns the vault folder
// (closed, synced once) and the server (tests stop it, move its clock).
func leaseOrg(t *testing.T) (string, *orgtest.Org) {
	t.Helper()
	ctx := context.Background()
	ot := orgtest.Start(t, "Acme")
	admin := ot.Admin
	if _, err := admin.SetPolicy(ctx, &policy.Document{V: 1, MaxUnlockFailures: 10, IdleLockMinutes: 15, LeaseHours: 2, WipeAfterDays: 3}); err != nil {
		t.Fatal(err)
	}
	code, _, err := admin.Invite(ctx, "ann@acme.test", policy.Manager, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "vault")
	a, err := app.Enroll(ctx, client.Enrollment{Dir: dir, Invite: code, Name: "Ann Trader", DeviceName: "laptop", Passphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateFolder(ctx, "Desk", policy.Confidential); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if p := a.Policy(); p.LeaseHours != 2 {
		t.Fatalf("the device's policy: %+v", p)
	}
	a.Close()
	return dir, ot
}

// at opens a vault with its clock d from now, standing still.
func at(d time.Duration) vault.Options {
	now := time.Now().Add(d)
	return vault.Options{Now: func() time.Time { return now }}
}

// TestLease: offline past the lease the vault does not unlock, and setting
// the clock back does not help; online again, it renews and unlocks.
func TestLease(t *testing.T) {
	ctx := context.Background()
	dir, ot := leaseOrg(t)
	a, err := app.OpenWith(ctx, dir, pass, at(time.Hour))
	if err != nil {
		t.Fatalf("within the lease: %v", err)
	}
	a.Close()
	// Three hours on, the server still answers: the lease renews.
	ot.SetSkew(3 * time.Hour)
	a, err = app.OpenWith(ctx, dir, pass, at(3*time.Hour))
	if err != nil {
		t.Fatalf("past the lease but online: %v", err)
	}
	a.Close()
}

// TestLeaseOffline: the server gone, the vault locks at the lease's end —
// and stays locked with the clock set back — and wipes itself at the
// deadline, before and after unlock alike.
func TestLeaseOffline(t *testing.T) {
	ctx := context.Background()
	dir, ot := leaseOrg(t)
	ot.Stop()
	_, err := app.OpenWith(ctx, dir, pass, at(3*time.Hour))
	var le *app.LeaseError
	if !errors.As(err, &le) || !errors.Is(err, app.ErrLeaseExpired) || !strings.Contains(err.Error(), "has not reached") {
		t.Fatalf("offline past the lease: %v", err)
	}
	// The clock set back to before the lease ended: still locked, because
	// the device's own trail already saw the later time.
	if _, err := app.OpenWith(ctx, dir, pass, at(time.Hour)); !errors.Is(err, app.ErrLeaseExpired) {
		t.Fatalf("with the clock set back: %v", err)
	}
	// Past the deadline: wiped, the receipt kept for the server.
	_, err = app.OpenWith(ctx, dir, pass, at(4*24*time.Hour))
	if !errors.Is(err, vault.ErrWiped) || !strings.Contains(err.Error(), "wiped itself") {
		t.Fatalf("offline past the deadline: %v", err)
	}
	if vault.PendingReceipt(dir) == nil {
		t.Error("no receipt kept for the server")
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "user.age")); err == nil {
		t.Error("the user key survived the deadline")
	}
}

// TestDeadlineBeforeUnlock: a device started offline past its deadline
// wipes itself before anyone is asked for a passphrase.
func TestDeadlineBeforeUnlock(t *testing.T) {
	ctx := context.Background()
	dir, ot := leaseOrg(t)
	ot.Stop()
	if passed, _, days := vault.DeadlinePassed(dir, time.Now().Add(4*24*time.Hour)); !passed || days != 3 {
		t.Fatalf("deadline passed %v (%d days)", passed, days)
	}
	if err := app.BeforeUnlockAt(ctx, dir, time.Second, time.Now().Add(2*24*time.Hour)); err != nil {
		t.Fatalf("before the deadline: %v", err)
	}
	if err := app.BeforeUnlockAt(ctx, dir, time.Second, time.Now().Add(4*24*time.Hour)); !errors.Is(err, vault.ErrWiped) {
		t.Fatalf("past the deadline, before unlock: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "user.age")); err == nil {
		t.Error("the user key survived")
	}
}

// TestLeaseInSession: a session left unlocked goes offline; the sync that
// finds the server gone past the lease ends the session (LeaseError), and
// past the deadline destroys the vault.
func TestLeaseInSession(t *testing.T) {
	ctx := context.Background()
	dir, ot := leaseOrg(t)
	offset := new(time.Duration)
	a, err := app.OpenWith(ctx, dir, pass, vault.Options{Now: func() time.Time { return time.Now().Add(*offset) }})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ot.Stop()
	if _, err := a.Sync(ctx); !errors.Is(err, client.ErrUnreachable) {
		t.Fatalf("offline within the lease: %v", err)
	}
	*offset = 3 * time.Hour
	var le *app.LeaseError
	if _, err := a.Sync(ctx); !errors.As(err, &le) {
		t.Fatalf("offline past the lease, unlocked: %v", err)
	}
	*offset = 4 * 24 * time.Hour
	if _, err := a.Sync(ctx); !errors.Is(err, vault.ErrWiped) || !a.Wiped() {
		t.Fatalf("offline past the deadline, unlocked: %v (wiped %v)", err, a.Wiped())
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "user.age")); err == nil {
		t.Error("the user key survived the deadline")
	}
}

// TestClockAheadOnline: the device's clock runs days ahead of the world
// (a wrong date after a flat battery) while the server answers, refusing
// its requests for the clock: the vault locks, saying to set the clock
// right, but does not wipe itself — it wiped work not yet synced, as if
// the device had been out of reach for days — and with the clock right it
// opens with that work.
func TestClockAheadOnline(t *testing.T) {
	ctx := context.Background()
	dir, ot := leaseOrg(t)
	a, err := app.OpenWith(ctx, dir, pass, at(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Import(ctx, "Desk", "unsynced.txt", strings.NewReader("not yet on the server"), nil); err != nil {
		t.Fatal(err)
	}
	a.Close()
	ahead := time.Now().Add(5 * 24 * time.Hour)
	if err := app.BeforeUnlockAt(ctx, dir, 5*time.Second, ahead); err != nil {
		t.Fatalf("before unlock, the clock 5 days ahead, the server reached: %v", err)
	}
	_, err = app.OpenWith(ctx, dir, pass, at(5*24*time.Hour))
	if !errors.Is(err, app.ErrLeaseExpired) || !strings.Contains(err.Error(), "clock") || errors.Is(err, vault.ErrWiped) {
		t.Fatalf("online with the clock 5 days ahead: %v, want a lock saying the clock is off", err)
	}
	a, err = app.OpenWith(ctx, dir, pass, at(0))
	if err != nil {
		t.Fatalf("the clock right again: %v", err)
	}
	files, err := a.Files(ctx, "Desk")
	a.Close()
	if err != nil || len(files) != 1 || files[0].Name != "unsynced.txt" {
		t.Fatalf("the work not yet synced: %v %v", files, err)
	}
	// The lease renewed with the clock right, an hour offline is within
	// it: the audit entries the clock wrote days ahead are no evidence of
	// the time once the server vouched for it (the vault wiped itself
	// here, its trail taken for five days offline).
	ot.Stop()
	a, err = app.OpenWith(ctx, dir, pass, at(time.Hour))
	if err != nil {
		t.Fatalf("an hour offline after the renewal: %v", err)
	}
	a.Close()
}

// TestSessionClockMovedAhead: in a session left unlocked the clock is
// moved days ahead; the server refuses every request for it, so no wipe
// order could reach the device: at the next sync round past the lease the
// session ends, saying to set the clock right, and nothing is wiped (it
// stayed unlocked for ever).
func TestSessionClockMovedAhead(t *testing.T) {
	ctx := context.Background()
	dir, _ := leaseOrg(t)
	var ahead atomic.Int64
	a, err := app.OpenWith(ctx, dir, pass, vault.Options{Now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ahead.Store(int64(5 * 24 * time.Hour))
	_, err = a.Sync(ctx)
	if !errors.Is(err, app.ErrLeaseExpired) || !strings.Contains(err.Error(), "clock") || errors.Is(err, vault.ErrWiped) {
		t.Fatalf("a sync round with the clock 5 days ahead: %v, want the session ended for the clock", err)
	}
}

// TestClockAheadThenRightOffline: locked online for a clock days ahead,
// the clock set right offline: the vault opens, within its lease. (The
// lock's audit entry bore the refused clock's time, and the next unlock,
// offline, took it for now and wiped the vault.)
func TestClockAheadThenRightOffline(t *testing.T) {
	ctx := context.Background()
	dir, ot := leaseOrg(t)
	if _, err := app.OpenWith(ctx, dir, pass, at(5*24*time.Hour)); !errors.Is(err, app.ErrLeaseExpired) {
		t.Fatalf("online with the clock 5 days ahead: %v, want a lock", err)
	}
	ot.Stop()
	if err := app.BeforeUnlockAt(ctx, dir, time.Second, time.Now()); err != nil {
		t.Fatalf("before unlock, offline, the clock right: %v", err)
	}
	a, err := app.OpenWith(ctx, dir, pass, at(time.Hour))
	if err != nil {
		t.Fatalf("offline, the clock right, within the lease: %v", err)
	}
	a.Close()
}

// TestRevokedDeviceJudgedByTheDeadline: a revoked device gets no signed
// time from its server: past the deadline it wipes itself before unlock,
// and a session left unlocked is wiped at its next sync round (it stayed
// unlocked: only an unreachable server ran the lease check, and before
// unlock the server's answer skipped the deadline).
func TestRevokedDeviceJudgedByTheDeadline(t *testing.T) {
	ctx := context.Background()
	dir, ot := leaseOrg(t)
	var ahead atomic.Int64
	a, err := app.OpenWith(ctx, dir, pass, vault.Options{Now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	dev := a.Vault().DeviceID()
	if err := ot.Admin.Revoke(ctx, dev, "lost"); err != nil {
		t.Fatal(err)
	}
	ahead.Store(int64(4 * 24 * time.Hour))
	if _, err := a.Sync(ctx); !errors.Is(err, vault.ErrWiped) {
		a.Close()
		t.Fatalf("a session of a revoked device past the deadline: %v, want wiped", err)
	}
	a.Close()

	dir2, ot2 := leaseOrg(t)
	b, err := app.OpenWith(ctx, dir2, pass, vault.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dev2 := b.Vault().DeviceID()
	b.Close()
	if err := ot2.Admin.Revoke(ctx, dev2, "lost"); err != nil {
		t.Fatal(err)
	}
	if err := app.BeforeUnlockAt(ctx, dir2, 5*time.Second, time.Now().Add(4*24*time.Hour)); !errors.Is(err, vault.ErrWiped) {
		t.Fatalf("before unlock, a revoked device past the deadline: %v, want wiped", err)
	}
}
