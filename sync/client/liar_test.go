package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

// liar wraps the real server and alters its answers: the malicious server
// of docs/sync-protocol.md's threat model. alter sees each request and the
// real answer and may change it.
func (o *org) lie(alter func(r *http.Request, rec *httptest.ResponseRecorder)) {
	real := o.Server.Handler()
	o.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		real.ServeHTTP(rec, r)
		alter(r, rec)
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
}

func (o *org) honest() { o.Honest() }

// twoDevices is an org with Ann's laptop and desktop, a folder with a file
// synced to both.
func twoDevices(t *testing.T) (*org, *device, *device) {
	t.Helper()
	ctx := context.Background()
	o := newOrg(t)
	code := o.invite("ann@acme.test")
	laptop := enroll(t, code, "laptop")
	o.oldLog = o.logPage(t)
	desktop := pair(t, code, laptop, "desktop")
	f, err := laptop.v.CreateFolder(ctx, "Deals", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := laptop.v.Put(ctx, f, "terms.txt", strings.NewReader("price 40"), vault.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	laptop.sync(t)
	desktop.sync(t)
	return o, laptop, desktop
}

// newVersion makes a new version on the laptop and pushes it.
func newVersion(t *testing.T, d *device, content string) vault.Version {
	t.Helper()
	ctx := context.Background()
	f, err := d.v.Folder(ctx, "Deals")
	if err != nil {
		t.Fatal(err)
	}
	ver, err := d.v.Put(ctx, f, "terms.txt", strings.NewReader(content), vault.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.sync(t)
	return ver
}

// TestLyingServer: each way a server can lie is refused, says which object
// and why, and leaves what the device had; an honest answer afterwards
// syncs as usual.
func TestLyingServer(t *testing.T) {
	cases := []struct {
		name  string
		alter func(t *testing.T, o *org, r *http.Request, rec *httptest.ResponseRecorder)
		want  string
	}{
		{"flips a byte of a manifest", func(t *testing.T, o *org, r *http.Request, rec *httptest.ResponseRecorder) {
			if r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/v1/objects/manifest/") {
				b := rec.Body.Bytes()
				b[len(b)/2] ^= 1
			}
		}, "rejected"},
		{"swaps a chunk for another", func(t *testing.T, o *org, r *http.Request, rec *httptest.ResponseRecorder) {
			if r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/v1/objects/chunk/") {
				b := rec.Body.Bytes()
				b[len(b)-1] ^= 1 // the last byte of the age payload
			}
		}, "rejected"},
		{"replays the older version for the newer", func(t *testing.T, o *org, r *http.Request, rec *httptest.ResponseRecorder) {
			if r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/v1/objects/manifest/") {
				rec.Body.Reset()
				rec.Body.Write(o.older)
			}
		}, "rejected"},
		{"drops the feed's events", func(t *testing.T, o *org, r *http.Request, rec *httptest.ResponseRecorder) {
			if r.URL.Path == "/v1/feed" {
				var f wire.Feed
				json.Unmarshal(rec.Body.Bytes(), &f)
				f.Events = f.Events[:0]
				rec.Body.Reset()
				rec.Body.Write(wire.Marshal(f))
			}
		}, "(withheld)"},
		{"rolls the org log back", func(t *testing.T, o *org, r *http.Request, rec *httptest.ResponseRecorder) {
			if r.Method == "GET" && r.URL.Path == "/v1/log" {
				// An older log and its checkpoint, both genuinely signed.
				rec.Body.Reset()
				rec.Body.Write(wire.Marshal(o.oldLog))
			}
		}, "log"},
		{"replays its time into another request", func(t *testing.T, o *org, r *http.Request, rec *httptest.ResponseRecorder) {
			if o.savedTime == "" {
				o.savedTime, o.savedSig = rec.Header().Get(wire.HeaderTime), rec.Header().Get(wire.HeaderTimeSig)
				return
			}
			rec.Header().Set(wire.HeaderTime, o.savedTime)
			rec.Header().Set(wire.HeaderTimeSig, o.savedSig)
		}, "time"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			o, laptop, desktop := twoDevices(t)
			older, err := laptop.v.Stat(ctx, mustFolder(t, laptop.v, "Deals"), "terms.txt")
			if err != nil {
				t.Fatal(err)
			}
			o.older, _ = laptop.v.Envelope(ctx, 2, older.ID)
			newVersion(t, laptop, "price 41")
			before := read(t, desktop.v, "Deals", "terms.txt")
			o.lie(func(r *http.Request, rec *httptest.ResponseRecorder) { tc.alter(t, o, r, rec) })
			_, err = desktop.s.Sync(ctx)
			if tc.want == "(withheld)" {
				// Withholding cannot be told from having nothing new: the
				// device keeps what it had, and learns the rest later.
				if err != nil {
					t.Fatalf("sync with events withheld: %v", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("the lie went through: %v", err)
			}
			if got := read(t, desktop.v, "Deals", "terms.txt"); !bytes.Equal(got, before) {
				t.Fatalf("the device holds %q after the lie, had %q", got, before)
			}
			if r, err := desktop.v.Check(ctx, nil); err != nil || !r.OK() {
				t.Fatalf("check after the lie: %+v %v", r, err)
			}
			o.honest()
			desktop.sync(t)
			if got := string(read(t, desktop.v, "Deals", "terms.txt")); got != "price 41" {
				t.Fatalf("after an honest sync the file reads %q", got)
			}
		})
	}
}

// TestServerCannotSwapTheLog: a server that serves another
// organisation's log (its own keys, a history of its choosing) is refused:
// the device pins the server key and the log it verified.
func TestServerCannotSwapTheLog(t *testing.T) {
	ctx := context.Background()
	o, laptop, _ := twoDevices(t)
	other := newOrg(t)
	theirs := other.logPage(t)
	o.lie(func(r *http.Request, rec *httptest.ResponseRecorder) {
		if r.URL.Path == "/v1/log" {
			page := wire.LogEntries{Start: theirs.Start, Checkpoint: theirs.Checkpoint, Entries: [][]byte{}}
			if start, _ := strconv.Atoi(r.URL.Query().Get("start")); start < len(theirs.Entries) {
				page.Start, page.Entries = int64(start), theirs.Entries[start:]
			} else {
				page.Start = int64(start)
			}
			rec.Body.Reset()
			rec.Body.Write(wire.Marshal(page))
		}
	})
	if _, err := laptop.s.Sync(ctx); err == nil || !errors.Is(err, vault.ErrOrgLog) {
		t.Fatalf("another org's log was accepted: %v", err)
	}
	o.honest()
	laptop.sync(t)
}

func (o *org) logPage(t *testing.T) wire.LogEntries {
	t.Helper()
	entries, cp, err := client.FetchLog(context.Background(), o.admin.Conn(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return wire.LogEntries{Entries: entries, Checkpoint: cp}
}

// TestRevokedDeviceIsRefused: revocation takes effect on the next request.
func TestRevokedDeviceIsRefused(t *testing.T) {
	ctx := context.Background()
	o, laptop, desktop := twoDevices(t)
	if err := o.admin.Revoke(ctx, desktop.v.DeviceID(), "lost in a taxi"); err != nil {
		t.Fatal(err)
	}
	_, err := desktop.s.Sync(ctx)
	if !client.IsCode(err, wire.CodeRevoked) {
		t.Fatalf("a revoked device synced: %v", err)
	}
	laptop.sync(t)
}

// TestClockSkewIsRefusedWithAMessage: a device whose clock is off gets a
// message saying so, not a bare 401.
func TestClockSkewIsRefusedWithAMessage(t *testing.T) {
	ctx := context.Background()
	_, laptop, _ := twoDevices(t)
	laptop.s.Conn().Now = func() time.Time { return time.Now().Add(10 * time.Minute) }
	_, err := laptop.s.Sync(ctx)
	if err == nil || !strings.Contains(err.Error(), "clock is 10m0s off") {
		t.Fatalf("clock skew: %v", err)
	}
}

func mustFolder(t *testing.T, v *vault.Vault, name string) vault.Folder {
	t.Helper()
	f, err := v.Folder(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestBadInvites: a forged, an expired and a used invite each get a clear
// error, and nothing is enrolled.
func TestBadInvites(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	good := o.invite("bob@acme.test")
	inv, _ := wire.ParseInvite(good)
	inv.Seed[0] ^= 1 // the code of an invite that was never made
	try := func(code string) error {
		_, err := client.Enroll(ctx, client.Enrollment{Dir: filepath.Join(t.TempDir(), "v"), Invite: code, Passphrase: pass})
		return err
	}
	if err := try(inv.String()); err == nil || !strings.Contains(err.Error(), "invite is unknown") {
		t.Errorf("forged invite: %v", err)
	}
	if err := try("COFFER1-garbage"); !errors.Is(err, wire.ErrInviteCode) {
		t.Errorf("mistyped invite: %v", err)
	}
	short, _, err := o.admin.Invite(ctx, "carol@acme.test", policy.Member, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	o.SetSkew(2 * time.Hour)
	if err := try(short); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired invite: %v", err)
	}
	o.SetSkew(0)
	if err := try(good); err != nil {
		t.Fatal(err)
	}
	if err := try(good); !errors.Is(err, client.ErrPairingNeeded) {
		t.Errorf("used invite: %v", err)
	}
}

// TestRolledBackDeviceIsFlagged: a device whose whole vault folder was put
// back to an older copy (which its own checkpoint cannot tell) goes on with
// an audit trail that forks from what the server holds: the server refuses
// it and flags the device for the admin.
func TestRolledBackDeviceIsFlagged(t *testing.T) {
	ctx := context.Background()
	o, _, desktop := twoDevices(t)
	dir := desktop.v.Dir()
	desktop.s.Close()
	desktop.v.Close()
	snapshot := filepath.Join(t.TempDir(), "snapshot")
	testenv.CopyDir(t, dir, snapshot)

	reopen := func() *device {
		v, err := vault.Open(ctx, dir, pass)
		if err != nil {
			t.Fatal(err)
		}
		return newDevice(t, v)
	}
	d := reopen()
	if _, err := d.v.AppendAudit(ctx, audit.Event{Action: audit.Export, Outcome: audit.Blocked, Reason: "the blocked export the thief wants gone"}); err != nil {
		t.Fatal(err)
	}
	d.sync(t)
	d.s.Close()
	d.v.Close()

	os.RemoveAll(dir)
	testenv.CopyDir(t, snapshot, dir)
	d = reopen()
	if _, err := d.v.AppendAudit(ctx, audit.Event{Action: audit.Preview, Outcome: audit.OK}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.s.Sync(ctx); err == nil || !strings.Contains(err.Error(), "does not continue the chain") {
		t.Fatalf("a rolled-back device's trail was taken: %v", err)
	}
	devs, err := o.admin.Devices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, dev := range devs {
		if object.ID(dev.ID) == d.v.DeviceID() && dev.AuditFlag != "fork" {
			t.Fatalf("the device is not flagged: %+v", dev)
		}
	}
}

// floodWriter passes the real stream's headers and first write, then
// sends data lines that never end an event, until the client goes.
type floodWriter struct{ http.ResponseWriter }

func (f floodWriter) Unwrap() http.ResponseWriter { return f.ResponseWriter }

func (f floodWriter) Write(b []byte) (int, error) {
	line := []byte("data: " + strings.Repeat("x", 64<<10) + "\n")
	rc := http.NewResponseController(f.ResponseWriter)
	for {
		if _, err := f.ResponseWriter.Write(line); err != nil {
			return 0, err
		}
		if err := rc.Flush(); err != nil {
			return 0, err
		}
	}
}

// TestFeedEventWithoutEnd: a lying server streams data lines that never
// end an event. The client gives up on that event once it is over 1 MiB;
// it kept them all (each line was bounded, their number not).
func TestFeedEventWithoutEnd(t *testing.T) {
	o, laptop, _ := twoDevices(t)
	real := o.Server.Handler()
	o.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/feed/stream" {
			w = floodWriter{w}
		}
		real.ServeHTTP(w, r)
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := client.StreamFeed(ctx, laptop.s.Conn(), 0, nil, func(wire.Event) {})
	if err == nil || !strings.Contains(err.Error(), "event over") {
		t.Fatalf("an event without end: %v, want the client to give it up", err)
	}
}
