package vault_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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

// BenchmarkPutFile imports a 256 MiB file, read from the page cache, into a
// fresh folder each time: what `coffer import` does after unlocking.
func BenchmarkPutFile(b *testing.B) {
	path := filepath.Join(b.TempDir(), "input")
	fh, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	const size = 256 << 20
	if _, err := io.CopyN(fh, rand.NewChaCha8([32]byte{8}), size); err != nil {
		b.Fatal(err)
	}
	v, _ := newVault(b)
	b.SetBytes(size)
	cpu0, start := processCPU(), time.Now()
	for i := 0; b.Loop(); i++ {
		f := mustFolder(b, v, "F"+string(rune('a'+i%26))+string(rune('a'+i/26)), policy.Internal)
		if _, err := fh.Seek(0, io.SeekStart); err != nil {
			b.Fatal(err)
		}
		if _, err := v.Put(context.Background(), f, "x", fh, vault.PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	fh.Close()
	reportCPU(b, cpu0, start, size)
}

// reportCPU reports the CPU time spent per GiB imported and how many cores
// were busy on average, where the system tells (Linux). Wall time on a
// shared machine varies with the neighbours; CPU time per GiB much less.
func reportCPU(b *testing.B, cpu0 time.Duration, start time.Time, size int64) {
	cpu := processCPU() - cpu0
	if cpu0 < 0 || cpu <= 0 {
		return
	}
	wall := time.Since(start)
	b.ReportMetric(cpu.Seconds()/float64(b.N)/(float64(size)/(1<<30)), "cpu-s/GiB")
	b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cores")
}

// processCPU returns the user and system CPU time of this process so far
// from /proc/self/stat, or -1 where there is none.
func processCPU() time.Duration {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return -1
	}
	// The command name, in parentheses, may hold spaces; fields 14 and 15
	// (utime, stime, in clock ticks of 1/100 s) come after it.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
