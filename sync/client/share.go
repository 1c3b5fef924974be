package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

// Sharing folders between people (docs/sync-protocol.md, "Folders,
// sharing and guests"): the entries that say who may read a folder, and
// the keyring wraps that let them.

// appendEntry signs an entry of this vault's user, appends it to the org
// log and fetches the log back. An entry identical to one in the log
// (the same change twice within a second) is made again a second later.
func (s *Syncer) appendEntry(ctx context.Context, e *orglog.Entry) error {
	e.Org = s.v.Org().Org
	e.Time = s.serverNow().UTC().Truncate(time.Second)
	for try := 0; ; try++ {
		raw, err := s.v.SignUserEntry(e)
		if err != nil {
			return err
		}
		_, err = s.conn.JSON(ctx, "POST", "/v1/log", nil, wire.LogAppend{Entry: raw}, nil)
		if err != nil && try == 0 && IsCode(err, wire.CodeRejected) && strings.Contains(err.Error(), "same entry") {
			e.Time = e.Time.Add(time.Second)
			continue
		}
		if err != nil {
			var se *ServerError
			if !errors.As(err, &se) || se.Status >= 500 {
				// No answer (the server died, the line dropped) or a
				// failure past it (a proxy's 502): it may have taken the
				// entry all the same; the log says.
				if lerr := s.syncLog(ctx); lerr == nil {
					if st := s.v.OrgState(); st != nil && st.Holds(raw) {
						return nil
					}
				}
			}
			return fmt.Errorf("the server did not take the %s entry: %w", e.Kind, err)
		}
		return s.syncLog(ctx)
	}
}

