// Package storetest is the conformance suite every sync/store backend runs
// (as restic's backends run internal/backend/test): what the server relies
// on, each as a subtest. A backend's test calls Run with a function that
// opens a fresh, empty store.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/vault/object"
)

// Run runs the suite against stores made by open.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	for name, test := range map[string]func(*testing.T, store.Store){
		"Meta": testMeta, "Log": testLog, "LogRace": testLogRace, "Objects": testObjects, "ObjectRace": testObjectRace,
		"Feed": testFeed, "Nonces": testNonces, "Audit": testAudit, "AuditRace": testAuditRace, "Pairings": testPairings, "Receipts": testReceipts,
		"Residency": testResidency,
	} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			test(t, s)
		})
	}
}

func id(b byte) object.ID { return object.ID{b, 1, 2, 3} }

func testMeta(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.GetMeta(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("absent: %v", err)
	}
	if err := s.PutMeta(ctx, "k", nil, []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMeta(ctx, "k", nil, []byte("b")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("create over existing: %v", err)
	}
	if err := s.PutMeta(ctx, "k", []byte("x"), []byte("b")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("swap from a wrong old value: %v", err)
	}
	if err := s.PutMeta(ctx, "k", []byte("a"), []byte("b")); err != nil {
		t.Fatal(err)
	}
	if v, err := s.GetMeta(ctx, "k"); err != nil || string(v) != "b" {
		t.Fatalf("get: %q %v", v, err)
	}
}

// logRecords appends n records and returns them.
func logRecords(t *testing.T, s store.Store, n int) [][]byte {
	ctx := context.Background()
	var recs [][]byte
	for i := range n {
		rec := []byte(fmt.Sprintf("record %d\n", i))
		r := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) { return s.ReadHashes(ctx, ix) })
		hashes, err := tlog.StoredHashes(int64(i), rec, r)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AppendLog(ctx, int64(i), store.LogRecord{Entry: rec, Hashes: hashes}); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	return recs
}

func testLog(t *testing.T, s store.Store) {
	ctx := context.Background()
	recs := logRecords(t, s, 5)
	if n, err := s.LogSize(ctx); err != nil || n != 5 {
		t.Fatalf("size %d %v", n, err)
	}
	got, err := s.LogEntries(ctx, 1, 4)
	if err != nil || len(got) != 3 || !bytes.Equal(got[0], recs[1]) || !bytes.Equal(got[2], recs[3]) {
		t.Fatalf("entries: %q %v", got, err)
	}
	if err := s.AppendLog(ctx, 3, store.LogRecord{Entry: []byte("late")}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("append at a taken index: %v", err)
	}
	// A batch is stored whole or not at all: here its second record (no
	// entry) cannot be stored, so neither is its first.
	if err := s.AppendLog(ctx, 5, store.LogRecord{Entry: []byte("user")}, store.LogRecord{}); err == nil {
		t.Fatal("a record without an entry was appended")
	}
	if n, err := s.LogSize(ctx); err != nil || n != 5 {
		t.Fatalf("after a batch that failed part-way the log has %d entries (%v), want 5", n, err)
	}
	// The stored hashes give the tree hash of the records.
	r := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) { return s.ReadHashes(ctx, ix) })
	th, err := tlog.TreeHash(5, r)
	if err != nil {
		t.Fatal(err)
	}
	var want []tlog.Hash
	mem := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = want[x]
		}
		return out, nil
	})
	for i, rec := range recs {
		h, _ := tlog.StoredHashes(int64(i), rec, mem)
		want = append(want, h...)
	}
	if th2, _ := tlog.TreeHash(5, mem); th != th2 {
		t.Fatal("the stored hashes do not give the records' tree hash")
	}
	events, err := s.Events(ctx, 0, nil, 100)
	if err != nil || len(events) != 5 || events[4].Log != 5 {
		t.Fatalf("log events: %+v %v", events, err)
	}
}

