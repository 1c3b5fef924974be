package vault

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// orgVault is a new vault of email enrolled in an organisation of made-up
// keys (no server): a test sets its log state (v.org) by hand. It is
// closed when the test ends.
func orgVault(t *testing.T, email string) *Vault {
	t.Helper()
	pub := func() []byte { p, _, _ := ed25519.GenerateKey(rand.Reader); return p }
	pin := &OrgPin{Org: object.NewRandomID(), Admin: pub(), Server: pub(), TLS: make([]byte, 32), URL: "https://127.0.0.1:1"}
	v, err := CreateWith(t.Context(), filepath.Join(t.TempDir(), "v"), Identity{Email: email}, "org test vault passphrase", CreateOptions{Org: pin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// TestForgedAuthorRefused: a version must name as its author the device
// that signed it and that device's person. An editor's modified client
// (bob's key here, an editor of ann's folder in the log) that puts its
// version in ann's name, or on ann's device, is refused on receipt and
// at adoption; the same version in bob's own name is taken. The same holds
// for this user's own devices.
func TestForgedAuthorRefused(t *testing.T) {
	ctx := t.Context()
	v := orgVault(t, "ann@acme.test")
	deals, err := v.CreateFolder(ctx, "Deals", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Put(ctx, deals, "terms.txt", bytes.NewReader([]byte("price 42")), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	file, err := v.file(ctx, deals, "terms.txt")
	if err != nil {
		t.Fatal(err)
	}
	head, err := v.headManifest(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	fk, err := v.folderKey(ctx, deals.ID, head.Epoch)
	if err != nil {
		t.Fatal(err)
	}

	bobPub, bobKey, _ := ed25519.GenerateKey(rand.Reader)
	bobDevice := object.NewRandomID()
	st := &orglog.State{
		Devices: map[object.ID]*orglog.DeviceState{bobDevice: {ID: bobDevice, Email: "bob@acme.test", Key: bobPub}},
		Folders: map[object.ID]*orglog.FolderState{deals.ID: {ID: deals.ID, Owner: "ann@acme.test",
			Members: map[string]string{"bob@acme.test": orglog.Editor},
			Writers: map[string]bool{"ann@acme.test": true, "bob@acme.test": true}}},
	}
	v.mu.Lock()
	v.org, v.trust.org = st, st
	v.mu.Unlock()

	// version is a new version on head, signed by key, naming user and
	// device as its author.
	version := func(key ed25519.PrivateKey, user string, device object.ID) (object.ID, []byte) {
		m := *head
		m.ID, m.Seq, m.Parent, m.Time = object.NewRandomID(), head.Seq+1, head.ID, v.now().UTC()
		m.AuthorUser, m.AuthorDevice = user, device
		data, err := sealObject(object.KindManifest, m.ID, &m, key, fk.recipient)
		if err != nil {
			t.Fatal(err)
		}
		return m.ID, data
	}
	for name, tc := range map[string]struct {
		key    ed25519.PrivateKey
		user   string
		device object.ID
		ok     bool
	}{
		"bob as himself":           {bobKey, "bob@acme.test", bobDevice, true},
		"bob as ann":               {bobKey, "ann@acme.test", bobDevice, false},
		"bob on ann's device":      {bobKey, "bob@acme.test", v.device.Device, false},
		"bob as ann on her device": {bobKey, "ann@acme.test", v.device.Device, false},
		"ann's device as itself":   {v.devKey, "ann@acme.test", v.device.Device, true},
		"ann's device as bob":      {v.devKey, "bob@acme.test", v.device.Device, false},
		"ann's device as another":  {v.devKey, "ann@acme.test", object.NewRandomID(), false},
	} {
		t.Run(name, func(t *testing.T) {
			id, data := version(tc.key, tc.user, tc.device)
			_, err := v.Receive(ctx, object.KindManifest, id, data)
			if tc.ok {
				if err != nil {
					t.Fatalf("an honest version refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "as its author") {
				t.Fatalf("a version in someone else's name: %v, want it rejected", err)
			}
			// Planted in the vault folder instead, it is not adopted.
			if err := v.objects.Put(ctx, store.Handle{Kind: object.KindManifest, ID: id}, data); err != nil {
				t.Fatal(err)
			}
			if _, err := v.findManifest(ctx, id, v.knownKeys()); !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "as its author") {
				t.Fatalf("adoption of a version in someone else's name: %v, want it refused", err)
			}
		})
	}
}
