package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/notekey"
	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/sync/server"
	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/store/embedded"
	"github.com/coffer-vault/coffer/sync/store/scaleout"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

// BenchmarkServerLoad: the server budget (DESIGN.md, "Budgets") — 10,000
// devices on the change feed and steady uploads, on 2 cores: no error,
// p99 push ≤ 250 ms, feed delivery ≤ 1 s. The organisation is made with an
// in-process server; then the real `cofferd serve` runs on its storage
// (its own process, its own file limit) while this process plays the
// devices: certified in the real log (device entries signed by their
// user's key), each with its own TLS connection and server-sent feed
// stream. One device imports and pushes a version every 200 ms, and each
// of the others must see its event. COFFER_LOAD_DEVICES sets how many (the
// file limit may lower it: a socket per device here).
//
// embedded: one cofferd on its data folder. scaleout-2-servers: two
// cofferd on one PostgreSQL database and S3 bucket (a private PostgreSQL
// and versitygw, on the same 2 cores), the devices split between them and
// the writer on the first, so that every delivery to half of them crosses
// servers through LISTEN/NOTIFY.
func BenchmarkServerLoad(b *testing.B) {
	b.Run("embedded", func(b *testing.B) { serverLoad(b, false) })
	b.Run("scaleout-2-servers", func(b *testing.B) { serverLoad(b, true) })
}

