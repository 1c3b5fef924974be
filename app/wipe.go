package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
)

// Remote wipe and the offline lease (docs/sync-protocol.md, "Remote wipe,
// receipts and the lease"): what every face runs before it asks for a
// passphrase, and what an unlocked App does when the log orders its
// device wiped or its lease runs out.

// ErrLeaseExpired is wrapped when an enrolled vault has not reached its
// server for longer than the policy's lease: it does not unlock until it
// does.
var ErrLeaseExpired = errors.New("this device's lease has run out")

// LeaseError says since when the device has not reached its server.
type LeaseError struct {
	LastRenewal time.Time
	Lease       time.Duration
	Server      string
	// Refused is the server's answer when it was reached but refused
	// this device's clock (wire CodeClockSkew); nil when it could not be
	// reached or gave no signed time.
	Refused error
}

func (e *LeaseError) Error() string {
	if e.Refused != nil {
		return fmt.Sprintf("the lease could not be renewed (last renewed %s UTC): %v", e.LastRenewal.UTC().Format("2006-01-02 15:04"), e.Refused)
	}
	return fmt.Sprintf("this device has not reached %s since %s UTC, longer than the %s the organisation's policy allows offline: "+
		"connect it to the organisation's network and try again", e.Server, e.LastRenewal.UTC().Format("2006-01-02 15:04"), e.Lease)
}
func (e *LeaseError) Unwrap() error { return ErrLeaseExpired }

// wipeExtras are what a wipe destroys beyond the vault folder: the
// folders of copies handed to other applications and the preview caches.
func wipeExtras() []string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return nil
	}
	return []string{filepath.Join(dir, "coffer", "open"), filepath.Join(dir, "coffer", "pdfium-sealed")}
}

// BeforeUnlock is what a face runs on an enrolled vault before it asks
// for the passphrase: it finishes a wipe a crash interrupted, carries out
// a wipe the admin ordered (asking the server for at most timeout), and
// wipes a vault whose lease deadline passed offline. It returns a
// *vault.WipedError when the vault is (now) wiped, nil otherwise — being
// offline is not an error here.
func BeforeUnlock(ctx context.Context, dir string, timeout time.Duration) error {
	return BeforeUnlockAt(ctx, dir, timeout, time.Now())
}

// BeforeUnlockAt is BeforeUnlock with the device's clock reading now
// (tests move it).
func BeforeUnlockAt(ctx context.Context, dir string, timeout time.Duration, now time.Time) error {
	if err := vault.Wiped(dir); err != nil {
		if _, ferr := vault.FinishWipe(dir); ferr != nil {
			return ferr
		}
		sendReceipt(ctx, dir, timeout)
		return vault.Wiped(dir)
	}
	if _, err := vault.ReadOrgCopy(dir); errors.Is(err, fs.ErrNotExist) {
		return nil // a standalone vault
	}
	g, err := client.NewGuard(dir)
	if err != nil {
		return err
	}
	defer g.Close()
	// Requests are signed by the clock the deadline is judged by.
	offset := time.Until(now)
	g.Conn().Now = func() time.Time { return time.Now().Add(offset) }
	var vouched atomic.Bool // the server signed its time for this device
	g.Conn().OnTime = func(time.Time) { vouched.Store(true) }
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	order, err := g.Enforce(cctx, wipeExtras())
	if order != nil {
		if err != nil && !errors.Is(err, client.ErrUnreachable) && vault.Wiped(dir) == nil {
			return err
		}
		return vault.Wiped(dir)
	}
	if vouched.Load() || client.IsCode(err, wire.CodeClockSkew) {
		// The server vouched for the time just now, or refused this
		// device's clock (days ahead, say, after a flat battery): the
		// deadline is for a device out of its reach, and must not wipe
		// work not yet synced. Once unlocked, checkLease renews the
		// lease or locks saying why. A revoked device gets no signed
		// time, nor does one behind a proxy whose server is down: the
		// deadline judges them.
		return nil
	}
	if passed, last, days := vault.DeadlinePassed(dir, now); passed {
		return wipeForLease(ctx, dir, last, days, timeout)
	}
	return nil
}

