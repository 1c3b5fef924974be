package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/orgtest"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/vault"
)

// BenchmarkWipeLatency: the remote-wipe budget (DESIGN.md, "Budgets"; issue
// 12) — from the admin's wipe order to the verified receipt in the admin's
// hands, device online and locked (its locked-mode watch on the feed), on
// loopback; 100 runs, p50 and p99 against 2 s. Each run is a fresh device
// with a folder and a document (enrolled beforehand, not timed).
func BenchmarkWipeLatency(b *testing.B) {
	runs := 100
	if s := os.Getenv("COFFER_WIPE_RUNS"); s != "" {
		runs, _ = strconv.Atoi(s)
	}
	ctx := context.Background()
	dir := b.TempDir()
	admin := orgtest.Start(b, "Bench").Admin

	b.ResetTimer()
	var lat []time.Duration
	for i := 0; i < runs; i++ {
		b.StopTimer()
		email := fmt.Sprintf("trader%d@example.com", i)
		code, _, err := admin.Invite(ctx, email, policy.Manager, time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		vdir := filepath.Join(dir, "vault"+strconv.Itoa(i))
		v, err := client.Enroll(ctx, client.Enrollment{Dir: vdir, Invite: code, DeviceName: "laptop", Passphrase: syncPass})
		if err != nil {
			b.Fatal(err)
		}
		f, err := v.CreateFolder(ctx, "Desk", policy.Confidential)
		if err == nil {
			_, err = v.Put(ctx, f, "pnl.txt", strings.NewReader("P&L"), vault.PutOptions{})
		}
		if err != nil {
			b.Fatal(err)
		}
		id := v.DeviceID()
		v.Close()
		g, err := client.NewGuard(vdir)
		if err != nil {
			b.Fatal(err)
		}
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- g.Watch(wctx, nil, nil, nil) }()
		time.Sleep(300 * time.Millisecond) // the watch waits on the feed
		b.StartTimer()
		start := time.Now()
		if err := admin.Wipe(ctx, id, "benchmark"); err != nil {
			b.Fatal(err)
		}
		r, err := admin.WaitReceipt(ctx, id, 10*time.Second)
		took := time.Since(start)
		b.StopTimer()
		if err != nil || r == nil {
			b.Fatalf("run %d: no verified receipt: %v", i, err)
		}
		lat = append(lat, took)
		cancel()
		<-done
		g.Close()
		if err := vault.Wiped(vdir); err == nil {
			b.Fatalf("run %d: the vault is not wiped", i)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p50, p99 := lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	fmt.Printf("remote wipe, order → verified receipt, device online and locked (%d runs): p50 %s, p99 %s, max %s (budget ≤ 2 s p99: %s)\n",
		len(lat), p50.Round(time.Millisecond), p99.Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), verdict(p99 <= 2*time.Second))
	b.ReportMetric(float64(p50.Milliseconds()), "wipe-p50-ms")
	b.ReportMetric(float64(p99.Milliseconds()), "wipe-p99-ms")
}
