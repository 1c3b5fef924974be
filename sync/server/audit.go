package server

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/wire"
)

// postAudit appends a batch of the device's audit chain, if it continues
// what the server holds; otherwise it flags the device: "fork" when an
// entry the server holds was changed, "gap" when entries are missing (a
// vault rolled back or rebuilt). Entries the server holds already, resent
// after a lost answer, are skipped.
func (s *Server) postAudit(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	var b wire.AuditBatch
	if err := decode(c.body, &b); err != nil {
		return err
	}
	if len(b.Entries) == 0 || len(b.Entries) > wire.MaxAuditBatch {
		return fail(http.StatusBadRequest, wire.CodeBadRequest, "a batch holds 1 to %d entries", wire.MaxAuditBatch)
	}
	if len(b.Details) > wire.MaxAuditDetails {
		return fail(http.StatusRequestEntityTooLarge, wire.CodeTooLarge, "a batch's details are at most %d bytes", wire.MaxAuditDetails)
	}
	head, err := s.store.Device(ctx, c.device.ID)
	if err != nil {
		return err
	}
	rows := make([]store.AuditRow, 0, len(b.Entries))
	prevSeq, prevHash := head.AuditSeq, head.AuditHash
	for _, e := range b.Entries {
		entry := audit.Entry{Seq: e.Seq, Time: time.Unix(0, e.At), Action: audit.Action(e.Action), Outcome: audit.Outcome(e.Outcome),
			Sealed: e.Sealed, Signer: c.device.Key, Sig: e.Sig}
		if len(e.Prev) != 32 || len(e.Hash) != 32 {
			return fail(http.StatusBadRequest, wire.CodeBadRequest, "audit entry %d: malformed hash", e.Seq)
		}
		// Compliance reads these words as they are (and alerts on them):
		// a device may send words this server does not know, never
		// control characters.
		if !audit.ValidWord(e.Action) || !audit.ValidWord(e.Outcome) {
			return fail(http.StatusBadRequest, wire.CodeRejected, "audit entry %d: its action and outcome must be words of lowercase letters, digits and hyphens", e.Seq)
		}
		if len(e.Sealed) > wire.MaxAuditSealed {
			return fail(http.StatusRequestEntityTooLarge, wire.CodeTooLarge, "audit entry %d: its sealed part is over %d bytes", e.Seq, wire.MaxAuditSealed)
		}
		copy(entry.Prev[:], e.Prev)
		copy(entry.Hash[:], e.Hash)
		if entry.ComputeHash() != entry.Hash || !ed25519.Verify(c.device.Key, e.Hash, e.Sig) {
			return fail(http.StatusBadRequest, wire.CodeRejected, "audit entry %d does not verify", e.Seq)
		}
		if e.Seq <= prevSeq {
			// Held already: the same entry again is a resend; another is a fork.
			held, err := s.store.AuditRows(ctx, c.device.ID, e.Seq-1, 1)
			if err != nil {
				return err
			}
			if len(held) == 1 && bytes.Equal(held[0].Hash, e.Hash) {
				continue
			}
			return s.flag(ctx, c, "fork", e.Seq)
		}
		zero := make([]byte, 32)
		if prevSeq == 0 && head.AuditSeq == 0 {
			prevHash = zero
		}
		if e.Seq != prevSeq+1 || !bytes.Equal(e.Prev, prevHash) {
			return s.flag(ctx, c, "gap", e.Seq)
		}
		rows = append(rows, store.AuditRow{Seq: e.Seq, At: e.At, Action: e.Action, Outcome: e.Outcome, Sealed: e.Sealed,
			Prev: e.Prev, Hash: e.Hash, Sig: e.Sig})
		prevSeq, prevHash = e.Seq, e.Hash
	}
	if len(rows) > 0 {
		err := s.store.AppendAudit(ctx, c.device.ID, head.AuditSeq, head.AuditHash, rows, store.Batch{IP: clientIP(r), Time: s.now(), Details: b.Details, DetailsSig: b.DetailsSig})
		if errors.Is(err, store.ErrConflict) {
			return fail(http.StatusConflict, wire.CodeConflict, "the audit chain moved meanwhile; send again")
		}
		if err != nil {
			return err
		}
		s.alert(c, clientIP(r), rows)
		s.feed.notify() // wakes compliance's --follow
	}
	writeJSON(w, http.StatusOK, wire.AuditHead{Seq: prevSeq, Hash: prevHash})
	return nil
}

