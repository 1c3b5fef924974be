package client_test

import (
	"context"
	"testing"

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
