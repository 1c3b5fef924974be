package object_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/vault/object"
)

// Regenerate the seed corpus with
//
//	go test -run TestFuzzSeedsPresent -update-seeds ./vault/object/
var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz seed corpora")

// fuzzKey is a fixed signing key, so seeds and re-sealed objects are
// reproducible.
var fuzzKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x5e}, ed25519.SeedSize))

var fuzzID = object.ID{0: 0xc0, 1: 0xff, 2: 0xee, 31: 0x01}

// FuzzParse feeds arbitrary bytes to Parse, Verify and Open. Arguments:
// data is the candidate object, kind the kind Open is asked for, and pos
// picks a byte of a re-sealed copy to corrupt.
func FuzzParse(f *testing.F) {
	for _, s := range objectSeeds(f) {
		f.Add(s.data, s.kind, s.pos)
	}
	f.Fuzz(func(t *testing.T, data []byte, kind byte, pos uint32) {
		orig := bytes.Clone(data)
		o, err := object.Parse(data)
		if !bytes.Equal(orig, data) {
			t.Fatal("Parse modified its input")
		}

		// Open with an arbitrary kind and with the ID the header claims (or
		// a fixed one) never panics, and only succeeds for what Parse and
		// Verify accept.
		id := fuzzID
		if len(data) >= 6+object.IDSize {
			copy(id[:], data[6:6+object.IDSize])
		}
		if oo, oerr := object.Open(data, object.Kind(kind), id); oerr == nil {
			if err != nil {
				t.Fatalf("Open accepted what Parse refuses (%v)", err)
			}
			if oo.Kind != object.Kind(kind) || oo.ID != id {
				t.Fatalf("Open(kind %d, %s) returned %v %s", kind, id, oo.Kind, oo.ID)
			}
			if verr := object.Verify(data, oo); verr != nil {
				t.Fatalf("Open accepted an object Verify refuses: %v", verr)
			}
		} else if err == nil && o.Kind == object.Kind(kind) && !errors.Is(oerr, object.ErrBadSignature) {
			t.Fatalf("Open of a parseable %v under its own name: %v", o.Kind, oerr)
		}
		if _, oerr := object.Open(data, object.Kind(kind), fuzzID); oerr == nil && id != fuzzID {
			t.Fatal("Open accepted an object under an ID it does not carry")
		}

		if err != nil {
			if o != nil {
				t.Fatal("Parse returned an object and an error")
			}
			if !errors.Is(err, object.ErrTruncated) && !errors.Is(err, object.ErrNotObject) && !errors.Is(err, object.ErrVersion) {
				t.Fatalf("Parse error wraps no documented error: %v", err)
			}
			return
		}

		// An accepted envelope is exactly header, body and signature: put
		// it back together and compare.
		if strings.HasPrefix(o.Kind.String(), "kind(") {
			t.Fatalf("Parse accepted unknown kind %v", o.Kind)
		}
		re := append([]byte{}, object.Magic[:]...)
		re = append(re, object.Version, byte(o.Kind))
		re = append(re, o.ID[:]...)
		if o.Kind.Signed() {
			if len(o.Signer) != ed25519.PublicKeySize || len(o.Signature) != ed25519.SignatureSize {
				t.Fatalf("signer %d bytes, signature %d bytes", len(o.Signer), len(o.Signature))
			}
			re = append(re, o.Signer...)
		} else {
			if o.Signer != nil || o.Signature != nil {
				t.Fatalf("unsigned %v has signer or signature", o.Kind)
			}
			re = append(re, make([]byte, ed25519.PublicKeySize)...)
		}
		re = append(re, o.Body...)
		re = append(re, o.Signature...)
		if !bytes.Equal(re, data) {
			t.Fatalf("header+body+signature of the parsed object differ from the input")
		}

		verr := object.Verify(data, o)
		if !o.Kind.Signed() {
			if verr != nil {
				t.Fatalf("Verify of unsigned %v: %v", o.Kind, verr)
			}
			// Unsigned objects re-seal to the very same bytes.
			sealed, err := object.Seal(o.Kind, o.ID, o.Body, nil)
			if err != nil {
				t.Fatalf("Seal of a parsed %v: %v", o.Kind, err)
			}
			if !bytes.Equal(sealed, data) {
				t.Fatal("re-sealing an unsigned object changed its bytes")
			}
			return
		}
		if verr != nil && !errors.Is(verr, object.ErrBadSignature) {
			t.Fatalf("Verify error wraps no documented error: %v", verr)
		}

		// Re-seal under the fixed key: Parse must round-trip kind, ID and
		// body, the result must verify, and no single corrupted byte of it
		// may still open.
		sealed, err := object.Seal(o.Kind, o.ID, o.Body, fuzzKey)
		if err != nil {
			t.Fatalf("Seal of a parsed %v: %v", o.Kind, err)
		}
		p, err := object.Parse(sealed)
		if err != nil {
			t.Fatalf("Parse of a Seal output: %v", err)
		}
		if p.Kind != o.Kind || p.ID != o.ID || !bytes.Equal(p.Body, o.Body) {
			t.Fatal("Seal/Parse did not round-trip kind, ID and body")
		}
		if !p.Signer.Equal(fuzzKey.Public()) {
			t.Fatal("re-sealed object names another signer")
		}
		if _, err := object.Open(sealed, o.Kind, o.ID); err != nil {
			t.Fatalf("Open of a fresh Seal output: %v", err)
		}
		bad := bytes.Clone(sealed)
		i := int(pos % uint32(len(bad)))
		bad[i] ^= 1 << (pos >> 29 & 7)
		if _, err := object.Open(bad, o.Kind, o.ID); err == nil {
			t.Fatalf("Open accepted an object with byte %d of %d flipped", i, len(bad))
		}
		if _, err := object.Open(sealed[:len(sealed)-1-int(pos%uint32(len(sealed)))], o.Kind, o.ID); err == nil {
			t.Fatal("Open accepted a truncated object")
		}
	})
}