// alert writes a CEF line for each blocked entry: what the server holds
// in the clear (action, outcome, user, device, address, time), never a
// document's name, which it cannot read.
func (s *Server) alert(c *caller, ip string, rows []store.AuditRow) {
	for _, r := range rows {
		if r.Outcome == string(audit.Blocked) {
			s.metrics.blocked.Inc()
		}
	}
	if s.alerts == nil {
		return
	}
	s.alertM.Lock()
	defer s.alertM.Unlock()
	for _, r := range rows {
		if r.Outcome != string(audit.Blocked) {
			continue
		}
		e := audit.Event{Seq: r.Seq, Time: time.Unix(0, r.At).UTC(), Action: audit.Action(r.Action), Outcome: audit.Outcome(r.Outcome),
			User: c.device.Email, Device: c.device.ID.String(), DeviceName: c.device.Name, IP: ip}
		fmt.Fprintln(s.alerts, e.CEF("cofferd"))
	}
}

// orgAudit serves the organisation's audit trail to compliance and risk:
// every device's batches after a cursor, with who sent them from where,
// waiting up to wait seconds (≤ 25) for the first.
func (s *Server) orgAudit(w http.ResponseWriter, r *http.Request, c *caller) error {
	if c.user == nil || (c.user.Role != policy.Compliance && c.user.Role != policy.Risk) {
		return fail(http.StatusForbidden, wire.CodeUnauthorized, "the organisation's audit trail is for its compliance and risk officers")
	}
	q := r.URL.Query()
	after, err := strconv.ParseInt(q.Get("after"), 10, 64)
	if err != nil || after < 0 {
		return fail(http.StatusBadRequest, wire.CodeBadRequest, "bad cursor")
	}
	wait, _ := strconv.Atoi(q.Get("wait"))
	deadline := time.After(time.Duration(min(max(wait, 0), wire.MaxFeedWait)) * time.Second)
	for {
		woken := s.feed.wait()
		batches, err := s.store.AuditBatches(r.Context(), after, 200)
		if err != nil {
			return err
		}
		if len(batches) > 0 || wait <= 0 {
			out := wire.OrgAudit{Batches: []wire.OrgAuditBatch{}, Next: after}
			size := 0
			for _, b := range batches {
				for _, row := range b.Rows {
					size += len(row.Sealed)
				}
				if size += len(b.Details); size > wire.MaxOrgAuditPage && len(out.Batches) > 0 {
					break // the rest in the next page
				}
				ob := wire.OrgAuditBatch{ID: b.ID, Device: wire.HexID(b.Device), IP: b.IP, Time: b.Time.UnixNano(), Details: b.Details, DetailsSig: b.DetailsSig}
				if d := c.state.Devices[b.Device]; d != nil {
					ob.Email, ob.Name = d.Email, d.Name
				}
				for _, row := range b.Rows {
					ob.Entries = append(ob.Entries, wire.AuditEntry{Seq: row.Seq, At: row.At, Action: row.Action, Outcome: row.Outcome,
						Sealed: row.Sealed, Prev: row.Prev, Hash: row.Hash, Sig: row.Sig})
				}
				out.Batches = append(out.Batches, ob)
				out.Next = b.ID
			}
			writeJSON(w, http.StatusOK, out)
			return nil
		}
		select {
		case <-woken:
		case <-deadline:
			wait = 0
		case <-time.After(feedRecheck):
		case <-r.Context().Done():
			return r.Context().Err()
		}
	}
}

func (s *Server) flag(ctx context.Context, c *caller, flag string, seq int64) error {
	if err := s.store.FlagDevice(ctx, c.device.ID, flag); err != nil {
		return err
	}
	s.log.Warn("audit chain does not continue", "device", c.device.ID.String(), "flag", flag, "seq", seq)
	what := "an entry the server holds was changed"
	if flag == "gap" {
		what = "entries are missing before it"
	}
	return fail(http.StatusConflict, wire.CodeConflict, "audit entry %d does not continue the chain the server holds (%s); the device is flagged", seq, what)
}
