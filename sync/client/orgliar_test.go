package client_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
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
	"github.com/coffer-vault/coffer/internal/notekey"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
	"golang.org/x/mod/sumdb/tlog"
)

// The malicious server of the organisation issue: it holds the server key
// and signs checkpoints of logs of its choosing; the devices must still
// refuse what the admin and users did not sign, replays, and forks.

// serveLog makes the server answer GET /v1/log with entries (the log it
// wants a device to see), under a checkpoint it signs with the real server
// key.
func (o *org) serveLog(t *testing.T, entries [][]byte) {
	t.Helper()
	f := o.forgedLog(t, entries)
	o.lie(func(r *http.Request, rec *httptest.ResponseRecorder) {
		if r.URL.Path != "/v1/log" {
			return
		}
		cp := f.checkpoint()
		start, _ := strconv.Atoi(r.URL.Query().Get("start"))
		page := wire.LogEntries{Start: int64(start), Checkpoint: cp, Entries: [][]byte{}}
		if start < len(entries) {
			page.Entries = entries[start:]
		}
		rec.Body.Reset()
		rec.Body.Write(wire.Marshal(page))
		rec.Code = http.StatusOK // whatever the real server said (to a revoked device, say)
		if rec.Header().Get(wire.HeaderTime) == "" {
			// It refused the caller before signing a time: the lying
			// server, with its key, signs one itself.
			if sig, _, err := wire.ParseSignature(r); err == nil {
				tm, ts := wire.SignTime(f.key, f.org, time.Now(), sig.Nonce)
				rec.Header().Set(wire.HeaderTime, tm)
				rec.Header().Set(wire.HeaderTimeSig, ts)
			}
		}
	})
}

// forgedLog is a log of the lying server's choosing, with what it needs
// to sign checkpoints of it with the real server key.
type forgedLog struct {
	org    object.ID
	key    ed25519.PrivateKey
	size   int64
	hashes orglog.Hashes
	tree   tlog.Hash
}

func (o *org) forgedLog(t *testing.T, entries [][]byte) *forgedLog {
	t.Helper()
	seed, err := o.store.GetMeta(context.Background(), "server-key")
	if err != nil {
		t.Fatal(err)
	}
	f := &forgedLog{key: ed25519.NewKeyFromSeed(seed), size: int64(len(entries))}
	for i, e := range entries {
		if err := f.hashes.Append(int64(i), e); err != nil {
			t.Fatal(err)
		}
	}
	if f.tree, err = f.hashes.TreeHash(f.size); err != nil {
		t.Fatal(err)
	}
	first, err := orglog.Parse(entries[0])
	if err != nil {
		t.Fatal(err)
	}
	f.org = first.Org
	return f
}

// checkpoint signs the forged log's size and tree hash now.
func (f *forgedLog) checkpoint() []byte {
	cp, err := orglog.Checkpoint{Org: f.org, Size: f.size, Hash: f.tree, Time: time.Now()}.Sign(f.key)
	if err != nil {
		panic(err)
	}
	return cp
}

// serveView makes the server answer a guest's GET /v1/log/view with the
// view of entries (a log of its choosing) for email, proven against a
// checkpoint it signs with the real server key.
func (o *org) serveView(t *testing.T, entries [][]byte, email string) {
	t.Helper()
	o.serveViewWithout(t, entries, email, nil)
}

func (o *org) entries(t *testing.T) [][]byte {
	t.Helper()
	return o.logPage(t).Entries
}

func findEntry(t *testing.T, entries [][]byte, kind orglog.Kind, email string) []byte {
	t.Helper()
	var last []byte
	for _, raw := range entries {
		if e, err := orglog.Parse(raw); err == nil && e.Kind == kind && (email == "" || e.Email == email) {
			last = raw
		}
	}
	if last == nil {
		t.Fatalf("no %s entry for %q", kind, email)
	}
	return last
}