// wipeForLease wipes a vault whose lease deadline passed.
func wipeForLease(ctx context.Context, dir string, last time.Time, days int, timeout time.Duration) error {
	pin, err := vault.ReadOrgCopy(dir)
	if err != nil {
		return err
	}
	device, _, err := vault.ReadTransportKey(dir)
	if err != nil {
		return err
	}
	order := vault.WipeOrder{Cause: vault.CauseLease, Org: pin.Org, Device: device, Issued: time.Now(), Extra: wipeExtras(),
		Reason: fmt.Sprintf("it had not reached %s since %s UTC, past the %d days the organisation's policy allows", pin.URL, last.UTC().Format("2006-01-02 15:04"), days)}
	if _, err := vault.Wipe(dir, order); err != nil {
		return err
	}
	sendReceipt(ctx, dir, timeout)
	return vault.Wiped(dir)
}

// sendReceipt tries to send a pending wipe receipt; it is kept and sent
// again (BeforeUnlock, WatchLocked) if the server cannot be reached.
func sendReceipt(ctx context.Context, dir string, timeout time.Duration) {
	if vault.PendingReceipt(dir) == nil {
		return
	}
	g, err := client.NewGuard(dir)
	if err != nil {
		return
	}
	defer g.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_ = g.SendReceipt(ctx)
}

// WatchLocked keeps a locked enrolled vault connected until ctx ends:
// it carries out a wipe the admin orders (onWipe hears the notice) and
// sends receipts still owed. For `coffer sync --watch` without a
// passphrase and the desktop app's unlock screen.
func WatchLocked(ctx context.Context, dir string, onWipe func(notice string), report func(error)) error {
	if err := BeforeUnlock(ctx, dir, 10*time.Second); err != nil {
		if errors.Is(err, vault.ErrWiped) && onWipe != nil {
			onWipe(err.Error())
		}
		if errors.Is(err, vault.ErrWiped) {
			sendReceiptUntil(ctx, dir, report)
		}
		return err
	}
	g, err := client.NewGuard(dir)
	if err != nil {
		return err
	}
	defer g.Close()
	err = g.Watch(ctx, wipeExtras(), func(*vault.WipeOrder) {
		if onWipe != nil {
			onWipe(vault.Wiped(dir).Error())
		}
	}, report)
	if err == nil {
		return vault.Wiped(dir)
	}
	return err
}

