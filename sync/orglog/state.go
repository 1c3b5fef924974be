package orglog

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault/object"
)

// MaxInvite is the longest an invite may stay open.
const MaxInvite = 90 * 24 * time.Hour

// ErrRejected is wrapped by every error Apply returns for an entry that
// breaks a rule of the log.
var ErrRejected = errors.New("org log entry breaks the rules")

// InviteState is an invite the log holds.
type InviteState struct {
	Email   string
	Role    policy.Role
	Key     ed25519.PublicKey
	Issued  time.Time
	Expires time.Time
	Used    bool
	Entry   int64 // its index in the log
}

// UserState is an enrolled user.
type UserState struct {
	Email     string
	Name      string
	Role      policy.Role
	Key       ed25519.PublicKey
	Recipient string
	// Generation counts the user entries of this e-mail: 1, then one
	// more each time the person enrols anew after every device of theirs
	// was revoked (a lost only laptop), with new keys.
	Generation int
}

// DeviceState is a certified device.
type DeviceState struct {
	ID        object.ID
	Email     string
	Name      string
	Key       ed25519.PublicKey
	Transport ed25519.PublicKey
	Revoked   bool
	RevokedAt time.Time // the time of the entry that revoked it (or ordered it wiped)
	// RevokedEntry is that entry's index in the log (0 while not revoked).
	RevokedEntry int64
	Entry        int64      // index of its device entry
	Wipe         *WipeState // the admin's order to wipe it, if any
}

// WipeState is a wipe the admin ordered.
type WipeState struct {
	Entry  int64    // its index in the log
	Hash   [32]byte // SHA-256 of the entry's bytes: what a receipt names
	Nonce  string
	Reason string
	Time   time.Time
}

// Folder roles of a share entry.
const (
	Viewer = "viewer" // reads the folder's documents
	Editor = "editor" // reads and writes them
)

// FolderState is a registered folder: its owner and members.
type FolderState struct {
	ID      object.ID
	Owner   string
	Members map[string]string // e-mail → Viewer or Editor (the owner is not listed)
	// Writers are everyone who was ever the owner or an editor: the
	// users whose devices' versions of the folder are trusted. (A demoted
	// editor's earlier versions stay readable; the server refuses their
	// later writes.)
	Writers map[string]bool
	// Widenings are the admin's approvals of folder object revisions that
	// widen the class: revision → commitment.
	Widenings map[int64][]byte
	// Anchor is SHA-256 of the envelope of the folder object made with
	// the folder (revision 0), once its owner committed to it: a new
	// reader takes that object by it even when the device that signed it
	// has been revoked since (vault: checkRevokedFolderSigner), if the
	// anchor's entry (AnchorEntry, its index) came before the revocation.
	Anchor      []byte
	AnchorEntry int64
	// Epochs are the folder's key epochs: epoch → EpochCommitment of
	// its key. LastEpoch is the newest (0 until the owner's entry for
	// epoch 1, the key made with the folder): the next epoch entry must
	// begin LastEpoch+1.
	Epochs    map[int64][]byte
	LastEpoch int64
	// Audience is everyone who has been a reader (Reader) since the
	// newest epoch began (readers.go); EpochWriters, for each epoch,
	// the users who could write the folder at some time during it;
	// WriterEnded, the time of the entry that took a writer's writing
	// away, while it stays taken.
	Audience     map[string]bool
	EpochWriters map[int64]map[string]bool
	WriterEnded  map[string]time.Time
}

// GrantState is a guest's grant: folders until Expires.
type GrantState struct {
	Email   string
	Folders map[object.ID]bool
	Expires time.Time
	Issued  time.Time
}

// PolicyState is the policy the admin issued last.
type PolicyState struct {
	Serial   uint64
	Document []byte // JSON (policy.Document)
	Issued   time.Time
}

