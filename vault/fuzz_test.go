package vault_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"reflect"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

// Regenerate the seed corpora with
//
//	go test -run TestFuzzSeedsPresent -update-seeds ./vault/
var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz seed corpora")

// Fixed keys of the fuzz targets, so seed objects sealed once keep opening.
// The signing key is not the one of the test vectors: nothing but the fuzz
// manifest is ever signed by it with fuzzManifestID.
const fuzzFolderIdentity = "AGE-SECRET-KEY-PQ-1L8TV2H88LC9V09KX3SYUVX759TWCXPH25TP4QHVPF0VXHNF2FVSSM7A5PG"

var (
	fuzzSigner     = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0xf2}, ed25519.SeedSize))
	fuzzManifestID = object.ID{0: 0xfe, 1: 0xed, 31: 0x02}
)

func fuzzIdentity(tb testing.TB) *age.HybridIdentity {
	id, err := age.ParseHybridIdentity(fuzzFolderIdentity)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// fuzzManifest is the manifest FuzzOpenManifest seals and then corrupts.
func fuzzManifest() *vault.Manifest {
	return &vault.Manifest{
		V: 1, ID: fuzzManifestID, Folder: object.ID{0: 0xf0}, Epoch: 1, File: object.ID{0: 0xf1},
		Seq: 2, Parent: object.ID{0: 0xf3}, Name: "Q3 report.pdf", Size: 5<<20 + 17, Type: "application/pdf",
		AuthorDevice: object.ID{0: 0xde}, AuthorUser: "ann@example.com",
		Time:   time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC),
		Chunks: []vault.ManifestRef{{ID: object.ID{0: 0xc1}, Size: 4 << 20}, {ID: object.ID{0: 0xc2}, Size: 1<<20 + 17}},
	}
}

// sameManifest compares manifests, times by instant (a round trip through
// JSON keeps the instant and offset but not the *time.Location pointer).
func sameManifest(a, b *vault.Manifest) bool {
	if !a.Time.Equal(b.Time) {
		return false
	}
	a2, b2 := *a, *b
	a2.Time, b2.Time = time.Time{}, time.Time{}
	return reflect.DeepEqual(a2, b2)
}