// testLogRace: servers appending at once never both win one index.
func testLogRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	wins := make([]bool, 8)
	for i := range wins {
		wg.Go(func() {
			rec := []byte(fmt.Sprintf("genesis %d", i))
			wins[i] = s.AppendLog(ctx, 0, store.LogRecord{Entry: rec, Hashes: []tlog.Hash{tlog.RecordHash(rec)}}) == nil
		})
	}
	wg.Wait()
	n := 0
	for _, w := range wins {
		if w {
			n++
		}
	}
	if size, _ := s.LogSize(ctx); n != 1 || size != 1 {
		t.Fatalf("%d appends at index 0 won; log size %d", n, size)
	}
}

func testObjects(t *testing.T, s store.Store) {
	ctx := context.Background()
	m := store.ObjectMeta{Kind: object.KindManifest, ID: id(1), Space: id(9), Device: id(7), File: id(5), Parent: id(4), Seq: 2}
	if _, _, err := s.GetObject(ctx, m.Kind, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("absent: %v", err)
	}
	stored, err := s.PutObject(ctx, m, []byte("first"))
	if err != nil || !stored {
		t.Fatalf("put: %v %v", stored, err)
	}
	stored, err = s.PutObject(ctx, m, []byte("second"))
	if err != nil || stored {
		t.Fatalf("a second put of one ID stored: %v %v", stored, err)
	}
	got, data, err := s.GetObject(ctx, m.Kind, m.ID)
	if err != nil || string(data) != "first" || got.Space != m.Space || got.File != m.File || got.Parent != m.Parent ||
		got.Seq != 2 || got.Device != m.Device || got.Size != 5 {
		t.Fatalf("get: %+v %q %v", got, data, err)
	}
	if _, _, err := s.GetObject(ctx, object.KindChunk, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another kind of the same ID: %v", err)
	}
	chunk := store.ObjectMeta{Kind: object.KindChunk, ID: id(2), Space: id(9), Device: id(7)}
	if ok, err := s.PutObject(ctx, chunk, bytes.Repeat([]byte{1}, 4<<20)); err != nil || !ok {
		t.Fatalf("chunk: %v", err)
	}
	if m, err := s.StatObject(ctx, chunk.Kind, chunk.ID); err != nil || m.Size != 4<<20 {
		t.Fatalf("stat: %+v %v", m, err)
	}
}

func testObjectRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	wins := make([]bool, 8)
	for i := range wins {
		wg.Go(func() {
			ok, err := s.PutObject(ctx, store.ObjectMeta{Kind: object.KindChunk, ID: id(3), Space: id(9), Device: id(byte(i))},
				[]byte(fmt.Sprintf("upload %d", i)))
			wins[i] = ok && err == nil
		})
	}
	wg.Wait()
	n, winner := 0, -1
	for i, w := range wins {
		if w {
			n, winner = n+1, i
		}
	}
	if n != 1 {
		t.Fatalf("%d uploads of one ID stored", n)
	}
	m, data, err := s.GetObject(ctx, object.KindChunk, id(3))
	if err != nil || string(data) != fmt.Sprintf("upload %d", winner) || m.Device != id(byte(winner)) {
		t.Fatalf("the stored object is not the winner's: %q %+v %v", data, m, err)
	}
}