// State is what the log says after the entries applied so far. The zero
// State expects a genesis entry.
type State struct {
	Org     object.ID
	Name    string
	Admin   ed25519.PublicKey
	Server  ed25519.PublicKey
	TLS     [32]byte
	Size    int64                   // entries applied
	Invites map[string]*InviteState // by invite key
	Users   map[string]*UserState   // by e-mail
	Devices map[object.ID]*DeviceState
	Folders map[object.ID]*FolderState
	Grants  map[string]*GrantState // by guest e-mail
	Policy  *PolicyState           // nil until the admin issues one
	keys    map[string]bool        // every key ever certified, to refuse reuse
	seen    map[[32]byte]bool      // the hash of every entry, to refuse a replayed one
	live    map[string]int         // e-mail → devices not revoked
}

// AdminFingerprint returns the SHA-256 of an admin public key: what invite
// codes carry.
func AdminFingerprint(k ed25519.PublicKey) [32]byte { return sha256.Sum256(k) }

// Apply checks the entry raw against the rules, given what came before, and
// applies it. now is the server's clock when it appends (so that an expired
// invite is refused), or the zero time when replaying a log already
// accepted, when expiry was the server's to judge. On error the state is
// unchanged.
func (s *State) Apply(raw []byte, now time.Time) (*Entry, error) {
	e, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("entry %d: %w", s.Size, err)
	}
	if err := s.check(e, now); err != nil {
		return nil, fmt.Errorf("entry %d (%s): %w: %v", s.Size, e.Kind, ErrRejected, err)
	}
	s.apply(e)
	return e, nil
}

