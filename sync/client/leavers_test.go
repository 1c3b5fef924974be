package client_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

// TestRevokedPersonLeavesEveryFolder: IT revokes every device of someone
// who left the firm. He is no reader of the folders he was in: the
// owner's next sync rotates their keys, so what is written after is under
// a key he never held, even to a copy of his vault given the server's
// blobs; and his own client, served a log that revokes it by a server
// that still answers it, syncs nothing.
func TestRevokedPersonLeavesEveryFolder(t *testing.T) {
	ctx := context.Background()
	o, ann, bob, deals := dealsSharedWithBob(t, policy.Member)
	keep := filepath.Join(t.TempDir(), "bob-copy")
	copyDir(t, bob.v.Dir(), keep)
	if err := o.admin.Revoke(ctx, bob.v.DeviceID(), "left the firm"); err != nil {
		t.Fatal(err)
	}
	ann.sync(t)
	if ep, err := ann.v.FolderEpochs(ctx, deals.ID); err != nil || len(ep) != 2 {
		t.Fatalf("epochs of Deals after bob's revocation: %v, %v", ep, err)
	}
	members, err := ann.s.Members(ctx, deals.ID)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(members, func(m client.Member) bool { return m.Email == "bob@acme.test" }) {
		t.Errorf("bob is still listed as a member: %+v", members)
	}
	put(t, ann.v, "Deals", "after.txt", "written after bob left")
	ann.sync(t)
	id := versionID(t, ann.v, "Deals", "after.txt")
	_, data, err := o.store.GetObject(ctx, object.KindManifest, id)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := vault.Open(ctx, keep, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer cv.Close()
	if _, err := cv.Receive(ctx, object.KindManifest, id, data); !errors.Is(err, vault.ErrNotAddressed) {
		t.Fatalf("bob's copy opens a version written after he left: %v", err)
	}
	// A server that ignores the revocation and serves bob the log.
	o.serveLog(t, o.entries(t))
	if _, err := bob.s.Sync(ctx); !errors.Is(err, client.ErrDeviceRevoked) {
		t.Fatalf("bob's device syncs on with a log that revokes it: %v", err)
	}
}

// TestGrantBeforeEnrolment: the admin grants a folder to a guest who has
// not enrolled yet (grant, then invite, the usual order). The owner's
// syncs go on — before, every one failed on a reader with no key to wrap
// to — and the guest reads the folder once enrolled.
func TestGrantBeforeEnrolment(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann, falcon := annWithFalcon(t, o, "falcon model")
	code, _, err := o.admin.Guest(ctx, "eve@ext.test", []object.ID{falcon.ID}, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ann.v.CreateFolder(ctx, "Memos", policy.Internal); err != nil {
		t.Fatal(err)
	}
	put(t, ann.v, "Memos", "memo.txt", "unrelated memo")
	if st := ann.sync(t); st.VersionsUp != 1 {
		t.Fatalf("ann's sync with eve granted but not enrolled pushed %d versions, want the memo", st.VersionsUp)
	}
	eve := enrollAs(t, code, "Eve Consultant", "Eve's laptop")
	ann.sync(t)
	eve.sync(t)
	if got := string(read(t, eve.v, "Project Falcon", "model.txt")); got != "falcon model" {
		t.Fatalf("eve reads %q", got)
	}
}

// TestWritesWaitForTheRotation: a guest's grant runs out. The owner's
// device, which rotates the key, writes nothing new under the key the
// guest holds until it has (it says why; its next sync rotates, before
// its push); an editor's device, which cannot rotate, writes on rather
// than wait for someone else's device.
func TestWritesWaitForTheRotation(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann, falcon, bob := falconWithEditor(t, o, "falcon model")
	_, expires := gailOn(t, o, ann, falcon, 3*time.Second)
	bob.sync(t)
	time.Sleep(time.Until(expires) + 200*time.Millisecond)
	_, err := ann.v.Put(ctx, falcon, "plan.txt", bytes.NewReader([]byte("written after gail left")), vault.PutOptions{})
	if !errors.Is(err, vault.ErrRotationOwed) || !strings.Contains(err.Error(), "gail@consult.test") {
		t.Fatalf("ann wrote under the key gail holds: %v", err)
	}
	bob.sync(t)
	put(t, bob.v, "Project Falcon", "notes.txt", "an editor's work goes on")
	ann.sync(t)
	put(t, ann.v, "Project Falcon", "plan.txt", "written after gail left")
	if f, err := ann.v.Folder(ctx, "Project Falcon"); err != nil || f.Epoch != 2 {
		t.Fatalf("ann's folder after her sync: epoch %d, %v", f.Epoch, err)
	}
}

// TestRemovedEditorsLaterVersionsRefused: bob, an editor taken off the
// folder, keeps a copy of his vault from before and writes a version in
// it; a server that helps him hands it to ann. Ann's device refuses it:
// it is dated after his writing was taken away. What he wrote while an
// editor, arriving late, is still taken.
func TestRemovedEditorsLaterVersionsRefused(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann, falcon, bob := falconWithEditor(t, o, "falcon model")
	bob.sync(t)
	put(t, bob.v, "Project Falcon", "before.txt", "written while an editor")
	early := versionID(t, bob.v, "Project Falcon", "before.txt")
	earlyData, err := bob.v.Envelope(ctx, object.KindManifest, early)
	if err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(t.TempDir(), "bob-copy")
	copyDir(t, bob.v.Dir(), keep)
	if err := ann.s.Unshare(ctx, falcon.ID, "bob@acme.test"); err != nil {
		t.Fatal(err)
	}
	// The copy writes as it would ten minutes after his removal (past
	// orglog.WriteGrace).
	later := func() time.Time { return time.Now().Add(10 * time.Minute) }
	cv, err := vault.OpenWith(ctx, keep, pass, vault.Options{Now: later})
	if err != nil {
		t.Fatal(err)
	}
	defer cv.Close()
	put(t, cv, "Project Falcon", "wire.txt", "pay to IBAN XX00 EVIL")
	late := versionID(t, cv, "Project Falcon", "wire.txt")
	lateData, err := cv.Envelope(ctx, object.KindManifest, late)
	if err != nil {
		t.Fatal(err)
	}
	ann.sync(t)
	_, err = ann.v.Receive(ctx, object.KindManifest, late, lateData)
	if !errors.Is(err, vault.ErrRejected) || !strings.Contains(err.Error(), "not written while they could write") {
		t.Fatalf("ann's device takes a version bob wrote after he was taken off: %v", err)
	}
	if _, err := ann.v.Receive(ctx, object.KindManifest, early, earlyData); err != nil {
		t.Fatalf("bob's version from while he was an editor, arriving late: %v", err)
	}
}

// TestRevokedDevicesWorkStaysReadable: IT revokes ann's lost laptop. What
// it signed before — the folder she made on it, its keys, its versions —
// stays readable to bob and to ann's other device (before, everyone got
// "vault data was altered" for the whole folder); a version the laptop
// dates after its revocation, or dates back over one written since,
// handed over by a server that helps a thief, is refused.
func TestRevokedDevicesWorkStaysReadable(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	code := o.inviteAs("ann@acme.test", policy.Manager)
	laptop := enrollAs(t, code, "Ann Manager", "Ann's laptop")
	desktop := pair(t, code, laptop, "Ann's desktop")
	bob := enrollAs(t, o.inviteAs("bob@acme.test", policy.Member), "Bob Analyst", "Bob's laptop")
	deals, err := laptop.v.CreateFolder(ctx, "Deals", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	put(t, laptop.v, "Deals", "terms.txt", "price 42")
	laptop.sync(t)
	if err := laptop.s.Share(ctx, deals.ID, "bob@acme.test", orglog.Viewer); err != nil {
		t.Fatal(err)
	}
	desktop.sync(t)
	bob.sync(t)
	keep := filepath.Join(t.TempDir(), "laptop-copy")
	copyDir(t, laptop.v.Dir(), keep)
	if err := o.admin.Revoke(ctx, laptop.v.DeviceID(), "lost in a taxi"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*device{desktop, bob} {
		d.sync(t)
		if got := string(read(t, d.v, "Deals", "terms.txt")); got != "price 42" {
			t.Errorf("%s reads %q", d.v.DeviceName(), got)
		}
	}
	// Ann's desktop writes a new version after the revocation.
	time.Sleep(1100 * time.Millisecond) // entries' times are seconds
	put(t, desktop.v, "Deals", "terms.txt", "price 43, after the laptop was lost")
	desktop.sync(t)
	bob.sync(t)
	v2 := versionID(t, desktop.v, "Deals", "terms.txt")
	// The thief's copy of the laptop, which never heard of its
	// revocation, writes a minute later (no grace for a revoked device);
	// then, with a server's help, over ann's new version, dating its own
	// before the revocation, so that it would become current.
	now := time.Now()
	clock := now.Add(time.Minute)
	cv, err := vault.OpenWith(ctx, keep, pass, vault.Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer cv.Close()
	thief := func(name, content string) (object.ID, []byte) {
		t.Helper()
		put(t, cv, "Deals", name, content)
		id := versionID(t, cv, "Deals", name)
		data, err := cv.Envelope(ctx, object.KindManifest, id)
		if err != nil {
			t.Fatal(err)
		}
		return id, data
	}
	id, data := thief("wire.txt", "pay to IBAN XX00 EVIL")
	if _, err := bob.v.Receive(ctx, object.KindManifest, id, data); !errors.Is(err, vault.ErrRejected) || !strings.Contains(err.Error(), "by a device revoked at") {
		t.Fatalf("bob takes a version the revoked laptop wrote after: %v", err)
	}
	env, err := desktop.v.Envelope(ctx, object.KindManifest, v2)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cv.Receive(ctx, object.KindManifest, v2, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range m.Chunks {
		chunk, err := desktop.v.Envelope(ctx, object.KindChunk, ref.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := cv.ReceiveChunk(ctx, m, ref, chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := cv.KeepManifest(ctx, m, env); err != nil {
		t.Fatal(err)
	}
	if _, err := cv.AdoptReceived(ctx); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(-3 * time.Second) // before the revocation
	id, data = thief("terms.txt", "price 1, dated back")
	if _, err := bob.v.Receive(ctx, object.KindManifest, id, data); !errors.Is(err, vault.ErrRejected) || !strings.Contains(err.Error(), "made on a version of") {
		t.Fatalf("bob takes the revoked laptop's version dated back over one written since: %v", err)
	}
	// Nor a new revision of the folder object (its class and name).
	for id, env := range classChanged(t, cv, "Deals") {
		if _, err := bob.v.Receive(ctx, object.KindFolder, id, env); !errors.Is(err, vault.ErrRejected) || !strings.Contains(err.Error(), "signed by a device revoked") {
			t.Errorf("bob takes a folder revision the revoked laptop signed: %v", err)
		}
	}
}

// classChanged makes folder restricted in v (a thief's copy of a revoked
// laptop) and returns the folder object revisions that made, as envelopes
// by object ID.
func classChanged(t *testing.T, v *vault.Vault, folder string) map[object.ID][]byte {
	t.Helper()
	ctx := context.Background()
	if _, err := v.ChangeClass(ctx, folder, policy.Restricted); err != nil {
		t.Fatal(err)
	}
	out, err := v.Outgoing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	revised := map[object.ID][]byte{}
	for _, o := range out {
		if o.Kind != object.KindFolder {
			continue
		}
		env, err := v.Envelope(ctx, object.KindFolder, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		revised[o.ID] = env
	}
	if len(revised) == 0 {
		t.Fatal("the class change made no folder revision")
	}
	return revised
}

// TestFolderOfALostLaptopStillShared: ann made Deals on her laptop, which
// IT revokes once it is lost. Her desktop then shares Deals with dave, who
// had never received it: he takes the folder object the laptop signed,
// because ann's first sync anchored it in the log (before, a folder object
// from a revoked device was refused whole, so dave could never open
// Deals). A folder object the laptop signs after, handed to him by a
// server that helps a thief, is still refused.
func TestFolderOfALostLaptopStillShared(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	code := o.inviteAs("ann@acme.test", policy.Manager)
	laptop := enrollAs(t, code, "Ann Manager", "Ann's laptop")
	desktop := pair(t, code, laptop, "Ann's desktop")
	deals, err := laptop.v.CreateFolder(ctx, "Deals", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	put(t, laptop.v, "Deals", "terms.txt", "price 42")
	laptop.sync(t)
	desktop.sync(t)
	if st := desktop.v.OrgState(); st.Folders[deals.ID] == nil || st.Folders[deals.ID].Anchor == nil {
		t.Fatal("the laptop's sync did not anchor the folder it made")
	}
	keep := filepath.Join(t.TempDir(), "laptop-copy")
	copyDir(t, laptop.v.Dir(), keep)
	if err := o.admin.Revoke(ctx, laptop.v.DeviceID(), "lost in a taxi"); err != nil {
		t.Fatal(err)
	}
	desktop.sync(t)
	dave := enrollAs(t, o.inviteAs("dave@acme.test", policy.Member), "Dave Analyst", "Dave's laptop")
	if err := desktop.s.Share(ctx, deals.ID, "dave@acme.test", orglog.Viewer); err != nil {
		t.Fatal(err)
	}
	desktop.sync(t)
	dave.sync(t)
	if got := string(read(t, dave.v, "Deals", "terms.txt")); got != "price 42" {
		t.Fatalf("dave reads %q", got)
	}
	// The thief's copy of the laptop changes the folder's class: its new
	// revision is not the anchored object.
	cv, err := vault.Open(ctx, keep, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer cv.Close()
	for id, env := range classChanged(t, cv, "Deals") {
		if _, err := dave.v.Receive(ctx, object.KindFolder, id, env); !errors.Is(err, vault.ErrRejected) || !strings.Contains(err.Error(), "not the one its owner anchored") {
			t.Errorf("dave takes a folder revision the revoked laptop signed: %v", err)
		}
	}
}

// TestLostOnlyLaptopEnrolsAnew: erin's only laptop is lost and IT revokes
// it. An invite the admin makes after that enrols her anew, with new keys
// (before, every invite for her failed for good: "no device left"), and
// she reads Deals again, its files from before and after; an invite made
// before the revocation, which a thief may hold with the laptop, does not
// enrol her, nor does her first one.
func TestLostOnlyLaptopEnrolsAnew(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann := enrollAs(t, o.inviteAs("ann@acme.test", policy.Manager), "Ann Manager", "Ann's laptop")
	first := o.inviteAs("erin@acme.test", policy.Member)
	erin := enrollAs(t, first, "Erin Trader", "Erin's laptop")
	deals, err := ann.v.CreateFolder(ctx, "Deals", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	put(t, ann.v, "Deals", "terms.txt", "price 42")
	ann.sync(t)
	if err := ann.s.Share(ctx, deals.ID, "erin@acme.test", orglog.Viewer); err != nil {
		t.Fatal(err)
	}
	erin.sync(t)
	stale := o.inviteAs("erin@acme.test", policy.Member) // made before the loss, never used
	time.Sleep(1100 * time.Millisecond)                  // entries' times are seconds
	if err := o.admin.Revoke(ctx, erin.v.DeviceID(), "lost with its only owner's work"); err != nil {
		t.Fatal(err)
	}
	ann.sync(t)
	put(t, ann.v, "Deals", "after.txt", "written after the loss")
	ann.sync(t)
	for name, code := range map[string]string{"her first invite": first, "an invite made before the revocation": stale} {
		_, err := client.Enroll(ctx, client.Enrollment{Dir: filepath.Join(t.TempDir(), "vault"), Invite: code,
			Name: "Erin Trader", DeviceName: "Erin's new laptop", Passphrase: pass})
		if !client.IsCode(err, wire.CodeInvite) || !strings.Contains(err.Error(), "no device left") {
			t.Fatalf("%s: %v, want it refused", name, err)
		}
	}
	again := enrollAs(t, o.inviteAs("erin@acme.test", policy.Member), "Erin Trader", "Erin's new laptop")
	if st := again.v.OrgState(); st.Users["erin@acme.test"].Generation != 2 {
		t.Fatalf("erin's user generation %d", st.Users["erin@acme.test"].Generation)
	}
	ann.sync(t) // wraps Deals' key to her new keys
	again.sync(t)
	for name, want := range map[string]string{"terms.txt": "price 42", "after.txt": "written after the loss"} {
		if got := string(read(t, again.v, "Deals", name)); got != want {
			t.Errorf("erin's new laptop reads %s as %q", name, got)
		}
	}
}

// falconWithEditor is annWithFalcon with Bob, a member, an editor of the
// folder (his device not synced yet).
func falconWithEditor(t *testing.T, o *org, content string) (*device, vault.Folder, *device) {
	t.Helper()
	ann, falcon := annWithFalcon(t, o, content)
	bob := enrollAs(t, o.inviteAs("bob@acme.test", policy.Member), "Bob Analyst", "Bob's laptop")
	if err := ann.s.Share(context.Background(), falcon.ID, "bob@acme.test", orglog.Editor); err != nil {
		t.Fatal(err)
	}
	return ann, falcon, bob
}

// TestBadDeviceNameMakesNothing: a device name the log refuses (a tab in
// it) is said before anything is made. It made a half-enrolled vault that
// looked usable, and a retry reused the stored name and failed the same.
func TestBadDeviceNameMakesNothing(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	code := o.inviteAs("ivy@acme.test", policy.Member)
	dir := filepath.Join(t.TempDir(), "vault")
	_, err := client.Enroll(ctx, client.Enrollment{Dir: dir, Invite: code, Name: "Ivy Analyst", DeviceName: "ivy\tpc", Passphrase: pass})
	if err == nil || !strings.Contains(err.Error(), "device name") || !strings.Contains(err.Error(), "nothing was created") {
		t.Fatalf("enrol with a tab in the device name: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the refused enrolment left %s: %v", dir, err)
	}
	ivy := enrollAs(t, code, "Ivy Analyst", "ivy pc")
	if ivy.v.DeviceName() != "ivy pc" {
		t.Fatalf("device name %q", ivy.v.DeviceName())
	}
}

// TestEnrolAnewRotatesTheKey: bob's only laptop is lost; IT revokes it
// and bob enrols anew at once, before ann (who owns Deals) syncs. The
// lost laptop held Deals' key: ann's next sync rotates it, though bob
// reads Deals again, and what ann writes after is under a key the thief's
// copy of the laptop never had (before, bob reading again hid the
// leaver: no rotation, and the copy read everything written after; found
// by a reviewer).
func TestEnrolAnewRotatesTheKey(t *testing.T) {
	ctx := context.Background()
	o, ann, bob, deals := dealsSharedWithBob(t, policy.Member)
	thief := filepath.Join(t.TempDir(), "stolen")
	copyDir(t, bob.v.Dir(), thief)
	if err := o.admin.Revoke(ctx, bob.v.DeviceID(), "lost in a taxi"); err != nil {
		t.Fatal(err)
	}
	again := enrollAs(t, o.inviteAs("bob@acme.test", policy.Member), "Bob Analyst", "Bob's new laptop")
	ann.sync(t)
	if st := ann.v.OrgState(); st.Folders[deals.ID].LastEpoch != 2 || len(st.Leavers(deals.ID, time.Now())) != 0 {
		t.Fatalf("after bob enrolled anew, Deals is at epoch %d, leavers %v", st.Folders[deals.ID].LastEpoch, st.Leavers(deals.ID, time.Now()))
	}
	put(t, ann.v, "Deals", "after.txt", "written after the loss")
	ann.sync(t)
	again.sync(t)
	if got := string(read(t, again.v, "Deals", "after.txt")); got != "written after the loss" {
		t.Fatalf("bob's new laptop reads %q", got)
	}
	cv, err := vault.Open(ctx, thief, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer cv.Close()
	id := versionID(t, ann.v, "Deals", "after.txt")
	env, err := ann.v.Envelope(ctx, object.KindManifest, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cv.Receive(ctx, object.KindManifest, id, env); !errors.Is(err, vault.ErrNotAddressed) {
		t.Fatalf("the lost laptop's copy opens the version written after: %v", err)
	}
}
