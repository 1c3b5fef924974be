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
// verify). The devices' entries come in the order the server received
// their batches; the log's are placed among them by time (before the
// first page whose first entry is later), so that memory stays bounded
// however long the trail. With follow it keeps waiting for new entries
// until ctx ends, and hands the log's new entries over as they come.
func (a *App) OrgAudit(ctx context.Context, f OrgAuditFilter, follow bool, emit func(events []audit.Event, problems []string) error) error {
	if err := a.mayReadOrgAudit(ctx); err != nil {
		return err
	}
	s, err := a.syncer()
	if err != nil {
		return err
	}
	a.record(ctx, audit.Event{Action: audit.Action(policy.ReadAudit), Outcome: audit.OK, Reason: "the organisation's audit trail"})
	// Folders this device holds are named (the log has their IDs only).
	names := map[string]string{}
	if fs, err := a.v.Folders(ctx); err == nil {
		for _, fo := range fs {
			names[fo.ID.String()] = fo.Name
		}
	}
	var logNext int64
	var pending []audit.Event // the log's entries not handed over yet, in log order
	readLog := func() error {
		// Through afterSync, as any sync: a wipe ordered for this
		// device is carried out, a new policy loaded.
		if err := a.afterSync(ctx, s.RefreshLog(ctx)); err != nil {
			return err
		}
		entries, err := a.v.OrgEntries(ctx, logNext)
		if err != nil {
			return err
		}
		for _, le := range logEvents(a.v.OrgState(), logNext, entries) {
			le.FolderName = names[le.Folder]
			for _, id := range le.folders {
				if n := names[id.String()]; n != "" {
					le.folderNames = append(le.folderNames, n)
				}
			}
			if le.match(f) {
				pending = append(pending, le.Event)
			}
		}
		logNext += int64(len(entries))
		return nil
	}
	// flush hands over the pending log entries earlier than before (all
	// with the zero time).
	flush := func(before time.Time) error {
		n := 0
		for n < len(pending) && (before.IsZero() || pending[n].Time.Before(before)) {
			n++
		}
		if n == 0 {
			return nil
		}
		out := pending[:n:n]
		pending = pending[n:]
		return emit(out, nil)
	}
	stopped := func(err error) error {
		if follow && ctx.Err() != nil {
			return nil
		}
		return err
	}
	if err := readLog(); err != nil {
		return stopped(err)
	}
	var cursor int64
	for {
		wait := time.Duration(0)
		if follow {
			wait = 25 * time.Second
		}
		page, err := s.OrgAudit(ctx, cursor, wait)
		if err != nil {
			return stopped(err)
		}
		var out []audit.Event
		for _, e := range page.Events {
			if f.match(e) {
				out = append(out, e)
			}
		}
		if len(out) > 0 {
			if err := flush(out[0].Time); err != nil {
				return err
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
			return flush(time.Time{})
		}
		if follow {
			// Live: what the log took since is handed over at once.
			if err := readLog(); err != nil {
				return stopped(err)
			}
			if caughtUp {
				if err := flush(time.Time{}); err != nil {
					return err
				}
			}
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
