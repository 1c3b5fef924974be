package client

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

// Guard acts for an enrolled vault without its passphrase — locked mode
// (docs/sync-protocol.md, "Remote wipe, receipts and the lease"): it reads
// the organisation's log with the transport key, verifies it from its
// genesis against the pins kept in clear, carries out a wipe the admin
// ordered, and sends the receipt.
type Guard struct {
	dir    string
	device object.ID
	pin    *vault.OrgPin
	conn   *Conn
}

// NewGuard prepares locked mode for the vault in dir (no network yet).
func NewGuard(dir string) (*Guard, error) {
	pin, err := vault.ReadOrgCopy(dir)
	if err != nil {
		return nil, fmt.Errorf("this vault's organisation pins: %w", err)
	}
	dev, key, err := vault.ReadTransportKey(dir)
	if err != nil {
		return nil, err
	}
	var tlsPin [32]byte
	copy(tlsPin[:], pin.TLS)
	conn, err := Dial(pin.URL, tlsPin, wire.DeviceKeyID(dev), key)
	if err != nil {
		return nil, err
	}
	conn.SetServer(pin.Org, ed25519.PublicKey(pin.Server))
	return &Guard{dir: dir, device: dev, pin: pin, conn: conn}, nil
}

// Close closes the connection.
func (g *Guard) Close() { g.conn.Close() }

// Conn is the Guard's connection (its clock may be set, as Conn.Now).
func (g *Guard) Conn() *Conn { return g.conn }

// Order fetches the whole log, verifies it — the pinned admin key signs
// its genesis, every entry obeys the rules, the server's signed checkpoint
// covers it — and returns the admin's wipe order for this device, or nil.
func (g *Guard) Order(ctx context.Context) (*vault.WipeOrder, error) {
	entries, cpMsg, err := FetchLog(ctx, g.conn, 0)
	if IsCode(err, wire.CodeGuestView) || IsCode(err, wire.CodeRevoked) {
		// A guest, or a device ordered wiped: it reads its view.
		return g.viewOrder(ctx)
	}
	if err != nil {
		return nil, err
	}
	cp, err := orglog.OpenCheckpoint(cpMsg, ed25519.PublicKey(g.pin.Server))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", vault.ErrOrgLog, err)
	}
	if cp.Org != g.pin.Org || int64(len(entries)) < cp.Size {
		return nil, fmt.Errorf("%w: the checkpoint is of another organisation or covers entries not sent", vault.ErrOrgLog)
	}
	st := &orglog.State{}
	var hashes orglog.Hashes
	for i, raw := range entries[:cp.Size] {
		if _, err := st.Apply(raw, time.Time{}); err != nil {
			return nil, fmt.Errorf("%w: %v", vault.ErrOrgLog, err)
		}
		if err := hashes.Append(int64(i), raw); err != nil {
			return nil, err
		}
	}
	if !st.Admin.Equal(ed25519.PublicKey(g.pin.Admin)) {
		return nil, fmt.Errorf("%w: it names another admin key than the one this vault pinned", vault.ErrOrgLog)
	}
	if th, err := hashes.TreeHash(cp.Size); err != nil || th != cp.Hash {
		return nil, fmt.Errorf("%w: its entries do not match its signed checkpoint", vault.ErrOrgLog)
	}
	return g.orderIn(st), nil
}

// viewOrder is Order for a guest, from its view of the log.
func (g *Guard) viewOrder(ctx context.Context) (*vault.WipeOrder, error) {
	view, err := FetchView(ctx, g.conn, 0)
	if err != nil {
		if IsCode(err, wire.CodeRevoked) {
			return nil, nil // revoked, or its order answered: nothing to carry out
		}
		return nil, err
	}
	if _, err := view.Verify(ed25519.PublicKey(g.pin.Server), g.pin.Org, 0, tlog.Hash{}); err != nil {
		return nil, fmt.Errorf("%w: %v", vault.ErrOrgLog, err)
	}
	st := &orglog.State{}
	for _, e := range view.Entries {
		if _, err := st.ApplyAt(e.Raw, e.Index, time.Time{}); err != nil {
			return nil, fmt.Errorf("%w: %v", vault.ErrOrgLog, err)
		}
	}
	if !st.Admin.Equal(ed25519.PublicKey(g.pin.Admin)) {
		return nil, fmt.Errorf("%w: it names another admin key than the one this vault pinned", vault.ErrOrgLog)
	}
	return g.orderIn(st), nil
}