// TestServerCannotReissueAnEndedGrant: the server appends the guest's old
// grant again after the admin ended it; her device refuses the log.
func TestServerCannotReissueAnEndedGrant(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann, falcon := annWithFalcon(t, o, "falcon model")
	code, expires, err := o.admin.Guest(ctx, "gail@consult.test", []object.ID{falcon.ID}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	gail := enrollAs(t, code, "Gail Consultant", "Gail's laptop")
	ann.sync(t)
	gail.sync(t)
	grant := findEntry(t, o.entries(t), orglog.Grant, "gail@consult.test")
	if _, _, err := o.admin.Guest(ctx, "gail@consult.test", []object.ID{falcon.ID}, 0); err != nil {
		t.Fatal(err)
	}
	o.serveView(t, append(o.entries(t), grant), "gail@consult.test")
	if _, err := gail.s.Sync(ctx); !errors.Is(err, vault.ErrOrgLog) {
		t.Fatalf("a re-issued grant was accepted: %v", err)
	}
	// The device stays where it was: its grant ends when the admin first
	// said, the server's lie bought nothing. (Withholding the end is in any
	// server's power; the expiry still holds, on the device's own.)
	if g := gail.v.OrgState().Grants["gail@consult.test"]; g == nil || !g.Expires.Equal(expires) {
		t.Fatalf("gail's grant after the lie: %+v, want the end %s", g, expires)
	}
}

// TestServerCannotReplayAnOlderPolicy: the first policy appended again
// after the second is refused (its serial does not rise; its bytes are in
// the log already).
func TestServerCannotReplayAnOlderPolicy(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	bob := enrollAs(t, o.inviteAs("bob@acme.test", policy.Member), "Bob Analyst", "Bob's laptop")
	if _, err := o.admin.SetPolicy(ctx, &policy.Document{V: 1, MaxUnlockFailures: 3, IdleLockMinutes: 60}); err != nil {
		t.Fatal(err)
	}
	first := findEntry(t, o.entries(t), orglog.Policy, "")
	if _, err := o.admin.SetPolicy(ctx, &policy.Document{V: 1, MaxUnlockFailures: 3, IdleLockMinutes: 5}); err != nil {
		t.Fatal(err)
	}
	bob.sync(t)
	if p := bob.v.OrgState().Policy; p == nil || p.Serial != 2 {
		t.Fatalf("bob's policy: %+v", p)
	}
	o.serveLog(t, append(o.entries(t), first))
	if _, err := bob.s.Sync(ctx); !errors.Is(err, vault.ErrOrgLog) {
		t.Fatalf("an older policy was accepted: %v", err)
	}
	if p := bob.v.OrgState().Policy; p.Serial != 2 {
		t.Fatalf("bob's policy after the replay: serial %d", p.Serial)
	}
}

// TestServerCannotSubstituteKeys: entries the server makes itself — a
// second user entry for an enrolled e-mail with its own keys, a share of
// someone's folder signed by a key of its choosing — are refused, so no
// device ever wraps a folder key to a key the server holds.
func TestServerCannotSubstituteKeys(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann := enrollAs(t, o.inviteAs("ann@acme.test", policy.Manager), "Ann Manager", "Ann's laptop")
	bob := enrollAs(t, o.inviteAs("bob@acme.test", policy.Member), "Bob Analyst", "Bob's laptop")
	falcon, err := ann.v.CreateFolder(ctx, "Project Falcon", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	ann.sync(t)
	real := o.entries(t)
	org := ann.v.Org().Org
	_, mine, _ := ed25519.GenerateKey(rand.Reader)
	bobEntry, _ := orglog.Parse(findEntry(t, real, orglog.User, "bob@acme.test"))
	forged := *bobEntry
	forged.Key = mine.Public().(ed25519.PublicKey)
	forged.Time = time.Now().Truncate(time.Second)
	forgedUser, err := orglog.Sign(&forged, notekey.Signer(orglog.UserName, mine))
	if err != nil {
		t.Fatal(err)
	}
	forgedShare, err := orglog.Sign(&orglog.Entry{Org: org, Kind: orglog.Share, Folder: falcon.ID, Email: "bob@acme.test",
		Role: orglog.Editor, By: "ann@acme.test", Time: time.Now().Truncate(time.Second)}, notekey.Signer(orglog.UserName, mine))
	if err != nil {
		t.Fatal(err)
	}
	for name, extra := range map[string][]byte{"a second user entry with the server's keys": forgedUser, "a share signed by the server": forgedShare} {
		o.serveLog(t, append(append([][]byte{}, real...), extra))
		if _, err := ann.s.Sync(ctx); !errors.Is(err, vault.ErrOrgLog) {
			t.Errorf("%s: accepted (%v)", name, err)
		}
		o.honest()
	}
	if m := ann.v.OrgState().Folders[falcon.ID].Members; len(m) != 0 {
		t.Fatalf("falcon's members after the forgeries: %v", m)
	}
	bob.sync(t)
}

// TestForkedLogIsDetected: the server shows two devices two different
// continuations of the log (a split view). Each accepts its own; the
// moment either is shown the other's, it refuses: the server cannot merge
// the views back without being caught.
func TestForkedLogIsDetected(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann := enrollAs(t, o.inviteAs("ann@acme.test", policy.Manager), "Ann Manager", "Ann's laptop")
	bob := enrollAs(t, o.inviteAs("bob@acme.test", policy.Member), "Bob Analyst", "Bob's laptop")
	ann.sync(t)
	bob.sync(t)
	base := o.entries(t)
	// Two invites the admin made; the server shows each device only one.
	if _, _, err := o.admin.Invite(ctx, "carol@acme.test", policy.Member, time.Hour); err != nil {
		t.Fatal(err)
	}
	forA := o.entries(t)
	if _, _, err := o.admin.Invite(ctx, "dave@acme.test", policy.Member, time.Hour); err != nil {
		t.Fatal(err)
	}
	forB := append(append([][]byte{}, base...), o.entries(t)[len(forA)])
	o.serveLog(t, forA)
	ann.sync(t)
	o.serveLog(t, forB)
	bob.sync(t)
	// Merged back: each device finds the log no longer extends its own.
	o.serveLog(t, forB)
	if _, err := ann.s.Sync(ctx); !errors.Is(err, vault.ErrOrgLog) {
		t.Errorf("ann accepted the other branch: %v", err)
	}
	o.honest()
	if _, err := bob.s.Sync(ctx); !errors.Is(err, vault.ErrOrgLog) {
		t.Errorf("bob accepted the real log after the fork: %v", err)
	}
}

// TestForgedWipesAreRefused: a wipe entry signed by a key the server made,
// one of another organisation, and the admin's real wipe of another
// device replayed for this one are refused — by the unlocked sync and by
// locked mode alike — and audited; the vault is untouched.
func TestForgedWipesAreRefused(t *testing.T) {
	ctx := context.Background()
	o, laptop, desktop := twoDevices(t)
	other := newOrg(t)
	real := o.entries(t)
	org := laptop.v.Org().Org
	_, serverMade, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Now().Truncate(time.Second)
	forged, err := orglog.Sign(&orglog.Entry{Org: org, Kind: orglog.Wipe, Device: laptop.v.DeviceID(), Nonce: "00112233445566778899aabbccddeeff",
		Reason: "forged", Time: now}, notekey.Signer(orglog.AdminName, serverMade))
	if err != nil {
		t.Fatal(err)
	}
	otherOrg, err := orglog.Sign(&orglog.Entry{Org: other.admin.Key.Org, Kind: orglog.Wipe, Device: laptop.v.DeviceID(),
		Nonce: "ffeeddccbbaa99887766554433221100", Reason: "another org", Time: now}, notekey.Signer(orglog.AdminName, other.admin.Key.Key()))
	if err != nil {
		t.Fatal(err)
	}
	// The admin really wipes the desktop; the server replays that entry.
	if err := o.admin.Wipe(ctx, desktop.v.DeviceID(), "lost"); err != nil {
		t.Fatal(err)
	}
	withWipe := o.entries(t)
	replayed := append(append([][]byte{}, withWipe...), withWipe[len(withWipe)-1])
	guard, err := client.NewGuard(laptop.v.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer guard.Close()
	for name, log := range map[string][][]byte{
		"signed by a key of the server's making": append(append([][]byte{}, real...), forged),
		"of another organisation":                append(append([][]byte{}, real...), otherOrg),
		"the desktop's wipe replayed":            replayed,
	} {
		o.serveLog(t, log)
		if _, err := laptop.s.Sync(ctx); !errors.Is(err, vault.ErrOrgLog) {
			t.Errorf("%s: the unlocked sync accepted it: %v", name, err)
		}
		if order, err := guard.Order(ctx); !errors.Is(err, vault.ErrOrgLog) || order != nil {
			t.Errorf("%s: locked mode accepted it: %v %v", name, order, err)
		}
		o.honest()
	}
	if _, err := os.Stat(filepath.Join(laptop.v.Dir(), "keys", "user.age")); err != nil {
		t.Fatalf("the laptop's key is gone: %v", err)
	}
	laptop.sync(t)
	log, _ := laptop.v.AuditEvents(ctx)
	n := 0
	for _, e := range log.Events {
		if e.Action == audit.Tamper && e.Outcome == audit.Blocked && strings.Contains(e.Reason, "organisation log was refused") {
			n++
		}
	}
	if n < 3 {
		t.Errorf("%d refusals audited, want 3", n)
	}
}
