package client_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/orgtest"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
)

const pass = "sync test passphrase"

// org is a real cofferd (embedded store, TLS) on loopback with an admin.
type org struct {
	*orgtest.Org
	t     *testing.T
	dir   string
	url   string
	admin *client.Admin
	pin   [32]byte
	store store.Store
	// What a lying server replays.
	older               []byte
	oldLog              wire.LogEntries
	savedTime, savedSig string
}

func newOrg(t *testing.T) *org {
	t.Helper()
	ot := orgtest.Start(t, "Acme Capital")
	return &org{Org: ot, t: t, dir: ot.Dir, url: ot.URL, admin: ot.Admin, pin: ot.Pin, store: ot.Store}
}

func (o *org) invite(email string) string {
	o.t.Helper()
	code, _, err := o.admin.Invite(context.Background(), email, policy.Member, 7*24*time.Hour)
	if err != nil {
		o.t.Fatal(err)
	}
	return code
}

// device is an enrolled vault with its syncer.
type device struct {
	v *vault.Vault
	s *client.Syncer
}

func enroll(t *testing.T, code, name string) *device {
	t.Helper()
	v, err := client.Enroll(context.Background(), client.Enrollment{Dir: filepath.Join(t.TempDir(), "vault"), Invite: code,
		Name: "Ann Trader", DeviceName: name, Passphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	return newDevice(t, v)
}

func newDevice(t *testing.T, v *vault.Vault) *device {
	t.Helper()
	s, err := client.NewSyncer(v)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); v.Close() })
	return &device{v: v, s: s}
}

func (d *device) sync(t *testing.T) client.Stats {
	t.Helper()
	st, err := d.s.Sync(context.Background())
	if err != nil {
		t.Fatalf("sync %s: %v", d.v.DeviceName(), err)
	}
	return st
}

func pair(t *testing.T, code string, with *device, name string) *device {
	t.Helper()
	ctx := context.Background()
	p, err := client.RequestPairing(ctx, code, name)
	if err != nil {
		t.Fatal(err)
	}
	got, err := client.Approve(ctx, with.s, p.Code)
	if err != nil || got.Name != name {
		t.Fatalf("approve: %q %v", got.Name, err)
	}
	// What the approving user is shown of the request's origin: the
	// server's word of where and when it came (here, loopback, now).
	if sys := runtime.GOOS + "/" + runtime.GOARCH; got.From != "127.0.0.1" || got.OS != sys || time.Since(got.Asked).Abs() > time.Minute {
		t.Errorf("approved request from %q (%q) at %v, want 127.0.0.1 (%s), now", got.From, got.OS, got.Asked, sys)
	}
	if log, err := with.v.AuditEvents(ctx); err != nil || len(log.Events) == 0 ||
		log.Events[len(log.Events)-1].Reason != `approved the device "`+name+`", asked from 127.0.0.1` {
		t.Errorf("the approval's audit record: %v %+v", err, log)
	}
	v, err := p.Wait(ctx, filepath.Join(t.TempDir(), "vault"), pass)
	if err != nil {
		t.Fatal(err)
	}
	return newDevice(t, v)
}

