package app

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

// An enrolled vault obeys its organisation (docs/sync-protocol.md,
// "Policy" and "Folders, sharing and guests"): roles, grants and the
// policy come from the org log this device verified, never from a file
// on disk the user could edit; folder roles decide who writes.

// orgDefault is the policy of an organisation whose admin has issued none.
func orgDefault() *policy.Document {
	return &policy.Document{V: 1, Serial: 1, MaxUnlockFailures: 10, IdleLockMinutes: 15}
}

// loadOrgPolicy puts the newest policy of the verified log in force (the
// organisation's default before the admin issued one). A policy of a
// newer format than this Coffer reads refuses the vault: obeying an older
// policy instead would be the unsafe choice.
func (a *App) loadOrgPolicy(ctx context.Context) error {
	doc := orgDefault()
	if st := a.v.OrgState(); st != nil && st.Policy != nil {
		d, err := policy.ParseDocument(st.Policy.Document)
		if errors.Is(err, policy.ErrNewerFormat) {
			return fmt.Errorf("%w: update Coffer: the organisation's policy (serial %d) is of a newer format than this version reads", ErrUpdate, st.Policy.Serial)
		}
		if err != nil {
			return err
		}
		doc = d
	}
	if cur := a.policyDoc(); cur != nil && cur.Serial == doc.Serial && cur.Issued.Equal(doc.Issued) {
		return nil
	}
	applied, err := a.v.AppliedPolicySerial()
	if err != nil {
		return err
	}
	if doc.Serial < applied {
		// A newer policy was in force here: a log (or a guest's view)
		// without it is a rollback, not a policy.
		return fmt.Errorf("%w: the organisation's log offers policy serial %d, older than serial %d already in force on this device",
			vault.ErrOrgLog, doc.Serial, applied)
	}
	if doc.Serial > applied {
		if err := a.mustRecord(ctx, audit.Event{Action: audit.PolicyChange, Outcome: audit.OK, Version: int(doc.Serial),
			Reason: fmt.Sprintf("the organisation's policy serial %d in force", doc.Serial)}); err != nil {
			return err
		}
		if err := a.v.MarkPolicyApplied(doc.Serial); err != nil {
			return err
		}
	}
	a.doc.Store(doc)
	_ = a.v.SetMaxFailures(doc.MaxUnlockFailures)
	return nil
}

// ErrUpdate is wrapped when this Coffer is too old for what the
// organisation sends.
var ErrUpdate = errors.New("this version of Coffer is too old")

// orgSubject is the user of an enrolled vault as policy sees them: their
// role and guest grants from the log, judged at the trusted time.
func (a *App) orgSubject() policy.Subject {
	s := policy.Subject{Now: a.v.TrustedNow(), ClockSuspect: a.clockSuspect}
	st := a.v.OrgState()
	if st == nil {
		return s // the log is not trusted yet: no role, nothing allowed
	}
	email := a.v.Owner().Email
	if u := st.Users[email]; u != nil {
		s.Role = u.Role
	}
	if g := st.Grants[email]; g != nil {
		for f := range g.Folders {
			s.Grants = append(s.Grants, policy.Grant{Folder: f.String(), Expires: g.Expires, Issued: g.Issued})
		}
	}
	return s
}

// folderRoleDecision refuses, in an enrolled vault, what a user's role in
// a folder does not allow: changing the documents of a folder they only
// view. Zero Decision and false when the folder role allows it.
func (a *App) folderRoleDecision(folder string, action policy.Action) (policy.Decision, bool) {
	if !a.Enrolled() || (action != policy.Import && action != policy.Restore && action != policy.Delete) {
		return policy.Decision{}, false
	}
	st := a.v.OrgState()
	id, err := object.ParseID(folder)
	if st == nil || err != nil || st.Folders[id] == nil {
		return policy.Decision{}, false // not registered yet: made on this device, by its owner
	}
	if st.MayWrite(a.v.Owner().Email, id) {
		return policy.Decision{}, false
	}
	return policy.Decision{Reason: "you may read this folder, not change it: ask its owner to make you an editor",
		Audit: "the user views this folder and may not change it"}, true
}

// decideFor is policy.DecideFor for this vault's user, with the folder
// roles of an organisation.
func (a *App) decideFor(folder string, class policy.Class, action policy.Action) policy.Decision {
	if d, refused := a.folderRoleDecision(folder, action); refused {
		return d
	}
	return policy.DecideFor(a.subject(), folder, class, action)
}

// FolderAccess is what a folder is to this vault's user, for a window
// that shows it and greys out what is not theirs to do.
type FolderAccess struct {
	Role     string    // owner, editor, viewer, guest; "" in a standalone vault
	MayShare bool      // shares, unshares, changes roles
	Expires  time.Time // a guest's grant end
}

// Access returns what a folder is to this vault's user.
func (a *App) Access(f vault.Folder) FolderAccess {
	st := a.v.OrgState()
	if !a.Enrolled() || st == nil {
		return FolderAccess{}
	}
	email := a.v.Owner().Email
	out := FolderAccess{Role: st.FolderRole(email, f.ID, a.v.TrustedNow()), MayShare: st.MayShare(email, f.ID)}
	if st.Folders[f.ID] == nil {
		out.Role, out.MayShare = "owner", a.subject().Role != policy.Guest
	}
	if g := st.Grants[email]; g != nil && out.Role == "guest" {
		out.Expires = g.Expires
	}
	return out
}