func sendReceiptUntil(ctx context.Context, dir string, report func(error)) {
	pause := time.Second
	for ctx.Err() == nil && vault.PendingReceipt(dir) != nil {
		g, err := client.NewGuard(dir)
		if err == nil {
			err = g.SendReceipt(ctx)
			g.Close()
		}
		if err == nil {
			return
		}
		if report != nil {
			report(err)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		pause = min(pause*2, time.Minute)
	}
}

// checkLease enforces the policy's lease on an unlocked enrolled vault,
// with proven figures: past wipe_after_days since the last server-signed
// time it wipes the vault; past lease_hours it first tries to renew (one
// request to the server) and, failing that, refuses to stay unlocked.
func (a *App) checkLease(ctx context.Context) error {
	if !a.Enrolled() {
		return nil
	}
	doc := a.policyDoc()
	_ = a.v.SetWipeAfterFailures(doc.WipeAfterFailures)
	_ = a.v.SetWipeAfterDays(doc.WipeAfterDays)
	if doc.LeaseHours <= 0 && doc.WipeAfterDays <= 0 {
		return nil
	}
	last, err := a.v.TrustedTime()
	if err != nil || last.IsZero() {
		return err
	}
	over := func(d time.Duration) bool { return d > 0 && a.v.TrustedNow().Sub(last) > d }
	var refused error // the server's refusal of this device's clock
	days, lease := time.Duration(doc.WipeAfterDays)*24*time.Hour, time.Duration(doc.LeaseHours)*time.Hour
	// The deadline's wipe destroys: it is judged by this device's clock
	// and the server's signed time alone. The audit trail's times keep a
	// clock set back from extending the lease (the lock), but a clock
	// once days ahead wrote them too, and they wiped vaults whose clock
	// was set right since.
	wipeDue := func() bool { return days > 0 && a.v.Now().Sub(last) > days }
	if over(days) || over(lease) {
		// Renew if the server can be reached now: any answer carrying its
		// signed time renews (a busy server's too). Renewed, the lease is
		// judged by the server's time, just vouched for: this device's
		// clock, or its audit trail written by that clock, running ahead
		// must neither lock nor wipe it.
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if s, err := a.syncer(); err == nil {
			_, err = s.Conn().JSON(rctx, "GET", "/v1/log", nil, nil, nil)
			_ = s.RecordTime()
			if client.IsCode(err, wire.CodeClockSkew) {
				refused = err
			}
		}
		cancel()
		renewed, err := a.v.TrustedTime()
		if err != nil {
			return err
		}
		if renewed.After(last) {
			return nil
		}
	}
	if refused != nil && (over(days) || over(lease)) {
		// Reached, but this device's clock is off: lock, saying so; the
		// deadline's wipe is for a device out of reach. (No audit entry:
		// it would bear the time of the clock the server refused.)
		return &LeaseError{LastRenewal: last, Lease: lease, Server: a.v.Org().URL, Refused: refused}
	}
	if wipeDue() {
		dir := a.v.Dir()
		a.closeForWipe()
		return wipeForLease(ctx, dir, last, doc.WipeAfterDays, 5*time.Second)
	}
	if over(days) && !over(lease) {
		// Past the deadline by the audit trail's times alone: locked,
		// as past the lease.
		a.record(ctx, auditLease(last, days))
		return &LeaseError{LastRenewal: last, Lease: days, Server: a.v.Org().URL}
	}
	if over(lease) {
		a.record(ctx, auditLease(last, lease))
		return &LeaseError{LastRenewal: last, Lease: lease, Server: a.v.Org().URL}
	}
	return nil
}

// closeForWipe stops everything that holds the vault's files open.
func (a *App) closeForWipe() {
	a.closeSync()
	a.view.close()
	a.removeCopies()
	a.pdfMu.Lock()
	a.pdfClosed = true
	a.pdfMu.Unlock()
	a.pdfUses.Wait()
	a.pdfMu.Lock()
	if a.pdfClose != nil {
		_ = a.pdfClose()
		a.pdf, a.pdfClose = nil, nil
	}
	a.pdfMu.Unlock()
	_ = a.v.Close()
}

// executeWipe carries out the admin's order on an unlocked App: it closes
// the vault, wipes it and sends the receipt. The App is unusable after.
func (a *App) executeWipe(ctx context.Context, order vault.WipeOrder) error {
	dir := a.v.Dir()
	a.closeForWipe()
	order.Extra = wipeExtras()
	if _, err := vault.Wipe(dir, order); err != nil {
		return err
	}
	a.wiped.Store(true)
	sendReceipt(ctx, dir, 10*time.Second)
	return vault.Wiped(dir)
}

// Wiped reports whether the App's vault was wiped while it ran.
func (a *App) Wiped() bool { return a.wiped.Load() }

func auditLease(last time.Time, lease time.Duration) audit.Event {
	return audit.Event{Action: audit.Unlock, Outcome: audit.Blocked,
		Reason: fmt.Sprintf("the lease of %s ran out: no server-signed time since %s UTC", lease, last.UTC().Format("2006-01-02 15:04"))}
}