func (s *State) check(e *Entry, now time.Time) error {
	if s.Size == 0 {
		if e.Kind != Genesis {
			return errors.New("the first entry must be the genesis")
		}
		return e.verify(map[string]ed25519.PublicKey{AdminName: e.Admin})
	}
	if e.Org != s.Org {
		return errors.New("belongs to another organisation")
	}
	if e.Kind != Genesis && s.seen[sha256.Sum256(e.Raw)] {
		// A replayed share after an unshare, or an ended grant issued
		// again, would undo what came between.
		return errors.New("the same entry is in the log already")
	}
	switch e.Kind {
	case Genesis:
		return errors.New("a second genesis")
	case Invite:
		if s.keys[string(e.Invite)] {
			return errors.New("the invite key is not new")
		}
		if !inviteRole(policy.Role(e.Role)) {
			return fmt.Errorf("role %q cannot be invited", e.Role)
		}
		if !e.Expires.After(e.Time) || e.Expires.Sub(e.Time) > MaxInvite {
			return errors.New("an invite must expire after it is made, within 90 days")
		}
		return e.verify(map[string]ed25519.PublicKey{AdminName: s.Admin})
	case User:
		inv := s.Invites[string(e.Invite)]
		switch {
		case inv == nil:
			return errors.New("no such invite")
		case inv.Used:
			return errors.New("the invite was used already")
		case inv.Email != e.Email || string(inv.Role) != e.Role:
			return errors.New("the invite is for another e-mail or role")
		case !now.IsZero() && !now.Before(inv.Expires):
			return fmt.Errorf("the invite expired at %s", inv.Expires.Format(time.RFC3339))
		case s.Users[e.Email] != nil && s.live[e.Email] > 0:
			return fmt.Errorf("%s is enrolled already: a further device of theirs is paired by one they have", e.Email)
		case s.Users[e.Email] != nil && inv.Entry < s.lastRevokedEntry(e.Email):
			// Every device of theirs is revoked: an invite made since
			// enrols them anew, with new keys; an older one (a copy a
			// thief may hold with the laptop) does not.
			return fmt.Errorf("%s had every device revoked after this invite was made: enrolling anew takes an invite made since", e.Email)
		case s.keys[string(e.Key)]:
			return errors.New("the user key is not new")
		}
		return e.verify(map[string]ed25519.PublicKey{InviteName: e.Invite, UserName: e.Key})
	case Device:
		u := s.Users[e.Email]
		switch {
		case u == nil:
			return fmt.Errorf("no user %s", e.Email)
		case s.Devices[e.Device] != nil:
			return errors.New("the device ID is taken")
		case s.keys[string(e.Key)] || s.keys[string(e.Transport)] || string(e.Key) == string(e.Transport):
			return errors.New("the device's keys are not new")
		}
		return e.verify(map[string]ed25519.PublicKey{UserName: u.Key})
	case Revoke:
		d := s.Devices[e.Device]
		switch {
		case d == nil:
			return errors.New("no such device")
		case d.Revoked:
			return errors.New("the device is revoked already")
		}
		return e.verify(map[string]ed25519.PublicKey{AdminName: s.Admin})
	case Role:
		switch {
		case s.Users[e.Email] == nil:
			return fmt.Errorf("no user %s", e.Email)
		case !inviteRole(policy.Role(e.Role)):
			return fmt.Errorf("role %q cannot be given", e.Role)
		}
		return e.verify(map[string]ed25519.PublicKey{AdminName: s.Admin})
	case Folder:
		u := s.Users[e.Email]
		switch {
		case u == nil || u.Role == policy.Guest:
			return fmt.Errorf("%s is not a member of the organisation who may make folders", e.Email)
		case s.Folders[e.Folder] != nil:
			return errors.New("the folder is registered already")
		case !now.IsZero() && s.foldersOwnedBy(e.Email) >= MaxFoldersPerUser:
			return fmt.Errorf("%s owns %d folders, the most one person may", e.Email, MaxFoldersPerUser)
		}
		return e.verify(map[string]ed25519.PublicKey{UserName: u.Key})
	case Share, Unshare:
		return s.checkShare(e)
	case Anchor:
		f, u := s.Folders[e.Folder], s.Users[e.Email]
		switch {
		case f == nil:
			return errors.New("no such folder")
		case u == nil || e.Email != f.Owner:
			return fmt.Errorf("%s may not anchor this folder: its owner does", e.Email)
		case f.Anchor != nil:
			return errors.New("the folder is anchored already")
		}
		return e.verify(map[string]ed25519.PublicKey{UserName: u.Key})
	case Epoch:
		f, by := s.Folders[e.Folder], s.Users[e.By]
		switch {
		case f == nil:
			return errors.New("no such folder")
		case by == nil:
			return fmt.Errorf("no user %s", e.By)
		case !s.MayShare(e.By, e.Folder):
			return fmt.Errorf("%s may not give this folder a new key: its owner or a manager among its members may", e.By)
		case e.Epoch != f.LastEpoch+1:
			return fmt.Errorf("epoch %d does not follow the folder's epoch %d (another rotation came first)", e.Epoch, f.LastEpoch)
		case e.Epoch == 1 && e.By != f.Owner:
			return errors.New("epoch 1 is the key made with the folder: its owner commits to it")
		}
		return e.verify(map[string]ed25519.PublicKey{UserName: by.Key})
	case Class:
		if s.Folders[e.Folder] == nil {
			return errors.New("no such folder")
		}
		return e.verify(map[string]ed25519.PublicKey{AdminName: s.Admin})
	case Wipe:
		d := s.Devices[e.Device]
		switch {
		case d == nil:
			return errors.New("no such device")
		case d.Wipe != nil:
			return errors.New("the device has a wipe order already")
		}
		return e.verify(map[string]ed25519.PublicKey{AdminName: s.Admin})
	case Grant:
		u := s.Users[e.Email]
		switch {
		case u == nil && !s.guestInvited(e.Email), u != nil && u.Role != policy.Guest:
			return fmt.Errorf("%s is not a guest of the organisation (nor invited as one)", e.Email)
		case e.Expires.Before(e.Time) || e.Expires.Sub(e.Time) > policy.MaxGrant:
			return errors.New("a grant ends at or after it is made, within 90 days")
		case s.Grants[e.Email] != nil && e.Time.Before(s.Grants[e.Email].Issued):
			return errors.New("a grant cannot be dated before the guest's last one")
		}
		for _, f := range e.Folders {
			if s.Folders[f] == nil {
				return fmt.Errorf("no folder %s", f.String()[:12])
			}
		}
		return e.verify(map[string]ed25519.PublicKey{AdminName: s.Admin})
	case Policy:
		if s.Policy != nil && e.Serial <= s.Policy.Serial {
			return fmt.Errorf("policy serial %d does not follow %d", e.Serial, s.Policy.Serial)
		}
		doc, err := policy.ParseDocument(e.Document)
		if errors.Is(err, policy.ErrNewerFormat) {
			// Signed by the admin, for newer clients: this one applies
			// the log and then refuses to work until it is updated.
			return e.verify(map[string]ed25519.PublicKey{AdminName: s.Admin})
		}
		if err != nil {
			return err
		}
		if doc.Serial != e.Serial {
			return errors.New("the document's serial is not the entry's")
		}
		return e.verify(map[string]ed25519.PublicKey{AdminName: s.Admin})
	}
	return fmt.Errorf("unknown kind %q", e.Kind)
}

