package client

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"time"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

// The organisation's audit trail, for compliance and risk
// (docs/sync-protocol.md, "Audit for compliance").

// auditRecipients returns the age recipients of the organisation's
// compliance and risk users, as the verified log certifies them.
func (s *Syncer) auditRecipients() []age.Recipient {
	st := s.v.OrgState()
	if st == nil {
		return nil
	}
	emails := make([]string, 0, len(st.Users))
	for email, u := range st.Users {
		if u.Role == policy.Compliance || u.Role == policy.Risk {
			emails = append(emails, email)
		}
	}
	sort.Strings(emails)
	var out []age.Recipient
	for _, e := range emails {
		if r, err := age.ParseHybridRecipient(st.Users[e].Recipient); err == nil {
			out = append(out, r)
		}
	}
	return out
}

// RefreshLog brings the vault's copy of the organisation's log up to date
// with the server, verified.
func (s *Syncer) RefreshLog(ctx context.Context) error { return s.syncLog(ctx) }

// OrgAuditPage is a page of the organisation's audit trail.
type OrgAuditPage struct {
	Events []audit.Event
	Next   int64 // the cursor to ask after
	// Problems are batches whose entries or details did not verify: the
	// entries are shown as the chain has them, the problem beside.
	Problems []string
}

// OrgAudit reads the organisation's audit trail after cursor, waiting up
// to wait for the first batch. Each batch's entries are checked against
// the signing device's key from the log; its details, signed by the same
// device, are opened with this user's key. Entries whose details this
// user cannot read (sent before they held the role) show action and
// outcome only.
func (s *Syncer) OrgAudit(ctx context.Context, after int64, wait time.Duration) (*OrgAuditPage, error) {
	q := url.Values{"after": {strconv.FormatInt(after, 10)}, "wait": {strconv.Itoa(int(wait / time.Second))}}
	var page wire.OrgAudit
	if _, err := s.conn.JSON(ctx, "GET", "/v1/audit/org", q, nil, &page); err != nil {
		return nil, err
	}
	st := s.v.OrgState()
	out := &OrgAuditPage{Next: max(page.Next, after)}
	for _, b := range page.Batches {
		dev := st.Devices[object.ID(b.Device)]
		if dev == nil {
			if err := s.syncLog(ctx); err != nil {
				return nil, err
			}
			st = s.v.OrgState()
			dev = st.Devices[object.ID(b.Device)]
		}
		if dev == nil {
			out.Problems = append(out.Problems, fmt.Sprintf("batch %d: from device %s, which the organisation's log does not know", b.ID, object.ID(b.Device).String()[:12]))
			continue
		}
		var details map[int64]audit.Event
		sealed := false
		if len(b.Details) > 0 {
			evs, err := s.v.OpenAuditDetails(b.Details, b.DetailsSig, dev.Key)
			switch {
			case errors.Is(err, vault.ErrNotAddressed):
				sealed = true
			case err != nil:
				out.Problems = append(out.Problems, fmt.Sprintf("batch %d from %s: %v", b.ID, dev.Name, err))
			default:
				details = map[int64]audit.Event{}
				for _, e := range evs {
					details[e.Seq] = e
				}
			}
		}
		for _, e := range b.Entries {
			ev := audit.Event{Seq: e.Seq, Time: time.Unix(0, e.At).UTC(), Action: audit.Action(e.Action), Outcome: audit.Outcome(e.Outcome),
				User: dev.Email, Device: dev.ID.String()}
			if !verifyEntry(e, dev.Key) {
				out.Problems = append(out.Problems, fmt.Sprintf("batch %d: entry %d of %s is not signed by it", b.ID, e.Seq, dev.Name))
				continue
			}
			if d, ok := details[e.Seq]; ok {
				if d.Action != ev.Action || d.Outcome != ev.Outcome || !d.Time.Equal(ev.Time) {
					out.Problems = append(out.Problems, fmt.Sprintf("batch %d: the details of entry %d of %s disagree with the entry", b.ID, e.Seq, dev.Name))
				} else {
					ev = d
					ev.User, ev.Device = dev.Email, dev.ID.String()
				}
			}
			ev.DeviceName, ev.IP = dev.Name, b.IP
			if _, ok := details[e.Seq]; !ok && sealed {
				ev.DetailsSealed = true
			}
			out.Events = append(out.Events, ev)
		}
	}
	return out, nil
}

// verifyEntry checks an audit entry's hash and its signature by key.
func verifyEntry(e wire.AuditEntry, key ed25519.PublicKey) bool {
	entry := audit.Entry{Seq: e.Seq, Time: time.Unix(0, e.At), Action: audit.Action(e.Action), Outcome: audit.Outcome(e.Outcome),
		Sealed: e.Sealed, Signer: key, Sig: e.Sig}
	if len(e.Prev) != 32 || len(e.Hash) != 32 {
		return false
	}
	copy(entry.Prev[:], e.Prev)
	copy(entry.Hash[:], e.Hash)
	return entry.ComputeHash() == entry.Hash && ed25519.Verify(key, e.Hash, e.Sig)
}
