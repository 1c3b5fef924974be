package vault

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/vault/index"
)

// AppendAudit records an event as the next link of this device's audit
// chain, signed by the device key. The identifying part is sealed: the log
// of a locked vault shows only times, actions and outcomes.
func (v *Vault) AppendAudit(ctx context.Context, e audit.Event) (audit.Event, error) {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	if e.User == "" {
		e.User = v.user.Email
	}
	if e.Device == "" {
		e.Device = v.device.Device.String()
	}
	sealed, err := v.seal.sealJSON(auditAD(e.Time, e.Action, e.Outcome), e.Details())
	if err != nil {
		return e, err
	}
	row, err := v.idx.AppendAudit(ctx, func(last *index.AuditRow) (index.AuditRow, error) {
		entry := audit.Entry{Time: e.Time, Action: e.Action, Outcome: e.Outcome, Sealed: sealed}
		var prev *audit.Entry
		if last != nil {
			p, err := entryOf(*last)
			if err != nil {
				return index.AuditRow{}, err
			}
			prev = &p
		}
		entry.Link(prev, v.devKey)
		return index.AuditRow{Seq: entry.Seq, At: entry.Time, Action: string(entry.Action), Outcome: string(entry.Outcome),
			Sealed: entry.Sealed, Prev: entry.Prev[:], Hash: entry.Hash[:], Signer: entry.Signer, Sig: entry.Sig}, nil
	})
	e.Seq = row.Seq
	return e, err
}

func auditAD(t time.Time, action audit.Action, outcome audit.Outcome) string {
	return "audit:" + strconv.FormatInt(t.UnixNano(), 10) + ":" + string(action) + ":" + string(outcome)
}

func entryOf(r index.AuditRow) (audit.Entry, error) {
	e := audit.Entry{Seq: r.Seq, Time: r.At, Action: audit.Action(r.Action), Outcome: audit.Outcome(r.Outcome),
		Sealed: r.Sealed, Signer: ed25519.PublicKey(r.Signer), Sig: r.Sig}
	if len(r.Prev) != 32 || len(r.Hash) != 32 {
		return e, fmt.Errorf("audit entry %d: malformed hash: %w", r.Seq, ErrTampered)
	}
	copy(e.Prev[:], r.Prev)
	copy(e.Hash[:], r.Hash)
	return e, nil
}

// AuditLog is the verified audit log of this device.
type AuditLog struct {
	Events []audit.Event // every entry whose details could be read, in order
	Breaks []audit.Break // where the chain does not verify; empty when intact
}

// AuditEvents reads and verifies this device's audit chain. Tampering is
// reported in Breaks, not as an error: a compliance officer needs to see
// both what is there and where it was changed.
func (v *Vault) AuditEvents(ctx context.Context) (*AuditLog, error) {
	rows, err := v.idx.Audit(ctx)
	if err != nil {
		return nil, err
	}
	log := &AuditLog{}
	entries := make([]audit.Entry, 0, len(rows))
	for i, r := range rows {
		e, err := entryOf(r)
		if err != nil {
			log.Breaks = append(log.Breaks, audit.Break{Position: i + 1, Seq: r.Seq, Kind: audit.Edited, Detail: err.Error()})
		}
		entries = append(entries, e)
	}
	log.Breaks = append(log.Breaks, audit.Verify(entries, v.trusted)...)
	for i, e := range entries {
		ev := audit.Event{Seq: e.Seq, Time: e.Time, Action: e.Action, Outcome: e.Outcome}
		var d audit.Details
		if err := v.seal.openJSON(auditAD(e.Time, e.Action, e.Outcome), e.Sealed, &d); err != nil {
			log.Breaks = append(log.Breaks, audit.Break{Position: i + 1, Seq: e.Seq, Kind: audit.Edited, Detail: "sealed details do not open"})
			continue
		}
		log.Events = append(log.Events, ev.WithDetails(d))
	}
	sort.SliceStable(log.Breaks, func(i, j int) bool { return log.Breaks[i].Position < log.Breaks[j].Position })
	return log, nil
}

// LastAuditTime returns the newest time recorded in the audit trail: the
// highest time this device has seen.
func (v *Vault) LastAuditTime(ctx context.Context) (time.Time, error) {
	return v.idx.LastAuditTime(ctx)
}