// checkShare checks a share or unshare: made by the folder's owner, or by a
// manager among its members, for a member of the organisation who is not a
// guest (guests get folders by the admin's grants).
func (s *State) checkShare(e *Entry) error {
	f := s.Folders[e.Folder]
	if f == nil {
		return errors.New("no such folder")
	}
	by := s.Users[e.By]
	if by == nil {
		return fmt.Errorf("no user %s", e.By)
	}
	if !s.MayShare(e.By, e.Folder) {
		return fmt.Errorf("%s may not share this folder: its owner or a manager among its members may", e.By)
	}
	u := s.Users[e.Email]
	switch {
	case u == nil || u.Role == policy.Guest:
		return fmt.Errorf("%s is not a member of the organisation (guests get folders by the admin's grants)", e.Email)
	case e.Email == f.Owner:
		return errors.New("the owner is always a member")
	case e.Kind == Share && e.Role != Viewer && e.Role != Editor:
		return fmt.Errorf("folder role %q: want viewer or editor", e.Role)
	case e.Kind == Unshare && f.Members[e.Email] == "":
		return fmt.Errorf("%s is not a member of the folder", e.Email)
	}
	return e.verify(map[string]ed25519.PublicKey{UserName: by.Key})
}

func inviteRole(r policy.Role) bool {
	switch r {
	case policy.Admin, policy.Compliance, policy.Manager, policy.Member, policy.Risk, policy.Guest:
		return true
	}
	return false
}

