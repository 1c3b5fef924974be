package client_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

// The revoked insider and the modified client: people the organisation
// let in once, attacking with what they kept — an invite code, their user
// keys, a transport key in clear, a copy of a vault, a client of their own
// making.

// A user whose every device was revoked enrols a new one with the invite
// code and the user keys she kept: refused — a new device of an enrolled
// user needs one of her devices' approval (pairing), and with none left
// her invite no longer works at all.
func TestRevokedUserCannotEnrolAgain(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	annCode := o.inviteAs("ann@acme.test", policy.Member)
	ann := enrollAs(t, annCode, "Ann Analyst", "Ann's laptop")
	if err := o.admin.Revoke(ctx, ann.v.DeviceID(), "left the firm"); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.s.Sync(ctx); !client.IsCode(err, wire.CodeRevoked) {
		t.Fatalf("the revoked device still syncs: %v", err)
	}
	keys := ann.v.UserKeys()
	dir := filepath.Join(t.TempDir(), "vault")
	nd := vault.NewDeviceKeys("Ann's new laptop")
	nv, err := vault.CreateWith(ctx, dir, vault.Identity{Email: keys.Email, Name: keys.Name}, pass,
		vault.CreateOptions{Org: ann.v.Org(), User: &keys, Device: &nd})
	if err != nil {
		t.Fatal(err)
	}
	nv.Close()
	before := len(o.entries(t))
	_, err = client.Enroll(ctx, client.Enrollment{Dir: dir, Invite: annCode, Passphrase: pass})
	if err == nil || !strings.Contains(err.Error(), "no device left") {
		t.Fatalf("a revoked user enrolled a new device without approval: %v", err)
	}
	if after := len(o.entries(t)); after != before {
		t.Fatalf("the refused enrolment appended %d log entries", after-before)
	}
}

// An insider keeps the change feed's stream open while his device is
// revoked: the stream ends, and carries nothing of what is written after
// (it went on delivering his folders' events, and those of folders
// shared with him later, while his new requests were refused).
func TestRevokedDeviceStreamEnds(t *testing.T) {
	ctx := context.Background()
	o, ann, bob, _ := dealsSharedWithBob(t, policy.Member)

	var mu sync.Mutex
	var folderEvents int
	revoked := make(chan struct{})
	ended := make(chan error, 1)
	opened := make(chan struct{})
	sctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends a stream the server left open, so that the test's server can close
	go func() {
		ended <- client.StreamFeed(sctx, bob.s.Conn(), 0, func() { close(opened) }, func(e wire.Event) {
			mu.Lock()
			defer mu.Unlock()
			select {
			case <-revoked:
				if e.Folder != nil {
					folderEvents++
				}
			default:
			}
		})
	}()
	<-opened
	time.Sleep(200 * time.Millisecond) // the events before, delivered
	if err := o.admin.Revoke(ctx, bob.v.DeviceID(), "left the firm"); err != nil {
		t.Fatal(err)
	}
	close(revoked)
	put(t, ann.v, "Deals", "terms.txt", "price 43")
	ann.sync(t)
	select {
	case err := <-ended:
		t.Logf("the stream ended: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the revoked device's feed stream is still open 20 s after the revocation")
	}
	mu.Lock()
	defer mu.Unlock()
	if folderEvents != 0 {
		t.Fatalf("the revoked device's stream delivered %d folder events after the revocation", folderEvents)
	}
}

