package orglog

import (
	"crypto/ed25519"
	"slices"
	"testing"
	"time"

	"filippo.io/age"
	"golang.org/x/mod/sumdb/note"

	"github.com/coffer-vault/coffer/internal/notekey"
	"github.com/coffer-vault/coffer/vault/object"
)

// TestReadersLeaversWriters: who reads a folder needs a device not
// revoked; who left since the newest epoch is owed a rotation, whatever
// made them leave; a version's author must have been a writer under its
// epoch and not past the end of their writing.
func TestReadersLeaversWriters(t *testing.T) {
	w := newWorld(t)
	s := w.state(t)
	admin := notekey.Signer(AdminName, w.admin)
	at := w.now
	apply := func(e *Entry, signers ...note.Signer) {
		t.Helper()
		at = at.Add(time.Minute)
		e.Org, e.Time = w.org, at
		if _, err := s.Apply(sign(t, e, signers...), at); err != nil {
			t.Fatal(err)
		}
	}
	devices := map[string]object.ID{}
	invites := map[string]ed25519.PrivateKey{}
	invite := func(email, role string) {
		invites[email] = key(t)
		apply(&Entry{Kind: Invite, Email: email, Role: role, Invite: pub(invites[email]), Expires: w.now.Add(24 * time.Hour)}, admin)
	}
	join := func(email, role string, device bool) ed25519.PrivateKey {
		if invites[email] == nil {
			invite(email, role)
		}
		inv, usr := invites[email], key(t)
		rcpt, _ := age.GenerateHybridIdentity()
		apply(&Entry{Kind: User, Email: email, Role: role, Invite: pub(inv), Key: pub(usr), Recipient: rcpt.Recipient().String(), Name: email},
			notekey.Signer(InviteName, inv), notekey.Signer(UserName, usr))
		if device {
			devices[email] = object.NewRandomID()
			apply(&Entry{Kind: Device, Device: devices[email], Email: email, Key: pub(key(t)), Transport: pub(key(t)), Name: "laptop"}, notekey.Signer(UserName, usr))
		}
		return usr
	}
	ann := notekey.Signer(UserName, w.user)
	folder := object.NewRandomID()
	epoch := func(n int64) {
		apply(&Entry{Kind: Epoch, Folder: folder, Epoch: n, Commit: make([]byte, 32), By: "ann@acme.test"}, ann)
	}
	apply(&Entry{Kind: Folder, Folder: folder, Email: "ann@acme.test"}, ann)
	epoch(1)
	join("bob@acme.test", "member", true)
	join("carl@acme.test", "member", true)
	apply(&Entry{Kind: Share, Folder: folder, Email: "bob@acme.test", Role: Editor, By: "ann@acme.test"}, ann)
	apply(&Entry{Kind: Share, Folder: folder, Email: "carl@acme.test", Role: Viewer, By: "ann@acme.test"}, ann)
	// A guest granted before she enrolled reads nothing until her
	// first device is certified.
	invite("eve@ext.test", "guest")
	apply(&Entry{Kind: Grant, Email: "eve@ext.test", Folders: []object.ID{folder}, Expires: at.Add(time.Hour)}, admin)
	eve := join("eve@ext.test", "guest", false)
	if m := s.FolderMembers(folder, at); !slices.Equal(m, []string{"ann@acme.test", "bob@acme.test", "carl@acme.test"}) {
		t.Fatalf("readers before eve has a device: %v", m)
	}
	apply(&Entry{Kind: Device, Device: object.NewRandomID(), Email: "eve@ext.test", Key: pub(key(t)), Transport: pub(key(t)), Name: "laptop"}, notekey.Signer(UserName, eve))
	if !s.Reader("eve@ext.test", folder, at) || len(s.Leavers(folder, at)) != 0 {
		t.Fatalf("eve with a device: reader %v, leavers %v", s.Reader("eve@ext.test", folder, at), s.Leavers(folder, at))
	}
	// Carl's only device is revoked: he leaves, a rotation is owed;
	// the epoch after it owes nothing.
	apply(&Entry{Kind: Revoke, Device: devices["carl@acme.test"], Reason: "left the firm"}, admin)
	if l := s.Leavers(folder, at); !slices.Equal(l, []string{"carl@acme.test"}) {
		t.Fatalf("leavers after carl's revocation: %v", l)
	}
	epoch(2)
	if l := s.Leavers(folder, at); len(l) != 0 {
		t.Fatalf("leavers after the rotation: %v", l)
	}
	// Eve's grant runs out: she leaves at its end, without an entry.
	if l := s.Leavers(folder, at.Add(2*time.Hour)); !slices.Equal(l, []string{"eve@ext.test"}) {
		t.Fatalf("leavers after eve's grant ended: %v", l)
	}
	// Bob wrote under epochs 1 and 2; made a viewer, he is no writer
	// of epoch 3, nor of anything dated after his demotion.
	during := at
	apply(&Entry{Kind: Share, Folder: folder, Email: "bob@acme.test", Role: Viewer, By: "ann@acme.test"}, ann)
	demoted := at
	epoch(3)
	for _, c := range []struct {
		epoch int64
		t     time.Time
		want  bool
	}{
		{1, during, true}, {2, during, true},
		{2, demoted.Add(time.Second), true},               // a clock a little ahead (WriteGrace)
		{2, demoted.Add(WriteGrace + time.Second), false}, // dated after his writing ended
		{3, during, false},                                // backdated into an epoch he never wrote in
		{4, during, true},                                 // an epoch the log does not name yet: the log is behind
	} {
		if got := s.WroteUnder("bob@acme.test", folder, c.epoch, c.t); got != c.want {
			t.Errorf("bob's version under epoch %d dated %v: %v, want %v", c.epoch, c.t.Sub(w.now), got, c.want)
		}
	}
	if !s.WroteUnder("ann@acme.test", folder, 3, at) || s.WroteUnder("carl@acme.test", folder, 1, during) {
		t.Error("the owner may write every epoch; a viewer none")
	}
	// Made an editor again, bob writes epoch 3 from then on.
	apply(&Entry{Kind: Share, Folder: folder, Email: "bob@acme.test", Role: Editor, By: "ann@acme.test"}, ann)
	if !s.WroteUnder("bob@acme.test", folder, 3, at.Add(time.Second)) {
		t.Error("bob, an editor again, may not write epoch 3")
	}
	// The clone keeps all of it apart.
	c := s.Clone()
	c.Folders[folder].Audience["mallory@acme.test"] = true
	c.Folders[folder].EpochWriters[1]["mallory@acme.test"] = true
	if s.Folders[folder].Audience["mallory@acme.test"] || s.Folders[folder].EpochWriters[1]["mallory@acme.test"] {
		t.Error("a clone shares its audience or writers with the original")
	}
}