func (s *State) apply(e *Entry) {
	if s.Invites == nil {
		s.Invites, s.Users, s.Devices, s.keys = map[string]*InviteState{}, map[string]*UserState{}, map[object.ID]*DeviceState{}, map[string]bool{}
		s.Folders, s.Grants = map[object.ID]*FolderState{}, map[string]*GrantState{}
	}
	if s.seen == nil {
		s.seen = map[[32]byte]bool{}
	}
	if s.live == nil {
		s.live = map[string]int{}
	}
	defer s.track(e)
	s.seen[sha256.Sum256(e.Raw)] = true
	switch e.Kind {
	case Genesis:
		s.Org, s.Name, s.Admin, s.Server, s.TLS = e.Org, e.Name, e.Admin, e.Server, e.TLS
		s.keys[string(e.Admin)], s.keys[string(e.Server)] = true, true
	case Invite:
		s.Invites[string(e.Invite)] = &InviteState{Email: e.Email, Role: policy.Role(e.Role), Key: e.Invite, Issued: e.Time, Expires: e.Expires, Entry: s.Size}
		s.keys[string(e.Invite)] = true
	case User:
		s.Invites[string(e.Invite)].Used = true
		gen := 1
		if old := s.Users[e.Email]; old != nil {
			gen = old.Generation + 1
		}
		s.Users[e.Email] = &UserState{Email: e.Email, Name: e.Name, Role: policy.Role(e.Role), Key: e.Key, Recipient: e.Recipient, Generation: gen}
		s.keys[string(e.Key)] = true
	case Device:
		s.Devices[e.Device] = &DeviceState{ID: e.Device, Email: e.Email, Name: e.Name, Key: e.Key, Transport: e.Transport, Entry: s.Size}
		s.keys[string(e.Key)], s.keys[string(e.Transport)] = true, true
		s.live[e.Email]++
	case Revoke:
		s.Devices[e.Device].Revoked, s.Devices[e.Device].RevokedAt, s.Devices[e.Device].RevokedEntry = true, e.Time, s.Size
		s.live[s.Devices[e.Device].Email]--
	case Class:
		f := s.Folders[e.Folder]
		if f.Widenings == nil {
			f.Widenings = map[int64][]byte{}
		}
		f.Widenings[e.Revision] = e.Commit
	case Wipe:
		d := s.Devices[e.Device]
		if !d.Revoked {
			s.live[d.Email]--
			d.RevokedAt, d.RevokedEntry = e.Time, s.Size
		}
		d.Revoked = true
		d.Wipe = &WipeState{Entry: s.Size, Hash: sha256.Sum256(e.Raw), Nonce: e.Nonce, Reason: e.Reason, Time: e.Time}
	case Role:
		s.Users[e.Email].Role = policy.Role(e.Role)
	case Folder:
		s.Folders[e.Folder] = &FolderState{ID: e.Folder, Owner: e.Email, Members: map[string]string{}, Writers: map[string]bool{e.Email: true}}
	case Anchor:
		s.Folders[e.Folder].Anchor, s.Folders[e.Folder].AnchorEntry = e.Commit, s.Size
	case Epoch:
		f := s.Folders[e.Folder]
		if f.Epochs == nil {
			f.Epochs = map[int64][]byte{}
		}
		f.Epochs[e.Epoch], f.LastEpoch = e.Commit, e.Epoch
	case Share:
		s.Folders[e.Folder].Members[e.Email] = e.Role
		if e.Role == Editor {
			s.Folders[e.Folder].Writers[e.Email] = true
		}
	case Unshare:
		delete(s.Folders[e.Folder].Members, e.Email)
	case Grant:
		g := &GrantState{Email: e.Email, Folders: map[object.ID]bool{}, Expires: e.Expires, Issued: e.Time}
		for _, f := range e.Folders {
			g.Folders[f] = true
		}
		s.Grants[e.Email] = g
	case Policy:
		s.Policy = &PolicyState{Serial: e.Serial, Document: e.Document, Issued: e.Time}
	}
	s.Size++
}

// FolderRole says what email is to a folder at time now: "owner",
// Editor, Viewer, "guest" (a live grant), or "" (nothing). A zero now does
// not check a grant's expiry.
func (s *State) FolderRole(email string, folder object.ID, now time.Time) string {
	f := s.Folders[folder]
	if f == nil {
		return ""
	}
	// Owning a folder or being its member ends when the user becomes
	// a guest: a guest reads only what a live grant names.
	if u := s.Users[email]; u != nil && u.Role != policy.Guest {
		if f.Owner == email {
			return "owner"
		}
		if r := f.Members[email]; r != "" {
			return r
		}
	}
	if g := s.Grants[email]; g != nil && g.Folders[folder] && (now.IsZero() || now.Before(g.Expires)) {
		return "guest"
	}
	return ""
}

// MayWrite reports whether email may write a folder's documents.
func (s *State) MayWrite(email string, folder object.ID) bool {
	r := s.FolderRole(email, folder, time.Time{})
	return r == "owner" || r == Editor
}

