package orglog

import (
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/coffer-vault/coffer/internal/notekey"
	"github.com/coffer-vault/coffer/vault/object"
)

// TestGuestView: a guest's view holds the genesis, the policy, its own
// entries and grant, the granted folder and its people — and nothing of
// another member or another folder; it obeys the rules applied alone,
// every entry proves its place, and a view that lies is refused.
func TestGuestView(t *testing.T) {
	w := newWorld(t)
	admin := notekey.Signer(AdminName, w.admin)
	ann := notekey.Signer(UserName, w.user)
	log := append([][]byte{}, w.entries...)
	appendE := func(e *Entry, signer ...note.Signer) {
		e.Org, e.Time = w.org, w.now
		log = append(log, sign(t, e, signer...))
	}
	join := func(email, role string) note.Signer {
		inv, usr := key(t), key(t)
		rcpt, _ := age.GenerateHybridIdentity()
		appendE(&Entry{Kind: Invite, Email: email, Role: role, Invite: pub(inv), Expires: w.now.Add(time.Hour)}, admin)
		appendE(&Entry{Kind: User, Email: email, Role: role, Invite: pub(inv), Key: pub(usr), Recipient: rcpt.Recipient().String(), Name: email + " name"},
			notekey.Signer(InviteName, inv), notekey.Signer(UserName, usr))
		return notekey.Signer(UserName, usr)
	}
	join("bob@acme.test", "member")
	carol := join("carol@acme.test", "manager")
	dave := join("dave@acme.test", "manager")
	join("gail@guest.test", "guest")
	falcon, hawk := object.NewRandomID(), object.NewRandomID()
	appendE(&Entry{Kind: Folder, Folder: falcon, Email: "ann@acme.test"}, ann)
	appendE(&Entry{Kind: Folder, Folder: hawk, Email: "ann@acme.test"}, ann)
	appendE(&Entry{Kind: Share, Folder: falcon, Email: "bob@acme.test", Role: Editor, By: "ann@acme.test"}, ann)
	appendE(&Entry{Kind: Share, Folder: hawk, Email: "carol@acme.test", Role: Viewer, By: "ann@acme.test"}, ann)
	// Falcon's key epochs, one by a manager among its members: the guest
	// needs them to take the keys; hawk's are none of her business.
	appendE(&Entry{Kind: Share, Folder: falcon, Email: "dave@acme.test", Role: Viewer, By: "ann@acme.test"}, ann)
	appendE(&Entry{Kind: Epoch, Folder: falcon, Epoch: 1, Commit: EpochCommitment(falcon, 1, "r", make([]byte, 32)), By: "ann@acme.test"}, ann)
	appendE(&Entry{Kind: Epoch, Folder: hawk, Epoch: 1, Commit: EpochCommitment(hawk, 1, "r", make([]byte, 32)), By: "ann@acme.test"}, ann)
	appendE(&Entry{Kind: Epoch, Folder: falcon, Epoch: 2, Commit: EpochCommitment(falcon, 2, "r", make([]byte, 32)), By: "dave@acme.test"}, dave)
	appendE(&Entry{Kind: Epoch, Folder: hawk, Epoch: 2, Commit: EpochCommitment(hawk, 2, "r", make([]byte, 32)), By: "carol@acme.test"}, carol)
	appendE(&Entry{Kind: Grant, Email: "gail@guest.test", Folders: []object.ID{falcon}, Expires: w.now.Add(24 * time.Hour)}, admin)
	doc := []byte(`{"v":1,"serial":1,"issued":"2026-11-30T00:00:00Z","max_unlock_failures":5,"idle_lock_minutes":10}`)
	appendE(&Entry{Kind: Policy, Serial: 1, Document: doc}, admin)
	full := &State{}
	var hashes Hashes
	for i, raw := range log {
		if _, err := full.Apply(raw, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := hashes.Append(int64(i), raw); err != nil {
			t.Fatal(err)
		}
	}
	idx, err := GuestView(log, "gail@guest.test")
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(log))
	th, _ := hashes.TreeHash(size)
	cp, err := Checkpoint{Org: w.org, Size: size, Hash: th, Time: w.now}.Sign(w.server)
	if err != nil {
		t.Fatal(err)
	}
	view, err := Prove(cp, log, hashes, idx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := view.Verify(pub(w.server), w.org, 0, tlog.Hash{}); err != nil {
		t.Fatal(err)
	}
	st := &State{}
	var text strings.Builder
	for _, e := range view.Entries {
		if _, err := st.ApplyAt(e.Raw, e.Index, time.Time{}); err != nil {
			t.Fatalf("the view does not obey the rules alone: %v", err)
		}
		text.Write(e.Raw)
	}
	if st.FolderRole("gail@guest.test", falcon, w.now) != "guest" || !st.Folders[falcon].Writers["bob@acme.test"] || st.Policy == nil ||
		st.Folders[falcon].LastEpoch != 2 {
		t.Fatalf("the view's state: %+v", st)
	}
	for _, secret := range []string{"carol@acme.test", hawk.String()} {
		if strings.Contains(text.String(), secret) {
			t.Errorf("the guest's view holds %q", secret)
		}
	}
	// Lies: an entry moved, an entry not in the log, a tree not grown
	// from what the guest saw.
	moved := *view
	moved.Entries = append([]ViewEntry{}, view.Entries...)
	moved.Entries[1].Index++
	if _, err := moved.Verify(pub(w.server), w.org, 0, tlog.Hash{}); err == nil {
		t.Error("a view entry at another index verified")
	}
	planted := *view
	planted.Entries = append([]ViewEntry{}, view.Entries...)
	other := newWorld(t)
	planted.Entries[len(planted.Entries)-1].Raw = other.entries[1]
	if _, err := planted.Verify(pub(w.server), w.org, 0, tlog.Hash{}); err == nil {
		t.Error("an entry not in the log verified")
	}
	oldHash, _ := hashes.TreeHash(5)
	fork := oldHash
	fork[0] ^= 1
	grown, _ := Prove(cp, log, hashes, idx, 5)
	if _, err := grown.Verify(pub(w.server), w.org, 5, oldHash); err != nil {
		t.Errorf("growth from the tree the guest saw: %v", err)
	}
	if _, err := grown.Verify(pub(w.server), w.org, 5, fork); err == nil {
		t.Error("growth from another tree verified: a fork")
	}
	if _, err := view.Verify(pub(w.server), w.org, size+1, th); err == nil {
		t.Error("a smaller log than the guest saw verified")
	}
}
