package orglog

import (
	"sort"
	"time"

	"github.com/coffer-vault/coffer/vault/object"
)

// Who reads and who writes a folder, as the log says it over time
// (docs/sync-protocol.md, "Folders, sharing and guests"):
//
//   - A reader is someone FolderRole names (owner, member, guest with a
//     live grant) who is a user of the log and has a device not revoked:
//     a person whose every device was revoked or ordered wiped (who left
//     the firm) reads nothing, and a guest granted folders before she
//     enrolled reads them once her first device is certified.
//   - A folder's audience is everyone who has been a reader since its
//     newest epoch began; who of it no longer reads (Leavers) is why the
//     key must rotate, whoever's device notices first may do it. A reader
//     who enrols anew (their every device revoked: a lost only laptop)
//     leaves their earlier keys in it as a leaver (EarlierKeys): the lost
//     laptop holds the folder's current key, and they read again at once.
//   - A folder's epoch writers are the users who could write it at some
//     time during that epoch; a version under an epoch whose author was
//     not among them, or dated after the author stopped writing, was not
//     written while they could (WroteUnder).

// Reader reports whether email reads folder at now: FolderRole names
// them, and they are a user with a device that is not revoked.
func (s *State) Reader(email string, folder object.ID, now time.Time) bool {
	return s.live[email] > 0 && s.Users[email] != nil && s.FolderRole(email, folder, now) != ""
}

// Leavers lists, sorted, who has read folder since its newest epoch began
// and no longer does at now: while it is not empty, a rotation is owed,
// and nothing new may be written under the folder's current key.
func (s *State) Leavers(folder object.ID, now time.Time) []string {
	f := s.Folders[folder]
	if f == nil {
		return nil
	}
	var out []string
	for email := range f.Audience {
		if !s.Reader(email, folder, now) {
			out = append(out, email)
		}
	}
	sort.Strings(out)
	return out
}

// WroteUnder reports whether a version of folder under epoch, by email and
// dated t (the author's signed time), can have been written while email
// could write it: they are or were its owner or an editor; for an epoch
// the log began, they could write at some time during it; and t is not
// after the entry that took their writing away, if it was taken.
func (s *State) WroteUnder(email string, folder object.ID, epoch int64, t time.Time) bool {
	f := s.Folders[folder]
	if f == nil || !f.Writers[email] {
		return false
	}
	if epoch >= 1 && epoch <= f.LastEpoch && !f.EpochWriters[epoch][email] {
		return false
	}
	if ended, ok := f.WriterEnded[email]; ok && t.After(ended.Add(WriteGrace)) {
		return false
	}
	return true
}

// WriteGrace is how much later than the entry that ended someone's
// writing (or revoked their device) a version of theirs may be dated and
// still be taken: a version's time is its author's clock, an entry's the
// server's as its signer last heard it, to the second; the server takes
// requests from clocks up to a minute off (wire.MaxSkew). Five minutes
// leave room for both without letting a removed writer's later work in.
const WriteGrace = 5 * time.Minute

// track brings the audiences and writers of the folders e may have changed
// up to date, after e was applied. Only an epoch entry recomputes a
// folder's whole audience; every other entry changes one person's place
// (the one it names), so only theirs is looked at: replaying a large
// organisation's log stays linear in its entries.
func (s *State) track(e *Entry) {
	var folders []object.ID
	who := e.Email
	switch e.Kind {
	case Folder, Share, Unshare, Epoch:
		folders = []object.ID{e.Folder}
	case Grant:
		folders = e.Folders
	case User:
		// Enrolled anew: the keys of their revoked devices had the key of
		// every folder they read; it must rotate though they read on.
		if u := s.Users[e.Email]; u != nil && u.Generation > 1 {
			for _, f := range s.Folders {
				if f.Audience[e.Email] {
					f.Audience[EarlierKeys(e.Email)] = true
				}
			}
		}
		return
	case Device, Role:
		// Everything the user owns, is a member of, or is granted.
		for id, f := range s.Folders {
			if f.Owner == e.Email || f.Members[e.Email] != "" {
				folders = append(folders, id)
			}
		}
		if g := s.Grants[e.Email]; g != nil {
			for id := range g.Folders {
				folders = append(folders, id)
			}
		}
	default:
		return
	}
	for _, id := range folders {
		f := s.Folders[id]
		if f == nil {
			continue
		}
		if f.Audience == nil || e.Kind == Epoch {
			f.Audience = map[string]bool{}
		}
		if f.EpochWriters == nil {
			f.EpochWriters = map[int64]map[string]bool{}
		}
		if f.WriterEnded == nil {
			f.WriterEnded = map[string]time.Time{}
		}
		if e.Kind == Epoch {
			for _, r := range s.FolderMembers(id, e.Time) {
				f.Audience[r] = true
			}
			for email := range f.Writers {
				s.trackWriter(f, email, e.Time)
			}
			continue
		}
		if s.Reader(who, id, e.Time) {
			f.Audience[who] = true
		}
		if f.Writers[who] {
			s.trackWriter(f, who, e.Time)
		}
	}
}

// EarlierKeys names, among a folder's leavers, the keys a person held
// before enrolling anew: "erin@acme.test (keys before enrolling anew)".
func EarlierKeys(email string) string { return email + " (keys before enrolling anew)" }

// trackWriter records whether email writes f at t: among the writers of
// its newest epoch if so, with the time their writing ended if not.
func (s *State) trackWriter(f *FolderState, email string, t time.Time) {
	if s.MayWrite(email, f.ID) {
		if f.EpochWriters[f.LastEpoch] == nil {
			f.EpochWriters[f.LastEpoch] = map[string]bool{}
		}
		f.EpochWriters[f.LastEpoch][email] = true
		delete(f.WriterEnded, email)
	} else if _, ok := f.WriterEnded[email]; !ok {
		f.WriterEnded[email] = t
	}
}