func testFeed(t *testing.T, s store.Store) {
	ctx := context.Background()
	userSpace := object.ID(sha256.Sum256([]byte("ann")))
	puts := []store.ObjectMeta{
		{Kind: object.KindKeyring, ID: id(10), Space: id(1)},
		{Kind: object.KindChunk, ID: id(11), Space: id(1)}, // chunks are not events
		{Kind: object.KindManifest, ID: id(12), Space: id(1), File: id(20), Parent: id(21)},
		{Kind: object.KindManifest, ID: id(13), Space: id(2)},
		{Kind: object.KindDevice, ID: id(14), Space: userSpace},
	}
	for _, m := range puts {
		if _, err := s.PutObject(ctx, m, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	ev, err := s.Events(ctx, 0, []object.ID{id(1), userSpace}, 100)
	if err != nil || len(ev) != 3 || ev[0].ID != id(10) || ev[1].ID != id(12) || ev[1].File != id(20) || ev[1].Parent != id(21) || ev[2].ID != id(14) {
		t.Fatalf("ann's events: %+v %v", ev, err)
	}
	more, err := s.Events(ctx, ev[0].Seq, []object.ID{id(1), userSpace}, 1)
	if err != nil || len(more) != 1 || more[0].ID != id(12) {
		t.Fatalf("after a cursor, with a limit: %+v %v", more, err)
	}
	all, err := s.AllEvents(ctx, 0, 100)
	if err != nil || len(all) != 4 || all[2].ID != id(13) {
		t.Fatalf("all events: %+v %v", all, err)
	}
	if tail, err := s.AllEvents(ctx, all[2].Seq, 100); err != nil || len(tail) != 1 || tail[0].ID != id(14) {
		t.Fatalf("all events after a cursor: %+v %v", tail, err)
	}
	bob, _ := s.Events(ctx, 0, []object.ID{id(2)}, 100)
	if len(bob) != 1 || bob[0].ID != id(13) {
		t.Fatalf("bob sees %+v", bob)
	}
	if last, err := s.LastEvent(ctx); err != nil || last < ev[2].Seq {
		t.Fatalf("last event %d %v", last, err)
	}
}

func testNonces(t *testing.T, s store.Store) {
	ctx := context.Background()
	exp := time.Now().Add(time.Minute)
	if err := s.UseNonce(ctx, "device:a", "n1", exp); err != nil {
		t.Fatal(err)
	}
	if err := s.UseNonce(ctx, "device:a", "n1", exp); !errors.Is(err, store.ErrReplay) {
		t.Fatalf("replay: %v", err)
	}
	if err := s.UseNonce(ctx, "device:b", "n1", exp); err != nil {
		t.Fatalf("another key's nonce: %v", err)
	}
}

func testAudit(t *testing.T, s store.Store) {
	ctx := context.Background()
	dev := id(5)
	rows := []store.AuditRow{{Seq: 1, Action: "unlock", Outcome: "ok", Sealed: []byte("s"), Prev: make([]byte, 32), Hash: []byte("h1"), Sig: []byte("g")},
		{Seq: 2, Action: "export", Outcome: "blocked", Sealed: []byte("s"), Prev: []byte("h1"), Hash: []byte("h2"), Sig: []byte("g")}}
	b := store.Batch{IP: "192.0.2.7", Time: time.Now(), Details: []byte("sealed for compliance"), DetailsSig: []byte("sig")}
	if err := s.AppendAudit(ctx, dev, 0, nil, rows, b); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAudit(ctx, dev, 0, nil, rows[:1], b); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("append on a stale head: %v", err)
	}
	d, err := s.Device(ctx, dev)
	if err != nil || d.AuditSeq != 2 || string(d.AuditHash) != "h2" {
		t.Fatalf("device %+v %v", d, err)
	}
	if err := s.FlagDevice(ctx, dev, "gap"); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchDevice(ctx, dev, "192.0.2.8", "linux/amd64", time.Unix(1_800_000_000, 0)); err != nil {
		t.Fatal(err)
	}
	d, _ = s.Device(ctx, dev)
	if d.AuditFlag != "gap" || d.LastIP != "192.0.2.8" || d.OS != "linux/amd64" || d.LastSeen.Unix() != 1_800_000_000 || d.AuditSeq != 2 {
		t.Fatalf("device %+v", d)
	}
	got, err := s.AuditRows(ctx, dev, 1, 10)
	if err != nil || len(got) != 1 || got[0].Seq != 2 || got[0].Outcome != "blocked" {
		t.Fatalf("rows %+v %v", got, err)
	}
	more := []store.AuditRow{{Seq: 3, Action: "preview", Outcome: "ok", Sealed: []byte("s"), Prev: []byte("h2"), Hash: []byte("h3"), Sig: []byte("g")}}
	if err := s.AppendAudit(ctx, id(6), 0, nil, more[:1], store.Batch{IP: "192.0.2.9", Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	batches, err := s.AuditBatches(ctx, 0, 10)
	if err != nil || len(batches) != 2 || batches[0].Device != dev || len(batches[0].Rows) != 2 || batches[0].Rows[1].Outcome != "blocked" ||
		string(batches[0].Details) != "sealed for compliance" || string(batches[0].DetailsSig) != "sig" || batches[0].IP != "192.0.2.7" || batches[1].Device != id(6) || batches[1].Details != nil {
		t.Fatalf("batches %+v %v", batches, err)
	}
	if later, err := s.AuditBatches(ctx, batches[0].ID, 10); err != nil || len(later) != 1 || later[0].ID != batches[1].ID {
		t.Fatalf("batches after the first: %+v %v", later, err)
	}
}

// testAuditRace: servers appending to one device's chain at once from the
// same head: one wins, the others get ErrConflict (the device sends
// again), never another error.
func testAuditRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	dev := id(8)
	head := []byte(nil)
	// Rounds, so that the appends overlap once connections are warm; the
	// first makes the chain (and its device's row).
	for round := int64(0); round < 20; round++ {
		var wg sync.WaitGroup
		errs := make([]error, 8)
		hashes := make([][]byte, len(errs))
		for i := range errs {
			hashes[i] = []byte(fmt.Sprintf("h%d-%d", round+1, i))
			wg.Go(func() {
				prev := head
				if prev == nil {
					prev = make([]byte, 32)
				}
				rows := []store.AuditRow{{Seq: round + 1, Action: "preview", Outcome: "ok", Sealed: []byte("s"), Prev: prev,
					Hash: hashes[i], Sig: []byte("g")}}
				errs[i] = s.AppendAudit(ctx, dev, round, head, rows, store.Batch{IP: "192.0.2.1", Time: time.Now()})
			})
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won >= 0:
				t.Fatalf("round %d: appends %d and %d from one head both won", round, won, i)
			case err == nil:
				won = i
			case !errors.Is(err, store.ErrConflict):
				t.Fatalf("round %d, append %d: %v, want nil or ErrConflict", round, i, err)
			}
		}
		d, err := s.Device(ctx, dev)
		if won < 0 || err != nil || d.AuditSeq != round+1 || string(d.AuditHash) != string(hashes[won]) {
			t.Fatalf("round %d: the head is %+v (%v), want the winner's (%d)", round, d, err, won)
		}
		head = hashes[won]
	}
}

func testPairings(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	p := store.Pairing{ID: id(1), Email: "ann@x.test", Request: []byte(`{}`), Expires: now.Add(10 * time.Minute)}
	if err := s.PutPairing(ctx, p, now, 8); err != nil {
		t.Fatal(err)
	}
	if err := s.PutPairing(ctx, p, now, 8); !errors.Is(err, store.ErrExists) {
		t.Fatalf("one pairing put twice: %v", err)
	}
	if err := s.PutPairing(ctx, store.Pairing{ID: id(2), Email: "ann@x.test", Request: []byte(`{}`), Expires: now.Add(-time.Minute)}, now.Add(-2*time.Minute), 8); err != nil {
		t.Fatal(err)
	}
	list, err := s.Pairings(ctx, "ann@x.test", now)
	if err != nil || len(list) != 1 || list[0].ID != id(1) {
		t.Fatalf("pending: %+v %v", list, err)
	}
	if err := s.AnswerPairing(ctx, id(1), []byte("bundle")); err != nil {
		t.Fatal(err)
	}
	if err := s.AnswerPairing(ctx, id(1), []byte("other")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("answered twice: %v", err)
	}
	got, err := s.GetPairing(ctx, id(1))
	if err != nil || string(got.Bundle) != "bundle" {
		t.Fatalf("get %+v %v", got, err)
	}
	if list, _ := s.Pairings(ctx, "ann@x.test", now); len(list) != 0 {
		t.Fatalf("answered still pending: %+v", list)
	}

	// The bound holds for puts at once (several servers on one store):
	// the count and the insert are one step. Answered and expired
	// requests do not count, nor those of another e-mail.
	if err := s.PutPairing(ctx, store.Pairing{ID: id(3), Email: "bob@x.test", Request: []byte(`{}`), Expires: now.Add(time.Minute)}, now, 8); err != nil {
		t.Fatal(err)
	}
	var added atomic.Int32
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Go(func() {
			err := s.PutPairing(ctx, store.Pairing{ID: id(byte(100 + i)), Email: "ann@x.test", Request: []byte(`{}`), Expires: now.Add(time.Minute)}, now, 5)
			switch {
			case err == nil:
				added.Add(1)
			case !errors.Is(err, store.ErrFull):
				t.Errorf("put %d: %v, want nil or ErrFull", i, err)
			}
		})
	}
	wg.Wait()
	if list, err := s.Pairings(ctx, "ann@x.test", now); err != nil || added.Load() != 5 || len(list) != 5 {
		t.Fatalf("24 puts at once bounded to 5: %d added, %d waiting (%v)", added.Load(), len(list), err)
	}
	// Once they expire, there is room again.
	if err := s.PutPairing(ctx, store.Pairing{ID: id(200), Email: "ann@x.test", Request: []byte(`{}`), Expires: now.Add(time.Hour)}, now.Add(2*time.Minute), 5); err != nil {
		t.Fatalf("a put after the waiting expired: %v", err)
	}
	// A put removes the requests that expired PairingKept ago or more,
	// answered (1) or not (3), whoever asked; younger ones stay (200).
	later := now.Add(10*time.Minute + store.PairingKept)
	if err := s.PutPairing(ctx, store.Pairing{ID: id(201), Email: "cat@x.test", Request: []byte(`{}`), Expires: later.Add(time.Minute)}, later, 5); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []byte{1, 2, 3} {
		if _, err := s.GetPairing(ctx, id(gone)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("pairing %d, expired a day before: %v, want ErrNotFound", gone, err)
		}
	}
	for _, kept := range []byte{200, 201} {
		if _, err := s.GetPairing(ctx, id(kept)); err != nil {
			t.Errorf("pairing %d: %v", kept, err)
		}
	}
}