// A member keeps the invite code he enrolled with, is demoted to guest,
// then has his only device revoked: the invite reads the guest's view at
// most, then nothing (it read the whole log — every user, role, folder
// and pending invite — until it expired, the role judged by the invite,
// not the user). And an invite files at most 8 pairing requests at once.
func TestOldInviteFollowsTheUser(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	annCode := o.inviteAs("ann@acme.test", policy.Member)
	enrollAs(t, annCode, "Ann Analyst", "Ann's laptop")
	bobCode := o.inviteAs("bob@acme.test", policy.Member)
	bob := enrollAs(t, bobCode, "Bob Analyst", "Bob's laptop")
	conn := o.inviteConn(t, bobCode)
	if _, _, err := client.FetchLog(ctx, conn, 0); err != nil {
		t.Fatalf("a member's invite reads the log: %v", err)
	}
	if err := o.admin.SetRole(ctx, "bob@acme.test", policy.Guest); err != nil {
		t.Fatal(err)
	}
	if _, _, err := client.FetchLog(ctx, conn, 0); !client.IsCode(err, wire.CodeGuestView) {
		t.Fatalf("the invite of a member demoted to guest reads the log: %v", err)
	}
	if err := o.admin.Revoke(ctx, bob.v.DeviceID(), "left the firm"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := client.FetchLog(ctx, conn, 0); !client.IsCode(err, wire.CodeInvite) {
		t.Fatalf("the invite of a user with no device left reads the log: %v", err)
	}
	if _, err := client.FetchView(ctx, conn, 0); !client.IsCode(err, wire.CodeInvite) {
		t.Fatalf("the invite of a user with no device left reads the guest view: %v", err)
	}

	for i := range 9 {
		_, err := client.RequestPairing(ctx, annCode, "Ann's tablet "+strconv.Itoa(i))
		if i < 8 && err != nil {
			t.Fatalf("pairing request %d: %v", i+1, err)
		}
		if i == 8 && !client.IsCode(err, wire.CodeBusy) {
			t.Fatalf("a ninth pairing request waiting at once: %v", err)
		}
	}
}

// A viewer of a folder who owns a folder of his own uploads, to his own,
// a chunk with the ID of a chunk the folder's writer is about to push
// (chunk IDs are keyed with a key every reader holds: one who guesses a
// chunk's content can compute its ID). The writer's push still lands, and
// the viewer reads her version; the server refused it "exists elsewhere"
// and her sync stalled on every retry.
func TestChunkSquatInAnotherFolder(t *testing.T) {
	ctx := context.Background()
	_, ann, bob, _ := dealsSharedWithBob(t, policy.Manager)
	scratch, err := bob.v.CreateFolder(ctx, "Scratch", policy.Internal)
	if err != nil {
		t.Fatal(err)
	}
	bob.sync(t)

	chunks := func() map[string]string {
		out := map[string]string{}
		paths, _ := filepath.Glob(filepath.Join(ann.v.Dir(), "objects", "chunk", "*", "*"))
		for _, p := range paths {
			out[filepath.Base(p)] = p
		}
		return out
	}
	before := chunks()
	put(t, ann.v, "Deals", "prospectus.txt", strings.Repeat("the prospectus, page after page. ", 20000))
	var squatted int
	for id, path := range chunks() {
		if before[id] != "" {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{wire.HeaderFolder: {scratch.ID.String()}}
		if _, err := bob.s.Conn().Do(ctx, client.Request{Method: "PUT", Path: "/v1/objects/chunk/" + id, Body: data, Header: h}); err != nil {
			t.Fatalf("bob's upload to his own folder: %v", err)
		}
		squatted++
	}
	if squatted == 0 {
		t.Fatal("the new version made no new chunk")
	}
	ann.sync(t) // failed: "an object with this ID exists elsewhere"
	bob.sync(t)
	if got := string(read(t, bob.v, "Deals", "prospectus.txt")); !strings.HasPrefix(got, "the prospectus") {
		t.Fatalf("bob reads %q", got)
	}
}

// Chunks a server stored under their ID alone, before it kept them by
// folder and ID, are still found: a push of them is "held already" (no
// byte of them sent again), another device fetches them; and a client
// from before, whose chunk GETs name no folder, still fetches old and new
// chunks alike.
func TestChunksStoredByIDAloneStillServed(t *testing.T) {
	ctx := context.Background()
	o, laptop, desktop := twoDevices(t)
	deals, err := laptop.v.Folder(ctx, "Deals")
	if err != nil {
		t.Fatal(err)
	}
	newChunks := func(before map[string]bool) map[string]string {
		out := map[string]string{}
		paths, _ := filepath.Glob(filepath.Join(laptop.v.Dir(), "objects", "chunk", "*", "*"))
		for _, p := range paths {
			if !before[filepath.Base(p)] {
				out[filepath.Base(p)] = p
			}
		}
		return out
	}
	have := map[string]bool{}
	for id := range newChunks(nil) {
		have[id] = true
	}
	put(t, laptop.v, "Deals", "old-server.txt", strings.Repeat("stored the old way. ", 5000))
	old := newChunks(have)
	var oldBytes int64
	for idText, p := range old {
		have[idText] = true
		id, err := object.ParseID(idText)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		oldBytes += int64(len(data))
		if _, err := o.store.PutObject(ctx, store.ObjectMeta{Kind: object.KindChunk, ID: id, Space: deals.ID, Device: laptop.v.DeviceID()}, data); err != nil {
			t.Fatal(err)
		}
	}
	if len(old) == 0 {
		t.Fatal("no new chunk")
	}
	if st := laptop.sync(t); st.BytesUp >= oldBytes {
		t.Fatalf("the laptop sent %d bytes again for %d bytes of chunks the server held", st.BytesUp, oldBytes)
	}
	desktop.sync(t)
	if got := string(read(t, desktop.v, "Deals", "old-server.txt")); !strings.HasPrefix(got, "stored the old way") {
		t.Fatalf("the desktop reads %q", got)
	}

	put(t, laptop.v, "Deals", "new-server.txt", strings.Repeat("stored by folder. ", 5000))
	laptop.sync(t)
	fresh := newChunks(have)
	for _, set := range []map[string]string{old, fresh} {
		for id := range set {
			if _, err := desktop.s.Conn().Do(ctx, client.Request{Method: "GET", Path: "/v1/objects/chunk/" + id}); err != nil {
				t.Fatalf("a chunk GET naming no folder: %v", err)
			}
		}
	}
	if len(fresh) == 0 {
		t.Fatal("no chunk stored by folder")
	}
}

// A chunk stored under its ID alone (before chunks were kept by folder) in
// a folder another user may not read is not served to him for naming a
// folder he may read (a shadowed error served it).
func TestOldChunkOfAnotherFolderNotServed(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann := enrollAs(t, o.inviteAs("ann@acme.test", policy.Manager), "Ann Manager", "Ann's laptop")
	bob := enrollAs(t, o.inviteAs("bob@acme.test", policy.Manager), "Bob Manager", "Bob's laptop")
	private, err := ann.v.CreateFolder(ctx, "Private", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	put(t, ann.v, "Private", "notes.txt", strings.Repeat("ann's own notes. ", 3000))
	paths, _ := filepath.Glob(filepath.Join(ann.v.Dir(), "objects", "chunk", "*", "*"))
	if len(paths) == 0 {
		t.Fatal("no chunk")
	}
	for _, p := range paths {
		id, _ := object.ParseID(filepath.Base(p))
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.store.PutObject(ctx, store.ObjectMeta{Kind: object.KindChunk, ID: id, Space: private.ID, Device: ann.v.DeviceID()}, data); err != nil {
			t.Fatal(err)
		}
	}
	ann.sync(t)
	scratch, err := bob.v.CreateFolder(ctx, "Scratch", policy.Internal)
	if err != nil {
		t.Fatal(err)
	}
	bob.sync(t)
	for _, p := range paths {
		h := http.Header{wire.HeaderFolder: {scratch.ID.String()}}
		_, err := bob.s.Conn().Do(ctx, client.Request{Method: "GET", Path: "/v1/objects/chunk/" + filepath.Base(p), Header: h})
		if !client.IsCode(err, wire.CodeNotFound) {
			t.Fatalf("bob fetched a chunk of ann's private folder naming his own: %v", err)
		}
		if _, err := bob.s.Conn().Do(ctx, client.Request{Method: "GET", Path: "/v1/objects/chunk/" + filepath.Base(p)}); !client.IsCode(err, wire.CodeNotFound) {
			t.Fatalf("bob fetched a chunk of ann's private folder naming none: %v", err)
		}
	}
}

// inviteConn is a connection signed with the key of invite code, as an
// enrolment or a pairing request makes one.
func (o *org) inviteConn(t *testing.T, code string) *client.Conn {
	t.Helper()
	inv, err := wire.ParseInvite(code)
	if err != nil {
		t.Fatal(err)
	}
	key := inv.Key()
	conn, err := client.Dial(inv.ServerURL, inv.TLS, wire.InviteKeyID(key.Public().(ed25519.PublicKey)), key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	conn.SetServer(inv.Org, o.Server.PublicKey())
	return conn
}

// A thief with the laptop's clear transport key posts a self-wipe receipt
// without wiping: the device is then served nothing (as if wiped), and an
// admin's wipe ordered later still reaches it and is answered by a receipt
// naming that order — not by the earlier one.
func TestSelfWipeReceiptEndsServiceAndAdminWipeStillReaches(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	annCode := o.inviteAs("ann@acme.test", policy.Member)
	ann := enrollAs(t, annCode, "Ann Analyst", "Ann's laptop")
	ann.sync(t)
	dir := ann.v.Dir()
	th := stealKey(t, o, dir)
	dev, key, conn := th.dev, th.key, th.conn()
	fake, err := wire.Receipt{Org: th.pin.Org, Device: dev, Cause: vault.CauseLease, Order: "-", Wiped: time.Now()}.Sign(key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.JSON(ctx, "POST", "/v1/receipts", nil, wire.ReceiptPost{Receipt: fake}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.s.Sync(ctx); !client.IsCode(err, wire.CodeRevoked) {
		t.Fatalf("a device that reported its own wipe is still served: %v", err)
	}
	// Her only device reported wiping itself: the invite she enrolled with
	// no longer reads the organisation's log.
	if _, _, err := client.FetchLog(ctx, o.inviteConn(t, annCode), 0); !client.IsCode(err, wire.CodeInvite) {
		t.Fatalf("the invite of a user whose only device wiped itself reads the log: %v", err)
	}
	if _, _, err := client.FetchLog(ctx, conn, 0); err == nil {
		t.Fatal("a device that reported its own wipe still reads the organisation's log")
	}

	if err := o.admin.Wipe(ctx, dev, "stolen"); err != nil {
		t.Fatal(err)
	}
	if r, err := o.admin.WaitReceipt(ctx, dev, 0); err != nil || r != nil {
		t.Fatalf("the admin's wipe is answered before the device acted: %+v, %v", r, err)
	}
	// The thief also leaves the fake receipt in the vault folder, where
	// a wipe keeps its receipt until the server has it: it must not stand
	// in for the wipe.
	if err := os.WriteFile(filepath.Join(dir, "WIPE-RECEIPT"), fake, 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := client.NewGuard(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	order, err := g.Enforce(ctx, nil)
	if err != nil || order == nil {
		t.Fatalf("the admin's wipe did not reach the device: %v, %v", order, err)
	}
	r, err := o.admin.WaitReceipt(ctx, dev, 10*time.Second)
	if err != nil || r == nil || r.Cause != vault.CauseAdmin || r.Order != order.Entry {
		t.Fatalf("receipt of the admin's order: %+v, %v", r, err)
	}
	if err := vault.Wiped(dir); !errors.Is(err, vault.ErrWiped) {
		t.Fatalf("the vault is not wiped: %v", err)
	}
}

// A viewer uploads keyrings under the wrap IDs of someone not yet given
// the folder (the IDs are computable from the epoch key he holds), hoping
// the owner's device skips them as "held" and the newcomer never gets the
// key: the server takes keyrings only from those who may share.
func TestViewerCannotSquatKeyringWraps(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann, falcon := annWithFalcon(t, o, "falcon v1")
	bob := enrollAs(t, o.inviteAs("bob@acme.test", policy.Member), "Bob Analyst", "Bob's laptop")
	carol := enrollAs(t, o.inviteAs("carol@acme.test", policy.Member), "Carol Analyst", "Carol's laptop")
	if err := ann.s.Share(ctx, falcon.ID, "bob@acme.test", orglog.Viewer); err != nil {
		t.Fatal(err)
	}
	bob.sync(t)
	wraps, err := bob.v.WrapsFor(ctx, falcon.ID, []string{"carol@acme.test"})
	if err != nil || len(wraps) == 0 {
		t.Fatal(wraps, err)
	}
	for _, w := range wraps {
		data, err := bob.v.SealWrap(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{wire.HeaderFolder: {falcon.ID.String()}}
		_, err = bob.s.Conn().Do(ctx, client.Request{Method: "PUT", Path: "/v1/objects/keyring/" + w.ID.String(), Body: data, Header: h})
		if !client.IsCode(err, wire.CodeUnauthorized) {
			t.Fatalf("the server took a viewer's keyring: %v", err)
		}
	}
	if err := ann.s.Share(ctx, falcon.ID, "carol@acme.test", orglog.Viewer); err != nil {
		t.Fatal(err)
	}
	carol.sync(t)
	if got := string(read(t, carol.v, "Project Falcon", "model.txt")); got != "falcon v1" {
		t.Fatalf("carol reads %q", got)
	}
}

// A guest's grant ends: the owner's device rotates the folder's key, so a
// copy of the guest's vault kept from before cannot open what is written
// afterwards, even given its ciphertext (a leaked bucket, a backup).
func TestGrantEndRotatesTheKey(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann, falcon := annWithFalcon(t, o, "falcon model")
	gail, expires := gailOn(t, o, ann, falcon, 4*time.Second)
	if got := string(read(t, gail.v, "Project Falcon", "model.txt")); got != "falcon model" {
		t.Fatalf("gail reads %q during her grant", got)
	}
	copyTime := time.Now()
	keep := filepath.Join(t.TempDir(), "gail-copy")
	copyDir(t, gail.v.Dir(), keep)
	time.Sleep(time.Until(expires) + 200*time.Millisecond)
	ann.sync(t)
	put(t, ann.v, "Project Falcon", "model.txt", "falcon model v2, after the guest left")
	ann.sync(t)
	if ep, err := ann.v.FolderEpochs(ctx, falcon.ID); err != nil || len(ep) != 2 {
		t.Fatalf("epochs after the grant ended: %v, %v", ep, err)
	}
	id := versionID(t, ann.v, "Project Falcon", "model.txt")
	_, data, err := o.store.GetObject(ctx, object.KindManifest, id)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := vault.OpenWith(ctx, keep, pass, vault.Options{Now: func() time.Time { return copyTime }})
	if err != nil {
		t.Fatal(err)
	}
	defer cv.Close()
	if _, err := cv.Receive(ctx, object.KindManifest, id, data); !errors.Is(err, vault.ErrNotAddressed) {
		t.Fatalf("the guest's old copy opens a version written after her grant ended: %v", err)
	}
}

// What a guest did during her grant, recorded while offline, reaches
// compliance after the grant ended: the server still takes her audit
// trail (and nothing else).
func TestGuestAuditSentAfterGrantEnds(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann, falcon := annWithFalcon(t, o, "falcon model")
	gail, expires := gailOn(t, o, ann, falcon, 3*time.Second)
	for i := 0; i < 3; i++ {
		if _, err := gail.v.AppendAudit(ctx, audit.Event{Action: audit.Preview, Outcome: audit.OK, Folder: falcon.ID.String(), Reason: "page 1"}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Until(expires) + 200*time.Millisecond)
	if _, err := gail.s.Sync(ctx); !client.IsCode(err, wire.CodeGrantEnded) {
		t.Fatalf("sync after the grant ended: %v", err)
	}
	if rows, err := gail.v.UnsentAudit(ctx, 1000); err != nil || len(rows) != 0 {
		t.Fatalf("%d audit entries of the guest were not sent (%v)", len(rows), err)
	}
}

// A server drops from a guest's later views the entries it showed before
// (the admin's shortened grant, the newest policy): refused, and the
// guest's device keeps what it verified.
func TestGuestViewCannotShrink(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann := enrollAs(t, o.inviteAs("ann@acme.test", policy.Manager), "Ann Manager", "Ann's laptop")
	falcon, err := ann.v.CreateFolder(ctx, "Project Falcon", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	ann.sync(t)
	if _, err := o.admin.SetPolicy(ctx, &policy.Document{V: 1, MaxUnlockFailures: 10, IdleLockMinutes: 60}); err != nil {
		t.Fatal(err)
	}
	code, _, err := o.admin.Guest(ctx, "gail@consult.test", []object.ID{falcon.ID}, 60*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	gail := enrollAs(t, code, "Gail Consultant", "Gail's laptop")
	gail.sync(t)
	if _, _, err := o.admin.Guest(ctx, "gail@consult.test", []object.ID{falcon.ID}, 2*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := o.admin.SetPolicy(ctx, &policy.Document{V: 1, MaxUnlockFailures: 3, IdleLockMinutes: 5, LeaseHours: 1}); err != nil {
		t.Fatal(err)
	}
	gail.sync(t)
	shortened := gail.v.OrgState().Grants["gail@consult.test"].Expires
	// The server serves views without the later grant and policy.
	all := o.entries(t)
	drop := map[int]bool{}
	firstGrant, firstPolicy := true, true
	for i, raw := range all {
		e, _ := orglog.Parse(raw)
		switch {
		case e.Kind == orglog.Grant && e.Email == "gail@consult.test":
			drop[i], firstGrant = !firstGrant, false
		case e.Kind == orglog.Policy:
			drop[i], firstPolicy = !firstPolicy, false
		}
	}
	o.serveViewWithout(t, all, "gail@consult.test", drop)
	if _, err := gail.s.Sync(ctx); !errors.Is(err, vault.ErrOrgLog) {
		t.Fatalf("a shrunken view was taken: %v", err)
	}
	st := gail.v.OrgState()
	if st.Policy.Serial != 2 || !st.Grants["gail@consult.test"].Expires.Equal(shortened) {
		t.Fatalf("after the lie: policy %d, grant until %s", st.Policy.Serial, st.Grants["gail@consult.test"].Expires)
	}
}

// An owner's modified client widens a folder's class without the admin's
// approval. Devices that held the folder refuse the revision; so does a
// member shared the folder afterwards, whose feed brings the key and the
// revision together, after the folder's first object — and each goes on
// receiving the rest of the feed.
func TestUnapprovedWideningRefusedByEveryReader(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann := enrollAs(t, o.inviteAs("ann@acme.test", policy.Manager), "Ann Manager", "Ann's laptop")
	carol := enrollAs(t, o.inviteAs("carol@acme.test", policy.Member), "Carol Analyst", "Carol's laptop")
	bob := enrollAs(t, o.inviteAs("bob@acme.test", policy.Member), "Bob Analyst", "Bob's laptop")
	falcon, err := ann.v.CreateFolder(ctx, "Project Falcon", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	put(t, ann.v, "Project Falcon", "model.txt", "falcon model")
	ann.sync(t)
	if err := ann.s.Share(ctx, falcon.ID, "carol@acme.test", orglog.Viewer); err != nil {
		t.Fatal(err)
	}
	carol.sync(t)
	bob.sync(t)
	// A busy organisation: more than a feed page (the server sends 500
	// events at most) between the folder's first object and the share that gives
	// bob its key, so that he reads the key with the revision, not with
	// the first object.
	for i := 0; i < 510; i++ {
		if _, _, err := o.admin.Invite(ctx, "x"+strconvI(i)+"@acme.test", policy.Member, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := ann.s.Share(ctx, falcon.ID, "bob@acme.test", orglog.Viewer); err != nil {
		t.Fatal(err)
	}
	forgeWidening(t, ann, falcon.ID, policy.Public)
	put(t, ann.v, "Project Falcon", "after.txt", "written after the forged revision")
	for _, d := range []*device{ann, carol, bob} {
		st, err := d.s.Sync(ctx)
		var refused *client.RefusedError
		if !errors.As(err, &refused) || !errors.Is(err, vault.ErrRejected) || !strings.Contains(err.Error(), "without the admin's approval") || st.Refused != 1 {
			t.Fatalf("%s: sync %+v: %v", d.v.Owner().Email, st, err)
		}
		f, err := d.v.Folder(ctx, "Project Falcon")
		if err != nil || f.Class != policy.Confidential {
			t.Fatalf("%s holds the folder as %+v (%v)", d.v.Owner().Email, f, err)
		}
		if got := string(read(t, d.v, "Project Falcon", "after.txt")); got != "written after the forged revision" {
			t.Fatalf("%s did not receive what followed the refused object: %q", d.v.Owner().Email, got)
		}
		log, err := d.v.AuditEvents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range log.Events {
			found = found || (e.Action == audit.Tamper && e.Outcome == audit.Blocked && strings.Contains(e.Reason, "without the admin's approval"))
		}
		if !found {
			t.Fatalf("%s: the refused revision is not in the audit trail", d.v.Owner().Email)
		}
	}
}

// forgeWidening is the owner's modified client: it writes the next
// revision of folder's object with class, signed by the owner's device
// key, without the admin's approval, and uploads it. It reads the keys as
// the format documents them (docs/vault-format.md): the user key from
// UserKeys, the device key from keys/device.age, the folder key from the
// owner's keyring of epoch 1.
func forgeWidening(t *testing.T, owner *device, folder object.ID, class policy.Class) {
	t.Helper()
	ctx := context.Background()
	user, err := age.ParseHybridIdentity(owner.v.UserKeys().Identity)
	if err != nil {
		t.Fatal(err)
	}
	open := func(body []byte, id age.Identity) []byte {
		r, err := age.Decrypt(bytes.NewReader(body), id)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return plain
	}
	devKey := deviceKeyOf(t, owner)
	objects := func(kind object.Kind, fn func(id object.ID, o *object.Object)) {
		root := filepath.Join(owner.v.Dir(), "objects", kind.String())
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			id, err := object.ParseID(d.Name())
			if err != nil {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			o, err := object.Open(data, kind, id)
			if err != nil {
				return err
			}
			fn(id, o)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var folderID *age.HybridIdentity
	objects(object.KindKeyring, func(_ object.ID, o *object.Object) {
		r, err := age.Decrypt(bytes.NewReader(o.Body), user)
		if err != nil {
			return // another user's wrap
		}
		plain, _ := io.ReadAll(r)
		var kr struct {
			Folder   object.ID
			Epoch    int
			Identity string
		}
		if json.Unmarshal(plain, &kr) == nil && kr.Folder == folder && kr.Epoch == 1 {
			if folderID, err = age.ParseHybridIdentity(kr.Identity); err != nil {
				t.Fatal(err)
			}
		}
	})
	if folderID == nil {
		t.Fatal("no keyring of epoch 1 for the folder")
	}
	var body map[string]any
	objects(object.KindFolder, func(_ object.ID, o *object.Object) {
		var b map[string]any
		dec := json.NewDecoder(bytes.NewReader(open(o.Body, folderID)))
		dec.UseNumber() // "created" is nanoseconds: no float64 round trip
		if dec.Decode(&b) == nil && b["folder"] == folder.String() {
			body = b
		}
	})
	if body == nil {
		t.Fatal("no folder object")
	}
	var rev int64
	if n, ok := body["revision"].(json.Number); ok {
		rev, _ = n.Int64()
	}
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	body["class"], body["revision"], body["salt"] = string(class), rev+1, salt
	plain, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	var sealed bytes.Buffer
	w, err := age.Encrypt(&sealed, folderID.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(plain)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	id := object.NewRandomID()
	data, err := object.Seal(object.KindFolder, id, sealed.Bytes(), devKey)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{wire.HeaderFolder: {folder.String()}}
	if _, err := owner.s.Conn().Do(ctx, client.Request{Method: "PUT", Path: "/v1/objects/folder/" + id.String(), Body: data, Header: h}); err != nil {
		t.Fatalf("upload the forged revision: %v", err)
	}
}

func strconvI(i int) string { return strconv.Itoa(i) }

// serveViewWithout makes the server answer a guest's GET /v1/log/view with
// her view of entries less those in drop, proven under a checkpoint the
// real server key signs: a server that lies by omission.
func (o *org) serveViewWithout(t *testing.T, entries [][]byte, email string, drop map[int]bool) {
	t.Helper()
	f := o.forgedLog(t, entries)
	all, err := orglog.GuestView(entries, email)
	if err != nil {
		t.Fatal(err)
	}
	var idx []int64
	for _, i := range all {
		if !drop[int(i)] {
			idx = append(idx, i)
		}
	}
	o.lie(func(r *http.Request, rec *httptest.ResponseRecorder) {
		if r.URL.Path != "/v1/log/view" {
			return
		}
		cp := f.checkpoint()
		from, _ := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
		view, err := orglog.Prove(cp, entries, f.hashes, idx, from)
		if err != nil {
			panic(err)
		}
		out := wire.LogView{Checkpoint: cp, From: view.From}
		for _, h := range view.Tree {
			out.Tree = append(out.Tree, h[:])
		}
		for _, e := range view.Entries {
			we := wire.LogViewEntry{Index: e.Index, Entry: e.Raw}
			for _, h := range e.Proof {
				we.Proof = append(we.Proof, h[:])
			}
			out.Entries = append(out.Entries, we)
		}
		rec.Code = http.StatusOK
		rec.Body.Reset()
		rec.Body.Write(wire.Marshal(out))
	})
}

// An organisation's policy carries no roles or grants: those are log
// entries of their own, and a second source could contradict them.
func TestOrgPolicyHoldsNoRolesOrGrants(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	for name, doc := range map[string]*policy.Document{
		"roles":  {V: 1, MaxUnlockFailures: 10, Roles: map[string]policy.Role{"bob@acme.test": policy.Admin}},
		"grants": {V: 1, MaxUnlockFailures: 10, Grants: map[string][]policy.Grant{"gail@consult.test": {{Folder: "f", Issued: time.Now(), Expires: time.Now().Add(time.Hour)}}}},
	} {
		if _, err := o.admin.SetPolicy(ctx, doc); err == nil || !strings.Contains(err.Error(), "cofferd admin role") {
			t.Errorf("a policy with %s: %v", name, err)
		}
	}
	if st := o.admin.State(); st.Policy != nil {
		t.Fatalf("a policy reached the log: serial %d", st.Policy.Serial)
	}
}

// annWithFalcon enrols Ann, a manager, who makes the confidential folder
// "Project Falcon" with model.txt reading content, and syncs.
func annWithFalcon(t *testing.T, o *org, content string) (*device, vault.Folder) {
	t.Helper()
	ann := enrollAs(t, o.inviteAs("ann@acme.test", policy.Manager), "Ann Manager", "Ann's laptop")
	falcon, err := ann.v.CreateFolder(context.Background(), "Project Falcon", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	put(t, ann.v, "Project Falcon", "model.txt", content)
	ann.sync(t)
	return ann, falcon
}

// gailOn makes Gail a guest of folder for d, enrols her and syncs the
// owner's device and hers; it returns her device and the grant's end.
func gailOn(t *testing.T, o *org, owner *device, folder vault.Folder, d time.Duration) (*device, time.Time) {
	t.Helper()
	code, expires, err := o.admin.Guest(context.Background(), "gail@consult.test", []object.ID{folder.ID}, d)
	if err != nil {
		t.Fatal(err)
	}
	gail := enrollAs(t, code, "Gail Consultant", "Gail's laptop")
	owner.sync(t)
	gail.sync(t)
	return gail, expires
}

// A forged object the server keeps serving is fetched again at the next
// pull, then less and less often — not at every round of a watching
// device.
func TestRefusedObjectRetriedWithBackoff(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann, falcon := annWithFalcon(t, o, "falcon model")
	carol := enrollAs(t, o.inviteAs("carol@acme.test", policy.Member), "Carol Analyst", "Carol's laptop")
	if err := ann.s.Share(ctx, falcon.ID, "carol@acme.test", orglog.Viewer); err != nil {
		t.Fatal(err)
	}
	carol.sync(t)
	forgeWidening(t, ann, falcon.ID, policy.Public)
	var gets atomic.Int32
	o.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/v1/objects/folder/") {
			gets.Add(1)
		}
		o.Server.Handler().ServeHTTP(w, r)
	}))
	defer o.Honest()
	var refused *client.RefusedError
	if _, err := carol.s.Sync(ctx); !errors.As(err, &refused) {
		t.Fatalf("first sync: %v", err)
	}
	for i := 0; i < 5; i++ {
		if _, err := carol.s.Sync(ctx); err != nil {
			t.Fatalf("sync %d: %v", i+2, err)
		}
	}
	// Once when it arrived, once at the next pull; then it waits a minute.
	if n := gets.Load(); n != 2 {
		t.Fatalf("the refused folder object was fetched %d times in six syncs, want 2", n)
	}
}

// One person's keys share one part of the server's request-body budget:
// with uploads held open on her laptop and on her tablet (32 bodies of
// 4 MiB, whose bytes never come), a next one from either is told "busy"
// at once, while another person's upload is answered. The share was per
// key: four keys of one person (devices, invites) held the whole budget,
// and everyone's uploads waited 30 s each.
func TestBodyBudgetIsPerPerson(t *testing.T) {
	o := newOrg(t)
	code := o.invite("ann@acme.test")
	laptop := enroll(t, code, "Ann's laptop")
	tablet := pair(t, code, laptop, "Ann's tablet")
	bob := enroll(t, o.invite("bob@acme.test"), "Bob's laptop")
	h := o.Server.Handler()
	type upload struct {
		code chan int
		body *io.PipeWriter
	}
	put := func(d *device, n int) upload {
		pr, pw := io.Pipe()
		req := httptest.NewRequest("PUT", "/v1/objects/chunk/"+object.NewRandomID().String(), pr)
		req.ContentLength = int64(n)
		if _, err := wire.SignRequest(req, make([]byte, n), wire.DeviceKeyID(d.v.DeviceID()), d.v.TransportKey(), time.Now()); err != nil {
			t.Fatal(err)
		}
		u := upload{code: make(chan int, 1), body: pw}
		go func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			u.code <- rec.Code
		}()
		return u
	}
	var held []upload
	t.Cleanup(func() {
		for _, u := range held {
			u.body.CloseWithError(io.ErrUnexpectedEOF)
			<-u.code
		}
	})
	for i := range 32 {
		held = append(held, put([]*device{laptop, tablet}[i%2], 4<<20))
	}
	time.Sleep(300 * time.Millisecond) // the 32 admitted, waiting for their bodies
	next := put(tablet, 4<<20)
	select {
	case code := <-next.code:
		if code != http.StatusServiceUnavailable {
			t.Errorf("a 33rd upload of one person: %d, want 503 busy", code)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("a 33rd upload of one person, from her second device, was admitted: the server waits for its body")
		next.body.CloseWithError(io.ErrUnexpectedEOF)
		<-next.code
	}
	other := put(bob, 1024)
	go func() { other.body.Write(make([]byte, 1024)); other.body.Close() }()
	select {
	case code := <-other.code:
		if code == http.StatusServiceUnavailable {
			t.Errorf("another person's upload meanwhile: busy")
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("another person's upload meanwhile was not answered")
	}
}

// An insider's modified client writes entries whose action or outcome
// carries terminal escapes ("preview\x1b[8m" hid the rest of a blocked
// entry on compliance's terminal): the server refuses them.
func TestAuditWordsAreWords(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	for i, e := range []audit.Event{{Action: "preview\x1b[8m", Outcome: audit.Blocked}, {Action: audit.Preview, Outcome: "ok\u202e"}} {
		d := enroll(t, o.invite(fmt.Sprintf("user%d@acme.test", i)), "laptop")
		if err := d.s.PushAudit(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := d.v.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		if err := d.s.PushAudit(ctx); !client.IsCode(err, wire.CodeRejected) {
			t.Errorf("an entry %q %q: %v, want it rejected", e.Action, e.Outcome, err)
		}
	}
}

// A thief copies the laptop's vault folder (no passphrase needed), then
// IT wipes the laptop, which answers. The copy, when it reaches the
// server, is wiped too: the server refused the device everything once it
// had answered, so the copy's guard saw no order and the copy unlocked,
// offline and online alike.
func TestCopyOfAWipedDeviceIsWiped(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann := enrollAs(t, o.inviteAs("ann@acme.test", policy.Member), "Ann Analyst", "Ann's laptop")
	ann.sync(t)
	dir, copied := ann.v.Dir(), filepath.Join(t.TempDir(), "copy")
	if err := os.CopyFS(copied, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	th := stealKey(t, o, dir)
	if err := o.admin.Wipe(ctx, ann.v.DeviceID(), "stolen"); err != nil {
		t.Fatal(err)
	}
	enforce := func(dir string) *vault.WipeOrder {
		g, err := client.NewGuard(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		order, err := g.Enforce(ctx, nil)
		if err != nil {
			t.Fatalf("enforce on %s: %v", filepath.Base(dir), err)
		}
		return order
	}
	ann.s.Close()
	ann.v.Close()
	if order := enforce(dir); order == nil {
		t.Fatal("the laptop saw no wipe order")
	}
	if r, err := o.admin.WaitReceipt(ctx, ann.v.DeviceID(), 10*time.Second); err != nil || r == nil {
		t.Fatalf("the laptop's receipt: %+v %v", r, err)
	}
	if order := enforce(copied); order == nil {
		t.Fatal("the copy saw no wipe order")
	}
	if err := vault.Wiped(copied); !errors.Is(err, vault.ErrWiped) {
		t.Fatalf("the copy is not wiped: %v", err)
	}
	if vault.PendingReceipt(copied) != nil {
		t.Error("the copy's receipt was not taken")
	}
	// The admin learns the device had been copied (it was only in the
	// server's log).
	if r, err := o.admin.WaitReceipt(ctx, ann.v.DeviceID(), 0); err != nil || r == nil || r.Copies != 1 {
		t.Errorf("the receipt the admin reads after the copy's: %+v %v, want 1 copy counted", r, err)
	}
	// Answered, the device's key (the thief's copy holds it) reads its
	// order still, but no longer follows the feed, which would tell when
	// the organisation's log moves.
	conn := th.conn()
	if _, err := client.FetchView(ctx, conn, 0); err != nil {
		t.Errorf("the wiped device's view of its order: %v", err)
	}
	if _, err := conn.Do(ctx, client.Request{Method: "GET", Path: "/v1/feed", Query: url.Values{"after": {"0"}}}); !client.IsCode(err, wire.CodeRevoked) {
		t.Errorf("the wiped device, its order answered, follows the feed: %v", err)
	}
}

// stolen is what a thief with a device's vault folder holds without its
// passphrase: the clear transport key and pins (for locked mode).
type stolen struct {
	t   *testing.T
	o   *org
	dev object.ID
	key ed25519.PrivateKey
	pin *vault.OrgPin
}

func stealKey(t *testing.T, o *org, dir string) *stolen {
	t.Helper()
	dev, key, err := vault.ReadTransportKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	pin, err := vault.ReadOrgCopy(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &stolen{t: t, o: o, dev: dev, key: key, pin: pin}
}

// conn is a connection signed with the stolen key; the test's cleanup
// closes it.
func (s *stolen) conn() *client.Conn {
	s.t.Helper()
	var tlsPin [32]byte
	copy(tlsPin[:], s.pin.TLS)
	conn, err := client.Dial(s.pin.URL, tlsPin, wire.DeviceKeyID(s.dev), s.key)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(conn.Close)
	conn.SetServer(s.pin.Org, s.o.Server.PublicKey())
	return conn
}

// TestRevokedDeviceSelfWipeIsReported: IT revoked ann's lost laptop;
// later the thief's wrong passphrases make it wipe itself (the policy's
// wipe_after_failures). Its receipt reaches the admin (before, the server
// refused every request of a revoked device, the receipt too, and nobody
// heard of the wipe); once, after which it is refused again.
func TestRevokedDeviceSelfWipeIsReported(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann := enrollAs(t, o.inviteAs("ann@acme.test", policy.Member), "Ann Analyst", "Ann's laptop")
	ann.sync(t)
	dir, dev := ann.v.Dir(), ann.v.DeviceID()
	th := stealKey(t, o, dir)
	if err := ann.v.SetWipeAfterFailures(2); err != nil {
		t.Fatal(err)
	}
	if err := ann.v.Close(); err != nil {
		t.Fatal(err)
	}
	if err := o.admin.Revoke(ctx, dev, "lost in a taxi"); err != nil {
		t.Fatal(err)
	}
	// Revoked, not wiped: residency counts it among the devices that
	// may still hold copies; once its receipt came, as wiped itself.
	if r, err := o.admin.Residency(ctx); err != nil || r.Devices["revoked"] != 1 || r.Devices["wiped itself"] != 0 {
		t.Fatalf("residency, revoked: %+v %v", r.Devices, err)
	}
	for i := 0; i < 100; i++ {
		_, err := vault.Open(ctx, dir, "the thief's guess")
		if errors.Is(err, vault.ErrWiped) {
			break
		}
		if !errors.Is(err, vault.ErrWrongPassphrase) && !errors.Is(err, vault.ErrLocked) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := vault.Wiped(dir); !errors.Is(err, vault.ErrWiped) {
		t.Fatalf("the laptop did not wipe itself: %v", err)
	}
	g, err := client.NewGuard(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if _, err := g.Enforce(ctx, nil); err != nil {
		t.Fatalf("the revoked laptop's receipt: %v", err)
	}
	rs, err := o.admin.Receipts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Device != dev || rs[0].Cause != vault.CauseFailures {
		t.Fatalf("the admin's receipts: %+v", rs)
	}
	if r, err := o.admin.Residency(ctx); err != nil || r.Devices["revoked"] != 0 || r.Devices["wiped itself"] != 1 {
		t.Fatalf("residency, revoked and wiped itself: %+v %v", r.Devices, err)
	}
	// One receipt only: the device is refused again after it.
	fake, err := wire.Receipt{Org: th.pin.Org, Device: dev, Cause: vault.CauseLease, Order: "-", Wiped: time.Now()}.Sign(th.key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := th.conn().JSON(ctx, "POST", "/v1/receipts", nil, wire.ReceiptPost{Receipt: fake}, nil); !client.IsCode(err, wire.CodeRevoked) {
		t.Fatalf("a second receipt of the revoked device: %v", err)
	}
}

// TestWipeReachesALaptopWhoseOwnerEnrolledAnew: erin's lost laptop is
// revoked, she enrols a new one, and IT then orders the old one wiped.
// When it comes online it verifies its order and wipes itself: its view
// of the log leaves out her enrolment anew (in that view her laptop is
// not revoked, so the rules refused the second user entry, and the whole
// view with it).
func TestWipeReachesALaptopWhoseOwnerEnrolledAnew(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	erin := enrollAs(t, o.inviteAs("erin@acme.test", policy.Member), "Erin Trader", "Erin's laptop")
	erin.sync(t)
	dir, dev := erin.v.Dir(), erin.v.DeviceID()
	erin.s.Close()
	erin.v.Close()
	if err := o.admin.Revoke(ctx, dev, "lost in a taxi"); err != nil {
		t.Fatal(err)
	}
	enrollAs(t, o.inviteAs("erin@acme.test", policy.Member), "Erin Trader", "Erin's new laptop")
	if err := o.admin.Wipe(ctx, dev, "lost in a taxi"); err != nil {
		t.Fatal(err)
	}
	g, err := client.NewGuard(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	order, err := g.Enforce(ctx, nil)
	if err != nil || order == nil {
		t.Fatalf("the old laptop's wipe order: %v, %v", order, err)
	}
	if err := vault.Wiped(dir); !errors.Is(err, vault.ErrWiped) {
		t.Fatalf("the old laptop is not wiped: %v", err)
	}
	if r, err := o.admin.WaitReceipt(ctx, dev, 10*time.Second); err != nil || r == nil {
		t.Fatalf("its receipt: %+v %v", r, err)
	}
}

// TestDeviceKeysReachNoAdminEndpoint: a device's own key — a manager's or
// a compliance officer's, taken from the vault by its owner — gets none of
// the admin's reports (devices, receipts, residency: where the data lives
// and how much of it).
func TestDeviceKeysReachNoAdminEndpoint(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	for _, role := range []policy.Role{policy.Manager, policy.Compliance} {
		email := string(role) + "@acme.test"
		d := enrollAs(t, o.inviteAs(email, role), "Insider", string(role)+"'s laptop")
		d.sync(t)
		conn := stealKey(t, o, d.v.Dir()).conn()
		for _, path := range []string{"/v1/admin/devices", "/v1/admin/receipts", "/v1/admin/residency"} {
			var out json.RawMessage
			if _, err := conn.JSON(ctx, "GET", path, nil, nil, &out); !client.IsCode(err, wire.CodeUnauthorized) {
				t.Errorf("%s's device key, GET %s: %v %s, want refused", role, path, err, out)
			}
		}
	}
	if r, err := o.admin.Residency(ctx); err != nil || r.Devices["active"] != 2 {
		t.Errorf("the admin's residency: %+v %v", r, err)
	}
}