// TestParseOverMaxSize covers the one input the fuzzer cannot reach.
func TestParseOverMaxSize(t *testing.T) {
	body := make([]byte, object.MaxSize)
	data, err := object.Seal(object.KindChunk, fuzzID, body, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := object.Parse(data); !errors.Is(err, object.ErrNotObject) {
		t.Fatalf("Parse of %d bytes: %v", len(data), err)
	}
}

type objectSeed struct {
	name string
	data []byte
	kind byte
	pos  uint32
}

func objectSeeds(tb testing.TB) []objectSeed {
	must := func(b []byte, err error) []byte {
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	body := []byte("age-encryption.org/v1\n-> stand-in body, not real ciphertext\n--- x\n\x00\x01\x02")
	manifest := must(object.Seal(object.KindManifest, fuzzID, body, fuzzKey))
	chunk := must(object.Seal(object.KindChunk, fuzzID, body, nil))
	var seeds []objectSeed
	add := func(name string, data []byte, kind object.Kind, pos uint32) {
		seeds = append(seeds, objectSeed{name, data, byte(kind), pos})
	}
	for _, k := range object.Kinds {
		var key ed25519.PrivateKey
		if k.Signed() {
			key = fuzzKey
		}
		add("valid-"+k.String(), must(object.Seal(k, fuzzID, body, key)), k, 7)
	}
	add("valid-manifest-empty-body", must(object.Seal(object.KindManifest, fuzzID, nil, fuzzKey)), object.KindManifest, 0)
	add("valid-chunk-empty-body", must(object.Seal(object.KindChunk, fuzzID, nil, nil)), object.KindChunk, 0)
	add("empty", nil, object.KindManifest, 0)
	add("magic-only", object.Magic[:], object.KindManifest, 0)
	add("truncated-header", manifest[:object.HeaderSize-1], object.KindManifest, 0)
	add("truncated-no-signature", manifest[:object.HeaderSize+ed25519.SignatureSize-1], object.KindManifest, 0)
	add("truncated-body", manifest[:len(manifest)-10], object.KindManifest, 3)
	wrongMagic := bytes.Clone(manifest)
	wrongMagic[0] = 'X'
	add("wrong-magic", wrongMagic, object.KindManifest, 0)
	add("wrong-magic-short", []byte("age-"), object.KindManifest, 0)
	wrongVersion := bytes.Clone(manifest)
	wrongVersion[4] = object.Version + 1
	add("wrong-version", wrongVersion, object.KindManifest, 0)
	unknownKind := bytes.Clone(manifest)
	unknownKind[5] = 0xff
	add("unknown-kind", unknownKind, 0xff, 0)
	zeroKind := bytes.Clone(chunk)
	zeroKind[5] = 0
	add("kind-zero", zeroKind, 0, 0)
	chunkWithSigner := bytes.Clone(manifest)
	chunkWithSigner[5] = byte(object.KindChunk)
	add("chunk-naming-signer", chunkWithSigner, object.KindChunk, 0)
	badSig := bytes.Clone(manifest)
	badSig[len(badSig)-1] ^= 0x80
	add("bad-signature", badSig, object.KindManifest, 1<<31)
	add("kind-mismatch", manifest, object.KindFolder, 5)
	// The envelope has no length field: the nearest thing to a "huge
	// length" is a large body.
	add("large-body", must(object.Seal(object.KindChunk, fuzzID, bytes.Repeat([]byte{0xa5}, 1<<16), nil)), object.KindChunk, 1<<20)
	return seeds
}

// TestFuzzSeedsPresent fails if a fuzz target of this package has fewer
// than 5 seed files, or a seed file that does not decode to the target's
// arguments (such a seed would test nothing, or nothing useful).
func TestFuzzSeedsPresent(t *testing.T) {
	if *updateSeeds {
		files := map[string][]byte{}
		for _, s := range objectSeeds(t) {
			files[s.name] = testenv.FuzzCorpusFile(s.data, s.kind, s.pos)
		}
		testenv.WriteFuzzSeeds(t, "FuzzParse", files)
	}
	testenv.CheckFuzzSeeds(t)
}
