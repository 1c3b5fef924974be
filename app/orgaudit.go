package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/policy"
)

// OrgAuditFilter narrows the organisation's audit trail.
type OrgAuditFilter struct {
	User   string    // an e-mail
	Folder string    // a folder's name or (a prefix of) its ID
	Since  time.Time // entries at or after
}

func (f OrgAuditFilter) match(e audit.Event) bool {
	if f.User != "" && !strings.EqualFold(e.User, f.User) {
		return false
	}
	if f.Folder != "" && e.FolderName != f.Folder && (e.Folder == "" || !strings.HasPrefix(e.Folder, strings.ToLower(f.Folder))) {
		return false
	}
	return f.Since.IsZero() || !e.Time.Before(f.Since)
}

// mayReadOrgAudit refuses everyone but the organisation's compliance and
// risk officers, and records the refusal.
func (a *App) mayReadOrgAudit(ctx context.Context) error {
	if !a.Enrolled() {
		return ErrNotEnrolled
	}
	if r := a.subject().Role; r != policy.Compliance && r != policy.Risk {
		d := policy.Decision{Reason: "the organisation's audit trail is for its compliance and risk officers"}
		a.record(ctx, audit.Event{Action: audit.Action(policy.ReadAudit), Outcome: audit.Blocked, Reason: d.Reason})
		return &BlockedError{Action: policy.ReadAudit, Reason: d.Reason}
	}
	return nil
}

// OrgAudit reads the organisation's log as the admin's and people's
// actions (org-* events: invites, revocations, wipes, grants, roles,
// policy, shares) and every device's audit trail from the server,
// verified and with the details this user may read, and hands emit the
// events that match f, page by page (problems: batches that did not
// verify). With follow it keeps waiting for new entries until ctx ends.
func (a *App) OrgAudit(ctx context.Context, f OrgAuditFilter, follow bool, emit func(events []audit.Event, problems []string) error) error {
	if err := a.mayReadOrgAudit(ctx); err != nil {
		return err
	}
	s, err := a.syncer()
	if err != nil {
		return err
	}
	a.record(ctx, audit.Event{Action: audit.Action(policy.ReadAudit), Outcome: audit.OK, Reason: "the organisation's audit trail"})
	// The log's entries (what the admin and people did to the
	// organisation) come first, then the devices' trails; with follow,
	// new entries of either as they come.
	var logNext int64
	adminTrail := func() error {
		if err := s.RefreshLog(ctx); err != nil {
			return err
		}
		entries, err := a.v.OrgEntries(ctx, logNext)
		if err != nil {
			return err
		}
		// Folders this device holds are named (the log has their IDs only).
		names := map[string]string{}
		if fs, err := a.v.Folders(ctx); err == nil {
			for _, fo := range fs {
				names[fo.ID.String()] = fo.Name
			}
		}
		var out []audit.Event
		for _, le := range logEvents(a.v.OrgState(), logNext, entries) {
			le.FolderName = names[le.Folder]
			if le.match(f) {
				out = append(out, le.Event)
			}
		}
		logNext += int64(len(entries))
		if len(out) == 0 {
			return nil
		}
		return emit(out, nil)
	}
	var cursor int64
	for {
		if err := adminTrail(); err != nil {
			if follow && ctx.Err() != nil {
				return nil
			}
			return err
		}
		wait := time.Duration(0)
		if follow {
			wait = 25 * time.Second
		}
		page, err := s.OrgAudit(ctx, cursor, wait)
		if err != nil {
			if follow && ctx.Err() != nil {
				return nil
			}
			return err
		}
		var out []audit.Event
		for _, e := range page.Events {
			if f.match(e) {
				out = append(out, e)
			}
		}
		if len(out) > 0 || len(page.Problems) > 0 {
			if err := emit(out, page.Problems); err != nil {
				return err
			}
		}
		caughtUp := page.Next == cursor
		cursor = page.Next
		if caughtUp && !follow {
			return nil
		}
	}
}

// OrgTrace resolves a trace code against the organisation's audit trail:
// which device, user and document a watermark photographed anywhere in the
// organisation came from.
func (a *App) OrgTrace(ctx context.Context, code string) (*TraceResult, error) {
	want := audit.NormalizeTraceCode(code)
	if len(want) != 11 {
		return nil, fmt.Errorf("%q is not a trace code (they look like K7Q4M-ZP2XA)", code)
	}
	res := &TraceResult{}
	sealed := 0
	err := a.OrgAudit(ctx, OrgAuditFilter{}, false, func(events []audit.Event, _ []string) error {
		for _, e := range events {
			if e.Trace == want {
				res.Events = append(res.Events, e)
			}
			if e.DetailsSealed {
				sealed++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(res.Events) == 0 && sealed > 0 {
		return nil, fmt.Errorf("%w: %s is not among the entries whose details you can read; the details of %d entries were sealed to the compliance and risk officers of their time, before you were one, and it may be one of them: ask one of those officers (a device that has not synced since may also hold it)", errNoTrace, want, sealed)
	}
	if len(res.Events) == 0 {
		return nil, fmt.Errorf("%w: %s is not in the organisation's audit trail (a device that has not synced since may hold it)", errNoTrace, want)
	}
	return res, nil
}

// FlushAlerts sends this device's audit entries to the server now, if a
// blocked action was recorded since the vault opened: compliance sees
// blocked attempts within seconds even from a one-off command. Offline, it
// gives up after timeout; the entries go with the next sync.
func (a *App) FlushAlerts(ctx context.Context, timeout time.Duration) error {
	if !a.Enrolled() || !a.alerted.Load() || a.wiped.Load() {
		return nil
	}
	s, err := a.syncer()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err = s.PushAudit(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}
