package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"
)

// Entry is an event as stored: one link of a device's hash chain. Details
// are sealed by the vault; the chain covers the sealed bytes, so nothing
// readable is needed to verify it.
type Entry struct {
	Seq     int64
	Time    time.Time
	Action  Action
	Outcome Outcome
	Sealed  []byte
	Prev    [32]byte // Hash of the entry before; zero for the first
	Hash    [32]byte // ComputeHash of this entry
	Signer  ed25519.PublicKey
	Sig     []byte
}

const chainContext = "coffer audit entry v1\x00"

// ComputeHash returns the hash that links this entry: SHA-256 over a fixed
// binary encoding of every field but Hash, Signer and Sig.
func (e *Entry) ComputeHash() [32]byte {
	var b bytes.Buffer
	b.WriteString(chainContext)
	binary.Write(&b, binary.BigEndian, e.Seq)
	b.Write(e.Prev[:])
	binary.Write(&b, binary.BigEndian, e.Time.UnixNano())
	for _, s := range [][]byte{[]byte(e.Action), []byte(e.Outcome), e.Sealed} {
		binary.Write(&b, binary.BigEndian, uint32(len(s)))
		b.Write(s)
	}
	return sha256.Sum256(b.Bytes())
}

// Link fills in Seq, Prev, Hash, Signer and Sig to append e after prev (nil
// for the first entry of a chain).
func (e *Entry) Link(prev *Entry, key ed25519.PrivateKey) {
	e.Seq, e.Prev = 1, [32]byte{}
	if prev != nil {
		e.Seq, e.Prev = prev.Seq+1, prev.Hash
	}
	e.Hash = e.ComputeHash()
	e.Signer = key.Public().(ed25519.PublicKey)
	e.Sig = ed25519.Sign(key, e.Hash[:])
}

// BreakKind says how a chain is broken.
type BreakKind string

const (
	Deleted      BreakKind = "deleted"       // entries are missing before this one
	Inserted     BreakKind = "inserted"      // an entry that does not follow its predecessor
	Edited       BreakKind = "edited"        // an entry's content does not match its hash
	BadSignature BreakKind = "bad signature" // the hash is not signed by a trusted key
	Reordered    BreakKind = "reordered"     // sequence numbers out of order
)

// Break is one place where a chain does not verify.
type Break struct {
	Position int       // 1-based position in the stored order
	Seq      int64     // the entry's sequence number as stored
	Kind     BreakKind //
	Detail   string
}

func (b Break) String() string {
	return fmt.Sprintf("entry %d (seq %d): %s: %s", b.Position, b.Seq, b.Kind, b.Detail)
}

// Anchor is a link a chain continues from when its earlier entries are
// kept elsewhere: the sequence number and hash of the entry before the
// first one given.
type Anchor struct {
	Seq  int64
	Hash [32]byte
}

// Verify checks a chain in stored order and returns every break. trusted
// says whether a signer key may sign entries.
func Verify(entries []Entry, trusted func(ed25519.PublicKey) bool) []Break {
	return VerifyFrom(entries, nil, trusted)
}

// VerifyFrom is Verify for a chain whose first entry follows start; a nil
// start means the chain begins with entry 1.
func VerifyFrom(entries []Entry, start *Anchor, trusted func(ed25519.PublicKey) bool) []Break {
	var breaks []Break
	var prev *Entry
	if start != nil {
		prev = &Entry{Seq: start.Seq, Hash: start.Hash}
	}
	for i := range entries {
		e := &entries[i]
		pos := i + 1
		add := func(k BreakKind, format string, args ...any) {
			breaks = append(breaks, Break{Position: pos, Seq: e.Seq, Kind: k, Detail: fmt.Sprintf(format, args...)})
		}
		if e.ComputeHash() != e.Hash {
			add(Edited, "content does not match the entry's hash")
		} else if len(e.Signer) != ed25519.PublicKeySize || !trusted(e.Signer) || !ed25519.Verify(e.Signer, e.Hash[:], e.Sig) {
			add(BadSignature, "not signed by this device's key")
		}
		switch {
		case prev == nil && e.Seq != 1:
			add(Deleted, "the chain starts at seq %d; entries 1..%d are missing", e.Seq, e.Seq-1)
		case prev == nil && e.Prev != [32]byte{}:
			add(Inserted, "the first entry names a predecessor")
		case prev != nil && e.Seq <= prev.Seq:
			add(Reordered, "seq %d follows seq %d", e.Seq, prev.Seq)
		case prev != nil && e.Seq > prev.Seq+1:
			add(Deleted, "seq %d..%d are missing", prev.Seq+1, e.Seq-1)
		case prev != nil && e.Prev != prev.Hash:
			add(Inserted, "does not link to the entry before it")
		}
		prev = e
	}
	return breaks
}