// FolderMembers lists who reads a folder at now (Reader): the owner
// first, then members and guests with a live grant (sorted) — each a user
// with a device not revoked.
func (s *State) FolderMembers(folder object.ID, now time.Time) []string {
	f := s.Folders[folder]
	if f == nil {
		return nil
	}
	var out []string
	if s.Reader(f.Owner, folder, now) {
		out = append(out, f.Owner)
	}
	first := len(out)
	for m := range f.Members {
		if m != f.Owner && s.Reader(m, folder, now) {
			out = append(out, m)
		}
	}
	for email, g := range s.Grants {
		if g.Folders[folder] && now.Before(g.Expires) && f.Members[email] == "" && email != f.Owner && s.Reader(email, folder, now) {
			out = append(out, email)
		}
	}
	sort.Strings(out[first:])
	return out
}

// DevicesOf returns the devices of a user, revoked ones included.
func (s *State) DevicesOf(email string) []*DeviceState {
	var out []*DeviceState
	for _, d := range s.Devices {
		if d.Email == email {
			out = append(out, d)
		}
	}
	return out
}

// Holds reports whether the log holds an entry of exactly these bytes.
func (s *State) Holds(raw []byte) bool { return s.seen[sha256.Sum256(raw)] }

// KeyKnown reports whether k is a key some entry of the log introduced
// (a user's, a device's, an invite's, the admin's or the server's): a new
// device's keys must not be.
func (s *State) KeyKnown(k []byte) bool { return s.keys[string(k)] }

// EnrolsAnew reports whether inv enrols its e-mail's user anew, with new
// keys: they are a user every device of whom is revoked (a lost only
// laptop), and inv is unused and came after the last revocation in the
// log (log order, not the entries' times: a clock cannot move it).
func (s *State) EnrolsAnew(inv *InviteState) bool {
	return inv != nil && s.Users[inv.Email] != nil && s.live[inv.Email] == 0 && !inv.Used &&
		inv.Entry > s.lastRevokedEntry(inv.Email)
}

// lastRevokedEntry is the log index of the entry that revoked (or ordered
// wiped) the latest revoked device of email; 0 if none was.
func (s *State) lastRevokedEntry(email string) int64 {
	var n int64
	for _, d := range s.Devices {
		if d.Email == email && d.Revoked && d.RevokedEntry > n {
			n = d.RevokedEntry
		}
	}
	return n
}

// DeviceByKey returns the device whose device key is k.
func (s *State) DeviceByKey(k ed25519.PublicKey) *DeviceState {
	for _, d := range s.Devices {
		if d.Key.Equal(k) {
			return d
		}
	}
	return nil
}

// FoldersOf lists the folders email may read at now (FolderRole not "").
func (s *State) FoldersOf(email string, now time.Time) []object.ID {
	var out []object.ID
	for id := range s.Folders {
		if s.FolderRole(email, id, now) != "" {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i][:]) < string(out[j][:]) })
	return out
}

// GrantLive reports whether a guest's grant is live at now.
func (s *State) GrantLive(email string, now time.Time) bool {
	g := s.Grants[email]
	return g != nil && now.Before(g.Expires)
}

// MayShare reports whether email may share a folder, unshare it, rotate
// its key and wrap it to its readers: its owner, or a manager among its
// members. Their devices alone sign the folder's keyrings.
func (s *State) MayShare(email string, folder object.ID) bool {
	f, u := s.Folders[folder], s.Users[email]
	if f == nil || u == nil || u.Role == policy.Guest {
		return false
	}
	return email == f.Owner || (f.Members[email] != "" && u.Role == policy.Manager)
}

// MaxFoldersPerUser bounds the folder entries one user may append (checked
// when the server appends, like an invite's expiry): the log is replayed
// and read by everyone, and a member's script must not flood it.
const MaxFoldersPerUser = 10000

func (s *State) foldersOwnedBy(email string) int {
	n := 0
	for _, f := range s.Folders {
		if f.Owner == email {
			n++
		}
	}
	return n
}

// guestInvited reports whether email has an invite of role guest.
func (s *State) guestInvited(email string) bool {
	for _, inv := range s.Invites {
		if inv.Email == email && inv.Role == policy.Guest {
			return true
		}
	}
	return false
}
