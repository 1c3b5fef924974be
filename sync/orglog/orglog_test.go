package orglog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"golang.org/x/mod/sumdb/note"

	"github.com/coffer-vault/coffer/internal/notekey"
	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/vault/object"
)

func key(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pub(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

func sign(t testing.TB, e *Entry, signers ...note.Signer) []byte {
	t.Helper()
	raw, err := Sign(e, signers...)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// world is an organisation's keys and a log of: genesis, invite, user,
// device.
type world struct {
	org                             object.ID
	admin, server, invite, user, dv ed25519.PrivateKey
	transport                       ed25519.PrivateKey
	device                          object.ID
	now                             time.Time
	entries                         [][]byte
}

func newWorld(t testing.TB) *world {
	w := &world{org: object.NewRandomID(), admin: key(t), server: key(t), invite: key(t), user: key(t), dv: key(t),
		transport: key(t), device: object.NewRandomID(), now: time.Unix(1_800_000_000, 0).UTC()}
	rcpt, _ := age.GenerateHybridIdentity()
	w.entries = [][]byte{
		sign(t, &Entry{Org: w.org, Kind: Genesis, Name: "Acme Capital", Admin: pub(w.admin), Server: pub(w.server), Time: w.now},
			notekey.Signer(AdminName, w.admin)),
		sign(t, &Entry{Org: w.org, Kind: Invite, Email: "ann@acme.test", Role: "member", Invite: pub(w.invite),
			Expires: w.now.Add(7 * 24 * time.Hour), Time: w.now}, notekey.Signer(AdminName, w.admin)),
		sign(t, &Entry{Org: w.org, Kind: User, Email: "ann@acme.test", Role: "member", Invite: pub(w.invite), Key: pub(w.user),
			Recipient: rcpt.Recipient().String(), Name: "Ann Trader", Time: w.now},
			notekey.Signer(InviteName, w.invite), notekey.Signer(UserName, w.user)),
		sign(t, &Entry{Org: w.org, Kind: Device, Device: w.device, Email: "ann@acme.test", Key: pub(w.dv),
			Transport: pub(w.transport), Name: "Ann's laptop", Time: w.now}, notekey.Signer(UserName, w.user)),
	}
	return w
}

func (w *world) state(t testing.TB) *State {
	t.Helper()
	s := &State{}
	for _, raw := range w.entries {
		if _, err := s.Apply(raw, w.now); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestLogOfAnOrganisation(t *testing.T) {
	w := newWorld(t)
	s := w.state(t)
	if s.Size != 4 || s.Name != "Acme Capital" || !s.Admin.Equal(pub(w.admin)) {
		t.Fatalf("state %+v", s)
	}
	u := s.Users["ann@acme.test"]
	if u == nil || !u.Key.Equal(pub(w.user)) || u.Role != "member" || !s.Invites[string(pub(w.invite))].Used {
		t.Fatalf("user %+v", u)
	}
	d := s.Devices[w.device]
	if d == nil || !d.Transport.Equal(pub(w.transport)) || d.Revoked || s.DeviceByKey(pub(w.dv)) != d {
		t.Fatalf("device %+v", d)
	}
	rev := sign(t, &Entry{Org: w.org, Kind: Revoke, Device: w.device, Reason: "laptop lost", Time: w.now}, notekey.Signer(AdminName, w.admin))
	if _, err := s.Apply(rev, w.now); err != nil || !d.Revoked {
		t.Fatalf("revoke: %v", err)
	}
}

// TestRulesRefuse: each rule of docs/sync-protocol.md refuses what it must,
// and a refused entry leaves the state as it was.
func TestRulesRefuse(t *testing.T) {
	w := newWorld(t)
	other := key(t)
	rcpt, _ := age.GenerateHybridIdentity()
	invite2 := key(t)
	userEntry := func(inv, usr ed25519.PrivateKey, email string) *Entry {
		return &Entry{Org: w.org, Kind: User, Email: email, Role: "member", Invite: pub(inv), Key: pub(usr),
			Recipient: rcpt.Recipient().String(), Name: "X", Time: w.now}
	}
	cases := []struct {
		name  string
		entry func() []byte
		upTo  int // entries of the world applied first
		now   time.Time
		want  string
	}{
		{"genesis not first", func() []byte { return w.entries[1] }, 0, w.now, "first entry must be the genesis"},
		{"genesis signed by another key", func() []byte {
			return sign(t, &Entry{Org: w.org, Kind: Genesis, Name: "X", Admin: pub(w.admin), Server: pub(w.server), Time: w.now}, notekey.Signer(AdminName, other))
		}, 0, w.now, "signature"},
		{"second genesis", func() []byte { return w.entries[0] }, 1, w.now, "second genesis"},
		{"invite signed by a non-admin", func() []byte {
			return sign(t, &Entry{Org: w.org, Kind: Invite, Email: "eve@x.test", Role: "member", Invite: pub(invite2),
				Expires: w.now.Add(time.Hour), Time: w.now}, notekey.Signer(AdminName, other))
		}, 1, w.now, "signature"},
		{"invite for an owner", func() []byte {
			return sign(t, &Entry{Org: w.org, Kind: Invite, Email: "eve@x.test", Role: "owner", Invite: pub(invite2),
				Expires: w.now.Add(time.Hour), Time: w.now}, notekey.Signer(AdminName, w.admin))
		}, 1, w.now, "cannot be invited"},
		{"invite over 90 days", func() []byte {
			return sign(t, &Entry{Org: w.org, Kind: Invite, Email: "eve@x.test", Role: "member", Invite: pub(invite2),
				Expires: w.now.Add(91 * 24 * time.Hour), Time: w.now}, notekey.Signer(AdminName, w.admin))
		}, 1, w.now, "within 90 days"},
		{"another org", func() []byte {
			return sign(t, &Entry{Org: object.NewRandomID(), Kind: Invite, Email: "eve@x.test", Role: "member", Invite: pub(invite2),
				Expires: w.now.Add(time.Hour), Time: w.now}, notekey.Signer(AdminName, w.admin))
		}, 1, w.now, "another organisation"},
		{"user without the invite key's signature", func() []byte {
			return sign(t, userEntry(w.invite, w.user, "ann@acme.test"), notekey.Signer(UserName, w.user))
		}, 2, w.now, "not signed by the coffer-invite key"},
		{"user without its own key's signature", func() []byte {
			return sign(t, userEntry(w.invite, w.user, "ann@acme.test"), notekey.Signer(InviteName, w.invite))
		}, 2, w.now, "not signed by the coffer-user key"},
		{"invite used twice", func() []byte {
			u := key(t)
			return sign(t, userEntry(w.invite, u, "ann@acme.test"), notekey.Signer(InviteName, w.invite), notekey.Signer(UserName, u))
		}, 3, w.now, "used already"},
		{"invite expired", func() []byte {
			return w.entries[2]
		}, 2, w.now.Add(8 * 24 * time.Hour), "expired"},
		{"invite for another e-mail", func() []byte {
			return sign(t, userEntry(w.invite, w.user, "eve@acme.test"), notekey.Signer(InviteName, w.invite), notekey.Signer(UserName, w.user))
		}, 2, w.now, "another e-mail"},
		{"device signed by another user key", func() []byte {
			return sign(t, &Entry{Org: w.org, Kind: Device, Device: object.NewRandomID(), Email: "ann@acme.test", Key: pub(key(t)),
				Transport: pub(key(t)), Name: "evil", Time: w.now}, notekey.Signer(UserName, other))
		}, 3, w.now, "signature"},
		{"device keys reused", func() []byte {
			return sign(t, &Entry{Org: w.org, Kind: Device, Device: object.NewRandomID(), Email: "ann@acme.test", Key: pub(w.dv),
				Transport: pub(key(t)), Name: "again", Time: w.now}, notekey.Signer(UserName, w.user))
		}, 4, w.now, "not new"},
		{"device of nobody", func() []byte {
			return sign(t, &Entry{Org: w.org, Kind: Device, Device: object.NewRandomID(), Email: "bob@acme.test", Key: pub(key(t)),
				Transport: pub(key(t)), Name: "x", Time: w.now}, notekey.Signer(UserName, w.user))
		}, 4, w.now, "no user"},
		{"revoke by a user", func() []byte {
			return sign(t, &Entry{Org: w.org, Kind: Revoke, Device: w.device, Reason: "x", Time: w.now}, notekey.Signer(AdminName, w.user))
		}, 4, w.now, "signature"},
		{"extra signature", func() []byte {
			return sign(t, &Entry{Org: w.org, Kind: Revoke, Device: w.device, Reason: "x", Time: w.now},
				notekey.Signer(AdminName, w.admin), notekey.Signer("coffer-friend", other))
		}, 4, w.now, "no say"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &State{}
			for _, raw := range w.entries[:tc.upTo] {
				if _, err := s.Apply(raw, w.now); err != nil {
					t.Fatal(err)
				}
			}
			before := s.Size
			_, err := s.Apply(tc.entry(), tc.now)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Apply = %v, want an error saying %q", err, tc.want)
			}
			if tc.upTo > 0 && !errors.Is(err, ErrRejected) {
				t.Errorf("not ErrRejected: %v", err)
			}
			if s.Size != before {
				t.Fatal("a refused entry changed the state")
			}
		})
	}
}

func TestEditedEntryIsRefused(t *testing.T) {
	w := newWorld(t)
	s := &State{}
	s.Apply(w.entries[0], w.now)
	edited := []byte(strings.Replace(string(w.entries[1]), "role member", "role manager", 1))
	if _, err := s.Apply(edited, w.now); err == nil {
		t.Fatal("an invite whose role was edited was accepted")
	}
}

func TestTreeAndCheckpoint(t *testing.T) {
	w := newWorld(t)
	var h Hashes
	for i, raw := range w.entries {
		if err := h.Append(int64(i), raw); err != nil {
			t.Fatal(err)
		}
	}
	th, err := h.TreeHash(4)
	if err != nil {
		t.Fatal(err)
	}
	c := Checkpoint{Org: w.org, Size: 4, Hash: th, Time: w.now}
	msg, err := c.Sign(w.server)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenCheckpoint(msg, pub(w.server))
	if err != nil || got != c {
		t.Fatalf("checkpoint round trip: %+v, %v", got, err)
	}
	if _, err := OpenCheckpoint(msg, pub(w.admin)); err == nil {
		t.Fatal("a checkpoint verified with another key")
	}
	// Any change of an old entry changes the tree hash.
	var h2 Hashes
	for i, raw := range w.entries {
		if i == 1 {
			raw = append([]byte(nil), raw...)
			raw[len(raw)-3] ^= 1
		}
		h2.Append(int64(i), raw)
	}
	if th2, _ := h2.TreeHash(4); th2 == th {
		t.Fatal("an edited entry kept the tree hash")
	}
}

// FuzzParse: entries come from the server; Parse must hold on any bytes,
// and what parses is canonical.
func FuzzParse(f *testing.F) {
	w := newWorld(f)
	for _, e := range w.entries {
		f.Add(e)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := Parse(raw)
		if err != nil {
			return
		}
		text, err := e.Text()
		if err != nil || !strings.HasPrefix(string(raw), text+"\n") {
			t.Fatalf("parsed entry does not print back: %v", err)
		}
	})
}

func TestFuzzSeedsPresent(t *testing.T) {
	if os.Getenv("COFFER_WRITE_SEEDS") != "" {
		w := newWorld(t)
		files := map[string][]byte{}
		for i, e := range w.entries {
			files[fmt.Sprintf("entry-%d", i)] = testenv.FuzzCorpusFile(e)
		}
		files["no-signature"] = testenv.FuzzCorpusFile([]byte("coffer org entry v1\norg 00\nkind user\n"))
		files["cut"] = testenv.FuzzCorpusFile(w.entries[2][:len(w.entries[2])/2])
		testenv.WriteFuzzSeeds(t, "FuzzParse", files)
	}
	testenv.CheckFuzzSeeds(t)
}

// TestFoldersSharesGrantsAndPolicy: the organisation's entries of issue 11
// — folders, shares, grants, roles, policy — each with what it refuses.
func TestFoldersSharesGrantsAndPolicy(t *testing.T) {
	w := newWorld(t)
	s := w.state(t)
	admin := notekey.Signer(AdminName, w.admin)
	// Bob (member) and Gail (guest) join.
	join := func(email, role string) ed25519.PrivateKey {
		inv, usr := key(t), key(t)
		rcpt, _ := age.GenerateHybridIdentity()
		for _, raw := range [][]byte{
			sign(t, &Entry{Org: w.org, Kind: Invite, Email: email, Role: role, Invite: pub(inv), Expires: w.now.Add(time.Hour), Time: w.now}, admin),
			sign(t, &Entry{Org: w.org, Kind: User, Email: email, Role: role, Invite: pub(inv), Key: pub(usr), Recipient: rcpt.Recipient().String(), Name: email, Time: w.now},
				notekey.Signer(InviteName, inv), notekey.Signer(UserName, usr)),
			sign(t, &Entry{Org: w.org, Kind: Device, Device: object.NewRandomID(), Email: email, Key: pub(key(t)), Transport: pub(key(t)), Name: "laptop", Time: w.now},
				notekey.Signer(UserName, usr)),
		} {
			if _, err := s.Apply(raw, w.now); err != nil {
				t.Fatal(err)
			}
		}
		return usr
	}
	bob, gail := join("bob@acme.test", "member"), join("gail@guest.test", "guest")
	ann := notekey.Signer(UserName, w.user)
	folder := object.NewRandomID()
	apply := func(e *Entry, signers ...note.Signer) error {
		e.Org, e.Time = w.org, w.now
		_, err := s.Apply(sign(t, e, signers...), w.now)
		return err
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	refused := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrRejected) {
			t.Errorf("%s: accepted (%v)", what, err)
		}
	}
	must(apply(&Entry{Kind: Folder, Folder: folder, Email: "ann@acme.test"}, ann))
	refused("a folder registered twice", apply(&Entry{Kind: Folder, Folder: folder, Email: "bob@acme.test"}, notekey.Signer(UserName, bob)))
	refused("a guest registers a folder", apply(&Entry{Kind: Folder, Folder: object.NewRandomID(), Email: "gail@guest.test"}, notekey.Signer(UserName, gail)))
	refused("a member shares what is not theirs", apply(&Entry{Kind: Share, Folder: folder, Email: "bob@acme.test", Role: Editor, By: "bob@acme.test"}, notekey.Signer(UserName, bob)))
	refused("a share to a guest", apply(&Entry{Kind: Share, Folder: folder, Email: "gail@guest.test", Role: Viewer, By: "ann@acme.test"}, ann))
	refused("a share signed by another key than by's", apply(&Entry{Kind: Share, Folder: folder, Email: "bob@acme.test", Role: Viewer, By: "ann@acme.test"}, notekey.Signer(UserName, bob)))
	must(apply(&Entry{Kind: Share, Folder: folder, Email: "bob@acme.test", Role: Viewer, By: "ann@acme.test"}, ann))
	if r := s.FolderRole("bob@acme.test", folder, w.now); r != Viewer || s.MayWrite("bob@acme.test", folder) {
		t.Fatalf("bob is %q", r)
	}
	must(apply(&Entry{Kind: Share, Folder: folder, Email: "bob@acme.test", Role: Editor, By: "ann@acme.test"}, ann))
	if !s.MayWrite("bob@acme.test", folder) {
		t.Fatal("bob is not an editor after the role change")
	}
	refused("a grant signed by a user", apply(&Entry{Kind: Grant, Email: "gail@guest.test", Folders: []object.ID{folder}, Expires: w.now.Add(time.Hour)}, ann))
	refused("a grant to a member", apply(&Entry{Kind: Grant, Email: "bob@acme.test", Folders: []object.ID{folder}, Expires: w.now.Add(time.Hour)}, admin))
	refused("a grant of 91 days", apply(&Entry{Kind: Grant, Email: "gail@guest.test", Folders: []object.ID{folder}, Expires: w.now.Add(91 * 24 * time.Hour)}, admin))
	refused("a grant of an unknown folder", apply(&Entry{Kind: Grant, Email: "gail@guest.test", Folders: []object.ID{object.NewRandomID()}, Expires: w.now.Add(time.Hour)}, admin))
	grant := sign(t, &Entry{Org: w.org, Kind: Grant, Email: "gail@guest.test", Folders: []object.ID{folder}, Expires: w.now.Add(30 * 24 * time.Hour), Time: w.now}, admin)
	_, err := s.Apply(grant, w.now)
	must(err)
	if r := s.FolderRole("gail@guest.test", folder, w.now); r != "guest" {
		t.Fatalf("gail is %q", r)
	}
	if r := s.FolderRole("gail@guest.test", folder, w.now.Add(31*24*time.Hour)); r != "" {
		t.Fatalf("gail is %q after the grant ended", r)
	}
	if m := s.FolderMembers(folder, w.now); strings.Join(m, " ") != "ann@acme.test bob@acme.test gail@guest.test" {
		t.Fatalf("members %v", m)
	}
	share := sign(t, &Entry{Org: w.org, Kind: Share, Folder: folder, Email: "bob@acme.test", Role: Editor, By: "ann@acme.test", Time: w.now}, ann)
	must(apply(&Entry{Kind: Unshare, Folder: folder, Email: "bob@acme.test", By: "ann@acme.test"}, ann))
	_, err = s.Apply(share, w.now)
	refused("the share replayed after the unshare", err)
	if !s.Folders[folder].Writers["bob@acme.test"] || s.FolderRole("bob@acme.test", folder, w.now) != "" {
		t.Fatal("bob's past as an editor or his removal is lost")
	}
	// The admin ends the grant early; the old grant cannot be replayed.
	end := &Entry{Org: w.org, Kind: Grant, Email: "gail@guest.test", Folders: []object.ID{folder}, Time: w.now.Add(time.Second)}
	end.Expires = end.Time
	_, err = s.Apply(sign(t, end, admin), w.now)
	must(err)
	if r := s.FolderRole("gail@guest.test", folder, w.now.Add(2*time.Second)); r != "" {
		t.Fatalf("gail is %q after the grant was ended", r)
	}
	_, err = s.Apply(grant, w.now)
	refused("an ended grant issued again", err)
	refused("an unshare of a non-member", apply(&Entry{Kind: Unshare, Folder: folder, Email: "bob@acme.test", By: "ann@acme.test"}, ann))
	must(apply(&Entry{Kind: Role, Email: "bob@acme.test", Role: "manager"}, admin))
	doc := []byte(`{"v":1,"serial":2,"issued":"2026-11-30T00:00:00Z","max_unlock_failures":5,"idle_lock_minutes":10}`)
	must(apply(&Entry{Kind: Policy, Serial: 2, Document: doc}, admin))
	refused("an older policy serial", apply(&Entry{Kind: Policy, Serial: 2, Document: doc}, admin))
	refused("a policy signed by a user", apply(&Entry{Kind: Policy, Serial: 3, Document: []byte(strings.Replace(string(doc), `"serial":2`, `"serial":3`, 1))}, ann))
	if s.Policy == nil || s.Policy.Serial != 2 || s.Users["bob@acme.test"].Role != "manager" {
		t.Fatalf("policy %+v, bob %+v", s.Policy, s.Users["bob@acme.test"])
	}

	// Key epochs: from 2 on, each in turn, by who may share the folder.
	commit := func(epoch int64) []byte {
		return EpochCommitment(folder, epoch, "age1pq1example", bytes.Repeat([]byte{byte(epoch)}, 32))
	}
	epoch := func(n int64, by string) *Entry {
		return &Entry{Kind: Epoch, Folder: folder, Epoch: n, Commit: commit(n), By: by}
	}
	if f := s.Folders[folder]; f.LastEpoch != 0 || f.Epochs != nil {
		t.Fatalf("a new folder's epochs: last %d, %v", f.LastEpoch, f.Epochs)
	}
	refused("epoch 2 before epoch 1", apply(epoch(2, "ann@acme.test"), ann))
	_, err = s.Apply(sign(t, &Entry{Org: w.org, Kind: Share, Folder: folder, Email: "bob@acme.test", Role: Viewer, By: "ann@acme.test",
		Time: w.now.Add(20 * time.Second)}, ann), w.now)
	must(err)
	refused("epoch 1 by a manager among the members, not the owner", apply(epoch(1, "bob@acme.test"), notekey.Signer(UserName, bob)))
	_, err = s.Apply(sign(t, &Entry{Org: w.org, Kind: Unshare, Folder: folder, Email: "bob@acme.test", By: "ann@acme.test",
		Time: w.now.Add(30 * time.Second)}, ann), w.now)
	must(err)
	must(apply(epoch(1, "ann@acme.test"), ann))
	refused("epoch 3 before epoch 2", apply(epoch(3, "ann@acme.test"), ann))
	refused("an epoch by someone off the folder (bob, a manager not among its members)", apply(epoch(2, "bob@acme.test"), notekey.Signer(UserName, bob)))
	refused("an epoch signed by another key than by's", apply(epoch(2, "ann@acme.test"), notekey.Signer(UserName, bob)))
	refused("an epoch of an unknown folder", apply(&Entry{Kind: Epoch, Folder: object.NewRandomID(), Epoch: 2, Commit: commit(2), By: "ann@acme.test"}, ann))
	must(apply(epoch(2, "ann@acme.test"), ann))
	refused("a second epoch 2", apply(&Entry{Kind: Epoch, Folder: folder, Epoch: 2, Commit: commit(9), By: "ann@acme.test"}, ann))
	_, err = s.Apply(sign(t, &Entry{Org: w.org, Kind: Share, Folder: folder, Email: "bob@acme.test", Role: Viewer, By: "ann@acme.test",
		Time: w.now.Add(time.Minute)}, ann), w.now)
	must(err)
	must(apply(epoch(3, "bob@acme.test"), notekey.Signer(UserName, bob))) // a manager among the members
	_, err = s.Apply(sign(t, &Entry{Org: w.org, Kind: Unshare, Folder: folder, Email: "bob@acme.test", By: "ann@acme.test",
		Time: w.now.Add(2 * time.Minute)}, ann), w.now)
	must(err)
	refused("an epoch by a manager taken off", apply(epoch(4, "bob@acme.test"), notekey.Signer(UserName, bob)))
	if f := s.Folders[folder]; f.LastEpoch != 3 || !bytes.Equal(f.Epochs[2], commit(2)) || !bytes.Equal(f.Epochs[3], commit(3)) {
		t.Fatalf("epochs: last %d, %x", f.LastEpoch, f.Epochs)
	}
	if c := s.Clone(); c.Folders[folder].LastEpoch != 3 || len(c.Folders[folder].Epochs) != 3 {
		t.Fatalf("a clone lost the epochs: %+v", c.Folders[folder])
	}
	if _, err := Sign(&Entry{Org: w.org, Kind: Epoch, Folder: folder, Epoch: 0, Commit: commit(0), By: "ann@acme.test", Time: w.now}, ann); !errors.Is(err, ErrMalformed) {
		t.Errorf("an epoch entry for epoch 0 was signed: %v", err)
	}

	// The anchor of the folder object made with the folder: its owner's,
	// once.
	sum := bytes.Repeat([]byte{0xa7}, 32)
	anchor := func(email string) *Entry { return &Entry{Kind: Anchor, Folder: folder, Email: email, Commit: sum} }
	refused("an anchor by a manager, not the owner", apply(anchor("bob@acme.test"), notekey.Signer(UserName, bob)))
	refused("an anchor signed by another key than the owner's", apply(anchor("ann@acme.test"), notekey.Signer(UserName, bob)))
	refused("an anchor of an unknown folder", apply(&Entry{Kind: Anchor, Folder: object.NewRandomID(), Email: "ann@acme.test", Commit: sum}, ann))
	must(apply(anchor("ann@acme.test"), ann))
	again := anchor("ann@acme.test")
	again.Commit = bytes.Repeat([]byte{0x5c}, 32)
	refused("a second anchor", apply(again, ann))
	if c := s.Clone(); !bytes.Equal(s.Folders[folder].Anchor, sum) || !bytes.Equal(c.Folders[folder].Anchor, sum) {
		t.Fatalf("anchor %x, in a clone %x", s.Folders[folder].Anchor, c.Folders[folder].Anchor)
	}
	if _, err := Sign(&Entry{Org: w.org, Kind: Anchor, Folder: folder, Email: "ann@acme.test", Commit: sum[:31], Time: w.now}, ann); !errors.Is(err, ErrMalformed) {
		t.Errorf("an anchor of 31 bytes was signed: %v", err)
	}
}

// TestEpochCommitmentVector holds the commitment's bytes (a protocol
// value: every client computes the same).
func TestEpochCommitmentVector(t *testing.T) {
	folder, _ := object.ParseID("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
	got := EpochCommitment(folder, 2, "age1pq1example", bytes.Repeat([]byte{7}, 32))
	h := sha256.New()
	h.Write([]byte("coffer epoch key v1\x00"))
	h.Write(folder[:])
	h.Write([]byte{0, 0, 0, 0, 0, 0, 0, 2})
	h.Write([]byte("age1pq1example\x00"))
	h.Write(bytes.Repeat([]byte{7}, 32))
	if want := h.Sum(nil); !bytes.Equal(got, want) {
		t.Fatalf("commitment %x, want %x", got, want)
	}
	if bytes.Equal(got, EpochCommitment(folder, 3, "age1pq1example", bytes.Repeat([]byte{7}, 32))) {
		t.Fatal("the commitment does not bind the epoch")
	}
}

// TestUserEnrolsAnew: a user every device of whom is revoked enrols anew
// with new keys, by an invite made since the revocation; not while a
// device of theirs is live, nor by an invite made before it.
func TestUserEnrolsAnew(t *testing.T) {
	w := newWorld(t)
	s := w.state(t)
	admin := notekey.Signer(AdminName, w.admin)
	rcpt, _ := age.GenerateHybridIdentity()
	at := func(d time.Duration) time.Time { return w.now.Add(d) }
	invite := func(k ed25519.PrivateKey, when time.Time) {
		t.Helper()
		if _, err := s.Apply(sign(t, &Entry{Org: w.org, Kind: Invite, Email: "ann@acme.test", Role: "member", Invite: pub(k),
			Expires: when.Add(24 * time.Hour), Time: when}, admin), w.now); err != nil {
			t.Fatal(err)
		}
	}
	user := func(inv, usr ed25519.PrivateKey, when time.Time) error {
		_, err := s.Apply(sign(t, &Entry{Org: w.org, Kind: User, Email: "ann@acme.test", Role: "member", Invite: pub(inv), Key: pub(usr),
			Recipient: rcpt.Recipient().String(), Name: "Ann Trader", Time: when},
			notekey.Signer(InviteName, inv), notekey.Signer(UserName, usr)), w.now)
		return err
	}
	early, late, usr := key(t), key(t), key(t)
	invite(early, at(time.Minute))
	if err := user(early, usr, at(2*time.Minute)); !errors.Is(err, ErrRejected) {
		t.Fatalf("a second user entry while her laptop is live: %v", err)
	}
	if _, err := s.Apply(sign(t, &Entry{Org: w.org, Kind: Revoke, Device: w.device, Reason: "lost", Time: at(3 * time.Minute)}, admin), w.now); err != nil {
		t.Fatal(err)
	}
	if err := user(early, usr, at(4*time.Minute)); !errors.Is(err, ErrRejected) {
		t.Fatalf("an invite made before the revocation enrolled her anew: %v", err)
	}
	invite(late, at(5*time.Minute))
	if !s.EnrolsAnew(s.Invites[string(pub(late))]) || s.EnrolsAnew(s.Invites[string(pub(early))]) {
		t.Fatal("EnrolsAnew disagrees with the rules")
	}
	if err := user(late, usr, at(6*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if u := s.Users["ann@acme.test"]; u.Generation != 2 || !u.Key.Equal(pub(usr)) {
		t.Fatalf("after enrolling anew: %+v", u)
	}
	if err := user(late, key(t), at(7*time.Minute)); !errors.Is(err, ErrRejected) {
		t.Fatalf("the invite used twice: %v", err)
	}
}
