package vault_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
)

// BenchmarkPut measures import of 64 MiB of random data into a fresh
// folder (the full-size comparison with age and restic is in ./bench).
func BenchmarkPut(b *testing.B) {
	data := make([]byte, 64<<20)
	rand.NewChaCha8([32]byte{7}).Read(data)
	v, _ := newVault(b)
	b.SetBytes(int64(len(data)))
	for i := 0; b.Loop(); i++ {
		f := mustFolder(b, v, "F"+string(rune('a'+i%26))+string(rune('a'+i/26)), policy.Internal)
		if _, err := v.Put(context.Background(), f, "x", bytes.NewReader(data), vault.PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
