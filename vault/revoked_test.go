package vault

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/vault/object"
)

// TestRevokedDeviceReceipt: what a vault takes from a device revoked since.
// A folder object only as the exact bytes its owner anchored in the log;
// a version only if dated no later than the revocation, whose entry's time
// is in whole seconds (a version of that same second is before it).
func TestRevokedDeviceReceipt(t *testing.T) {
	ctx := t.Context()
	pub := func() []byte { p, _, _ := ed25519.GenerateKey(rand.Reader); return p }
	pin := &OrgPin{Org: object.NewRandomID(), Admin: pub(), Server: pub(), TLS: make([]byte, 32), URL: "https://127.0.0.1:1"}
	v, err := CreateWith(ctx, filepath.Join(t.TempDir(), "v"), Identity{Email: "bob@acme.test"}, "revoked test passphrase", CreateOptions{Org: pin})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	lost, live := ed25519.PublicKey(pub()), ed25519.PublicKey(pub())
	revokedAt := time.Date(2026, 12, 1, 9, 30, 15, 0, time.UTC)
	folder := object.NewRandomID()
	anchored := []byte("the envelope of the folder object made with the folder")
	sum := sha256.Sum256(anchored)
	st := &orglog.State{
		Devices: map[object.ID]*orglog.DeviceState{
			object.NewRandomID(): {Email: "ann@acme.test", Key: lost, Revoked: true, RevokedAt: revokedAt},
			object.NewRandomID(): {Email: "ann@acme.test", Key: live},
		},
		Folders: map[object.ID]*orglog.FolderState{folder: {ID: folder, Owner: "ann@acme.test",
			Writers: map[string]bool{"ann@acme.test": true}, Anchor: sum[:]}},
	}
	v.mu.Lock()
	v.org, v.trust.org = st, st
	v.mu.Unlock()

	if err := v.checkRevokedFolderSigner(lost, anchored); err != nil {
		t.Errorf("the anchored folder object from the lost laptop: %v", err)
	}
	if err := v.checkRevokedFolderSigner(lost, append([]byte("x"), anchored...)); !errors.Is(err, ErrTampered) {
		t.Errorf("another folder object from the lost laptop: %v, want it refused", err)
	}
	if err := v.checkRevokedFolderSigner(live, []byte("any revision")); err != nil {
		t.Errorf("a folder object from a device not revoked: %v", err)
	}
	for _, tc := range []struct {
		after time.Duration
		ok    bool
	}{{-time.Hour, true}, {0, true}, {999 * time.Millisecond, true}, {time.Second, false}, {time.Hour, false}} {
		m := &Manifest{Folder: folder, Epoch: 1, Seq: 1, Time: revokedAt.Add(tc.after)}
		err := v.checkWroteUnder(ctx, m, lost)
		if tc.ok && err != nil {
			t.Errorf("a version dated %v after the revocation: %v", tc.after, err)
		}
		if !tc.ok && !errors.Is(err, ErrTampered) {
			t.Errorf("a version dated %v after the revocation: %v, want it refused", tc.after, err)
		}
	}
}
