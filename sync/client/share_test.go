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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

func (o *org) inviteAs(email string, role policy.Role) string {
	o.t.Helper()
	code, _, err := o.admin.Invite(context.Background(), email, role, 7*24*time.Hour)
	if err != nil {
		o.t.Fatal(err)
	}
	return code
}

func enrollAs(t *testing.T, code, name, device string) *device {
	t.Helper()
	v, err := client.Enroll(context.Background(), client.Enrollment{Dir: filepath.Join(t.TempDir(), "vault"), Invite: code,
		Name: name, DeviceName: device, Passphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	return newDevice(t, v)
}

func folderNames(t *testing.T, v *vault.Vault) []string {
	t.Helper()
	fs, err := v.Folders(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

func put(t *testing.T, v *vault.Vault, folder, name, content string) {
	t.Helper()
	ctx := context.Background()
	f, err := v.Folder(ctx, folder)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Put(ctx, f, name, strings.NewReader(content), vault.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestShareRoleChangeUnshare: a manager shares a folder with an analyst
// as viewer, then as editor (the key rotates), then takes him off (it
// rotates again): the analyst reads, then writes, then loses the folder on
// his next sync, and a copy of his vault kept from before cannot read
// what is written after.
func TestShareRoleChangeUnshare(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann := enrollAs(t, o.inviteAs("ann@acme.test", policy.Manager), "Ann Manager", "Ann's laptop")
	bob := enrollAs(t, o.inviteAs("bob@acme.test", policy.Member), "Bob Analyst", "Bob's laptop")

	falcon, err := ann.v.CreateFolder(ctx, "Project Falcon", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	put(t, ann.v, "Project Falcon", "terms.txt", "price 42")
	ann.sync(t)
	bob.sync(t)
	if names := folderNames(t, bob.v); len(names) != 0 {
		t.Fatalf("bob holds %v before any share", names)
	}

	// Viewer.
	if err := ann.s.Share(ctx, falcon.ID, "bob@acme.test", orglog.Viewer); err != nil {
		t.Fatal(err)
	}
	bob.sync(t)
	if got := string(read(t, bob.v, "Project Falcon", "terms.txt")); got != "price 42" {
		t.Fatalf("bob reads %q", got)
	}
	members, err := bob.s.Members(ctx, falcon.ID)
	if err != nil || len(members) != 2 || members[0].Role != "owner" || members[1].Email != "bob@acme.test" || members[1].Role != orglog.Viewer {
		t.Fatalf("members %+v %v", members, err)
	}
	// A viewer's version is refused by the server.
	put(t, bob.v, "Project Falcon", "bob.txt", "a viewer writes")
	if _, err := bob.s.Sync(ctx); !client.IsCode(err, wire.CodeUnauthorized) {
		t.Fatalf("a viewer's push: %v", err)
	}
	// Bob may not share what is not his.
	if err := bob.s.Share(ctx, falcon.ID, "ann@acme.test", orglog.Viewer); !errors.Is(err, client.ErrNotAllowed) {
		t.Fatalf("bob shared ann's folder: %v", err)
	}

	// Editor: a new epoch; bob's pending version now goes through.
	if err := ann.s.Share(ctx, falcon.ID, "bob@acme.test", orglog.Editor); err != nil {
		t.Fatal(err)
	}
	if ep, _ := ann.v.FolderEpochs(ctx, falcon.ID); len(ep) != 2 {
		t.Fatalf("ann's epochs after the role change: %v", ep)
	}
	bob.sync(t)
	put(t, bob.v, "Project Falcon", "terms.txt", "bob: price 43")
	bob.sync(t)
	ann.sync(t)
	if got := string(read(t, ann.v, "Project Falcon", "terms.txt")); got != "bob: price 43" {
		t.Fatalf("ann reads %q after bob's edit", got)
	}
	if got := string(read(t, ann.v, "Project Falcon", "bob.txt")); got != "a viewer writes" {
		t.Fatalf("bob's version made as viewer: %q", got)
	}
	bobEpochs, _ := bob.v.FolderEpochs(ctx, falcon.ID)

	// A copy of bob's vault, kept by a revoked insider.
	bobDir := bob.v.Dir()
	bob.s.Close()
	bob.v.Close()
	stolen := filepath.Join(t.TempDir(), "stolen")
	copyDir(t, bobDir, stolen)
	bobV, err := vault.Open(ctx, bobDir, pass)
	if err != nil {
		t.Fatal(err)
	}
	bob = newDevice(t, bobV)

	// Unshare: the server refuses bob at once; a new epoch for ann only.
	if err := ann.s.Unshare(ctx, falcon.ID, "bob@acme.test"); err != nil {
		t.Fatal(err)
	}
	put(t, ann.v, "Project Falcon", "after.txt", "written after bob left")
	ann.sync(t)
	bob.sync(t)
	if names := folderNames(t, bob.v); len(names) != 0 {
		t.Fatalf("bob still holds %v after the unshare", names)
	}
	if n := countObjects(t, bob.v.Dir(), "keyring"); n != 0 {
		t.Errorf("bob's vault keeps %d keyrings of a folder he left", n)
	}
	annEpochs, _ := ann.v.FolderEpochs(ctx, falcon.ID)
	if len(annEpochs) != 3 || len(bobEpochs) != 2 {
		t.Fatalf("epochs: ann %v, bob had %v", annEpochs, bobEpochs)
	}
	// The insider's copy holds epochs 1 and 2; the new version is under 3.
	old, err := vault.Open(ctx, stolen, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	id := versionID(t, ann.v, "Project Falcon", "after.txt")
	env, err := ann.v.Envelope(ctx, object.KindManifest, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Receive(ctx, object.KindManifest, id, env); !errors.Is(err, vault.ErrNotAddressed) {
		t.Fatalf("the insider's old keys open a version written after he left: %v", err)
	}
	// And the server no longer serves him the folder.
	oldS, err := client.NewSyncer(old)
	if err != nil {
		t.Fatal(err)
	}
	defer oldS.Close()
	if _, err := oldS.Conn().Do(ctx, client.Request{Method: "GET", Path: "/v1/objects/manifest/" + id.String()}); !client.IsCode(err, wire.CodeNotFound) {
		t.Fatalf("the server serves a version to a member taken off the folder: %v", err)
	}
}

func versionID(t *testing.T, v *vault.Vault, folder, name string) object.ID {
	t.Helper()
	ctx := context.Background()
	f, err := v.Folder(ctx, folder)
	if err != nil {
		t.Fatal(err)
	}
	vers, err := v.Versions(ctx, f, name)
	if err != nil || len(vers) == 0 {
		t.Fatalf("versions of %s: %v", name, err)
	}
	return vers[len(vers)-1].ID
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func countObjects(t *testing.T, dir, kind string) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(filepath.Join(dir, "objects", kind), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// TestGuest: the admin grants a consultant one folder for an hour. The
// owner's device wraps its key to her on its next sync; she reads that
// folder and nothing else — another folder's name is nowhere in her vault
// — and a restricted folder granted to her by mistake is never wrapped.
// When the admin ends the grant early, the server refuses her and her
// device destroys the folder.
func TestGuest(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann := enrollAs(t, o.inviteAs("ann@acme.test", policy.Manager), "Ann Manager", "Ann's laptop")
	falcon, err := ann.v.CreateFolder(ctx, "Project Falcon", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	hidden, err := ann.v.CreateFolder(ctx, "Project Hawk secret name", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	vault1, err := ann.v.CreateFolder(ctx, "Board minutes", policy.Restricted)
	if err != nil {
		t.Fatal(err)
	}
	put(t, ann.v, "Project Falcon", "model.txt", "falcon model")
	put(t, ann.v, "Project Hawk secret name", "hawk.txt", "hawk numbers")
	put(t, ann.v, "Board minutes", "minutes.txt", "board says")
	ann.sync(t)
	// Someone else of the organisation, in nothing the guest is given.
	enrollAs(t, o.inviteAs("carol@acme.test", policy.Member), "Carol Unrelated", "Carol's laptop")
	// Everything the server sends the guest's device, to scan.
	var traffic bytes.Buffer
	var trafficMu sync.Mutex
	var gailDevice string
	o.lie(func(r *http.Request, rec *httptest.ResponseRecorder) {
		trafficMu.Lock()
		mine := gailDevice != "" && strings.Contains(r.Header.Get("Signature-Input"), gailDevice)
		trafficMu.Unlock()
		if mine || strings.Contains(r.URL.Path, "/v1/log/view") {
			trafficMu.Lock()
			traffic.Write(rec.Body.Bytes())
			trafficMu.Unlock()
		}
	})

	code, expires, err := o.admin.Guest(ctx, "gail@consult.test", []object.ID{falcon.ID, vault1.ID}, time.Hour)
	if err != nil || code == "" {
		t.Fatalf("guest: %q %v", code, err)
	}
	if d := time.Until(expires); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("expires in %s", d)
	}
	gail := enrollAs(t, code, "Gail Consultant", "Gail's laptop")
	trafficMu.Lock()
	gailDevice = gail.v.DeviceID().String()
	trafficMu.Unlock()
	gail.sync(t)
	if names := folderNames(t, gail.v); len(names) != 0 {
		t.Fatalf("gail holds %v before any member device wrapped a key", names)
	}
	ann.sync(t) // wraps Falcon to gail; refuses Board minutes
	gail.sync(t)
	if names := folderNames(t, gail.v); len(names) != 1 || names[0] != "Project Falcon" {
		t.Fatalf("gail holds %v, want only Project Falcon", names)
	}
	if got := string(read(t, gail.v, "Project Falcon", "model.txt")); got != "falcon model" {
		t.Fatalf("gail reads %q", got)
	}
	refused := false
	log, _ := ann.v.AuditEvents(ctx)
	for _, e := range log.Events {
		refused = refused || (e.Action == audit.Share && e.Outcome == audit.Blocked && strings.Contains(e.Reason, "restricted"))
	}
	if !refused {
		t.Error("ann's device did not audit that it kept the restricted folder from the guest")
	}
	// Nothing of the folders she was not given is in her vault or what the
	// server sent her — not even the other folder's ID — and nobody of the
	// organisation but the folder's people; she cannot fetch the objects.
	trafficMu.Lock()
	for _, secret := range []string{"carol@acme.test", "Carol Unrelated", hidden.ID.String(), "Hawk"} {
		if bytes.Contains(traffic.Bytes(), []byte(secret)) {
			t.Errorf("the server sent gail %q", secret)
		}
	}
	if !bytes.Contains(traffic.Bytes(), []byte(falcon.ID.String())) {
		t.Error("the recording of gail's traffic does not even hold her folder's ID: it recorded nothing")
	}
	trafficMu.Unlock()
	for _, secret := range []string{"Hawk", "hawk numbers", "Board", "board says", "carol@acme.test", "Carol Unrelated", hidden.ID.String()} {
		_ = filepath.WalkDir(gail.v.Dir(), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			b, _ := os.ReadFile(p)
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("gail's vault holds %q in %s", secret, p)
			}
			return nil
		})
	}
	if _, err := gail.s.Conn().Do(ctx, client.Request{Method: "GET", Path: "/v1/objects/manifest/" + versionID(t, ann.v, "Project Hawk secret name", "hawk.txt").String()}); !client.IsCode(err, wire.CodeNotFound) {
		t.Fatalf("the server serves gail a folder she was not granted: %v", err)
	}
	// The admin ends the grant early: refused at once, destroyed.
	if _, _, err := o.admin.Guest(ctx, "gail@consult.test", []object.ID{falcon.ID}, 0); err != nil {
		t.Fatal(err)
	}
	_, err = gail.s.Sync(ctx)
	if !client.IsCode(err, wire.CodeGrantEnded) {
		t.Fatalf("gail's sync after the end: %v", err)
	}
	if names := folderNames(t, gail.v); len(names) != 0 {
		t.Fatalf("gail still holds %v after her grant ended", names)
	}
	for _, kind := range []string{"keyring", "folder", "manifest", "chunk"} {
		if n := countObjects(t, gail.v.Dir(), kind); n != 0 {
			t.Errorf("gail's vault keeps %d %s objects after her grant ended", n, kind)
		}
	}
}

// TestGuestExpiresOffline: a guest's laptop kept offline past the end of
// her grant destroys the folder at the next unlock, before anything can be
// shown; setting the clock back afterwards brings nothing back.
func TestGuestExpiresOffline(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann, falcon := annWithFalcon(t, o, "falcon model")
	code, _, err := o.admin.Guest(ctx, "gail@consult.test", []object.ID{falcon.ID}, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	gail := enrollAs(t, code, "Gail Consultant", "Gail's laptop")
	gail.sync(t)
	ann.sync(t)
	gail.sync(t)
	if names := folderNames(t, gail.v); len(names) != 1 {
		t.Fatalf("gail holds %v", names)
	}
	dir := gail.v.Dir()
	gail.s.Close()
	gail.v.Close()

	// Offline, a month and a day later.
	later := time.Now().Add(31 * 24 * time.Hour)
	v, err := vault.OpenWith(ctx, dir, pass, vault.Options{Now: func() time.Time { return later }})
	if err != nil {
		t.Fatal(err)
	}
	if names := folderNames(t, v); len(names) != 0 {
		t.Fatalf("gail's laptop shows %v a month after her grant ended", names)
	}
	if w := strings.Join(v.Warnings(), " "); !strings.Contains(w, "guest access ended") || !strings.Contains(w, "Project Falcon") {
		t.Errorf("the warnings do not say why: %q", w)
	}
	v.Close()
	// The clock set back: the folder does not come back.
	v, err = vault.Open(ctx, dir, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if names := folderNames(t, v); len(names) != 0 {
		t.Fatalf("with the clock set back, gail's laptop shows %v", names)
	}
	if n := countObjects(t, dir, "keyring") + countObjects(t, dir, "chunk"); n != 0 {
		t.Errorf("%d keyrings and chunks remain", n)
	}
}

// TestGuestGrantRunsOut: a grant of seconds runs out while the guest is
// online: her next sync is refused and the folder destroyed.
func TestGuestGrantRunsOut(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann, falcon := annWithFalcon(t, o, "falcon model")
	gail, expires := gailOn(t, o, ann, falcon, 4*time.Second)
	if names := folderNames(t, gail.v); len(names) != 1 {
		t.Fatalf("gail holds %v during her grant", names)
	}
	time.Sleep(time.Until(expires) + 100*time.Millisecond)
	if _, err := gail.s.Sync(ctx); !client.IsCode(err, wire.CodeGrantEnded) {
		t.Fatalf("gail's sync after the end: %v", err)
	}
	if names := folderNames(t, gail.v); len(names) != 0 {
		t.Fatalf("gail holds %v after her grant ran out", names)
	}
}

// TestRotationOwedAfterACrash: an unshare that stopped between its entry
// and the new key (the process killed) leaves the rotation owed; the next
// sync carries it out.
func TestRotationOwedAfterACrash(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann := enrollAs(t, o.inviteAs("ann@acme.test", policy.Manager), "Ann Manager", "Ann's laptop")
	enrollAs(t, o.inviteAs("bob@acme.test", policy.Member), "Bob Analyst", "Bob's laptop")
	falcon, err := ann.v.CreateFolder(ctx, "Project Falcon", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	ann.sync(t)
	if err := ann.s.Share(ctx, falcon.ID, "bob@acme.test", orglog.Viewer); err != nil {
		t.Fatal(err)
	}
	// What Unshare leaves when killed right after its entry: the owed
	// rotation recorded, the entry in the log, no new key.
	if err := ann.v.SetSyncMeta(ctx, "rotate", falcon.ID.String()); err != nil {
		t.Fatal(err)
	}
	before, _ := ann.v.FolderEpochs(ctx, falcon.ID)
	ann.sync(t)
	after, _ := ann.v.FolderEpochs(ctx, falcon.ID)
	if len(after) != len(before)+1 {
		t.Fatalf("epochs %v → %v: the owed rotation was not made", before, after)
	}
	if owed, _ := ann.v.SyncMeta(ctx, "rotate"); owed != "" {
		t.Fatalf("still owed: %q", owed)
	}
}

// TestFolderClassChange: the owner narrows a shared folder at once;
// widening waits for the admin's approval of the exact request, then
// reaches the member's device too.
func TestFolderClassChange(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann := enrollAs(t, o.inviteAs("ann@acme.test", policy.Manager), "Ann Manager", "Ann's laptop")
	bob := enrollAs(t, o.inviteAs("bob@acme.test", policy.Member), "Bob Analyst", "Bob's laptop")
	falcon, err := ann.v.CreateFolder(ctx, "Project Falcon", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	ann.sync(t)
	if err := ann.s.Share(ctx, falcon.ID, "bob@acme.test", orglog.Viewer); err != nil {
		t.Fatal(err)
	}
	bob.sync(t)
	class := func(d *device) policy.Class {
		t.Helper()
		f, err := d.v.Folder(ctx, "Project Falcon")
		if err != nil {
			t.Fatal(err)
		}
		return f.Class
	}
	// Narrowing: at once.
	if req, err := ann.v.ChangeClass(ctx, "Project Falcon", policy.Restricted); err != nil || req != nil {
		t.Fatalf("narrowing: %v %v", req, err)
	}
	ann.sync(t)
	bob.sync(t)
	if c := class(bob); c != policy.Restricted {
		t.Fatalf("bob sees %s after the narrowing", c)
	}
	// Widening: a request; the admin approves it; then it lands.
	req, err := ann.v.ChangeClass(ctx, "Project Falcon", policy.Internal)
	if !errors.Is(err, vault.ErrNeedsApproval) || req == nil {
		t.Fatalf("widening without approval: %v %v", req, err)
	}
	if c := class(ann); c != policy.Restricted {
		t.Fatalf("the folder is %s before the approval", c)
	}
	parsed, err := vault.ParseClassRequest(req.Code())
	if err != nil || parsed.Class != policy.Internal {
		t.Fatalf("request code: %+v %v", parsed, err)
	}
	if err := o.admin.ApproveClass(ctx, parsed); err != nil {
		t.Fatal(err)
	}
	ann.sync(t)
	if req, err := ann.v.ChangeClass(ctx, "Project Falcon", policy.Internal); err != nil || req != nil {
		t.Fatalf("widening once approved: %v %v", req, err)
	}
	ann.sync(t)
	bob.sync(t)
	if c := class(bob); c != policy.Internal {
		t.Fatalf("bob sees %s after the approved widening", c)
	}
	// The server learned no class: the approval is a commitment.
	for _, raw := range o.entries(t) {
		if bytes.Contains(raw, []byte("internal")) || bytes.Contains(raw, []byte("restricted")) {
			t.Fatalf("a log entry names a class: %s", raw)
		}
	}
	for _, d := range []*device{ann, bob} {
		if r, err := d.v.Check(ctx, nil); err != nil || !r.OK() {
			t.Errorf("%s: check after the class changes: %+v %v", d.v.DeviceName(), r, err)
		}
	}
}

// TestManagersWrapIsNoRepair: a member of a folder made a manager wraps
// its key to every reader, the owner included; the owner's device pulls
// that second wrap of a key it holds. It is recorded, not taken for an
// object the index lost: the owner's vault opened with "the index did not
// list 1 keyrings … put back" and an audit entry of it at every unlock.
func TestManagersWrapIsNoRepair(t *testing.T) {
	ctx := context.Background()
	o, ann, bob, _ := dealsSharedWithBob(t, policy.Member)
	if err := o.admin.SetRole(ctx, "bob@acme.test", policy.Manager); err != nil {
		t.Fatal(err)
	}
	bob.sync(t)
	if st := ann.sync(t); st.BytesDown == 0 {
		t.Fatal("ann's device pulled no second wrap: the case is not made")
	}
	for i := range 2 {
		v, err := vault.Open(ctx, ann.v.Dir(), pass)
		if err != nil {
			t.Fatal(err)
		}
		w := v.Warnings()
		v.Close()
		if len(w) != 0 {
			t.Fatalf("open %d of the owner's vault: %q", i+1, w)
		}
	}
	if got := string(read(t, ann.v, "Deals", "terms.txt")); got != "price 42" {
		t.Fatalf("ann reads %q", got)
	}
	// Either wrap damaged (or its maker's device revoked since), the
	// other still opens the folder: the key is not lost for the index
	// listing one of them first.
	rings, _ := filepath.Glob(filepath.Join(ann.v.Dir(), "objects", "keyring", "*", "*"))
	if len(rings) < 2 {
		t.Fatalf("%d keyring objects on the owner's device, want two wraps", len(rings))
	}
	// coffer check verifies every wrap, and says when a damaged one
	// costs nothing (it verified the index's first wraps only).
	check := func(v *vault.Vault) *vault.Report {
		r, err := v.Check(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := check(ann.v); !r.OK() || r.Checked["keyring"] != len(rings) {
		t.Fatalf("check of the intact vault: %d of %d keyrings verified, problems %+v", r.Checked["keyring"], len(rings), r.Problems)
	}
	for _, p := range rings {
		good, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		bad := bytes.Clone(good)
		bad[len(bad)-1] ^= 1
		if err := os.WriteFile(p, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		v, err := vault.Open(ctx, ann.v.Dir(), pass)
		if err != nil {
			t.Fatalf("keyring %s damaged: open: %v", filepath.Base(p)[:12], err)
		}
		got := string(read(t, v, "Deals", "terms.txt"))
		r := check(v)
		v.Close()
		if got != "price 42" {
			t.Fatalf("keyring %s damaged: ann reads %q", filepath.Base(p)[:12], got)
		}
		if len(r.Problems) != 1 || r.Problems[0].Object != "keyring/"+filepath.Base(p) || len(r.Problems[0].Affects) != 0 ||
			!strings.Contains(r.Problems[0].What, "nothing is lost") || len(r.Damaged) != 0 {
			t.Fatalf("keyring %s damaged: check says %+v, damaged versions %q", filepath.Base(p)[:12], r.Problems, r.Damaged)
		}
		if err := os.WriteFile(p, good, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Every wrap of the key damaged: that is loss, and said so.
	for _, p := range rings {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)-1] ^= 1
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	v, err := vault.Open(ctx, ann.v.Dir(), pass)
	if err != nil {
		t.Fatalf("every keyring damaged: open: %v", err)
	}
	defer v.Close()
	r := check(v)
	lost := 0
	for _, p := range r.Problems {
		if strings.HasPrefix(p.Object, "keyring/") && len(p.Affects) != 0 && !strings.Contains(p.What, "nothing is lost") {
			lost++
		}
	}
	if lost != len(rings) || len(r.Damaged) == 0 {
		t.Fatalf("every keyring damaged: check says %+v, damaged versions %q", r.Problems, r.Damaged)
	}
}

// dealsSharedWithBob is an org where Ann, a manager, owns the confidential
// folder "Deals" with terms.txt ("price 42"), synced and shared with Bob
// (bobRole in the org) as a viewer, Bob's device synced.
func dealsSharedWithBob(t *testing.T, bobRole policy.Role) (*org, *device, *device, vault.Folder) {
	t.Helper()
	ctx := context.Background()
	o := newOrg(t)
	ann := enrollAs(t, o.inviteAs("ann@acme.test", policy.Manager), "Ann Manager", "Ann's laptop")
	bob := enrollAs(t, o.inviteAs("bob@acme.test", bobRole), "Bob Analyst", "Bob's laptop")
	deals, err := ann.v.CreateFolder(ctx, "Deals", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	put(t, ann.v, "Deals", "terms.txt", "price 42")
	ann.sync(t)
	if err := ann.s.Share(ctx, deals.ID, "bob@acme.test", orglog.Viewer); err != nil {
		t.Fatal(err)
	}
	bob.sync(t)
	return o, ann, bob, deals
}

// TestEnrolledDeviceIsSeen: a device the admin lists right after it
// enrolled was last seen then, from its address and OS (it showed
// "never" until its first sync: the newcomer's F15).
func TestEnrolledDeviceIsSeen(t *testing.T) {
	o := newOrg(t)
	before := time.Now().Add(-time.Second).Unix()
	enrollAs(t, o.inviteAs("ann@acme.test", policy.Member), "Ann Trader", "Ann's laptop")
	devs, err := o.admin.Devices(context.Background())
	if err != nil || len(devs) != 1 {
		t.Fatalf("devices: %+v %v", devs, err)
	}
	if d := devs[0]; d.LastSeen < before || d.LastIP == "" || d.OS == "" {
		t.Fatalf("the device just enrolled: %+v", d)
	}
}
