package server

import (
	"testing"

	"github.com/coffer-vault/coffer/sync/wire"
)

// TestDecodePairing: a stored pairing reads back with where and when it
// came from; a row stored before the server kept that (the bare request)
// still reads, without them; a record whose request is malformed does not.
func TestDecodePairing(t *testing.T) {
	req := wire.PairingRequest{Email: "ann@acme.test", Key: make([]byte, 32), Transport: make([]byte, 32), Recipient: "age1…", Name: "Ann's phone"}
	rec := pairingRecord{Request: wire.Marshal(req), From: "203.0.113.5", OS: "darwin/arm64", Asked: 1_764_590_400}
	var got wire.Pairing
	if err := decodePairing(wire.Marshal(rec), &got); err != nil {
		t.Fatal(err)
	}
	if got.Request.Name != req.Name || got.Request.Email != req.Email || got.From != rec.From || got.OS != rec.OS || got.Asked != rec.Asked {
		t.Errorf("record read back as %+v", got)
	}
	var old wire.Pairing
	if err := decodePairing(wire.Marshal(req), &old); err != nil {
		t.Fatalf("a bare request of an older server: %v", err)
	}
	if old.Request.Name != req.Name || old.From != "" || old.Asked != 0 {
		t.Errorf("bare request read back as %+v", old)
	}
	bad := pairingRecord{Request: []byte(`{"email":"ann@acme.test","surprise":1}`), From: "203.0.113.5"}
	if err := decodePairing(wire.Marshal(bad), &wire.Pairing{}); err == nil {
		t.Error("a record with an unknown field in its request was read")
	}
}
