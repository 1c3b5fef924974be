package vault

import (
	"bytes"
	"crypto/rand"
	"math"
	"strings"
	"testing"

	"filippo.io/age"
)

// TestDecryptSizesAndLimits: decrypt returns the whole plaintext at every
// size around age's 64 KiB chunks, refuses one over its limit, and fails on
// a body cut short anywhere — at a chunk boundary too, where only reading
// on to the end shows that the last chunk is missing.
func TestDecryptSizesAndLimits(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	const chunk = 64 << 10
	for _, size := range []int{0, 1, 100, chunk - 1, chunk, chunk + 1, 2 * chunk, 3*chunk + 17, 1 << 20} {
		plain := make([]byte, size)
		rand.Read(plain)
		body, err := encrypt(plain, id.Recipient())
		if err != nil {
			t.Fatal(err)
		}
		got, err := decrypt(body, int64(size), id)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%d bytes at a limit of %d: got %d bytes, %v", size, size, len(got), err)
		}
		if got, err := decrypt(body, 1<<30, id); err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%d bytes at a limit of 1 GiB: got %d bytes, %v", size, len(got), err)
		}
		if size > 0 {
			if _, err := decrypt(body, int64(size-1), id); err == nil || !strings.Contains(err.Error(), "limit") {
				t.Fatalf("%d bytes at a limit of %d: %v, want over the limit", size, size-1, err)
			}
		}
		// The stream's chunks (after the header) are 64 KiB + 16 each: cut
		// off the last whole one, and a byte of it.
		header := len(body) - (size + 16*max(1, (size+chunk-1)/chunk))
		for _, cut := range []int{1, chunk + 16} {
			if len(body)-cut <= header {
				continue
			}
			if got, err := decrypt(body[:len(body)-cut], 1<<30, id); err == nil {
				t.Fatalf("%d bytes with %d cut off: decrypted %d bytes without an error", size, cut, len(got))
			}
		}
	}
}

// TestDecryptOddLimits: a negative limit is an error, not a panic (a size
// read from a damaged index reaches decrypt through check), and the
// largest limit there is decrypts as any other.
func TestDecryptOddLimits(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	body, err := encrypt([]byte("twelve bytes"), id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int64{-1, -2, math.MinInt64} {
		if got, err := decrypt(body, limit, id); err == nil {
			t.Fatalf("limit %d: %q and no error", limit, got)
		}
	}
	if got, err := decrypt(body, math.MaxInt64, id); err != nil || string(got) != "twelve bytes" {
		t.Fatalf("limit MaxInt64: %q, %v", got, err)
	}
}
