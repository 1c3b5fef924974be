package chunk

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/iotest"

	chunkers "github.com/PlakarKorp/go-cdc-chunkers"
	_ "github.com/PlakarKorp/go-cdc-chunkers/chunkers/fastcdc"
	"github.com/zeebo/blake3"
)

func split(t *testing.T, s *Splitter, data []byte) [][]byte {
	t.Helper()
	var out [][]byte
	if err := s.Split(bytes.NewReader(data), func(c []byte) error {
		out = append(out, bytes.Clone(c))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSplitBoundsAndReassembly(t *testing.T) {
	data := make([]byte, 24<<20)
	rand.NewChaCha8([32]byte{3}).Read(data)
	s, err := NewSplitter(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	chunks := split(t, s, data)
	if !bytes.Equal(bytes.Join(chunks, nil), data) {
		t.Fatal("chunks do not reassemble the input")
	}
	for i, c := range chunks {
		if len(c) > MaxSize || (len(c) < MinSize && i != len(chunks)-1) {
			t.Errorf("chunk %d has %d bytes", i, len(c))
		}
	}
	if n := len(chunks); n < 24<<20/MaxSize || n > 24<<20/MinSize {
		t.Errorf("%d chunks for 24 MiB", n)
	}
	if len(split(t, s, nil)) != 0 {
		t.Error("empty input gave chunks")
	}
}

// TestBoundariesDependOnTheKey: two folders cut the same file in different
// places, so chunk sizes do not identify a known file to a server.
func TestBoundariesDependOnTheKey(t *testing.T) {
	data := make([]byte, 16<<20)
	rand.NewChaCha8([32]byte{4}).Read(data)
	a, _ := NewSplitter(bytes.Repeat([]byte{1}, 32))
	b, _ := NewSplitter(bytes.Repeat([]byte{2}, 32))
	ca, cb := split(t, a, data), split(t, b, data)
	if len(ca[0]) == len(cb[0]) && len(ca[1]) == len(cb[1]) {
		t.Errorf("same boundaries under different keys: %d,%d", len(ca[0]), len(ca[1]))
	}
	again := split(t, a, data)
	for i := range ca {
		if !bytes.Equal(ca[i], again[i]) {
			t.Fatal("splitting is not deterministic")
		}
	}
}

func TestNamerIsKeyed(t *testing.T) {
	a, _ := NewNamer(bytes.Repeat([]byte{1}, 32))
	b, _ := NewNamer(bytes.Repeat([]byte{2}, 32))
	data := []byte("the same chunk")
	if a.ID(data) != a.ID(bytes.Clone(data)) {
		t.Error("not deterministic")
	}
	if a.ID(data) == b.ID(data) || a.ID(data) == a.ID([]byte("the same chunK")) {
		t.Error("IDs collide across keys or contents")
	}
	if _, err := NewNamer(make([]byte, 16)); err == nil {
		t.Error("short key accepted")
	}
	if _, err := NewSplitter(make([]byte, 31)); err == nil {
		t.Error("short key accepted")
	}
}

// libraryChunks cuts data with go-cdc-chunkers' keyed fastcdc-v1.0.0, the
// chunker vaults were written with before Cut.
func libraryChunks(t testing.TB, key, data []byte) []int {
	t.Helper()
	opts := &chunkers.ChunkerOpts{MinSize: MinSize, NormalSize: NormalSize, MaxSize: MaxSize, Key: key}
	c, err := chunkers.NewChunker("fastcdc-v1.0.0", bytes.NewReader(data), opts)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for {
		b, err := c.Next()
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if len(b) > 0 {
			sizes = append(sizes, len(b))
		}
		if err == io.EOF {
			return sizes
		}
	}
}

// choppyReader returns reads of random small sizes, so that Split sees
// windows cut at every kind of place.
type choppyReader struct {
	r   io.Reader
	rng *rand.Rand
}

func (c *choppyReader) Read(p []byte) (int, error) {
	if n := 1 + c.rng.IntN(300<<10); len(p) > n {
		p = p[:n]
	}
	return c.r.Read(p)
}

// TestSameCutsAsTheLibrary: Cut finds exactly the cut points of the keyed
// FastCDC that existing vaults were chunked with, on random data, on data
// with long runs (where chunks reach MaxSize) and at every end-of-stream
// length that matters, so new versions of old files still dedupe.
func TestSameCutsAsTheLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 40<<20)
	rand.NewChaCha8([32]byte{5}).Read(random)
	runs := bytes.Clone(random[:20<<20])
	for i := 0; i < len(runs); i += 3 << 20 {
		clear(runs[i : i+min(len(runs)-i, 2<<20+int(rng.IntN(1<<20)))])
	}
	inputs := [][]byte{random, runs, nil}
	for _, n := range []int{1, MinSize - 1, MinSize, MinSize + 1, NormalSize - 1, NormalSize, NormalSize + 1,
		MaxSize - 1, MaxSize, MaxSize + 1, 2*MaxSize + 12345} {
		inputs = append(inputs, random[1000:1000+n])
	}
	for k := range 3 {
		key := bytes.Repeat([]byte{byte(k + 1)}, 32)
		s, err := NewSplitter(key)
		if err != nil {
			t.Fatal(err)
		}
		for i, data := range inputs {
			want := libraryChunks(t, key, data)
			var got []int
			err := s.Split(&choppyReader{bytes.NewReader(data), rng}, func(c []byte) error {
				got = append(got, len(c))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("key %d input %d (%d bytes): cuts %v, library %v", k, i, len(data), got, want)
			}
		}
	}
}

// TestCutShortWindow: a window cut short of MaxSize before the end of the
// stream gives the same cut as the whole window, or 0 (need more data).
func TestCutShortWindow(t *testing.T) {
	data := make([]byte, 3*MaxSize)
	rand.NewChaCha8([32]byte{6}).Read(data)
	s, _ := NewSplitter(bytes.Repeat([]byte{1}, 32))
	rng := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		start := rng.IntN(2 * MaxSize)
		want := s.Cut(data[start:], false)
		l := rng.IntN(MaxSize)
		switch got := s.Cut(data[start:start+l], false); {
		case got == 0 && l > want:
			t.Fatalf("window of %d: need more, but the cut is at %d", l, want)
		case got != 0 && got != want:
			t.Fatalf("window of %d: cut at %d, whole window at %d", l, got, want)
		}
	}
}

// editCost imports data, then data with one byte changed at off, and
// returns the bytes of the second's chunks that the first did not have.
func editCost(cut func([]byte) []int, data []byte, off int) int {
	have := map[[32]byte]bool{}
	pos := 0
	for _, n := range cut(data) {
		have[blake3.Sum256(data[pos:pos+n])] = true
		pos += n
	}
	edited := bytes.Clone(data)
	edited[off] ^= 0x55
	cost := 0
	pos = 0
	for _, n := range cut(edited) {
		if !have[blake3.Sum256(edited[pos:pos+n])] {
			cost += n
		}
		pos += n
	}
	return cost
}

// TestOneByteEditCost holds the budget "re-sync after a 1-byte edit in a
// 100 MiB file: at most 2 MiB uploaded" at the chunker: only the chunk
// around the edit (and at worst its neighbour) is new.
func TestOneByteEditCost(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MiB")
	}
	data := make([]byte, 100<<20)
	rand.NewChaCha8([32]byte{8}).Read(data)
	s, _ := NewSplitter(bytes.Repeat([]byte{7}, 32))
	cut := func(b []byte) []int {
		var sizes []int
		for w := b; len(w) > 0; {
			n := s.Cut(w, true)
			sizes = append(sizes, n)
			w = w[n:]
		}
		return sizes
	}
	rng := rand.New(rand.NewPCG(5, 6))
	worst := 0
	for _, off := range []int{0, len(data) / 2, len(data) - 1, rng.IntN(len(data)), rng.IntN(len(data)), rng.IntN(len(data))} {
		c := editCost(cut, data, off)
		worst = max(worst, c)
		if c > 2<<20 {
			t.Errorf("1-byte edit at %d: %d bytes new", off, c)
		}
	}
	t.Logf("worst 1-byte edit: %d bytes new", worst)
}

type testBlock struct {
	buf  []byte
	refs int
}

func (b *testBlock) Bytes() []byte { return b.buf }

// TestCutStream: CutStream cuts exactly where Split does, whatever the
// reads, hands every block back, and stops on a reader's or emit's error.
func TestCutStream(t *testing.T) {
	data := make([]byte, 30<<20+777)
	rand.NewChaCha8([32]byte{10}).Read(data)
	s, _ := NewSplitter(bytes.Repeat([]byte{3}, 32))
	want := split(t, s, data)
	rng := rand.New(rand.NewPCG(7, 8))
	for _, size := range []int{2 * MaxSize, 2*MaxSize + 1, 8 << 20, 3 * MaxSize} {
		for _, in := range [][]byte{data, data[:MinSize-1], data[:MaxSize+1], nil} {
			var blocks []*testBlock
			var got [][]byte
			get := func() (*testBlock, error) {
				b := &testBlock{buf: make([]byte, size), refs: 1}
				blocks = append(blocks, b)
				return b, nil
			}
			err := CutStream(s, &choppyReader{bytes.NewReader(in), rng}, get, func(b *testBlock) { b.refs-- },
				func(c []byte, b *testBlock) error {
					if len(c) == 0 || b.refs != 1 {
						t.Fatal("empty chunk, or a chunk from a block handed back")
					}
					got = append(got, bytes.Clone(c))
					return nil
				})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(bytes.Join(got, nil), in) {
				t.Fatalf("block %d, input %d: chunks do not reassemble the input", size, len(in))
			}
			if len(in) == len(data) && !slices.EqualFunc(got, want, bytes.Equal) {
				t.Fatalf("block %d: cuts differ from Split's", size)
			}
			for i, b := range blocks {
				if b.refs != 0 {
					t.Fatalf("block %d: %d of %d not handed back", size, i, len(blocks))
				}
			}
		}
	}
	// Errors stop the stream; every block is still handed back.
	boom := errors.New("boom")
	for _, tc := range []struct {
		r    io.Reader
		emit func([]byte, *testBlock) error
	}{
		{io.MultiReader(bytes.NewReader(data[:20<<20]), iotest.ErrReader(boom)), func([]byte, *testBlock) error { return nil }},
		{bytes.NewReader(data), func([]byte, *testBlock) error { return boom }},
	} {
		var blocks []*testBlock
		get := func() (*testBlock, error) {
			b := &testBlock{buf: make([]byte, 8<<20), refs: 1}
			blocks = append(blocks, b)
			return b, nil
		}
		if err := CutStream(s, tc.r, get, func(b *testBlock) { b.refs-- }, tc.emit); !errors.Is(err, boom) {
			t.Fatalf("error %v, want boom", err)
		}
		for _, b := range blocks {
			if b.refs != 0 {
				t.Fatal("a block was not handed back after an error")
			}
		}
	}
}