func read(t *testing.T, v *vault.Vault, folder, name string) []byte {
	t.Helper()
	ctx := context.Background()
	f, err := v.Folder(ctx, folder)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := v.WriteTo(ctx, &buf, f, name, 0); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func fileNames(t *testing.T, v *vault.Vault, folder string) []string {
	t.Helper()
	ctx := context.Background()
	f, err := v.Folder(ctx, folder)
	if err != nil {
		t.Fatal(err)
	}
	files, err := v.Files(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, fi := range files {
		out = append(out, fi.Name)
	}
	return out
}

// TestApprovalRecordQuotesTheName: a device's name is the asker's text;
// the approval's audit record quotes it, so a name that reads like an
// origin ("…, asked from 10.0.0.12") cannot pass for the server's address
// (pair checks the record).
func TestApprovalRecordQuotesTheName(t *testing.T) {
	o := newOrg(t)
	code := o.invite("ann@acme.test")
	laptop := enroll(t, code, "Ann's laptop")
	pair(t, code, laptop, "Ann's phone, asked from 10.0.0.12 (darwin/arm64)")
}

// TestTwoDevicesOfOneUser: the analyst enrols her laptop, pairs her
// desktop, imports on one and reads it on the other; both edit one file
// while apart and both edits are kept on both; the server's folder holds
// no name, no content.
func TestTwoDevicesOfOneUser(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	code := o.invite("ann@acme.test")
	laptop := enroll(t, code, "Ann's laptop")
	desktop := pair(t, code, laptop, "Ann's desktop")
	if _, err := client.Enroll(ctx, client.Enrollment{Dir: filepath.Join(t.TempDir(), "x"), Invite: code, Passphrase: pass}); !errors.Is(err, client.ErrPairingNeeded) {
		t.Fatalf("a used invite enrolled again: %v", err)
	}

	deals, err := laptop.v.CreateFolder(ctx, "Project Falcon", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	content := bytes.Repeat([]byte("Falcon term sheet, price 42. "), 100000) // ~2.9 MB, several chunks
	if _, err := laptop.v.Put(ctx, deals, "Falcon terms.txt", bytes.NewReader(content), vault.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	up := laptop.sync(t)
	if up.VersionsUp != 1 || up.BytesUp < int64(len(content)) {
		t.Fatalf("push: %+v", up)
	}
	down := desktop.sync(t)
	if down.VersionsDown != 1 || down.BytesDown < int64(len(content)) {
		t.Fatalf("pull: %+v", down)
	}
	if got := read(t, desktop.v, "Project Falcon", "Falcon terms.txt"); !bytes.Equal(got, content) {
		t.Fatal("the desktop reads other bytes than the laptop imported")
	}
	if f, err := desktop.v.Folder(ctx, "Project Falcon"); err != nil || f.Class != policy.Confidential {
		t.Fatalf("the folder on the desktop: %+v %v", f, err)
	}
	if again := desktop.sync(t); again.VersionsDown != 0 || again.VersionsUp != 0 {
		t.Fatalf("a second sync moved versions: %+v", again)
	}

	// Apart, both edit the file; then both sync.
	lf, _ := laptop.v.Folder(ctx, "Project Falcon")
	df, _ := desktop.v.Folder(ctx, "Project Falcon")
	if _, err := laptop.v.Put(ctx, lf, "Falcon terms.txt", strings.NewReader("laptop: price 43"), vault.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if _, err := desktop.v.Put(ctx, df, "Falcon terms.txt", strings.NewReader("desktop: price 44"), vault.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	laptop.sync(t)
	st := desktop.sync(t)
	laptop.sync(t)
	if st.Conflicts != 1 {
		t.Errorf("the desktop saw %d conflicts, want 1", st.Conflicts)
	}
	for _, d := range []*device{laptop, desktop} {
		names := fileNames(t, d.v, "Project Falcon")
		if len(names) != 2 {
			t.Fatalf("%s has %v, want the file and its conflict", d.v.DeviceName(), names)
		}
		if got := string(read(t, d.v, "Project Falcon", "Falcon terms.txt")); got != "laptop: price 43" {
			t.Errorf("%s: the file reads %q, want the earlier edit", d.v.DeviceName(), got)
		}
		var conflict string
		for _, n := range names {
			if strings.Contains(n, "(conflict Ann's desktop ") {
				conflict = n
			}
		}
		if conflict == "" || string(read(t, d.v, "Project Falcon", conflict)) != "desktop: price 44" {
			t.Errorf("%s: no conflict copy with the desktop's edit: %v", d.v.DeviceName(), names)
		}
		if r, err := d.v.Check(ctx, nil); err != nil || !r.OK() {
			t.Errorf("%s: check: %+v %v", d.v.DeviceName(), r, err)
		}
	}

	// The server's data folder names nothing and holds no content.
	for _, secret := range []string{"Falcon", "Project", "price 4", "terms.txt", "confidential"} {
		for _, dir := range o.Dirs() {
			_ = filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
				if err != nil || de.IsDir() {
					return nil
				}
				b, _ := os.ReadFile(p)
				if bytes.Contains(b, []byte(secret)) || strings.Contains(p, secret) {
					t.Errorf("the server holds %q in %s", secret, p)
				}
				return nil
			})
		}
	}

	// The server holds both devices' audit trails.
	devs, err := o.admin.Devices(ctx)
	if err != nil || len(devs) != 2 {
		t.Fatalf("devices: %+v %v", devs, err)
	}
	for _, d := range devs {
		if d.AuditSeq == 0 || d.AuditFlag != "" || d.LastSeen == 0 {
			t.Errorf("device %s on the server: %+v", d.Name, d)
		}
	}
}
