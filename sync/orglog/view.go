package orglog

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault/object"
)

// A guest does not see the organisation's directory (docs/sync-protocol.md,
// "Guests' view of the log"): the server serves a guest only the entries it
// needs — the genesis, the policy, its own entries and grants, and for the
// folders it was ever granted, their entries and the people in them — each
// with a proof that it is in the one log every member verifies, and a
// proof that the log grew from what the guest saw before.

// ViewEntry is an entry of a view with its place in the log.
type ViewEntry struct {
	Index int64
	Raw   []byte
	Proof tlog.RecordProof
}

// View is part of the log, proven against a signed checkpoint.
type View struct {
	Checkpoint []byte
	Entries    []ViewEntry // in log order
	// Tree proves the checkpoint's tree extends the one of size From
	// (none when From is 0).
	From int64
	Tree tlog.TreeProof
}

// GuestView returns the indexes of the entries a guest needs, in order:
// the genesis; policies; the guest's invites, user, devices, their
// revocations and wipes, role changes and grants; for every folder a grant
// ever named, its folder, share, unshare, class, epoch and anchor entries; the invites, user,
// device, revoke, wipe and role entries of everyone those name (owner,
// members, who shared); and the invite, user and role entries of the
// compliance and risk officers, whose keys the guest's audit details are
// encrypted to. Applied in order with Apply, they obey the log's rules as
// the whole log does.
func GuestView(entries [][]byte, email string) ([]int64, error) {
	parsed := make([]*Entry, len(entries))
	for i, raw := range entries {
		e, err := Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		parsed[i] = e
	}
	folders := map[object.ID]bool{}
	for _, e := range parsed {
		if e.Kind == Grant && e.Email == email {
			for _, f := range e.Folders {
				folders[f] = true
			}
		}
	}
	people := map[string]bool{email: true}
	// Compliance and risk officers read every device's audit details,
	// the guest's too: their keys must come from the log.
	officers := map[string]bool{}
	for _, e := range parsed {
		if (e.Kind == User || e.Kind == Role) && (e.Role == string(policy.Compliance) || e.Role == string(policy.Risk)) {
			officers[e.Email] = true
		}
	}
	for _, e := range parsed {
		switch {
		case e.Kind == Folder && folders[e.Folder]:
			people[e.Email] = true
		case (e.Kind == Share || e.Kind == Unshare) && folders[e.Folder]:
			people[e.Email], people[e.By] = true, true
		case e.Kind == Epoch && folders[e.Folder]:
			people[e.By] = true
		}
	}
	devices := map[object.ID]bool{}
	var out []int64
	for i, e := range parsed {
		keep := false
		switch e.Kind {
		case Genesis, Policy:
			keep = true
		case Invite, User, Role:
			keep = people[e.Email] || officers[e.Email]
		case Device:
			keep = people[e.Email]
			if keep {
				devices[e.Device] = true
			}
		case Revoke, Wipe:
			keep = devices[e.Device]
		case Folder, Share, Unshare, Class, Epoch, Anchor:
			keep = folders[e.Folder]
		case Grant:
			keep = e.Email == email
		}
		if keep {
			out = append(out, int64(i))
		}
	}
	return out, nil
}

// IsGuest reports whether email is a guest of the log, or invited as one.
func (s *State) IsGuest(email string) bool {
	if u := s.Users[email]; u != nil {
		return u.Role == policy.Guest
	}
	return s.guestInvited(email)
}

// Prove makes the view of the entries at indexes, against a log of size
// entries whose stored hashes are hashes, for a reader that saw the tree
// of size from.
func Prove(checkpoint []byte, entries [][]byte, hashes Hashes, indexes []int64, from int64) (*View, error) {
	size := int64(len(entries))
	v := &View{Checkpoint: checkpoint, From: from}
	for _, i := range indexes {
		p, err := tlog.ProveRecord(size, i, hashes)
		if err != nil {
			return nil, err
		}
		v.Entries = append(v.Entries, ViewEntry{Index: i, Raw: entries[i], Proof: p})
	}
	if from > 0 && from < size {
		p, err := tlog.ProveTree(size, from, hashes)
		if err != nil {
			return nil, err
		}
		v.Tree = p
	}
	return v, nil
}

