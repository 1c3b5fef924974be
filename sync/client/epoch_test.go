package client_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

// plantedKey is a folder key of an insider's making for some epoch.
type plantedKey struct {
	folder   object.ID
	epoch    int
	identity *age.HybridIdentity
	chunkKey []byte
}

func newPlantedKey(t *testing.T, folder object.ID, epoch int) *plantedKey {
	t.Helper()
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	ck := make([]byte, 32)
	_, _ = rand.Read(ck)
	return &plantedKey{folder: folder, epoch: epoch, identity: id, chunkKey: ck}
}

// commitment is the log's commitment to the key (orglog.EpochCommitment).
func (k *plantedKey) commitment() []byte {
	return orglog.EpochCommitment(k.folder, int64(k.epoch), k.identity.Recipient().String(), k.chunkKey)
}

// deviceKeyOf returns a device's signing key, read as its owner can from
// keys/device.age with the user identity.
func deviceKeyOf(t *testing.T, d *device) ed25519.PrivateKey {
	t.Helper()
	user, err := age.ParseHybridIdentity(d.v.UserKeys().Identity)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(d.v.Dir(), "keys", "device.age"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := age.Decrypt(bytes.NewReader(raw), user)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	var dev struct{ Seed []byte }
	if err := json.Unmarshal(plain, &dev); err != nil {
		t.Fatal(err)
	}
	return ed25519.NewKeyFromSeed(dev.Seed)
}

// plantWrap uploads, as the insider's device, a keyring wrap of k for
// email: the object a real client makes (docs/sync-protocol.md, "Folders,
// sharing and guests"), with the insider's key inside.
func plantWrap(t *testing.T, insider *device, k *plantedKey, email string) {
	t.Helper()
	ctx := context.Background()
	u := insider.v.OrgState().Users[email]
	if u == nil {
		t.Fatalf("no user %s in the insider's log", email)
	}
	to, err := age.ParseHybridRecipient(u.Recipient)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{"v": 1, "folder": k.folder, "epoch": k.epoch,
		"identity": k.identity.String(), "chunk_key": k.chunkKey})
	if err != nil {
		t.Fatal(err)
	}
	var sealed bytes.Buffer
	w, err := age.Encrypt(&sealed, to)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(body)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wk, err := hkdf.Key(sha256.New, k.chunkKey, nil, "coffer keyring wrap v1", 32)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, wk)
	m.Write([]byte(strconv.Itoa(k.epoch) + "\x00" + email))
	id := object.ID(m.Sum(nil))
	data, err := object.Seal(object.KindKeyring, id, sealed.Bytes(), deviceKeyOf(t, insider))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{wire.HeaderFolder: {k.folder.String()}}
	if _, err := insider.s.Conn().Do(ctx, client.Request{Method: "PUT", Path: "/v1/objects/keyring/" + id.String(), Body: data, Header: h}); err != nil {
		t.Fatalf("upload the planted wrap: %v", err)
	}
}

// appendEpoch appends, as the insider, the log's epoch entry for k.
func appendEpoch(t *testing.T, insider *device, k *plantedKey) error {
	t.Helper()
	e := &orglog.Entry{Org: insider.v.Org().Org, Kind: orglog.Epoch, Folder: k.folder, Epoch: int64(k.epoch),
		Commit: k.commitment(), By: insider.v.Owner().Email, Time: time.Now().UTC().Truncate(time.Second)}
	raw, err := insider.v.SignUserEntry(e)
	if err != nil {
		t.Fatal(err)
	}
	_, err = insider.s.Conn().JSON(context.Background(), "POST", "/v1/log", nil, wire.LogAppend{Entry: raw}, nil)
	return err
}

