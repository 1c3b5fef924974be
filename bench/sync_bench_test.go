package bench

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/orgtest"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/vault"
)

// Sync budgets (DESIGN.md, "Budgets"; issue 10): re-sync after a 1-byte
// edit in a 100 MiB file uploads ≤ 2 MiB (against the whole file); the
// change feed brings another device's version within 1 s at p99 on
// loopback; and the throughput of pushing a large file, beside restic
// backup to a local repository in the same run.

const syncPass = "sync benchmark passphrase"

// syncOrg is a real cofferd (embedded store, TLS) on loopback and one
// user's two enrolled devices.
type syncOrg struct {
	laptop, desktop *syncDevice
}

type syncDevice struct {
	v *vault.Vault
	s *client.Syncer
	f vault.Folder
}

func newSyncOrg(b *testing.B, dir string) *syncOrg {
	b.Helper()
	ctx := context.Background()
	admin := orgtest.Start(b, "Bench").Admin
	code, _, err := admin.Invite(ctx, "bench@example.com", policy.Member, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	lv, err := client.Enroll(ctx, client.Enrollment{Dir: filepath.Join(dir, "laptop"), Invite: code, DeviceName: "laptop", Passphrase: syncPass})
	if err != nil {
		b.Fatal(err)
	}
	o := &syncOrg{laptop: syncDev(b, lv)}
	p, err := client.RequestPairing(ctx, code, "desktop")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := client.Approve(ctx, o.laptop.s, p.Code); err != nil {
		b.Fatal(err)
	}
	dv, err := p.Wait(ctx, filepath.Join(dir, "desktop"), syncPass)
	if err != nil {
		b.Fatal(err)
	}
	o.desktop = syncDev(b, dv)
	if o.laptop.f, err = lv.CreateFolder(ctx, "Deals", policy.Confidential); err != nil {
		b.Fatal(err)
	}
	o.laptop.sync(b)
	o.desktop.sync(b)
	if o.desktop.f, err = dv.Folder(ctx, "Deals"); err != nil {
		b.Fatal(err)
	}
	return o
}

func syncDev(b *testing.B, v *vault.Vault) *syncDevice {
	s, err := client.NewSyncer(v)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(); v.Close() })
	return &syncDevice{v: v, s: s}
}

func (d *syncDevice) sync(b *testing.B) client.Stats {
	b.Helper()
	st, err := d.s.Sync(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return st
}

func (d *syncDevice) put(b *testing.B, name string, data []byte) {
	b.Helper()
	if _, err := d.v.Put(context.Background(), d.f, name, bytes.NewReader(data), vault.PutOptions{}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSyncEdit: bytes uploaded to re-sync a 100 MiB file after a
// 1-byte edit in its middle, against the whole file.
func BenchmarkSyncEdit(b *testing.B) {
	o := newSyncOrg(b, b.TempDir())
	data := make([]byte, 100<<20)
	rand.NewChaCha8([32]byte{1}).Read(data)
	o.laptop.put(b, "model.bin", data)
	first := o.laptop.sync(b)
	data[len(data)/2] ^= 1
	o.laptop.put(b, "model.bin", data)
	b.ResetTimer()
	edit := o.laptop.sync(b)
	b.StopTimer()
	down := o.desktop.sync(b)
	fmt.Printf("whole 100 MiB file: %.2f MiB uploaded; after a 1-byte edit: %.2f MiB uploaded (budget ≤ 2 MiB: %s); the other device downloaded %.2f MiB\n",
		float64(first.BytesUp)/(1<<20), float64(edit.BytesUp)/(1<<20), verdict(edit.BytesUp <= 2<<20), float64(down.BytesDown)/(1<<20))
	b.ReportMetric(float64(edit.BytesUp)/(1<<20), "MiB-after-1-byte-edit")
}

// BenchmarkFeedLatency: the desktop watches the feed; the laptop imports
// and pushes a small version 60 times; the time from the end of each push
// to the desktop holding the version, p50 and p99.
func BenchmarkFeedLatency(b *testing.B) {
	o := newSyncOrg(b, b.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	arrived := make(chan time.Time, 256)
	go o.desktop.s.Watch(ctx, func(st client.Stats, err error) {
		if err == nil && st.VersionsDown > 0 {
			mu.Lock()
			for range st.VersionsDown {
				arrived <- time.Now()
			}
			mu.Unlock()
		}
	})
	time.Sleep(500 * time.Millisecond)
	var lat []time.Duration
	for i := range 60 {
		o.laptop.put(b, "note.txt", []byte("version "+strconv.Itoa(i)))
		o.laptop.sync(b)
		pushed := time.Now()
		select {
		case at := <-arrived:
			lat = append(lat, at.Sub(pushed))
		case <-time.After(10 * time.Second):
			b.Fatalf("version %d did not arrive", i)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	fmt.Printf("change feed, push → other device holds the version (%d runs): p50 %s, p99 %s (budget ≤ 1 s p99: %s)\n",
		len(lat), p50.Round(time.Millisecond), p99.Round(time.Millisecond), verdict(p99 <= time.Second))
	b.ReportMetric(float64(p99.Milliseconds()), "feed-p99-ms")
}

// BenchmarkSyncThroughput: pushing a file of COFFER_BENCH_SIZE (1 GiB by
// default) to cofferd on loopback, beside restic backup of the same file to
// a local repository.
func BenchmarkSyncThroughput(b *testing.B) {
	if _, err := exec.LookPath("restic"); err != nil {
		b.Skip("restic not on PATH; install it with: apt-get install restic")
	}
	size := int64(1 << 30)
	if s := os.Getenv("COFFER_BENCH_SIZE"); s != "" {
		size, _ = strconv.ParseInt(s, 10, 64)
	}
	dir := b.TempDir()
	o := newSyncOrg(b, dir)
	data := make([]byte, size)
	rand.NewChaCha8([32]byte{2}).Read(data)
	src := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		b.Fatal(err)
	}
	o.laptop.put(b, "big.bin", data)
	data = nil
	start := time.Now()
	st := o.laptop.sync(b)
	push := time.Since(start)
	start = time.Now()
	pull := o.desktop.sync(b)
	pullTime := time.Since(start)
	repo := filepath.Join(dir, "restic")
	env := append(os.Environ(), "RESTIC_PASSWORD="+syncPass, "RESTIC_CACHE_DIR="+filepath.Join(dir, "restic-cache"))
	for _, args := range [][]string{{"-r", repo, "init"}, {"-r", repo, "backup", src}} {
		cmd := exec.Command("restic", args...)
		cmd.Env = env
		if args[2] == "backup" {
			start = time.Now()
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("restic %v: %v\n%s", args, err, out)
		}
	}
	restic := time.Since(start)
	mb := func(d time.Duration) float64 { return float64(size) / 1e6 / d.Seconds() }
	fmt.Printf("sync of %d MiB: push %.1f MB/s (%d MiB up), pull on the other device %.1f MB/s (%d MiB down); restic backup to a local repository %.1f MB/s; push / restic: %.2fx\n",
		size>>20, mb(push), st.BytesUp>>20, mb(pullTime), pull.BytesDown>>20, mb(restic), restic.Seconds()/push.Seconds())
	b.ReportMetric(mb(push), "push-MB/s")
	b.ReportMetric(restic.Seconds()/push.Seconds(), "push-vs-restic-x")
}