// FuzzParseManifest checks that ParseManifest never panics, that whatever it
// accepts satisfies the manifest invariants, and that an accepted manifest
// survives SealManifest and OpenManifest unchanged.
func FuzzParseManifest(f *testing.F) {
	for _, s := range manifestSeeds(f) {
		f.Add(s.plain)
	}
	idn := fuzzIdentity(f)
	f.Fuzz(func(t *testing.T, plain []byte) {
		m, err := vault.ParseManifest(plain)
		if err != nil {
			if m != nil {
				t.Fatal("ParseManifest returned a manifest and an error")
			}
			if !errors.Is(err, vault.ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if m.V != 1 {
			t.Errorf("accepted version %d", m.V)
		}
		if err := vault.ValidateName(m.Name); err != nil {
			t.Errorf("accepted name %q: %v", m.Name, err)
		}
		if m.Seq < 1 {
			t.Errorf("accepted seq %d", m.Seq)
		}
		if m.Parent.IsZero() != (m.Seq == 1) {
			t.Errorf("accepted seq %d with parent %s", m.Seq, m.Parent)
		}
		if m.Epoch < 1 {
			t.Errorf("accepted epoch %d", m.Epoch)
		}
		if m.RestoredFrom < 0 || m.RestoredFrom >= m.Seq {
			t.Errorf("accepted restored_from %d at seq %d", m.RestoredFrom, m.Seq)
		}
		var total int64
		for i, c := range m.Chunks {
			if c.Size <= 0 || c.Size > vault.MaxChunkSize {
				t.Errorf("accepted chunk %d of size %d", i, c.Size)
			}
			total += c.Size
			if total < 0 {
				t.Fatalf("chunk sizes overflow")
			}
		}
		if total != m.Size {
			t.Errorf("accepted chunks adding up to %d in a manifest of size %d", total, m.Size)
		}
		if t.Failed() {
			t.FailNow()
		}

		// Re-encoding is stable: what we accept, we write back as JSON we
		// accept again, unchanged.
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("accepted manifest does not encode: %v", err)
		}
		m2, err := vault.ParseManifest(again)
		if err != nil {
			t.Fatalf("re-encoded manifest is refused: %v\n%s", err, again)
		}
		if !sameManifest(m, m2) {
			t.Fatalf("manifest changed through a JSON round trip:\n%+v\n%+v", m, m2)
		}

		// And the write path agrees with the read path.
		sealed, err := vault.SealManifest(m, fuzzSigner, idn.Recipient())
		if err != nil {
			t.Fatalf("SealManifest refuses what ParseManifest accepts: %v", err)
		}
		m3, err := vault.OpenManifest(sealed, m.ID, fuzzSigner.Public().(ed25519.PublicKey), idn)
		if err != nil {
			t.Fatalf("OpenManifest of a fresh SealManifest: %v", err)
		}
		if !sameManifest(m, m3) {
			t.Fatalf("manifest changed through Seal/Open:\n%+v\n%+v", m, m3)
		}
	})
}

// FuzzOpenManifest checks the read path of a stored manifest:
//
//   - data, arbitrary bytes, never panic OpenManifest, and are accepted only
//     if they are a manifest our fixed signer sealed (that is, the fuzz
//     manifest);
//   - a valid sealed manifest with mask XORed in at off (extending it if the
//     mask runs past its end) and then cut bytes removed from its end is
//     accepted only if nothing changed, and then opens to the original;
//   - data, signed as the body of a manifest by the trusted key, never panics
//     the decryption and parsing behind the signature.
func FuzzOpenManifest(f *testing.F) {
	idn := fuzzIdentity(f)
	pub := fuzzSigner.Public().(ed25519.PublicKey)
	want := fuzzManifest()
	valid, err := vault.SealManifest(want, fuzzSigner, idn.Recipient())
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range openSeeds(f) {
		f.Add(s.data, s.mask, s.off, s.cut)
	}
	f.Fuzz(func(t *testing.T, data, mask []byte, off, cut uint32) {
		m, err := vault.OpenManifest(data, fuzzManifestID, pub, idn)
		if err == nil && !sameManifest(m, want) {
			t.Fatalf("OpenManifest accepted arbitrary bytes as %+v", m)
		}

		mutated := bytes.Clone(valid)
		start := int(off % uint32(len(valid)+1))
		for i, b := range mask {
			if start+i < len(mutated) {
				mutated[start+i] ^= b
			} else {
				mutated = append(mutated, b)
			}
		}
		mutated = mutated[:len(mutated)-int(cut%uint32(len(mutated)+1))]
		m, err = vault.OpenManifest(mutated, fuzzManifestID, pub, idn)
		if bytes.Equal(mutated, valid) {
			if err != nil {
				t.Fatalf("unchanged manifest does not open: %v", err)
			}
			if !sameManifest(m, want) {
				t.Fatalf("manifest opened as %+v, sealed as %+v", m, want)
			}
		} else if err == nil {
			t.Fatalf("OpenManifest accepted a modified object (%d bytes, sealed %d)", len(mutated), len(valid))
		}

		signed, err := object.Seal(object.KindManifest, fuzzManifestID, data, fuzzSigner)
		if err != nil {
			t.Fatal(err)
		}
		if m, err := vault.OpenManifest(signed, fuzzManifestID, pub, idn); err == nil && m.ID != fuzzManifestID {
			t.Fatalf("accepted a manifest naming %s", m.ID)
		}
	})
}

type manifestSeed struct {
	name  string
	plain []byte
}

func manifestSeeds(tb testing.TB) []manifestSeed {
	var seeds []manifestSeed
	add := func(name string, plain []byte) { seeds = append(seeds, manifestSeed{name, plain}) }
	enc := func(m *vault.Manifest) []byte {
		b, err := json.Marshal(m)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	valid := fuzzManifest()
	replace := func(old, new string) []byte {
		b := enc(valid)
		if !bytes.Contains(b, []byte(old)) {
			tb.Fatalf("seed: %s not in %s", old, b)
		}
		return bytes.Replace(b, []byte(old), []byte(new), 1)
	}
	add("valid-seq2", enc(valid))
	first := fuzzManifest()
	first.Seq, first.Parent = 1, object.ID{}
	add("valid-seq1", enc(first))
	empty := fuzzManifest()
	empty.Chunks, empty.Size = nil, 0
	add("valid-empty-file", enc(empty))
	restored := fuzzManifest()
	restored.Seq, restored.RestoredFrom = 5, 3
	add("valid-restored", enc(restored))
	v := enc(valid)
	add("truncated", v[:len(v)/2])
	add("empty", nil)
	add("null", []byte("null"))
	add("empty-object", []byte("{}"))
	add("array", []byte("[]"))
	bad := func(name string, edit func(m *vault.Manifest)) {
		m := fuzzManifest()
		edit(m)
		add(name, enc(m))
	}
	bad("version-2", func(m *vault.Manifest) { m.V = 2 })
	bad("seq-0", func(m *vault.Manifest) { m.Seq = 0 })
	bad("seq1-with-parent", func(m *vault.Manifest) { m.Seq = 1 })
	bad("seq2-without-parent", func(m *vault.Manifest) { m.Parent = object.ID{} })
	bad("epoch-0", func(m *vault.Manifest) { m.Epoch = 0 })
	bad("restored-from-future", func(m *vault.Manifest) { m.RestoredFrom = m.Seq })
	bad("restored-from-negative", func(m *vault.Manifest) { m.RestoredFrom = -1 })
	bad("size-mismatch", func(m *vault.Manifest) { m.Size++ })
	bad("chunk-zero-size", func(m *vault.Manifest) { m.Chunks = append(m.Chunks, vault.ManifestRef{}) })
	bad("chunk-negative-size", func(m *vault.Manifest) {
		m.Chunks = append(m.Chunks, vault.ManifestRef{Size: 1}, vault.ManifestRef{Size: -1})
	})
	bad("chunk-too-big", func(m *vault.Manifest) {
		m.Chunks = []vault.ManifestRef{{Size: vault.MaxChunkSize + 1}}
		m.Size = vault.MaxChunkSize + 1
	})
	bad("name-empty", func(m *vault.Manifest) { m.Name = "" })
	bad("name-too-long", func(m *vault.Manifest) { m.Name = strings.Repeat("n", vault.MaxNameBytes+1) })
	bad("name-hostile", func(m *vault.Manifest) { m.Name = "../\x00\u202e/CON" })
	add("name-invalid-utf8", replace(`"Q3 report.pdf"`, "\"Q3 \xff\xfe.pdf\""))
	add("huge-size", replace(`"size":5242897`, `"size":9223372036854775807`))
	add("size-overflow", replace(`"size":5242897`, `"size":92233720368547758070`))
	add("size-float", replace(`"size":5242897`, `"size":5.242897e6`))
	add("id-too-long", replace(`"id":"feed`, `"id":"00feed`))
	add("id-uppercase", replace(`"id":"feed`, `"id":"FEED`))
	add("id-array-v1", replace(`"id":"feed000000000000000000000000000000000000000000000000000000000002"`,
		`"id":[254,237,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2]`))
	add("id-byte-256", replace(`"id":"feed000000000000000000000000000000000000000000000000000000000002"`,
		`"id":[256,237,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2]`))
	add("duplicate-keys", replace(`{"v":1,`, `{"v":1,"seq":1,"SEQ":0,`))
	add("time-bad", replace(`"time":"2025-03-14T15:09:26.535897932Z"`, `"time":"2025-13-40T25:61:61Z"`))
	add("time-offset", replace(`"time":"2025-03-14T15:09:26.535897932Z"`, `"time":"0000-01-01T00:30:00+23:59"`))
	add("trailing-garbage", append(enc(valid), "}x"...))
	return seeds
}

type openSeed struct {
	name       string
	data, mask []byte
	off, cut   uint32
}

func openSeeds(tb testing.TB) []openSeed {
	idn := fuzzIdentity(tb)
	valid, err := vault.SealManifest(fuzzManifest(), fuzzSigner, idn.Recipient())
	if err != nil {
		tb.Fatal(err)
	}
	var seeds []openSeed
	add := func(name string, data, mask []byte, off, cut uint32) {
		seeds = append(seeds, openSeed{name, data, mask, off, cut})
	}
	edit := func(at int, b byte) []byte {
		d := bytes.Clone(valid)
		d[at] ^= b
		return d
	}
	n := uint32(len(valid))
	add("valid", valid, nil, 0, 0)
	add("empty", nil, nil, 0, 0)
	add("magic-only", object.Magic[:], []byte{0}, 0, 0)
	add("wrong-magic", edit(0, 'C'^'X'), []byte{'C' ^ 'X'}, 0, 0)
	add("wrong-version", edit(4, 3), []byte{3}, 4, 0)
	add("wrong-kind", edit(5, 1), []byte{1}, 5, 0)
	add("other-id", edit(6, 0x80), []byte{0x80}, 6, 0)
	add("other-signer", edit(object.HeaderSize-1, 1), []byte{1}, object.HeaderSize-1, 0)
	add("truncated-header", valid[:object.HeaderSize/2], nil, 0, n-object.HeaderSize/2)
	add("truncated-body", valid[:n/2], nil, 0, n/2)
	add("truncated-signature", valid[:n-1], nil, 0, 1)
	add("flipped-body", edit(object.HeaderSize+200, 0x20), []byte{0x20}, object.HeaderSize+200, 0)
	add("flipped-signature", edit(int(n)-1, 0x80), []byte{0x80}, n-1, 0)
	add("appended", append(bytes.Clone(valid), 0), []byte{0}, n, 0)
	add("not-age-body", []byte("age-encryption.org/v1\n-> X25519 AAAA\nAAAA\n--- AAAA\n"), nil, 0, 0)
	add("huge-age-header", append([]byte("age-encryption.org/v1\n-> "), bytes.Repeat([]byte("A"), 1<<16)...), bytes.Repeat([]byte{0xff}, 64), 100, 0)
	return seeds
}

// TestFuzzSeedsPresent fails if a fuzz target of this package has fewer
// than 5 seed files, or a seed file that does not decode to the target's
// arguments (such a seed would test nothing, or nothing useful).
func TestFuzzSeedsPresent(t *testing.T) {
	if *updateSeeds {
		files := map[string][]byte{}
		for _, s := range manifestSeeds(t) {
			files[s.name] = testenv.FuzzCorpusFile(s.plain)
		}
		testenv.WriteFuzzSeeds(t, "FuzzParseManifest", files)
		files = map[string][]byte{}
		for _, s := range openSeeds(t) {
			files[s.name] = testenv.FuzzCorpusFile(s.data, s.mask, s.off, s.cut)
		}
		testenv.WriteFuzzSeeds(t, "FuzzOpenManifest", files)
	}
	testenv.CheckFuzzSeeds(t)
}