func epochsOf(t *testing.T, d *device, folder object.ID) []int {
	t.Helper()
	ep, err := d.v.FolderEpochs(context.Background(), folder)
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

// TestPrePlantedEpochKey: a manager among a folder's members, before being
// taken off it, plants a key of his own as the folder's next epoch, so as
// to read what is written after he is gone. A key the log did not commit
// to is refused by every reader; a key he committed to while he could is
// superseded by the rotation that takes him off, which begins the epoch
// after his (the log serialises epochs), however few devices ever held
// his: what is written after he left is under a key he never had.
func TestPrePlantedEpochKey(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann, falcon := annWithFalcon(t, o, "falcon v1")
	mark := enrollAs(t, o.inviteAs("mark@acme.test", policy.Manager), "Mark Manager", "Mark's laptop")
	bob := enrollAs(t, o.inviteAs("bob@acme.test", policy.Member), "Bob Analyst", "Bob's laptop")
	for _, who := range []string{"mark@acme.test", "bob@acme.test"} {
		if err := ann.s.Share(ctx, falcon.ID, who, orglog.Editor); err != nil {
			t.Fatal(err)
		}
	}
	mark.sync(t)
	bob.sync(t)

	// A key for epoch 2 the log never committed to: Bob refuses it.
	unlogged := newPlantedKey(t, falcon.ID, 2)
	plantWrap(t, mark, unlogged, "bob@acme.test")
	var refused *client.RefusedError
	if _, err := bob.s.Sync(ctx); !errors.As(err, &refused) {
		t.Errorf("bob's sync refused nothing (%v); epochs %v", err, epochsOf(t, bob, falcon.ID))
	}
	if ep := epochsOf(t, bob, falcon.ID); !slices.Equal(ep, []int{1}) {
		t.Fatalf("bob took a key the log never committed to: epochs %v", ep)
	}

	// While still a manager, Mark commits to a key of his for epoch 2 and
	// wraps it to Bob alone (Ann's devices never see it). That much a
	// manager may do: Bob takes it and writes under it.
	planted := newPlantedKey(t, falcon.ID, 2)
	if err := appendEpoch(t, mark, planted); err != nil {
		t.Fatal(err)
	}
	plantWrap(t, mark, planted, "bob@acme.test")
	bob.sync(t)
	if ep := epochsOf(t, bob, falcon.ID); !slices.Equal(ep, []int{1, 2}) {
		t.Fatalf("bob's epochs after Mark's logged rotation: %v", ep)
	}
	put(t, bob.v, "Project Falcon", "under-marks-key.txt", "written while Mark was a manager")
	// A second key for an epoch the log holds is refused by the server.
	if err := appendEpoch(t, mark, newPlantedKey(t, falcon.ID, 2)); !client.IsCode(err, wire.CodeRejected) {
		t.Fatalf("the server took a second epoch 2: %v", err)
	}

	// Ann takes Mark off: her rotation begins epoch 3, though her device
	// never held epoch 2.
	if err := ann.s.Unshare(ctx, falcon.ID, "mark@acme.test"); err != nil {
		t.Fatal(err)
	}
	if ep := epochsOf(t, ann, falcon.ID); !slices.Equal(ep, []int{1, 3}) {
		t.Fatalf("ann's epochs after the unshare: %v, want [1 3]", ep)
	}
	// Mark, taken off, can no longer begin an epoch.
	if err := appendEpoch(t, mark, newPlantedKey(t, falcon.ID, 4)); !client.IsCode(err, wire.CodeRejected) {
		t.Fatalf("the server took an epoch entry of a member taken off: %v", err)
	}
	bob.sync(t)
	if ep := epochsOf(t, bob, falcon.ID); !slices.Equal(ep, []int{1, 2, 3}) {
		t.Fatalf("bob's epochs after the unshare: %v, want [1 2 3]", ep)
	}
	put(t, bob.v, "Project Falcon", "model.txt", "falcon v2, after Mark left")
	bob.sync(t)
	f, err := bob.v.Folder(ctx, "Project Falcon")
	if err != nil {
		t.Fatal(err)
	}
	if f.Epoch != 3 {
		t.Fatalf("bob writes under epoch %d after Mark left, want 3", f.Epoch)
	}
	id := versionID(t, bob.v, "Project Falcon", "model.txt")
	_, data, err := o.store.GetObject(ctx, object.KindManifest, id)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := object.Open(data, object.KindManifest, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []*plantedKey{unlogged, planted} {
		if _, err := age.Decrypt(bytes.NewReader(obj.Body), k.identity); err == nil {
			t.Fatal("a key Mark planted opens what Bob wrote after Mark left")
		}
	}
	ann.sync(t)
	if got := string(read(t, ann.v, "Project Falcon", "model.txt")); got != "falcon v2, after Mark left" {
		t.Fatalf("ann reads %q", got)
	}
	// Mark's wrap stays readable to Bob after Mark is gone: the log binds
	// its key, whoever wrapped it.
	dir := bob.v.Dir()
	bob.v.Close()
	again, err := vault.Open(ctx, dir, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := string(read(t, again, "Project Falcon", "under-marks-key.txt")); got != "written while Mark was a manager" {
		t.Fatalf("bob reads %q after reopening", got)
	}
}

// TestFakeFirstEpochKey: a manager wraps a key of his own making as a
// folder's epoch 1 to someone about to be shared the folder, hoping it
// arrives before the owner's. The owner committed to epoch 1 when she
// registered the folder, so the fake is refused and the newcomer reads the
// folder. (Before, epoch 1 had no entry: the first key to arrive was
// taken, and the stored but unrecorded fake made the pull read the feed
// again for ever — the sync never ended.)
func TestFakeFirstEpochKey(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann, falcon := annWithFalcon(t, o, "falcon v1")
	mark := enrollAs(t, o.inviteAs("mark@acme.test", policy.Manager), "Mark Manager", "Mark's laptop")
	bob := enrollAs(t, o.inviteAs("bob@acme.test", policy.Member), "Bob Analyst", "Bob's laptop")
	if f := ann.v.OrgState().Folders[falcon.ID]; f == nil || f.LastEpoch != 1 {
		t.Fatalf("registering the folder did not commit to epoch 1: %+v", f)
	}
	if err := ann.s.Share(ctx, falcon.ID, "mark@acme.test", orglog.Editor); err != nil {
		t.Fatal(err)
	}
	mark.sync(t)
	plantWrap(t, mark, newPlantedKey(t, falcon.ID, 1), "bob@acme.test")
	if err := ann.s.Share(ctx, falcon.ID, "bob@acme.test", orglog.Viewer); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := bob.s.Sync(ctx)
		done <- err
	}()
	select {
	case err := <-done:
		var refused *client.RefusedError
		if !errors.As(err, &refused) {
			t.Errorf("bob's sync refused nothing: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("bob's sync did not end: the pull reads the feed again and again")
	}
	if got := string(read(t, bob.v, "Project Falcon", "model.txt")); got != "falcon v1" {
		t.Fatalf("bob reads %q", got)
	}
}

// TestWritesWaitForTheNewKey: once a reader's log names an epoch it has
// not received the key of — the owner's rotation after taking someone
// off, whose wraps a server holds back or a crash left unmade — it writes
// nothing under the key it has, which the one taken off may hold; it says
// so, and writes again once the key arrives.
func TestWritesWaitForTheNewKey(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann, falcon, bob := falconWithEditor(t, o, "falcon v1")
	bob.sync(t)
	// Ann's epoch 2 is in the log; its key reached nobody.
	if err := appendEpoch(t, ann, newPlantedKey(t, falcon.ID, 2)); err != nil {
		t.Fatal(err)
	}
	bob.sync(t)
	f, err := bob.v.Folder(ctx, "Project Falcon")
	if err != nil {
		t.Fatal(err)
	}
	_, err = bob.v.Put(ctx, f, "notes.txt", bytes.NewReader([]byte("written while the key is pending")), vault.PutOptions{})
	if !errors.Is(err, vault.ErrNewKeyPending) {
		t.Fatalf("bob wrote under epoch 1 while the log names epoch 2: %v", err)
	}
	// Ann's device rotates (as an owed rotation would): epoch 3, wrapped.
	ann.sync(t)
	if _, err := ann.v.Put(ctx, f, "x.txt", bytes.NewReader([]byte("x")), vault.PutOptions{}); !errors.Is(err, vault.ErrNewKeyPending) {
		t.Fatalf("ann wrote while the log names an epoch she does not hold: %v", err)
	}
	if err := ann.s.Unshare(ctx, falcon.ID, "bob@acme.test"); err != nil {
		t.Fatal(err)
	}
	if err := ann.s.Share(ctx, falcon.ID, "bob@acme.test", orglog.Editor); err != nil {
		t.Fatal(err)
	}
	bob.sync(t)
	put(t, bob.v, "Project Falcon", "notes.txt", "written under the new key")
	f, err = bob.v.Folder(ctx, "Project Falcon")
	if err != nil || f.Epoch != 3 {
		t.Fatalf("bob's folder after the rotation: epoch %d, %v", f.Epoch, err)
	}
}
