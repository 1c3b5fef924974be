package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/testenv"
)

func testChain(t testing.TB, key ed25519.PrivateKey, n int) []Entry {
	t.Helper()
	var chain []Entry
	for i := range n {
		e := Entry{Time: time.Unix(1700000000+int64(i), 0).UTC(), Action: Export, Outcome: Blocked, Sealed: []byte{byte(i), 1, 2, 3}}
		var prev *Entry
		if i > 0 {
			prev = &chain[i-1]
		}
		e.Link(prev, key)
		chain = append(chain, e)
	}
	return chain
}

func trustOnly(key ed25519.PrivateKey) func(ed25519.PublicKey) bool {
	pub := key.Public().(ed25519.PublicKey)
	return func(k ed25519.PublicKey) bool { return pub.Equal(k) }
}

func TestChainVerifies(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	chain := testChain(t, key, 5)
	if b := Verify(chain, trustOnly(key)); len(b) != 0 {
		t.Fatalf("clean chain: %v", b)
	}
	if b := Verify(nil, trustOnly(key)); len(b) != 0 {
		t.Fatalf("empty chain: %v", b)
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	if b := Verify(chain, trustOnly(other)); len(b) != 5 || b[0].Kind != BadSignature {
		t.Fatalf("chain signed by an untrusted key: %v", b)
	}
}

// mutate changes field f of e to data; it returns false if nothing changed.
func mutate(e *Entry, f byte, data []byte) bool {
	before := *e
	switch f % 8 {
	case 0:
		e.Seq ^= int64(len(data)) + 1
	case 1:
		e.Time = e.Time.Add(time.Duration(len(data)+1) * time.Nanosecond)
	case 2:
		e.Action = Action(data)
	case 3:
		e.Outcome = Outcome(data)
	case 4:
		e.Sealed = data
	case 5:
		copy(e.Prev[:], data)
	case 6:
		e.Sig = data
	case 7:
		copy(e.Hash[:], data)
	}
	return !(before.Seq == e.Seq && before.Time.Equal(e.Time) && before.Action == e.Action && before.Outcome == e.Outcome &&
		bytes.Equal(before.Sealed, e.Sealed) && before.Prev == e.Prev && bytes.Equal(before.Sig, e.Sig) && before.Hash == e.Hash)
}

// FuzzVerify changes one field of one entry of a valid chain to the
// fuzzer's bytes: Verify must never panic, and must report a break exactly
// when something changed.
func FuzzVerify(f *testing.F) {
	_, key, _ := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	base := testChain(f, key, 4)
	f.Fuzz(func(t *testing.T, idx, field byte, data []byte) {
		chain := append([]Entry(nil), base...)
		i := int(idx) % len(chain)
		changed := mutate(&chain[i], field, data)
		breaks := Verify(chain, trustOnly(key))
		if changed && len(breaks) == 0 {
			t.Fatalf("change to field %d of entry %d not detected", field%8, i+1)
		}
		if !changed && len(breaks) != 0 {
			t.Fatalf("no change but breaks: %v", breaks)
		}
		if changed && breaks[0].Position > i+1 {
			t.Fatalf("first break at %d, change at %d", breaks[0].Position, i+1)
		}
	})
}

func TestFuzzSeedsPresent(t *testing.T) { testenv.CheckFuzzSeeds(t) }
