package vault

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/vault/index"
)

// AppendAudit records an event as the next link of this device's audit
// chain, signed by the device key. The identifying part is sealed: the log
// of a locked vault shows only times, actions and outcomes.
//
// On a vault that cannot be written (ReadOnly) it fails at once with the
// reason; a failure of the storage wraps ErrDiskFull or ErrReadOnly.
func (v *Vault) AppendAudit(ctx context.Context, e audit.Event) (_ audit.Event, err error) {
	if v.ro != nil {
		return e, v.ro
	}
	defer func() { err = v.storageErr(err) }()
	if e.Time.IsZero() {
		e.Time = v.now().UTC()
	}
	if e.User == "" {
		e.User = v.user.Email
	}
	if e.Device == "" {
		e.Device = v.device.Device.String()
	}
	// The owner and this device are implied by whose chain it is: they are
	// not stored, so the sealed length does not depend on the e-mail.
	d := e.Details()
	if len(d.Reason) > maxAuditReason {
		// A reason quoting a hostile server's answer or name stays
		// within what the server takes (wire.MaxAuditSealed).
		d.Reason = strings.ToValidUTF8(d.Reason[:maxAuditReason], "") + "…"
	}
	if d.User == v.user.Email {
		d.User = ""
	}
	if d.Device == v.device.Device.String() {
		d.Device = ""
	}
	sealed, err := v.seal.sealJSON(auditAD(e.Time, e.Action, e.Outcome), d)
	if err != nil {
		return e, err
	}
	base, err := v.auditBase(ctx)
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
		} else if base != nil {
			prev = &audit.Entry{Seq: base.Seq, Hash: base.Hash}
		}
		entry.Link(prev, v.devKey)
		return index.AuditRow{Seq: entry.Seq, At: entry.Time, Action: string(entry.Action), Outcome: string(entry.Outcome),
			Sealed: entry.Sealed, Prev: entry.Prev[:], Hash: entry.Hash[:], Signer: entry.Signer, Sig: entry.Sig}, nil
	})
	e.Seq = row.Seq
	if err != nil {
		return e, err
	}
	var hash [32]byte
	copy(hash[:], row.Hash)
	if err := v.recordAuditHead(row.Seq, hash); err != nil {
		return e, fmt.Errorf("audit entry %d is stored, but the checkpoint could not follow it: %w", row.Seq, err)
	}
	return e, nil
}

// maxAuditReason bounds an audit entry's reason, in bytes.
const maxAuditReason = 4 << 10

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
	base, err := v.auditBase(ctx)
	if err != nil {
		log.Breaks = append(log.Breaks, audit.Break{Position: 1, Kind: audit.Edited, Detail: err.Error()})
	}
	if base != nil && (len(entries) == 0 || entries[0].Action != audit.Rebuild) {
		log.Breaks = append(log.Breaks, audit.Break{Position: 1, Kind: audit.Deleted,
			Detail: fmt.Sprintf("the trail continues after entry %d, but its first entry is not the record of a rebuild", base.Seq)})
	}
	log.Breaks = append(log.Breaks, audit.VerifyFrom(entries, base, v.trust.allowsAudit)...)
	log.Breaks = append(log.Breaks, v.checkpointBreaks(entries)...)
	for i, e := range entries {
		ev := audit.Event{Seq: e.Seq, Time: e.Time, Action: e.Action, Outcome: e.Outcome}
		var d audit.Details
		if err := v.seal.openJSON(auditAD(e.Time, e.Action, e.Outcome), e.Sealed, &d); err != nil {
			log.Breaks = append(log.Breaks, audit.Break{Position: i + 1, Seq: e.Seq, Kind: audit.Edited, Detail: "sealed details do not open"})
			continue
		}
		if d.User == "" {
			d.User = v.user.Email
		}
		if d.Device == "" {
			d.Device = v.device.Device.String()
		}
		log.Events = append(log.Events, ev.WithDetails(d))
	}
	sort.SliceStable(log.Breaks, func(i, j int) bool { return log.Breaks[i].Position < log.Breaks[j].Position })
	return log, nil
}

// LastAuditTime returns the newest time recorded in the audit trail since
// the server last vouched for the time (the whole trail if it never did):
// the highest time this device has seen that the server has not
// contradicted since (see TrustedNow).
func (v *Vault) LastAuditTime(ctx context.Context) (time.Time, error) {
	var after int64
	if c, err := v.readCheckpoint(); err == nil && c.ServerTime > 0 {
		after = c.ServerAudit
	}
	return v.idx.LastAuditTimeAfter(ctx, after)
}

// checkpointBreaks compares the chain with the signed checkpoint, which no
// edit of the index reaches: the entry it names must be there, unchanged.
// (Open already refused a chain that ends before it.)
func (v *Vault) checkpointBreaks(entries []audit.Entry) []audit.Break {
	c, err := v.readCheckpoint()
	if err != nil {
		return []audit.Break{{Position: len(entries) + 1, Kind: audit.Edited, Detail: "the signed checkpoint cannot be read: " + err.Error()}}
	}
	if c.AuditSeq == 0 {
		return nil
	}
	for i, e := range entries {
		if e.Seq != c.AuditSeq {
			continue
		}
		if e.Hash != c.AuditHash {
			return []audit.Break{{Position: i + 1, Seq: e.Seq, Kind: audit.Edited, Detail: "differs from the entry the signed checkpoint names"}}
		}
		return nil
	}
	return []audit.Break{{Position: len(entries) + 1, Seq: c.AuditSeq, Kind: audit.Deleted,
		Detail: fmt.Sprintf("entry %d, which the signed checkpoint names, is not in the trail", c.AuditSeq)}}
}

// metaAuditBase is the index meta key holding, after a rebuild that could
// not keep the old trail, the signed checkpoint the new trail continues
// from.
const metaAuditBase = "audit_base"

// auditBase returns where this index's audit chain begins: nil for entry 1,
// or the link a rebuilt index's chain continues from, proven by the signed
// checkpoint kept in meta.
func (v *Vault) auditBase(ctx context.Context) (*audit.Anchor, error) {
	msg, err := v.idx.GetMeta(ctx, metaAuditBase)
	if errors.Is(err, index.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	text, err := v.openNote(msg)
	if err != nil {
		return nil, fmt.Errorf("the start of the audit trail is not signed by this device: %w", ErrTampered)
	}
	c, err := parseCheckpoint(text)
	if err != nil || c.Vault != v.cfg.Vault || c.Device != v.device.Device {
		return nil, fmt.Errorf("the start of the audit trail is not a checkpoint of this vault: %w", ErrTampered)
	}
	return &audit.Anchor{Seq: c.AuditSeq, Hash: c.AuditHash}, nil
}
