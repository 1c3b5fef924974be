package client_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/sync/server"
	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/wire"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

// TestPullKilledBeforeRecording: a pull killed after it stored another
// person's version and before it recorded it. The next open adopts the
// leftover; the version is the server's, so it is never offered to the
// server as this device's (which the server refuses, and which stopped
// every later sync for good), and the device goes on syncing.
func TestPullKilledBeforeRecording(t *testing.T) {
	ctx := context.Background()
	o, ann, bob, _ := dealsSharedWithBob(t, policy.Member)
	put(t, ann.v, "Deals", "late.txt", "written while bob's pull was killed")
	ann.sync(t)
	id := versionID(t, ann.v, "Deals", "late.txt")
	_, data, err := o.store.GetObject(ctx, object.KindManifest, id)
	if err != nil {
		t.Fatal(err)
	}
	// What the pull had done when killed: the manifest and its chunks
	// stored, nothing recorded.
	m, err := bob.v.Receive(ctx, object.KindManifest, id, data)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range m.Chunks {
		chunk, err := ann.v.Envelope(ctx, object.KindChunk, ref.ID) // the bytes ann pushed
		if err != nil {
			t.Fatal(err)
		}
		if err := bob.v.ReceiveChunk(ctx, m, ref, chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := bob.v.KeepManifest(ctx, m, data); err != nil {
		t.Fatal(err)
	}
	dir := bob.v.Dir()
	bob.s.Close()
	bob.v.Close()
	v, err := vault.Open(ctx, dir, pass)
	if err != nil {
		t.Fatal(err)
	}
	again := newDevice(t, v)
	if out, err := v.Outgoing(ctx); err != nil || len(out) != 0 {
		t.Fatalf("bob's outbox after reopening: %d objects (%v); want none, the leftover is ann's", len(out), err)
	}
	put(t, ann.v, "Deals", "later.txt", "after bob's device came back")
	ann.sync(t)
	again.sync(t)
	for name, want := range map[string]string{"late.txt": "written while bob's pull was killed", "later.txt": "after bob's device came back"} {
		if got := string(read(t, v, "Deals", name)); got != want {
			t.Errorf("bob reads %s: %q", name, got)
		}
	}
}

// answerFails is the server's store whose first pairing answer fails, as
// when the server dies after the log took the approved device's entry.
type answerFails struct {
	store.Store
	failed atomic.Bool
}

func (s *answerFails) AnswerPairing(ctx context.Context, id object.ID, bundle []byte) error {
	if s.failed.CompareAndSwap(false, true) {
		return errors.New("the server stopped here")
	}
	return s.Store.AnswerPairing(ctx, id, bundle)
}

// TestApprovalRetriedAfterAFailedStep: the server took the new device's
// entry into the log and then failed before answering the pairing. Ann
// approves again: her phone gets its keys and syncs (before, the retry
// said "the device ID is taken", and the log kept an active device that
// never had keys).
func TestApprovalRetriedAfterAFailedStep(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	code := o.inviteAs("ann@acme.test", policy.Manager)
	laptop := enrollAs(t, code, "Ann Manager", "Ann's laptop")
	srv, err := server.New(ctx, server.Config{Store: &answerFails{Store: o.store}, TLSKeyHash: o.pin})
	if err != nil {
		t.Fatal(err)
	}
	o.Serve(srv.Handler())
	p, err := client.RequestPairing(ctx, code, "Ann's phone")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Approve(ctx, laptop.s, p.Code); err == nil {
		t.Fatal("the first approval did not fail")
	}
	if got, err := client.Approve(ctx, laptop.s, p.Code); err != nil || got.Name != "Ann's phone" {
		t.Fatalf("approval retried: %q %v", got.Name, err)
	}
	v, err := p.Wait(ctx, filepath.Join(t.TempDir(), "vault"), pass)
	if err != nil {
		t.Fatal(err)
	}
	phone := newDevice(t, v)
	if _, err := laptop.v.CreateFolder(ctx, "Notes", policy.Internal); err != nil {
		t.Fatal(err)
	}
	put(t, laptop.v, "Notes", "a.txt", "from the laptop")
	laptop.sync(t)
	phone.sync(t)
	if got := string(read(t, phone.v, "Notes", "a.txt")); got != "from the laptop" {
		t.Fatalf("the phone reads %q", got)
	}
}

// chunkBlobs lists the chunk blob files of the server's storage.
func chunkBlobs(t *testing.T, o *org) map[string]bool {
	t.Helper()
	files := o.BlobFiles(t, object.KindChunk)
	out := map[string]bool{}
	for _, f := range files {
		out[f] = true
	}
	return out
}

// TestLostBlobDoesNotStopSync: the server lost a chunk's blob (a damaged
// disk, a partial restore). Bob's sync says so and still takes the
// version written after it (before, "server: internal error" at that
// event stopped every reader's sync, in every folder, for good); once IT
// restores the blob, his next sync fetches the version.
func TestLostBlobDoesNotStopSync(t *testing.T) {
	o, ann, bob, _ := dealsSharedWithBob(t, policy.Member)
	before := chunkBlobs(t, o)
	put(t, ann.v, "Deals", "report.txt", "the report whose chunk the server loses")
	ann.sync(t)
	saved := map[string][]byte{}
	for f := range chunkBlobs(t, o) {
		if before[f] {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		saved[f] = data
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	if len(saved) == 0 {
		t.Fatal("the report stored no chunk blob")
	}
	put(t, ann.v, "Deals", "later.txt", "written after")
	ann.sync(t)
	st, err := bob.s.Sync(context.Background())
	var lost *client.LostError
	if !errors.As(err, &lost) || lost.N != 1 || !strings.Contains(err.Error(), "server has lost") {
		t.Fatalf("bob's sync: %v, want the lost object named", err)
	}
	if st.Pending != 1 {
		t.Fatalf("bob's sync counts %d objects waiting, want the lost one", st.Pending)
	}
	if got := string(read(t, bob.v, "Deals", "later.txt")); got != "written after" {
		t.Fatalf("bob reads %q", got)
	}
	if names := fileNames(t, bob.v, "Deals"); slices.Contains(names, "report.txt") {
		t.Fatalf("bob lists %v with a chunk of report.txt lost", names)
	}
	for f, data := range saved {
		if err := os.WriteFile(f, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if st := bob.sync(t); st.Pending != 0 {
		t.Fatalf("%d objects still waiting after the blob came back", st.Pending)
	}
	if got := string(read(t, bob.v, "Deals", "report.txt")); got != "the report whose chunk the server loses" {
		t.Fatalf("bob reads %q after the blob came back", got)
	}
}

// TestRemovedEditorIsToldOfUnpushedWork: bob, an editor, saves a draft
// and ann takes him off the folder before his device synced. His sync
// removes the folder (the server takes nothing from him now) and says
// so, naming the version of his that never reached the server (before,
// the CLI said nothing and exited 0).
func TestRemovedEditorIsToldOfUnpushedWork(t *testing.T) {
	ctx := context.Background()
	_, ann, bob, deals := dealsSharedWithBob(t, policy.Member)
	if err := ann.s.Share(ctx, deals.ID, "bob@acme.test", orglog.Editor); err != nil {
		t.Fatal(err)
	}
	bob.sync(t)
	put(t, bob.v, "Deals", "draft.txt", "bob's draft, never synced")
	if err := ann.s.Unshare(ctx, deals.ID, "bob@acme.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	dropped := bob.s.Dropped()
	if len(dropped) != 1 || dropped[0].Unpushed != 1 || !strings.Contains(dropped[0].Message(), "1 version made here had not reached the server") {
		t.Fatalf("dropped %+v", dropped)
	}
	if _, err := bob.v.Folder(ctx, "Deals"); err == nil {
		t.Fatal("bob's device still holds Deals")
	}
}

// TestPairingCopyingADeviceRefused: a pairing request made with ann's
// invite that copies her desktop's ID and keys (public in the log) is
// refused. Since an approval retried after a failed step completes a
// device already in the log, such a request, once ann approved its code,
// would have had her keys sealed to the asker's recipient with no entry
// in the log for IT to revoke. (Found by a reviewer.)
func TestPairingCopyingADeviceRefused(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	code := o.inviteAs("ann@acme.test", policy.Member)
	laptop := enrollAs(t, code, "Ann Analyst", "Ann's laptop")
	desktop := pair(t, code, laptop, "Ann's desktop")
	laptop.sync(t)
	d := laptop.v.OrgState().Devices[desktop.v.DeviceID()]
	eph, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	conn := o.inviteConn(t, code)
	req := wire.PairingRequest{Email: "ann@acme.test", Device: wire.HexID(d.ID), Key: d.Key, Transport: d.Transport, Recipient: eph.Recipient().String(), Name: d.Name}
	if _, err := conn.JSON(ctx, "POST", "/v1/pairings", nil, req, nil); !client.IsCode(err, wire.CodeConflict) {
		t.Fatalf("a pairing request copying a device of the log: %v", err)
	}
	// New keys under the same ID: refused too.
	other := vault.NewDeviceKeys("Ann's desktop")
	req.Key, req.Transport = other.Public()
	if _, err := conn.JSON(ctx, "POST", "/v1/pairings", nil, req, nil); !client.IsCode(err, wire.CodeConflict) {
		t.Fatalf("a pairing request with a device ID of the log: %v", err)
	}
}

// TestLostBlobRepairedOnlyFromItsFolder: the server lost a Deals
// manifest's blob. Bob, who may write only his own folder, uploads bytes
// of the same size under that ID into it: the server keeps them out (it
// took them as the repair before checking the folder, after which the
// true object could never be put back; found by a reviewer). Ann's upload
// of the true object into Deals repairs it, and bob's next sync takes it.
func TestLostBlobRepairedOnlyFromItsFolder(t *testing.T) {
	ctx := context.Background()
	o, ann, bob, deals := dealsSharedWithBob(t, policy.Member)
	if _, err := bob.v.CreateFolder(ctx, "Bob's notes", policy.Internal); err != nil {
		t.Fatal(err)
	}
	bob.sync(t)
	mine := mustFolder(t, bob.v, "Bob's notes")
	put(t, ann.v, "Deals", "report.txt", "the report")
	out, err := ann.v.Outgoing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var og vault.Outgoing
	for _, x := range out {
		if x.Kind == object.KindManifest {
			og = x
		}
	}
	orig, err := ann.v.Envelope(ctx, object.KindManifest, og.ID)
	if err != nil {
		t.Fatal(err)
	}
	ann.sync(t)
	blob := o.BlobFile(t, object.KindManifest, og.ID)
	if err := os.Remove(blob); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.s.Sync(ctx); !errors.As(err, new(*client.LostError)) {
		t.Fatalf("bob's sync with the blob lost: %v", err)
	}
	var forged []byte
	for n := len(orig); n > 0 && len(forged) != len(orig); n-- {
		if forged, err = object.Seal(object.KindManifest, og.ID, bytes.Repeat([]byte{'x'}, n), deviceKeyOf(t, bob)); err != nil {
			t.Fatal(err)
		}
	}
	if len(forged) != len(orig) {
		t.Fatalf("no forged object of the stored size (%d bytes)", len(orig))
	}
	put := func(d *device, folder object.ID, body []byte, file object.ID, seq int) error {
		h := http.Header{wire.HeaderFolder: {folder.String()}, wire.HeaderFile: {file.String()}, wire.HeaderSeq: {strconv.Itoa(seq)}}
		_, err := d.s.Conn().Do(ctx, client.Request{Method: "PUT", Path: "/v1/objects/manifest/" + og.ID.String(), Body: body, Header: h})
		return err
	}
	if err := put(bob, mine.ID, forged, object.NewRandomID(), 1); !client.IsCode(err, wire.CodeConflict) {
		t.Fatalf("bob's upload into his own folder: %v", err)
	}
	// Nor as an editor of Deals: only the device that stored it repairs.
	if err := ann.s.Share(ctx, deals.ID, "bob@acme.test", orglog.Editor); err != nil {
		t.Fatal(err)
	}
	if err := put(bob, deals.ID, forged, og.File, og.Seq); !client.IsCode(err, wire.CodeLost) {
		t.Fatalf("bob's upload into Deals as an editor: %v", err)
	}
	if _, err := os.Stat(blob); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("bob's uploads wrote the lost blob: %v", err)
	}
	if err := put(ann, deals.ID, orig, og.File, og.Seq); err != nil {
		t.Fatalf("ann's upload of the true object: %v", err)
	}
	bob.sync(t)
	if got := string(read(t, bob.v, "Deals", "report.txt")); got != "the report" {
		t.Fatalf("bob reads %q after the repair", got)
	}
}

// TestEntryTakenAnswerLost: the server takes ann's share entry but its
// answer is lost (the server died, the line dropped). Her share reports
// success, from the log, instead of "the server did not take the entry"
// (which it had).
func TestEntryTakenAnswerLost(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann := enrollAs(t, o.inviteAs("ann@acme.test", policy.Manager), "Ann Manager", "Ann's laptop")
	enrollAs(t, o.inviteAs("bob@acme.test", policy.Member), "Bob Analyst", "Bob's laptop")
	deals, err := ann.v.CreateFolder(ctx, "Deals", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	ann.sync(t)
	real := o.Server.Handler()
	var drop atomic.Bool
	drop.Store(true)
	o.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" && r.URL.Path == "/v1/log" && drop.CompareAndSwap(true, false) {
			real.ServeHTTP(httptest.NewRecorder(), r) // taken
			if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
				c.Close() // the answer lost
			}
			return
		}
		real.ServeHTTP(w, r)
	}))
	defer o.Honest()
	if err := ann.s.Share(ctx, deals.ID, "bob@acme.test", orglog.Viewer); err != nil {
		t.Fatalf("a share whose answer was lost: %v", err)
	}
	if drop.Load() {
		t.Fatal("no answer was dropped")
	}
	if r := ann.v.OrgState().FolderRole("bob@acme.test", deals.ID, time.Now()); r != orglog.Viewer {
		t.Fatalf("bob's role %q", r)
	}
}
