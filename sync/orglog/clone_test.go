package orglog

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/coffer-vault/coffer/internal/notekey"
	"github.com/coffer-vault/coffer/vault/object"
)

// TestCloneIsIndependent: entries applied to a clone leave the original as
// a replay of its own entries has it, and the clone as a replay of all.
func TestCloneIsIndependent(t *testing.T) {
	w := newWorld(t)
	admin, ann := notekey.Signer(AdminName, w.admin), notekey.Signer(UserName, w.user)
	inv, bob := key(t), key(t)
	rcpt, _ := age.GenerateHybridIdentity()
	folder := object.NewRandomID()
	w.entries = append(w.entries,
		sign(t, &Entry{Org: w.org, Kind: Invite, Email: "bob@acme.test", Role: "member", Invite: pub(inv), Expires: w.now.Add(time.Hour), Time: w.now}, admin),
		sign(t, &Entry{Org: w.org, Kind: User, Email: "bob@acme.test", Role: "member", Invite: pub(inv), Key: pub(bob), Recipient: rcpt.Recipient().String(), Name: "Bob", Time: w.now},
			notekey.Signer(InviteName, inv), notekey.Signer(UserName, bob)),
		sign(t, &Entry{Org: w.org, Kind: Folder, Folder: folder, Email: "ann@acme.test", Time: w.now}, ann),
		sign(t, &Entry{Org: w.org, Kind: Share, Folder: folder, Email: "bob@acme.test", Role: Editor, By: "ann@acme.test", Time: w.now}, ann),
	)
	orig := w.state(t)
	base := len(w.entries)
	more := [][]byte{
		sign(t, &Entry{Org: w.org, Kind: Unshare, Folder: folder, Email: "bob@acme.test", By: "ann@acme.test", Time: w.now}, ann),
		sign(t, &Entry{Org: w.org, Kind: Role, Email: "bob@acme.test", Role: "guest", Time: w.now}, admin),
		sign(t, &Entry{Org: w.org, Kind: Class, Folder: folder, Revision: 1, Commit: make([]byte, 32), Time: w.now}, admin),
		sign(t, &Entry{Org: w.org, Kind: Grant, Email: "bob@acme.test", Folders: []object.ID{folder}, Expires: w.now.Add(time.Hour), Time: w.now}, admin),
		sign(t, &Entry{Org: w.org, Kind: Wipe, Device: w.device, Nonce: "00112233445566778899aabbccddeeff", Reason: "lost", Time: w.now}, admin),
	}
	c := orig.Clone()
	for _, raw := range more {
		if _, err := c.Apply(raw, w.now); err != nil {
			t.Fatal(err)
		}
	}
	if want := w.state(t); !reflect.DeepEqual(orig, want) {
		t.Fatal("applying to the clone changed the original")
	}
	w.entries = append(w.entries, more...)
	if want := w.state(t); !reflect.DeepEqual(c, want) {
		t.Fatal("the clone after the entries is not the replay of the whole log")
	}
	if c.Size != int64(base+len(more)) || orig.Size != int64(base) {
		t.Fatalf("sizes %d, %d", c.Size, orig.Size)
	}
	// Bob, now a guest, is no member of the folder he edited: only his
	// grant makes him a reader, and he may not share it.
	if r := c.FolderRole("bob@acme.test", folder, w.now); r != "guest" || c.MayShare("bob@acme.test", folder) {
		t.Fatalf("bob is %q (may share: %v)", r, c.MayShare("bob@acme.test", folder))
	}
}

// TestFolderFloodIsCapped: the server refuses a user's folder entry past
// MaxFoldersPerUser; a replay (zero time) takes a log a server made.
func TestFolderFloodIsCapped(t *testing.T) {
	if testing.Short() {
		t.Skip("signs and applies ten thousand entries")
	}
	w := newWorld(t)
	s := w.state(t)
	ann := notekey.Signer(UserName, w.user)
	for i := 0; i < MaxFoldersPerUser; i++ {
		raw := sign(t, &Entry{Org: w.org, Kind: Folder, Folder: object.NewRandomID(), Email: "ann@acme.test", Time: w.now}, ann)
		if _, err := s.Apply(raw, w.now); err != nil {
			t.Fatalf("folder %d: %v", i, err)
		}
	}
	raw := sign(t, &Entry{Org: w.org, Kind: Folder, Folder: object.NewRandomID(), Email: "ann@acme.test", Time: w.now}, ann)
	if _, err := s.Apply(raw, w.now); !errors.Is(err, ErrRejected) {
		t.Fatalf("folder %d accepted at append: %v", MaxFoldersPerUser+1, err)
	}
	if _, err := s.Clone().Apply(raw, time.Time{}); err != nil {
		t.Fatalf("a replay refused a log the server made: %v", err)
	}
}
