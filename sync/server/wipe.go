package server

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault/object"
)

// postReceipt takes a device's wipe receipt: signed by its transport key,
// for this organisation and device, answering the admin's wipe order of it
// or a self-wipe (the lease's deadline, wrong passphrases). Once it holds
// one, the device is refused from then on — except that a device the admin
// ordered wiped may always read its order and post the receipt of that
// order, whatever receipt it sent (a self-wipe receipt can be forged by
// whoever holds the transport key; it must not stop the admin's wipe) and
// after it answered (a copy of the device is wiped when it comes online;
// its receipt is taken, the first one kept).
func (s *Server) postReceipt(w http.ResponseWriter, r *http.Request, c *caller) error {
	var p wire.ReceiptPost
	if err := decode(c.body, &p); err != nil {
		return err
	}
	rc, err := wire.OpenReceipt(p.Receipt, c.device.Transport)
	if err != nil {
		return fail(http.StatusBadRequest, wire.CodeRejected, "%v", err)
	}
	if rc.Org != c.state.Org || rc.Device != c.device.ID {
		return fail(http.StatusBadRequest, wire.CodeRejected, "the receipt is for another organisation or device")
	}
	switch {
	case rc.Cause == "admin" && (c.device.Wipe == nil || rc.Order != wipeOrder(c.device)):
		return fail(http.StatusBadRequest, wire.CodeRejected, "the receipt names no wipe the admin ordered for this device")
	case rc.Cause != "admin" && rc.Order != "-":
		return fail(http.StatusBadRequest, wire.CodeRejected, "a self-wipe's receipt names no order")
	}
	err = s.store.PutReceipt(r.Context(), store.StoredReceipt{Device: c.device.ID, Order: rc.Order, Receipt: p.Receipt, Received: s.now()})
	if errors.Is(err, store.ErrExists) {
		held, gerr := s.store.ReceiptsOf(r.Context(), c.device.ID)
		if gerr != nil {
			return gerr
		}
		same := false
		for _, h := range held {
			same = same || (h.Order == rc.Order && string(h.Receipt) == string(p.Receipt))
		}
		if !same {
			// Another copy of the device (a disk image, a backup) wiped
			// itself on the same order: the first receipt stands.
			s.log.Warn("another wipe receipt for the same order: a copy of the device was wiped too", "device", c.device.ID.String(), "cause", rc.Cause, "files", rc.Files)
			if err := s.store.AddReceiptCopy(r.Context(), c.device.ID, rc.Order); err != nil {
				return err
			}
			s.feed.notify()
			writeJSON(w, http.StatusOK, struct{}{})
			return nil
		}
	} else if err != nil {
		return err
	}
	s.log.Info("wipe receipt", "device", c.device.ID.String(), "cause", rc.Cause, "files", rc.Files)
	s.feed.notify() // wakes an admin waiting for it
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// wipeOrder is the hex hash of the admin's wipe entry of a device ("" if
// none).
func wipeOrder(d *orglog.DeviceState) string {
	if d.Wipe == nil {
		return ""
	}
	return hex.EncodeToString(d.Wipe.Hash[:])
}

// receiptState says what the receipts a device sent settle: whether it
// sent any, and whether it answered the admin's wipe order of it.
func (s *Server) receiptState(ctx context.Context, d *orglog.DeviceState) (sent, orderDone bool, err error) {
	held, err := s.store.ReceiptsOf(ctx, d.ID)
	if err != nil {
		return false, false, err
	}
	order := wipeOrder(d)
	for _, h := range held {
		orderDone = orderDone || (order != "" && h.Order == order)
	}
	return len(held) > 0, orderDone, nil
}

// adminReceipts lists the verified receipts; with device=ID&wait=S it
// waits up to S seconds (≤ 25) for that device's receipt of order (its
// wipe order; "-": a self-wipe).
func (s *Server) adminReceipts(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	q := r.URL.Query()
	if dev := q.Get("device"); dev != "" {
		id, err := object.ParseID(dev)
		if err != nil {
			return fail(http.StatusBadRequest, wire.CodeBadRequest, "bad device")
		}
		wait, _ := strconv.Atoi(q.Get("wait"))
		rc, err := s.waitReceipt(ctx, id, q.Get("order"), time.Duration(min(max(wait, 0), wire.MaxFeedWait))*time.Second)
		if err != nil {
			return err
		}
		out := []wire.StoredReceipt{}
		if rc != nil {
			out = append(out, s.wireReceipt(c, *rc))
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	all, err := s.store.Receipts(ctx)
	if err != nil {
		return err
	}
	out := make([]wire.StoredReceipt, 0, len(all))
	for _, rc := range all {
		out = append(out, s.wireReceipt(c, rc))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) waitReceipt(ctx context.Context, device object.ID, order string, wait time.Duration) (*store.StoredReceipt, error) {
	deadline := time.After(wait)
	for {
		woken := s.feed.wait()
		held, err := s.store.ReceiptsOf(ctx, device)
		if err != nil {
			return nil, err
		}
		for _, h := range held {
			if order == "" || h.Order == order {
				return &h, nil
			}
		}
		select {
		case <-woken:
		case <-deadline:
			return nil, nil
		case <-time.After(feedRecheck):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (s *Server) wireReceipt(c *caller, rc store.StoredReceipt) wire.StoredReceipt {
	out := wire.StoredReceipt{Device: wire.HexID(rc.Device), Receipt: rc.Receipt, Received: rc.Received.UnixNano(), Copies: rc.Copies}
	if d := c.state.Devices[rc.Device]; d != nil {
		out.Email, out.Name = d.Email, d.Name
	}
	return out
}