func testReceipts(t *testing.T, s store.Store) {
	ctx := context.Background()
	if got, err := s.ReceiptsOf(ctx, id(1)); err != nil || len(got) != 0 {
		t.Fatalf("absent: %+v %v", got, err)
	}
	r := store.StoredReceipt{Device: id(1), Order: "-", Receipt: []byte("signed note"), Received: time.Unix(1_800_000_000, 5)}
	if err := s.PutReceipt(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.PutReceipt(ctx, store.StoredReceipt{Device: id(1), Order: "-", Receipt: []byte("another"), Received: time.Now()}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("a second receipt for one order: %v", err)
	}
	if err := s.PutReceipt(ctx, store.StoredReceipt{Device: id(1), Order: "ab", Receipt: []byte("the admin's"), Received: time.Unix(1_800_000_001, 0)}); err != nil {
		t.Fatalf("a receipt for another order: %v", err)
	}
	got, err := s.ReceiptsOf(ctx, id(1))
	if err != nil || len(got) != 2 || string(got[0].Receipt) != "signed note" || !got[0].Received.Equal(r.Received) || got[1].Order != "ab" {
		t.Fatalf("receipts of the device %+v %v", got, err)
	}
	all, err := s.Receipts(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("receipts %+v %v", all, err)
	}
}

// Damage is how Lost damages a stored object's bytes, as a failing disk or
// a backup copied out of step does: "missing" removes them, "cut" keeps
// their first 5 bytes only.
type Damage func(kind object.Kind, id object.ID, how string) error

// Lost runs, on s, the part of the suite that needs a backend's own hands
// on its bytes: an object whose metadata is stored but whose bytes are
// gone or cut short reads as ErrLost with its metadata, not as another
// error; a second PutObject does not repair it (the server checks the
// uploader first); RepairLost does, with bytes of the stored size only.
func Lost(t *testing.T, s store.Store, damage Damage) {
	ctx := context.Background()
	data := []byte("an envelope the server cannot read")
	for _, how := range []string{"missing", "cut"} {
		t.Run(how, func(t *testing.T) {
			m := store.ObjectMeta{Kind: object.KindChunk, ID: object.NewRandomID(), Space: object.NewRandomID(), Stored: time.Now()}
			if _, err := s.PutObject(ctx, m, data); err != nil {
				t.Fatal(err)
			}
			if err := damage(m.Kind, m.ID, how); err != nil {
				t.Fatal(err)
			}
			if got, _, err := s.GetObject(ctx, m.Kind, m.ID); !errors.Is(err, store.ErrLost) || got.Size != int64(len(data)) || got.Space != m.Space {
				t.Fatalf("a damaged object reads as %+v, %v; want ErrLost with its metadata", got, err)
			}
			if stored, err := s.PutObject(ctx, m, data); err != nil || stored {
				t.Fatalf("upload again: stored %v, %v", stored, err)
			}
			if _, _, err := s.GetObject(ctx, m.Kind, m.ID); !errors.Is(err, store.ErrLost) {
				t.Fatalf("PutObject repaired a lost object: %v", err)
			}
			if ok, err := s.RepairLost(ctx, m.Kind, m.ID, data[1:]); err != nil || ok {
				t.Fatalf("a repair of another size: %v %v", ok, err)
			}
			if ok, err := s.RepairLost(ctx, m.Kind, m.ID, data); err != nil || !ok {
				t.Fatalf("repair: %v %v", ok, err)
			}
			if _, got, err := s.GetObject(ctx, m.Kind, m.ID); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("after the repair: %q %v", got, err)
			}
			if ok, err := s.RepairLost(ctx, m.Kind, m.ID, bytes.ToUpper(data)); err != nil || ok {
				t.Fatalf("a repair of a whole object: %v %v", ok, err)
			}
			if _, got, _ := s.GetObject(ctx, m.Kind, m.ID); !bytes.Equal(got, data) {
				t.Fatalf("a whole object was replaced: %q", got)
			}
		})
	}
}

func testResidency(t *testing.T, s store.Store) {
	ctx := context.Background()
	r, err := s.Residency(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Backend == "" || len(r.Places) == 0 || len(r.Objects) != 0 {
		t.Fatalf("an empty store's residency: %+v", r)
	}
	for _, p := range r.Places {
		if p.Holds == "" || p.Kind == "" || p.Where == "" {
			t.Errorf("a place without its what or where: %+v", p)
		}
	}
	for i, o := range []struct {
		kind object.Kind
		size int
	}{{object.KindChunk, 3}, {object.KindManifest, 7}, {object.KindChunk, 5}} {
		if _, err := s.PutObject(ctx, store.ObjectMeta{Kind: o.kind, ID: id(byte(40 + i)), Space: id(9), Device: id(7)}, make([]byte, o.size)); err != nil {
			t.Fatal(err)
		}
	}
	r, err = s.Residency(ctx)
	want := []store.KindCount{{Kind: object.KindChunk, Count: 2, Bytes: 8}, {Kind: object.KindManifest, Count: 1, Bytes: 7}}
	if err != nil || fmt.Sprint(r.Objects) != fmt.Sprint(want) {
		t.Errorf("objects: %+v %v, want %+v", r.Objects, err, want)
	}
}
