package vault

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// TestRevokedDeviceReceipt: what a vault takes from a device revoked since.
// A folder object only as revision 0 of that very folder, byte for byte
// what its owner anchored in the log before the revocation (an anchor
// appended after may be the thief's: the lost laptop holds the user key
// that signs anchors); a version only if dated no later than the
// revocation, whose entry's time is in whole seconds (a version of that
// same second is before it).
func TestRevokedDeviceReceipt(t *testing.T) {
	ctx := t.Context()
	pub := func() []byte { p, _, _ := ed25519.GenerateKey(rand.Reader); return p }
	v := orgVault(t, "ann@acme.test")
	deals, err := v.CreateFolder(ctx, "Deals", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	envelope := func() (object.ID, []byte) {
		row, err := v.idx.FolderByID(ctx, deals.ID)
		if err != nil {
			t.Fatal(err)
		}
		data, err := v.objects.Get(ctx, store.Handle{Kind: object.KindFolder, ID: row.ObjectID})
		if err != nil {
			t.Fatal(err)
		}
		return row.ObjectID, data
	}
	rev0, first := envelope()
	if _, err := v.ChangeClass(ctx, "Deals", policy.Restricted); err != nil {
		t.Fatal(err)
	}
	rev1, second := envelope()
	sum := func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

	lost, live := ed25519.PublicKey(pub()), ed25519.PublicKey(pub())
	revokedAt := time.Date(2026, 12, 1, 9, 30, 15, 0, time.UTC)
	const revokedEntry = 9
	other := object.NewRandomID()
	state := func(anchor []byte, anchorEntry int64, otherAnchor []byte) *orglog.State {
		return &orglog.State{
			Devices: map[object.ID]*orglog.DeviceState{
				object.NewRandomID(): {Email: "ann@acme.test", Key: lost, Revoked: true, RevokedAt: revokedAt, RevokedEntry: revokedEntry},
				object.NewRandomID(): {Email: "ann@acme.test", Key: live},
			},
			Folders: map[object.ID]*orglog.FolderState{
				deals.ID: {ID: deals.ID, Owner: "ann@acme.test", Writers: map[string]bool{"ann@acme.test": true}, Anchor: anchor, AnchorEntry: anchorEntry},
				other:    {ID: other, Owner: "ann@acme.test", Anchor: otherAnchor, AnchorEntry: 3},
			},
		}
	}
	use := func(st *orglog.State) {
		v.mu.Lock()
		v.org, v.trust.org = st, st
		v.mu.Unlock()
	}
	for name, tc := range map[string]struct {
		st     *orglog.State
		signer ed25519.PublicKey
		id     object.ID
		data   []byte
		ok     bool
	}{
		"revision 0, anchored before the revocation":        {state(sum(first), 5, nil), lost, rev0, first, true},
		"revision 0, anchored after the revocation":         {state(sum(first), 12, nil), lost, rev0, first, false},
		"revision 0, not anchored":                          {state(nil, 0, nil), lost, rev0, first, false},
		"revision 0, its bytes anchored for another folder": {state(nil, 0, sum(first)), lost, rev0, first, false},
		"revision 1, its bytes anchored":                    {state(sum(second), 5, nil), lost, rev1, second, false},
		"revision 1 from a device not revoked":              {state(nil, 0, nil), live, rev1, second, true},
	} {
		t.Run(name, func(t *testing.T) {
			use(tc.st)
			err := v.checkRevokedFolderSigner(ctx, tc.signer, tc.data, tc.id)
			if tc.ok && err != nil {
				t.Fatal(err)
			}
			if !tc.ok && !errors.Is(err, ErrTampered) {
				t.Fatalf("%v, want it refused", err)
			}
		})
	}

	use(state(nil, 0, nil))
	for _, tc := range []struct {
		after time.Duration
		ok    bool
	}{{-time.Hour, true}, {0, true}, {999 * time.Millisecond, true}, {time.Second, false}, {time.Hour, false}} {
		m := &Manifest{Folder: deals.ID, Epoch: 1, Seq: 1, Time: revokedAt.Add(tc.after)}
		err := v.checkWroteUnder(ctx, m, lost)
		if tc.ok && err != nil {
			t.Errorf("a version dated %v after the revocation: %v", tc.after, err)
		}
		if !tc.ok && !errors.Is(err, ErrTampered) {
			t.Errorf("a version dated %v after the revocation: %v, want it refused", tc.after, err)
		}
	}
}