// GuestExpiry returns when a guest's access ends (ok false for others).
func (a *App) GuestExpiry() (time.Time, bool) {
	t, _, ok := a.v.GuestExpiry()
	return t, ok
}

// Share gives a person of the organisation a folder, or changes their
// role in it (viewer or editor); a role change rotates the folder's key.
func (a *App) Share(ctx context.Context, folderName, email, role string) error {
	f, s, err := a.shareable(ctx, folderName)
	if err != nil {
		return err
	}
	return s.Share(ctx, f.ID, email, role)
}

// Unshare takes a person off a folder and rotates its key, so that they
// cannot read what is written from now on.
func (a *App) Unshare(ctx context.Context, folderName, email string) error {
	f, s, err := a.shareable(ctx, folderName)
	if err != nil {
		return err
	}
	return s.Unshare(ctx, f.ID, email)
}

func (a *App) shareable(ctx context.Context, folderName string) (vault.Folder, *client.Syncer, error) {
	s, err := a.syncer()
	if err != nil {
		return vault.Folder{}, nil, err
	}
	f, err := a.Folder(ctx, folderName)
	if err != nil {
		return f, nil, err
	}
	if d := policy.DecideFor(a.subject(), f.ID.String(), f.Class, policy.Share); !d.Allowed {
		a.record(ctx, audit.Event{Action: audit.Share, Outcome: audit.Blocked, Folder: f.ID.String(), Reason: d.Recorded()})
		return f, nil, &BlockedError{Action: policy.Share, Reason: d.Reason, Recorded: d.Recorded()}
	}
	return f, s, nil
}

// Members lists who may read a folder: its owner, members and guests
// (never shown to a guest: they see no directory).
func (a *App) Members(ctx context.Context, folderName string) (vault.Folder, []client.Member, error) {
	f, err := a.Folder(ctx, folderName)
	if err != nil {
		return f, nil, err
	}
	if a.subject().Role == policy.Guest {
		return f, nil, &BlockedError{Action: "members", Reason: "guests do not see the organisation's directory"}
	}
	s, err := a.syncer()
	if err != nil {
		return f, nil, err
	}
	ms, err := s.Members(ctx, f.ID)
	for i := range ms {
		if ms[i].Role == string(policy.Guest) && f.Class == policy.Restricted {
			// The admin's grant names it; the owner's device never
			// wraps a restricted folder's key to a guest.
			ms[i].Refused = "restricted folders are never given to guests"
		}
	}
	return f, ms, err
}

// Directory lists the people of the organisation a folder can be shared
// with (not to guests).
func (a *App) Directory() ([]client.Member, error) {
	st := a.v.OrgState()
	if !a.Enrolled() || st == nil {
		return nil, ErrNotEnrolled
	}
	if a.subject().Role == policy.Guest {
		return nil, &BlockedError{Action: "members", Reason: "guests do not see the organisation's directory"}
	}
	return client.Directory(st), nil
}

// admins names the organisation's users of role admin, for messages.
func admins(st *orglog.State) string {
	var out []string
	if st != nil {
		for email, u := range st.Users {
			if u.Role == policy.Admin {
				out = append(out, email)
			}
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "your organisation's admin"
	}
	return fmt.Sprintf("your organisation's admin (%s)", out[0])
}

// ChangeClass moves a folder to another class. Narrowing is the owner's
// (or a manager's among its members) to do; widening, in an
// organisation, also needs the admin: the first call returns the request
// to send them (errors.Is(err, vault.ErrNeedsApproval)), and the same call
// once the approval is in the log does it.
func (a *App) ChangeClass(ctx context.Context, folderName string, class policy.Class) (*vault.ClassRequest, error) {
	f, err := a.Folder(ctx, folderName)
	if err != nil {
		return nil, err
	}
	d := policy.DecideFor(a.subject(), f.ID.String(), f.Class, policy.ChangeClass)
	if st := a.v.OrgState(); d.Allowed && a.Enrolled() && st != nil && st.Folders[f.ID] != nil && !st.MayShare(a.v.Owner().Email, f.ID) {
		d = policy.Decision{Reason: "only the folder's owner, or a manager among its members, changes its class"}
	}
	e := audit.Event{Action: audit.ClassChange, Folder: f.ID.String()}
	if !d.Allowed {
		e.Outcome, e.Reason = audit.Blocked, d.Recorded()
		a.record(ctx, e)
		return nil, &BlockedError{Action: policy.ChangeClass, Reason: d.Reason, Recorded: d.Recorded()}
	}
	if a.Enrolled() {
		if s, err := a.syncer(); err == nil {
			_, _ = s.Sync(ctx) // an approval may be in the log by now
		}
	}
	req, err := a.v.ChangeClass(ctx, folderName, class)
	if errors.Is(err, vault.ErrNeedsApproval) {
		e.Outcome, e.Reason = audit.Blocked, fmt.Sprintf("widening from %s to %s waits for the admin's approval", f.Class, class)
		a.record(ctx, e)
		return req, fmt.Errorf("%w: %s", err, e.Reason)
	}
	if err != nil {
		return nil, err
	}
	e.Outcome, e.Reason = audit.OK, fmt.Sprintf("from %s to %s", f.Class, class)
	if err := a.mustRecord(ctx, e); err != nil {
		return nil, err
	}
	a.KickSync()
	return nil, nil
}
