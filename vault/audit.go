package vault

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/vault/index"
)

// AppendAudit records an event in the local audit log. The identifying part
// is sealed: the log of a locked vault shows only times, actions and
// outcomes.
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
	// The seal is bound to the time and action columns so a sealed payload
	// cannot be moved to another row.
	ad := "audit:" + strconv.FormatInt(e.Time.UnixNano(), 10) + ":" + string(e.Action) + ":" + string(e.Outcome)
	sealed, err := v.seal.sealJSON(ad, e.Details())
	if err != nil {
		return e, err
	}
	seq, err := v.idx.AppendAudit(ctx, index.AuditRow{At: e.Time, Action: string(e.Action), Outcome: string(e.Outcome), Sealed: sealed})
	e.Seq = seq
	return e, err
}

// AuditEvents returns the local audit log, oldest first.
func (v *Vault) AuditEvents(ctx context.Context) ([]audit.Event, error) {
	rows, err := v.idx.Audit(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]audit.Event, 0, len(rows))
	for _, r := range rows {
		e := audit.Event{Seq: r.Seq, Time: r.At, Action: audit.Action(r.Action), Outcome: audit.Outcome(r.Outcome)}
		ad := "audit:" + strconv.FormatInt(r.At.UnixNano(), 10) + ":" + r.Action + ":" + r.Outcome
		var d audit.Details
		if err := v.seal.openJSON(ad, r.Sealed, &d); err != nil {
			return nil, fmt.Errorf("audit entry %d: %w", r.Seq, err)
		}
		out = append(out, e.WithDetails(d))
	}
	return out, nil
}