// Verify checks a view: its checkpoint is signed by server and of org; it
// extends the tree (prevSize, prevHash) a reader verified before (if any);
// every entry is in it at its index. It returns the checkpoint.
func (v *View) Verify(server ed25519.PublicKey, org object.ID, prevSize int64, prevHash tlog.Hash) (Checkpoint, error) {
	cp, err := OpenCheckpoint(v.Checkpoint, server)
	if err != nil {
		return cp, err
	}
	if cp.Org != org {
		return cp, errors.New("the checkpoint is of another organisation")
	}
	if cp.Size < prevSize {
		return cp, fmt.Errorf("the log has %d entries, fewer than the %d seen before: it was rolled back or forked", cp.Size, prevSize)
	}
	if prevSize > 0 && prevSize < cp.Size {
		if v.From != prevSize {
			return cp, fmt.Errorf("the view proves growth from %d entries, not from the %d seen before", v.From, prevSize)
		}
		if err := tlog.CheckTree(v.Tree, cp.Size, cp.Hash, prevSize, prevHash); err != nil {
			return cp, fmt.Errorf("the log does not extend the one seen before (size %d): it was rewritten or forked", prevSize)
		}
	}
	if prevSize == cp.Size && prevSize > 0 && cp.Hash != prevHash {
		return cp, errors.New("the log of the same size has another tree: it was forked")
	}
	last := int64(-1)
	for _, e := range v.Entries {
		if e.Index <= last || e.Index >= cp.Size {
			return cp, fmt.Errorf("view entry %d is out of order or beyond the checkpoint", e.Index)
		}
		last = e.Index
		if err := tlog.CheckRecord(e.Proof, cp.Size, cp.Hash, e.Index, tlog.RecordHash(e.Raw)); err != nil {
			return cp, fmt.Errorf("view entry %d is not in the log the checkpoint signs", e.Index)
		}
	}
	if len(v.Entries) == 0 || v.Entries[0].Index != 0 {
		return cp, errors.New("the view has no genesis entry")
	}
	return cp, nil
}

// ApplyAt applies the entry at index of a view: as Apply, with the
// state's size taken as the entry's index (entries of a view are sparse).
func (s *State) ApplyAt(raw []byte, index int64, now time.Time) (*Entry, error) {
	if index < s.Size {
		return nil, fmt.Errorf("entry %d: %w: out of order", index, ErrRejected)
	}
	saved := s.Size
	s.Size = index
	e, err := s.Apply(raw, now)
	if err != nil {
		s.Size = saved
	}
	return e, err
}

// DeviceView returns the indexes of the entries a device the admin
// ordered wiped needs to verify its order, and no more (such a device may
// be in a thief's hands): the genesis, its user's invites and user
// entries up to its own device entry (not those of the person enrolling
// anew after it was revoked: in this view its device is not revoked, so
// the rules would refuse them), that entry and its wipe.
func DeviceView(entries [][]byte, device object.ID) ([]int64, error) {
	var email string
	at := int64(len(entries))
	parsed := make([]*Entry, len(entries))
	for i, raw := range entries {
		e, err := Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		parsed[i] = e
		if e.Kind == Device && e.Device == device {
			email, at = e.Email, int64(i)
		}
	}
	var out []int64
	for i, e := range parsed {
		switch {
		case e.Kind == Genesis,
			(e.Kind == Invite || e.Kind == User) && e.Email == email && int64(i) < at,
			(e.Kind == Device || e.Kind == Wipe) && e.Device == device:
			out = append(out, int64(i))
		}
	}
	return out, nil
}