func serverLoad(b *testing.B, scaleOut bool) {
	n := 10000
	if s := os.Getenv("COFFER_LOAD_DEVICES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	n = raiseFileLimit(b, n)
	ctx := context.Background()
	dir := b.TempDir()
	cofferd := filepath.Join(dir, "cofferd")
	if out, err := exec.Command("go", "build", "-o", cofferd, "github.com/coffer-vault/coffer/cmd/cofferd").CombinedOutput(); err != nil {
		b.Fatalf("go build cofferd: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	// The storage, how to open it again, and how cofferd serves it.
	var open func() (store.Store, error)
	var serveArgs []string
	var serveEnv []string
	if scaleOut {
		pg, s3 := testenv.StartPostgreSQL(b), testenv.StartS3(b)
		cfg := scaleout.Config{Postgres: pg.NewDatabase(), S3: s3.URL + "/coffer", AccessKey: s3.AccessKey, SecretKey: s3.SecretKey}
		open = func() (store.Store, error) { return scaleout.Open(ctx, cfg) }
		serveArgs = []string{"--postgres", cfg.Postgres, "--s3", cfg.S3}
		serveEnv = []string{"AWS_ACCESS_KEY_ID=" + cfg.AccessKey, "AWS_SECRET_ACCESS_KEY=" + cfg.SecretKey}
	} else {
		open = func() (store.Store, error) { return embedded.Open(ctx, filepath.Join(dir, "server")) }
		serveArgs = []string{"--data", filepath.Join(dir, "server")}
	}
	st, err := open()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	var cert tls.Certificate
	var pin [32]byte
	if scaleOut {
		cert, pin, err = server.LoadOrMakeSharedTLS(ctx, st, "", "", nil)
	} else {
		cert, pin, err = server.LoadOrMakeTLS(filepath.Join(dir, "server"), "", "", nil)
	}
	if err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(ctx, server.Config{Store: st, TLSKeyHash: pin})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.Listener.Close()
	hs.Listener = ln
	hs.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	hs.StartTLS()
	token, _ := srv.BootstrapToken(ctx)
	key, _, err := client.Init(ctx, hs.URL, token, "Load", pin, nil)
	if err != nil {
		b.Fatal(err)
	}
	admin, err := client.DialAdmin(ctx, key)
	if err != nil {
		b.Fatal(err)
	}
	code, _, err := admin.Invite(ctx, "desk@example.com", policy.Manager, time.Hour)
	admin.Close()
	if err != nil {
		b.Fatal(err)
	}
	writer, err := client.Enroll(ctx, client.Enrollment{Dir: filepath.Join(dir, "writer"), Invite: code, DeviceName: "writer", Passphrase: syncPass})
	if err != nil {
		b.Fatal(err)
	}
	defer writer.Close()
	folder, err := writer.CreateFolder(ctx, "Desk", policy.Confidential)
	if err != nil {
		b.Fatal(err)
	}
	ws, err := client.NewSyncer(writer)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	if _, err := ws.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	hs.Close()

	// n further devices of the same person, certified in the log.
	start := time.Now()
	transports := certifyDevices(b, st, writer, n)
	st.Close()
	fmt.Printf("server load: %d devices certified in %s\n", n, time.Since(start).Round(time.Millisecond))
	// The first server on the writer's address; with the scale-out
	// store, a second one on another.
	addrs := []string{addr}
	if scaleOut {
		l2, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		addrs = append(addrs, l2.Addr().String())
		l2.Close()
	}
	for _, a := range addrs {
		srvCmd := exec.Command(cofferd, append(append([]string{"serve"}, serveArgs...), "--listen", a)...)
		srvCmd.Env = append(os.Environ(), serveEnv...)
		srvCmd.Stdout, srvCmd.Stderr = io.Discard, io.Discard
		if err := srvCmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { srvCmd.Process.Kill(); srvCmd.Wait() })
		for i := 0; ; i++ {
			if c, err := net.Dial("tcp", a); err == nil {
				c.Close()
				break
			}
			if i > 400 {
				b.Fatal("cofferd did not start")
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
	if st, err = open(); err != nil { // read-only use: the last event
		b.Fatal(err)
	}
	defer st.Close()

	// Every device on its feed stream, from now on.
	last, err := st.LastEvent(ctx)
	if err != nil {
		b.Fatal(err)
	}
	type arrival struct {
		seq int64
		at  time.Time
	}
	var (
		mu              sync.Mutex
		arrivals        = map[string][]arrival{} // manifest ID → arrivals
		connected, errs atomic.Int64
		firstErr        atomic.Value
	)
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	start = time.Now()
	for i, t := range transports {
		c, err := client.Dial("https://"+addrs[i%len(addrs)], pin, wire.DeviceKeyID(t.id), t.key)
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			err := client.StreamFeed(sctx, c, last, func() { connected.Add(1) }, func(e wire.Event) {
				at := time.Now()
				mu.Lock()
				arrivals[object.ID(e.ID).String()] = append(arrivals[object.ID(e.ID).String()], arrival{e.Seq, at})
				mu.Unlock()
			})
			if sctx.Err() == nil && err != nil {
				errs.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			}
		}()
		if i%500 == 499 {
			time.Sleep(50 * time.Millisecond) // do not open every TLS handshake at once
		}
	}
	for connected.Load()+errs.Load() < int64(n) && time.Since(start) < 10*time.Minute {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // caught up
	fmt.Printf("server load: %d of %d streams opened in %s (%d goroutines)\n", connected.Load(), n, time.Since(start).Round(time.Millisecond), runtime.NumGoroutine())

	// Steady uploads: a version every 200 ms.
	const versions = 25
	var pushes []time.Duration
	pushedAt := map[string]time.Time{}
	b.ResetTimer()
	for k := 0; k < versions; k++ {
		ver, err := writer.Put(ctx, folder, "positions.csv", strings.NewReader(fmt.Sprintf("book,%d\n", k)), vault.PutOptions{})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if _, err := ws.Push(ctx); err != nil {
			b.Fatalf("push %d: %v", k, err)
		}
		pushes = append(pushes, time.Since(t0))
		// Delivery counts from the start of the push (the manifest is
		// stored, and announced, at its end): an upper bound.
		pushedAt[ver.ID.String()] = t0
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // the last deliveries
	b.StopTimer()
	stop()
	wg.Wait()

	var delivery []time.Duration
	missing := 0
	mu.Lock()
	for id, at := range pushedAt {
		got := arrivals[id]
		missing += n - len(got)
		for _, a := range got {
			delivery = append(delivery, max(a.at.Sub(at), 0))
		}
	}
	mu.Unlock()
	sort.Slice(pushes, func(i, j int) bool { return pushes[i] < pushes[j] })
	sort.Slice(delivery, func(i, j int) bool { return delivery[i] < delivery[j] })
	pct := func(d []time.Duration, p int) time.Duration {
		if len(d) == 0 {
			return 0
		}
		return d[min(len(d)-1, len(d)*p/100)]
	}
	pushP99, delP50, delP99 := pct(pushes, 99), pct(delivery, 50), pct(delivery, 99)
	e, _ := firstErr.Load().(string)
	fmt.Printf("server load (%s), %d devices on the feed, %d versions pushed 5/s: push p50 %s p99 %s (budget ≤ 250 ms: %s); "+
		"delivery p50 %s p99 %s (budget ≤ 1 s: %s); %d deliveries missing, %d stream errors %s\n",
		b.Name(), n, versions, pct(pushes, 50).Round(time.Millisecond), pushP99.Round(time.Millisecond), verdict(pushP99 <= 250*time.Millisecond),
		delP50.Round(time.Millisecond), delP99.Round(time.Millisecond), verdict(delP99 <= time.Second && missing == 0),
		missing, errs.Load(), e)
	b.ReportMetric(float64(pushP99.Milliseconds()), "push-p99-ms")
	b.ReportMetric(float64(delP99.Milliseconds()), "feed-p99-ms")
	b.ReportMetric(float64(missing), "missing")
}

type loadDevice struct {
	id  object.ID
	key ed25519.PrivateKey
}

// certifyDevices appends n device entries of the writer's user, signed by
// its user key, to the log in the store (as many pairings would), and
// returns their transport keys.
func certifyDevices(b *testing.B, st store.Store, writer *vault.Vault, n int) []loadDevice {
	b.Helper()
	ctx := context.Background()
	size, err := st.LogSize(ctx)
	if err != nil {
		b.Fatal(err)
	}
	entries, err := st.LogEntries(ctx, 0, size)
	if err != nil {
		b.Fatal(err)
	}
	var hashes orglog.Hashes
	for i, e := range entries {
		if err := hashes.Append(int64(i), e); err != nil {
			b.Fatal(err)
		}
	}
	user := ed25519.NewKeyFromSeed(writer.UserKeys().SigningSeed)
	org := writer.Org().Org
	out := make([]loadDevice, n)
	now := time.Now().Truncate(time.Second)
	for i := range out {
		_, dk, _ := ed25519.GenerateKey(rand.Reader)
		_, tk, _ := ed25519.GenerateKey(rand.Reader)
		out[i] = loadDevice{id: object.NewRandomID(), key: tk}
		raw, err := orglog.Sign(&orglog.Entry{Org: org, Kind: orglog.Device, Device: out[i].id, Email: writer.Owner().Email,
			Key: dk.Public().(ed25519.PublicKey), Transport: tk.Public().(ed25519.PublicKey), Name: "device " + strconv.Itoa(i), Time: now},
			notekey.Signer(orglog.UserName, user))
		if err != nil {
			b.Fatal(err)
		}
		before := len(hashes)
		if err := hashes.Append(size, raw); err != nil {
			b.Fatal(err)
		}
		if err := st.AppendLog(ctx, size, store.LogRecord{Entry: raw, Hashes: hashes[before:]}); err != nil {
			b.Fatal(err)
		}
		size++
	}
	return out
}

// raiseFileLimit makes room for a socket per device, or says how many
// devices fit.
func raiseFileLimit(b *testing.B, n int) int {
	b.Helper()
	want := uint64(n + 1024)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return n
	}
	if lim.Cur < want {
		lim.Cur = want
		if lim.Max < want {
			lim.Max = want
		}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
			fit := int(lim.Cur - 1024)
			fmt.Printf("server load: the file limit (%d) allows %d devices, not %d\n", lim.Cur, fit, n)
			return fit
		}
	}
	return n
}