// orderIn returns the wipe order of this device in a verified state.
func (g *Guard) orderIn(st *orglog.State) *vault.WipeOrder {
	d := st.Devices[g.device]
	if d == nil || d.Wipe == nil {
		return nil
	}
	return &vault.WipeOrder{Cause: vault.CauseAdmin, Org: st.Org, Device: g.device, Entry: hex.EncodeToString(d.Wipe.Hash[:]),
		Nonce: d.Wipe.Nonce, Reason: d.Wipe.Reason, Issued: d.Wipe.Time, OrgName: st.Name}
}

// Enforce carries out a wipe the admin ordered for this device, if there
// is one (the vault must not be open), with extra paths to destroy, and
// sends the receipt. It returns the order carried out, or nil. A receipt
// the server has not acknowledged is sent again first.
func (g *Guard) Enforce(ctx context.Context, extra []string) (*vault.WipeOrder, error) {
	// A receipt counts only with a wipe done or under way (which is
	// finished first); one planted in a live vault does not stop the
	// order from being read.
	if vault.PendingReceipt(g.dir) != nil && vault.Wiped(g.dir) != nil {
		if _, err := vault.FinishWipe(g.dir); err != nil {
			return nil, err
		}
		return nil, g.SendReceipt(ctx)
	}
	order, err := g.Order(ctx)
	if err != nil || order == nil {
		return nil, err
	}
	order.Extra = extra
	if _, err := vault.Wipe(g.dir, *order); err != nil {
		return order, err
	}
	return order, g.SendReceipt(ctx)
}

// SendReceipt posts the vault's wipe receipt, if one awaits the server;
// once acknowledged, the transport key and the clear pins are destroyed.
func (g *Guard) SendReceipt(ctx context.Context) error {
	r := vault.PendingReceipt(g.dir)
	if r == nil {
		return nil
	}
	if _, err := g.conn.JSON(ctx, "POST", "/v1/receipts", nil, wire.ReceiptPost{Receipt: r}, nil); err != nil {
		return fmt.Errorf("send the wipe receipt (it is kept and sent again): %w", err)
	}
	return vault.ReceiptSent(g.dir)
}

// Watch waits on the change feed until ctx ends and enforces a wipe as
// soon as the log has one for this device; onWipe is told (after the
// wipe, before the receipt is sent). Errors (offline) are retried with a
// growing pause; report, if set, hears them.
func (g *Guard) Watch(ctx context.Context, extra []string, onWipe func(*vault.WipeOrder), report func(error)) error {
	var cursor int64
	pause := time.Second
	for ctx.Err() == nil {
		order, err := g.Order(ctx)
		if err == nil && order != nil {
			order.Extra = extra
			if _, err = vault.Wipe(g.dir, *order); err == nil {
				if onWipe != nil {
					onWipe(order)
				}
				for ctx.Err() == nil {
					if err = g.SendReceipt(ctx); err == nil {
						return nil
					}
					if report != nil {
						report(err)
					}
					sleep(ctx, pause)
					pause = min(pause*2, time.Minute)
				}
				return ctx.Err()
			}
		}
		if err == nil {
			cursor, err = g.waitLog(ctx, cursor)
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if report != nil {
				report(err)
			}
			sleep(ctx, pause)
			pause = min(pause*2, time.Minute)
			continue
		}
		pause = time.Second
	}
	return ctx.Err()
}

// waitLog long-polls the feed from cursor until a log entry arrives, and
// returns the new cursor. From cursor 0 it first reads to the feed's end
// and returns, so that the caller looks at the log once more.
func (g *Guard) waitLog(ctx context.Context, cursor int64) (int64, error) {
	draining := cursor == 0
	for {
		wait := wire.MaxFeedWait
		if draining {
			wait = 0
		}
		var feed wire.Feed
		q := url.Values{"after": {strconv.FormatInt(cursor, 10)}, "wait": {strconv.Itoa(wait)}}
		if _, err := g.conn.JSON(ctx, "GET", "/v1/feed", q, nil, &feed); err != nil {
			return cursor, err
		}
		cursor = max(cursor, feed.Next)
		if draining {
			if len(feed.Events) == 0 {
				return max(cursor, 1), nil
			}
			continue
		}
		for _, e := range feed.Events {
			if e.Log > 0 {
				return cursor, nil
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// ErrWipeOrdered is wrapped by Sync when the log orders this device wiped:
// the caller closes the vault and wipes it (WipeOrderOf says how).
var ErrWipeOrdered = errors.New("the organisation's admin ordered this device wiped")

// WipeOrderedError carries the order.
type WipeOrderedError struct{ Order vault.WipeOrder }

func (e *WipeOrderedError) Error() string { return ErrWipeOrdered.Error() }
func (e *WipeOrderedError) Unwrap() error { return ErrWipeOrdered }