// registerFolders appends a folder entry for every folder this vault
// holds that the log does not know: made here, not yet pushed. The server
// makes a folder's space from it.
func (s *Syncer) registerFolders(ctx context.Context) error {
	held, err := s.v.HeldFolders(ctx)
	if err != nil {
		return err
	}
	for _, f := range held {
		if st := s.v.OrgState(); st == nil || st.Folders[f] == nil {
			if err := s.appendEntry(ctx, &orglog.Entry{Kind: orglog.Folder, Folder: f, Email: s.v.Owner().Email}); err != nil {
				return err
			}
		}
		if err := s.commitFirstEpoch(ctx, f); err != nil {
			return err
		}
		if err := s.anchorFolder(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

// anchorFolder appends, for a folder this user owns that the log has not
// anchored, the entry committing to its folder object as made (revision
// 0): members added after the device that made it is revoked (a lost
// laptop) can still take it. Folders registered before anchors existed are
// anchored by the first device of their owner that still holds revision 0.
func (s *Syncer) anchorFolder(ctx context.Context, folder object.ID) error {
	st := s.v.OrgState()
	me := s.v.Owner().Email
	if st == nil || st.Folders[folder] == nil || st.Folders[folder].Owner != me || st.Folders[folder].Anchor != nil {
		return nil
	}
	s.mu.Lock()
	skip := s.unanchorable[folder]
	s.mu.Unlock()
	if skip {
		return nil
	}
	sum, err := s.v.FolderAnchor(ctx, folder)
	if errors.Is(err, vault.ErrNotFound) {
		// A later revision is held: nothing to anchor, now or at the
		// next sync (revisions only go up).
		s.mu.Lock()
		s.unanchorable[folder] = true
		s.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	err = s.appendEntry(ctx, &orglog.Entry{Kind: orglog.Anchor, Folder: folder, Email: me, Commit: sum})
	if err != nil && IsCode(err, wire.CodeRejected) && strings.Contains(err.Error(), "anchored already") {
		return s.syncLog(ctx) // another device of this user's anchored it first
	}
	return err
}

// commitFirstEpoch appends, for a folder this user owns whose log has no
// epoch yet, the entry committing to epoch 1, the key made with the
// folder: from then on nobody can pass another key off as epoch 1 (a
// manager, to a member-to-be), and managers' wraps of it are taken.
func (s *Syncer) commitFirstEpoch(ctx context.Context, folder object.ID) error {
	st := s.v.OrgState()
	me := s.v.Owner().Email
	if st == nil || st.Folders[folder] == nil || st.Folders[folder].Owner != me || st.Folders[folder].LastEpoch > 0 {
		return nil
	}
	c, err := s.v.EpochCommitment(ctx, folder, 1)
	if err != nil {
		return err
	}
	err = s.appendEntry(ctx, &orglog.Entry{Kind: orglog.Epoch, Folder: folder, Epoch: 1, Commit: c, By: me})
	if epochTaken(err) {
		return s.syncLog(ctx) // another device of this user's committed it first
	}
	return err
}

// ensureWraps makes sure, for every folder this vault's user may share,
// that every current reader has a keyring wrap of every epoch, uploading
// the missing ones. It runs when the log or the held keys changed since
// it last ran (force: always).
func (s *Syncer) ensureWraps(ctx context.Context, force bool) error {
	st := s.v.OrgState()
	if st == nil {
		return nil
	}
	held, err := s.v.HeldFolders(ctx)
	if err != nil {
		return err
	}
	me := s.v.Owner().Email
	now := s.serverNow()
	for _, f := range held {
		if !st.MayShare(me, f) {
			continue
		}
		var readers []string
		for _, r := range st.FolderMembers(f, now) {
			if r != me {
				readers = append(readers, r)
			}
		}
		epochs, err := s.v.FolderEpochs(ctx, f)
		if err != nil {
			return err
		}
		mark := fmt.Sprintf("%d/%d/%s", st.Size, len(epochs), strings.Join(readers, ","))
		s.mu.Lock()
		same := s.wrapped[f] == mark
		s.mu.Unlock()
		if same && !force {
			continue
		}
		if err := s.wrapFolder(ctx, f, readers); err != nil {
			return err
		}
		s.mu.Lock()
		s.wrapped[f] = mark
		s.mu.Unlock()
	}
	return nil
}

// wrapFolder uploads the wraps of folder that readers lack.
func (s *Syncer) wrapFolder(ctx context.Context, folder object.ID, readers []string) error {
	wraps, err := s.v.WrapsFor(ctx, folder, readers)
	if err != nil || len(wraps) == 0 {
		return err
	}
	have := make([]bool, 0, len(wraps))
	for i := 0; i < len(wraps); i += wire.MaxHasRefs {
		part := wraps[i:min(i+wire.MaxHasRefs, len(wraps))]
		h := wire.Has{Folder: wire.HexID(folder)}
		for _, w := range part {
			h.Refs = append(h.Refs, wire.Ref{Kind: object.KindKeyring, ID: wire.HexID(w.ID)})
		}
		var reply wire.HasReply
		if _, err := s.conn.JSON(ctx, "POST", "/v1/objects/has", nil, h, &reply); err != nil {
			return err
		}
		if len(reply.Have) != len(part) {
			return errors.New("the server answered a has request with the wrong number of answers")
		}
		have = append(have, reply.Have...)
	}
	st := s.v.OrgState()
	for i, w := range wraps {
		if have[i] {
			continue
		}
		if u := st.Users[w.Email]; u != nil && u.Role == policy.Guest {
			if restricted, err := s.v.FolderRestricted(ctx, folder); err != nil {
				return err
			} else if restricted {
				s.refuseGuest(ctx, folder, w.Email)
				continue
			}
		}
		data, err := s.v.SealWrap(ctx, w)
		if err != nil {
			return err
		}
		h := http.Header{}
		h.Set(wire.HeaderFolder, folder.String())
		_, err = s.conn.Do(ctx, Request{Method: "PUT", Path: "/v1/objects/keyring/" + w.ID.String(), Body: data, Header: h})
		if err != nil && !IsCode(err, wire.CodeConflict) { // another device made it meanwhile
			return fmt.Errorf("upload the folder key for %s: %w", w.Email, err)
		}
	}
	return nil
}

// refuseGuest audits, once per run, that a restricted folder's key was
// not given to a guest the log grants it to.
func (s *Syncer) refuseGuest(ctx context.Context, folder object.ID, email string) {
	key := folder.String() + "/" + email
	s.mu.Lock()
	done := s.refused[key]
	s.refused[key] = true
	s.mu.Unlock()
	if done {
		return
	}
	_, _ = s.v.AppendAudit(ctx, audit.Event{Action: audit.Share, Outcome: audit.Blocked, Folder: folder.String(),
		Reason: "the folder is restricted: its key is not given to the guest " + email})
}

// Member is a person who may read a folder, as the org log says.
type Member struct {
	Email   string    `json:"email"`
	Name    string    `json:"name"`
	Role    string    `json:"role"`             // owner, editor, viewer or guest
	Expires time.Time `json:"expires,omitzero"` // a guest's grant end
	// Refused says why the folder's key is not given to a member the log
	// names ("" when it is): a guest granted a restricted folder.
	Refused string `json:"refused,omitempty"`
}

// Members lists who may read a folder now: its owner, members and guests.
func (s *Syncer) Members(ctx context.Context, folder object.ID) ([]Member, error) {
	if err := s.syncLog(ctx); err != nil {
		return nil, err
	}
	return MembersOf(s.v.OrgState(), folder, s.serverNow())
}

// MembersOf lists a folder's readers in a verified log state at now.
func MembersOf(st *orglog.State, folder object.ID, now time.Time) ([]Member, error) {
	if st == nil || st.Folders[folder] == nil {
		return nil, errors.New("the organisation's log does not know this folder yet: sync first")
	}
	var out []Member
	for _, email := range st.FolderMembers(folder, now) {
		m := Member{Email: email, Role: st.FolderRole(email, folder, now)}
		if u := st.Users[email]; u != nil {
			m.Name = u.Name
		}
		if m.Role == "guest" {
			m.Expires = st.Grants[email].Expires
		}
		out = append(out, m)
	}
	return out, nil
}

// Share gives email the folder with role (orglog.Viewer or Editor), or
// changes their role: the share entry, then — for a role change — a new
// key epoch, and the wraps.
func (s *Syncer) Share(ctx context.Context, folder object.ID, email, role string) error {
	if role != orglog.Viewer && role != orglog.Editor {
		return fmt.Errorf("role %q: want viewer or editor", role)
	}
	if err := s.prepareShare(ctx, folder, email); err != nil {
		return err
	}
	st := s.v.OrgState()
	before := st.Folders[folder].Members[email]
	if before == role {
		return s.ensureWraps(ctx, true) // nothing to change; wraps made if missing
	}
	if before != "" {
		if err := s.markRotation(ctx, folder, true); err != nil {
			return err
		}
	}
	if err := s.appendEntry(ctx, &orglog.Entry{Kind: orglog.Share, Folder: folder, Email: email, Role: role, By: s.v.Owner().Email}); err != nil {
		return err
	}
	if before != "" {
		if err := s.rotate(ctx, folder); err != nil {
			return err
		}
	}
	if err := s.ensureWraps(ctx, true); err != nil {
		return err
	}
	_, err := s.v.AppendAudit(ctx, audit.Event{Action: audit.Share, Outcome: audit.OK, Folder: folder.String(),
		Reason: fmt.Sprintf("shared with %s as %s", email, role)})
	return err
}

// Unshare takes email off the folder: the unshare entry (the server stops
// serving them the folder at once), then a new key epoch wrapped to the
// readers who remain, so nothing written from now on is readable with a
// key they had.
func (s *Syncer) Unshare(ctx context.Context, folder object.ID, email string) error {
	if err := s.prepareShare(ctx, folder, email); err != nil {
		return err
	}
	if s.v.OrgState().Folders[folder].Members[email] == "" {
		return fmt.Errorf("%s is not a member of this folder", email)
	}
	// The rotation is owed from before the entry: if this stops between
	// the two, the next sync rotates.
	if err := s.markRotation(ctx, folder, true); err != nil {
		return err
	}
	if err := s.appendEntry(ctx, &orglog.Entry{Kind: orglog.Unshare, Folder: folder, Email: email, By: s.v.Owner().Email}); err != nil {
		return err
	}
	if err := s.rotate(ctx, folder); err != nil {
		return err
	}
	if err := s.ensureWraps(ctx, true); err != nil {
		return err
	}
	_, err := s.v.AppendAudit(ctx, audit.Event{Action: audit.Share, Outcome: audit.OK, Folder: folder.String(),
		Reason: "taken off the folder: " + email})
	return err
}

// prepareShare syncs, registers the folder and checks the change is this
// user's to make, for a clear message before anything is signed.
func (s *Syncer) prepareShare(ctx context.Context, folder object.ID, email string) error {
	if err := s.syncLog(ctx); err != nil {
		return err
	}
	if err := s.registerFolders(ctx); err != nil {
		return err
	}
	st := s.v.OrgState()
	me := s.v.Owner().Email
	u := st.Users[email]
	switch {
	case !st.MayShare(me, folder):
		return fmt.Errorf("%w: only the folder's owner, or a manager among its members, shares it", ErrNotAllowed)
	case u == nil:
		return fmt.Errorf("%s is not a member of the organisation: ask your admin to invite them", email)
	case u.Role == policy.Guest:
		return fmt.Errorf("%s is a guest: guests get folders from the admin ('cofferd admin guest')", email)
	case email == st.Folders[folder].Owner:
		return fmt.Errorf("%s owns this folder", email)
	}
	return nil
}

// ErrNotAllowed is wrapped when the log does not let this user make a
// change.
var ErrNotAllowed = errors.New("not allowed")

// epochTaken reports whether the log refused an epoch entry because
// another one took its number first (orglog's rule 14).
func epochTaken(err error) bool {
	return IsCode(err, wire.CodeRejected) && strings.Contains(err.Error(), "does not follow")
}

// maxRotateTries bounds how often a rotation is made again because
// another one (another device of the owner's, a manager's) took the epoch
// number first.
const maxRotateTries = 5

// rotate gives the folder's key a new epoch — its epoch entry appended to
// the log first, so that the log serialises rotations and binds each epoch
// to one key — then keeps and pushes its keyring and clears the rotation
// owed. When another rotation took the epoch first, it makes the next one:
// a rotation always begins an epoch after everything the log held when it
// was asked for (after an unshare, say), never one that may predate it. If
// it stops between the entry and keeping the key, the epoch stays without
// a key (nobody writes under it) and the owed rotation makes the next.
func (s *Syncer) rotate(ctx context.Context, folder object.ID) error {
	if err := s.commitFirstEpoch(ctx, folder); err != nil {
		return err
	}
	for try := 1; ; try++ {
		ne, err := s.v.MakeEpoch(ctx, folder)
		if err != nil {
			return err
		}
		err = s.appendEntry(ctx, &orglog.Entry{Kind: orglog.Epoch, Folder: folder, Epoch: int64(ne.Epoch), Commit: ne.Commit, By: s.v.Owner().Email})
		if err != nil && try < maxRotateTries && (epochTaken(err) || IsCode(err, wire.CodeConflict)) {
			if err := s.syncLog(ctx); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if err := s.v.AdoptEpoch(ctx, ne); err != nil {
			return err
		}
		break
	}
	if _, err := s.Push(ctx); err != nil {
		return err
	}
	return s.markRotation(ctx, folder, false)
}

// rotateForLeavers gives a folder a new key epoch when someone who read
// it since its newest epoch began no longer does (orglog.State.Leavers)
// without an unshare having rotated it: a guest's grant ended or was
// narrowed, a member became a guest, every device of a person was
// revoked or ordered wiped. Any device of the folder's owner or of a
// manager among its members does it, whichever syncs first (the log
// serialises their epochs; who comes second finds nobody left to rotate
// for); a rotation owed is marked first, so a crash between the two
// rotates at the next sync.
func (s *Syncer) rotateForLeavers(ctx context.Context) error {
	st := s.v.OrgState()
	if st == nil {
		return nil
	}
	held, err := s.v.HeldFolders(ctx)
	if err != nil {
		return err
	}
	me := s.v.Owner().Email
	var errs []error
	for _, f := range held {
		if !st.MayShare(me, f) {
			continue
		}
		left := st.Leavers(f, s.serverNow())
		if len(left) == 0 {
			continue
		}
		if err := s.markRotation(ctx, f, true); err != nil {
			return err
		}
		if err := s.rotate(ctx, f); err != nil {
			// Owed: tried again at the next sync; the other folders go on.
			errs = append(errs, err)
			continue
		}
		if err := s.ensureWraps(ctx, true); err != nil {
			return err
		}
		if _, err := s.v.AppendAudit(ctx, audit.Event{Action: audit.Share, Outcome: audit.OK, Folder: f.String(),
			Reason: "no longer a reader, so the key was rotated: " + strings.Join(left, ", ")}); err != nil {
			return err
		}
		st = s.v.OrgState()
	}
	return joinErrors(errs...)
}

// markRotation records (or clears) that a folder's key must rotate.
func (s *Syncer) markRotation(ctx context.Context, folder object.ID, owed bool) error {
	cur, err := s.v.SyncMeta(ctx, "rotate")
	if err != nil {
		return err
	}
	var keep []string
	for _, f := range strings.Fields(cur) {
		if f != folder.String() {
			keep = append(keep, f)
		}
	}
	if owed {
		keep = append(keep, folder.String())
	}
	return s.v.SetSyncMeta(ctx, "rotate", strings.Join(keep, " "))
}

// owedRotations carries out rotations a share or unshare began and did
// not finish (it stopped between its entry and the new key).
func (s *Syncer) owedRotations(ctx context.Context) error {
	cur, err := s.v.SyncMeta(ctx, "rotate")
	if err != nil || cur == "" {
		return err
	}
	var errs []error
	for _, f := range strings.Fields(cur) {
		id, err := object.ParseID(f)
		if err != nil {
			continue
		}
		if st := s.v.OrgState(); st == nil || !st.MayShare(s.v.Owner().Email, id) {
			if err := s.markRotation(ctx, id, false); err != nil {
				return err
			}
			continue
		}
		if err := s.rotate(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("folder %s: %w", id.String()[:12], err))
		}
	}
	return joinErrors(append(errs, s.ensureWraps(ctx, true))...)
}

// Directory lists the organisation's people a folder can be shared with
// (members of the log who are not guests), for pickers.
func Directory(st *orglog.State) []Member {
	var out []Member
	for email, u := range st.Users {
		if u.Role != policy.Guest {
			out = append(out, Member{Email: email, Name: u.Name, Role: string(u.Role)})
		}
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Email, b.Email) })
	return out
}

// dropUnreadable destroys the folders the log no longer lets this user
// read and reports them.
func (s *Syncer) dropUnreadable(ctx context.Context) error {
	dropped, err := s.v.DropUnreadable(ctx)
	if err != nil {
		return err
	}
	if len(dropped) > 0 {
		s.mu.Lock()
		s.dropped = append(s.dropped, dropped...)
		s.mu.Unlock()
	}
	return nil
}

// Dropped returns and forgets the folders destroyed on this device because
// the log no longer lets its user read them.
func (s *Syncer) Dropped() []vault.Dropped {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dropped
	s.dropped = nil
	return d
}

// joinedErrors is errors.Join's result, printed on one line ("; "
// between them): messages reach a terminal and a log line whole.
type joinedErrors []error

func (e joinedErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e joinedErrors) Unwrap() []error { return e }

// joinErrors returns the errors that are not nil, joined (nil if none).
func joinErrors(errs ...error) error {
	var out joinedErrors
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	return out
}
