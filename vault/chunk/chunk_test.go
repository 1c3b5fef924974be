package chunk

import (
	"bytes"
	"math/rand/v2"
	"testing"
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
