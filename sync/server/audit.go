package server

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"net/http"
	"time"

	"github.com/coffer-vault/coffer/audit"
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
		err := s.store.AppendAudit(ctx, c.device.ID, head.AuditSeq, head.AuditHash, rows, store.Batch{IP: clientIP(r), Time: s.now()})
		if errors.Is(err, store.ErrConflict) {
			return fail(http.StatusConflict, wire.CodeConflict, "the audit chain moved meanwhile; send again")
		}
		if err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, wire.AuditHead{Seq: prevSeq, Hash: prevHash})
	return nil
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
