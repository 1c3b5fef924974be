package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/internal/passphrase"
	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/preview"
	"github.com/coffer-vault/coffer/vault"
)

const pass = "app test passphrase"

func newApp(t *testing.T) (*app.App, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "vault")
	a, err := app.Init(context.Background(), dir, vault.Identity{Email: "rita@example.com", Name: "Rita Risk"}, pass)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, dir
}

// TestGateEveryClassAndAction asks the gate for every class × action that
// can move plaintext out, and checks the answer and its audit record.
func TestGateEveryClassAndAction(t *testing.T) {
	ctx := context.Background()
	a, _ := newApp(t)
	actions := []policy.Action{policy.Export, policy.PreviewToFile, policy.Print, policy.Copy, policy.OpenExternal, policy.Preview}
	for _, class := range policy.Classes {
		f, err := a.CreateFolder(ctx, "F-"+string(class), class)
		if err != nil {
			t.Fatal(err)
		}
		ver, err := a.Import(ctx, f.Name, "doc.txt", strings.NewReader("content of "+string(class)), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, action := range actions {
			err := a.Gate(ctx, f, ver, action)
			wantBlocked := class.NoExport() && action != policy.Preview
			var be *app.BlockedError
			if wantBlocked != errors.As(err, &be) || wantBlocked != errors.Is(err, app.ErrBlocked) {
				t.Errorf("%s × %s: %v", class, action, err)
				continue
			}
			if !wantBlocked && err != nil {
				t.Errorf("%s × %s: %v", class, action, err)
			}
			if wantBlocked && (be.Folder != f.Name || be.Class != class || be.Reason == "") {
				t.Errorf("%s × %s: blocked error %+v", class, action, be)
			}
		}
	}
	log, err := a.AuditLog(ctx)
	if err != nil || len(log.Breaks) != 0 {
		t.Fatal(err, log.Breaks)
	}
	counts := map[audit.Outcome]int{}
	for _, e := range log.Events {
		if e.Action != audit.Import && e.Action != audit.Unlock && e.Action != audit.FolderCreate && e.Action != audit.PolicyChange {
			counts[e.Outcome]++
			if e.FileName != "doc.txt" || !strings.HasPrefix(e.FolderName, "F-") {
				t.Errorf("event without names: %+v", e)
			}
		}
	}
	// 2 no-export classes × 5 outward actions blocked; the rest allowed.
	if counts[audit.Blocked] != 10 || counts[audit.OK] != 14 {
		t.Errorf("audit outcomes %v, want 10 blocked and 14 ok", counts)
	}
}

func TestLockoutAfterWrongPassphrases(t *testing.T) {
	ctx := context.Background()
	a, dir := newApp(t)
	a.Close()
	for i := range vault.DefaultMaxFailures {
		if _, err := app.Open(ctx, dir, "wrong"); !errors.Is(err, vault.ErrWrongPassphrase) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	// Locked now, even with the right passphrase, and across restarts (it
	// is a file, read afresh by every Open).
	_, err := app.Open(ctx, dir, pass)
	var le *vault.LockedError
	if !errors.As(err, &le) || !errors.Is(err, vault.ErrLocked) || le.Until.Before(time.Now()) {
		t.Fatalf("after %d failures: %v", vault.DefaultMaxFailures, err)
	}
	// Let the lock expire: move the last failure an hour into the past.
	p := filepath.Join(dir, "unlock.json")
	var l struct {
		Failures int   `json:"failures"`
		Last     int64 `json:"last"`
	}
	b, _ := os.ReadFile(p)
	if err := json.Unmarshal(b, &l); err != nil || l.Failures != vault.DefaultMaxFailures {
		t.Fatalf("lockout state %s: %v", b, err)
	}
	l.Last = time.Now().Add(-time.Hour).UnixNano()
	b, _ = json.Marshal(l)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	a, err = app.Open(ctx, dir, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if len(a.Warnings()) == 0 || !strings.Contains(a.Warnings()[0], "10 wrong passphrases") {
		t.Errorf("warnings %v", a.Warnings())
	}
	log, _ := a.AuditLog(ctx)
	found := false
	for _, e := range log.Events {
		found = found || (e.Action == audit.Unlock && e.Outcome == audit.Failed && strings.Contains(e.Reason, "10 wrong"))
	}
	if !found {
		t.Error("failed unlocks not audited")
	}
	b, _ = os.ReadFile(p)
	if err := json.Unmarshal(b, &l); err != nil || l.Failures != 0 {
		t.Errorf("failure count not reset by a successful unlock: %s", b)
	}
}

func TestClockSetBackIsReported(t *testing.T) {
	ctx := context.Background()
	a, dir := newApp(t)
	future := time.Now().Add(2 * time.Hour)
	if _, err := a.Vault().AppendAudit(ctx, audit.Event{Time: future, Action: audit.Check, Outcome: audit.OK}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	a, err := app.Open(ctx, dir, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if len(a.Warnings()) != 1 || !strings.Contains(a.Warnings()[0], "clock") {
		t.Fatalf("warnings %v", a.Warnings())
	}
	log, _ := a.AuditLog(ctx)
	last := log.Events[len(log.Events)-2]
	if last.Action != audit.Clock || last.Outcome != audit.Failed {
		t.Errorf("clock event not audited: %+v", last)
	}
}

func policyObjects(t *testing.T, dir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "objects", "policy", "*", "*"))
	return files
}

// TestPolicyTamperIsRefused replays an older policy, plants one signed by
// another key and corrupts one: each time the vault refuses to open and
// the attempt is in the audit trail.
func TestPolicyTamperIsRefused(t *testing.T) {
	ctx := context.Background()
	a, dir := newApp(t)
	doc := a.Policy()
	doc.Retention = map[policy.Class]policy.Keep{policy.Internal: {Days: 30, Last: 3}}
	if _, err := a.SetPolicy(ctx, doc); err != nil {
		t.Fatal(err)
	}
	a.Close()
	base := policyObjects(t, dir)
	if len(base) != 2 {
		t.Fatalf("%d policy objects", len(base))
	}
	other, otherDir := newApp(t)
	other.Close()
	foreign := policyObjects(t, otherDir)[0]

	cases := map[string]func(t *testing.T, dir string){
		"replay older": func(t *testing.T, dir string) {
			// Remove the newest policy (serial 2): the validly signed
			// serial 1 is what remains.
			removeSerial(t, ctx, dir, 2)
		},
		"foreign signer": func(t *testing.T, dir string) {
			b, _ := os.ReadFile(foreign)
			dst := filepath.Join(dir, "objects", "policy", filepath.Base(filepath.Dir(foreign)), filepath.Base(foreign))
			_ = os.MkdirAll(filepath.Dir(dst), 0o700)
			if err := os.WriteFile(dst, b, 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"corrupted": func(t *testing.T, dir string) {
			p := policyObjects(t, dir)[0]
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 1
			_ = os.WriteFile(p, b, 0o600)
		},
		"all removed": func(t *testing.T, dir string) {
			for _, p := range policyObjects(t, dir) {
				os.Remove(p)
			}
		},
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			cp := filepath.Join(t.TempDir(), "v")
			testenv.CopyDir(t, dir, cp)
			tamper(t, cp)
			if _, err := app.Open(ctx, cp, pass); !errors.Is(err, vault.ErrTampered) {
				t.Fatalf("open after tampering: %v", err)
			}
			v, err := vault.Open(ctx, cp, pass)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			log, _ := v.AuditEvents(ctx)
			last := log.Events[len(log.Events)-1]
			if last.Action != audit.Tamper || last.Outcome != audit.Blocked {
				t.Errorf("tampering not audited; last event %+v", last)
			}
		})
	}
}

// removeSerial deletes the policy object carrying serial.
func removeSerial(t *testing.T, ctx context.Context, dir string, serial uint64) {
	t.Helper()
	for _, p := range policyObjects(t, dir) {
		keep, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(p)
		v, err := vault.Open(ctx, dir, pass)
		if err != nil {
			t.Fatal(err)
		}
		cur, perr := v.Policy(ctx)
		v.Close()
		if perr == nil && cur.Serial < serial {
			return // p was the one with serial
		}
		if err := os.WriteFile(p, keep, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("no policy object with serial %d", serial)
}

func TestPolicySetsTheUnlockLimit(t *testing.T) {
	ctx := context.Background()
	a, dir := newApp(t)
	doc := a.Policy()
	doc.MaxUnlockFailures = 3
	if _, err := a.SetPolicy(ctx, doc); err != nil {
		t.Fatal(err)
	}
	a.Close()
	for range 3 {
		if _, err := app.Open(ctx, dir, "wrong"); !errors.Is(err, vault.ErrWrongPassphrase) {
			t.Fatal(err)
		}
	}
	if _, err := app.Open(ctx, dir, pass); !errors.Is(err, vault.ErrLocked) {
		t.Fatalf("after 3 failures with a limit of 3: %v", err)
	}
}

// TestFolderEditedInIndexIsRefusedAndAudited points a confidential folder's
// index row at another folder's signed object.
func TestFolderEditedInIndexIsRefusedAndAudited(t *testing.T) {
	ctx := context.Background()
	a, dir := newApp(t)
	if _, err := a.CreateFolder(ctx, "Deals", policy.Confidential); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateFolder(ctx, "Lobby", policy.Public); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Import(ctx, "Deals", "terms.txt", strings.NewReader("price 42"), nil); err != nil {
		t.Fatal(err)
	}
	a.Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`UPDATE folders SET object_id = (SELECT object_id FROM folders ORDER BY created_at DESC LIMIT 1)
		WHERE created_at = (SELECT min(created_at) FROM folders)`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	a, err = app.Open(ctx, dir, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	out := filepath.Join(t.TempDir(), "leak.txt")
	if _, err := a.Export(ctx, "Deals", "terms.txt", out, app.ExportOptions{}); err == nil {
		t.Fatal("export from a tampered folder succeeded")
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("a file was written")
	}
	log, _ := a.AuditLog(ctx)
	last := log.Events[len(log.Events)-1]
	if last.Action != audit.Tamper || last.Outcome != audit.Blocked {
		t.Errorf("not audited: %+v", last)
	}
}

func TestPreviewTraceCodes(t *testing.T) {
	ctx := context.Background()
	a, _ := newApp(t)
	for _, c := range []policy.Class{policy.Internal, policy.Confidential} {
		if _, err := a.CreateFolder(ctx, string(c), c); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Import(ctx, string(c), "notes.md", strings.NewReader(strings.Repeat("# Q3 notes\nrates desk up 2%\n", 80)), nil); err != nil {
			t.Fatal(err)
		}
	}
	p, err := a.Preview(ctx, "confidential", "notes.md", app.PreviewOptions{Page: 2, DPI: 72})
	if err != nil {
		t.Fatalf("in-app preview of a confidential document: %v", err)
	}
	// 80 headings with a line each: Markdown set as formatted text, over
	// several A4 pages.
	if p.Pages < 3 || p.Page != 2 || len(p.TraceCode) != 11 || p.Image.Bounds().Dx() != 595 {
		t.Fatalf("page %d of %d, trace %q, %v", p.Page, p.Pages, p.TraceCode, p.Image.Bounds())
	}
	q, err := a.Preview(ctx, "confidential", "notes.md", app.PreviewOptions{Page: 2, DPI: 72})
	if err != nil || q.TraceCode == p.TraceCode {
		t.Fatalf("second view has trace code %q (first %q), %v", q.TraceCode, p.TraceCode, err)
	}
	res, err := a.Trace(ctx, strings.ToLower(strings.ReplaceAll(p.TraceCode, "-", "")))
	if err != nil {
		t.Fatal(err)
	}
	e := res.Events[0]
	if len(res.Events) != 1 || e.User != "rita@example.com" || e.FileName != "notes.md" || e.FolderName != "confidential" || e.Page != 2 || e.Version != 1 {
		t.Errorf("trace resolved to %+v", res.Events)
	}
	if _, err := a.Preview(ctx, "confidential", "notes.md", app.PreviewOptions{ToFile: true}); !errors.Is(err, app.ErrBlocked) {
		t.Errorf("preview to a file of a confidential document: %v", err)
	}
	if _, err := a.Preview(ctx, "internal", "notes.md", app.PreviewOptions{ToFile: true}); err != nil {
		t.Errorf("preview to a file of an internal document: %v", err)
	}
	if _, err := a.Import(ctx, "internal", "model.bin", strings.NewReader("\x00\x01binary"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Preview(ctx, "internal", "model.bin", app.PreviewOptions{}); err == nil || !strings.Contains(err.Error(), "no preview for this type") {
		t.Errorf("unsupported type: %v", err)
	}
	if _, err := a.Trace(ctx, "ZZZZZ-ZZZZZ"); err == nil {
		t.Error("unknown trace code resolved")
	}
}

// folderWithPDFs creates folder of class in a and imports the named PDFs
// of the shared corpus into it.
func folderWithPDFs(t *testing.T, a *app.App, folder string, class policy.Class, pdfs ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := a.CreateFolder(ctx, folder, class); err != nil {
		t.Fatal(err)
	}
	for _, n := range pdfs {
		if _, err := a.ImportFile(ctx, folder, filepath.Join(testenv.Corpus(t), "pdf", n), nil); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPDFPreview previews a real PDF from a confidential folder in the app:
// the page comes back rendered, watermarked, traced; to a file it is refused.
func TestPDFPreview(t *testing.T) {
	ctx := context.Background()
	a, _ := newApp(t)
	folderWithPDFs(t, a, "Deals", policy.Confidential, "asy-latex.pdf")
	p, err := a.Preview(ctx, "Deals", "asy-latex.pdf", app.PreviewOptions{Page: 3, DPI: 72})
	if err != nil {
		t.Fatal(err)
	}
	// Letter or A4 at 72 dpi, the page's own size.
	if b := p.Image.Bounds(); p.Pages != 11 || b.Dx() < 590 || b.Dx() > 615 || b.Dy() < 790 || b.Dy() > 845 {
		t.Fatalf("page %d of %d, %v", p.Page, p.Pages, p.Image.Bounds())
	}
	red := 0
	for i := 0; i < len(p.Image.Pix); i += 4 {
		if r, g := p.Image.Pix[i], p.Image.Pix[i+1]; r > g+40 {
			red++
		}
	}
	if red < 2000 {
		t.Errorf("only %d watermark-coloured pixels on the page", red)
	}
	if _, err := a.Trace(ctx, p.TraceCode); err != nil {
		t.Error(err)
	}
	if _, err := a.Preview(ctx, "Deals", "asy-latex.pdf", app.PreviewOptions{ToFile: true}); !errors.Is(err, app.ErrBlocked) {
		t.Errorf("preview to file: %v", err)
	}
}

// A guessable passphrase is refused before anything is written.
func TestInitRefusesWeakPassphrase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vault")
	for _, weak := range []string{"Summer2026!", "rita@example.com", "RitaRisk1"} {
		a, err := app.Init(context.Background(), dir, vault.Identity{Email: "rita@example.com", Name: "Rita Risk"}, weak)
		if !errors.Is(err, passphrase.ErrWeak) {
			if a != nil {
				a.Close()
			}
			t.Fatalf("Init with %q: err = %v, want ErrWeak", weak, err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Init with %q left %s behind (stat: %v)", weak, dir, err)
		}
	}
}

// TestKeptDocument pages through a PDF the way the window does (Keep):
// every view is still gated, stamped and traced; the cache holds clean
// pages (a page viewed twice carries one watermark, not two); a new
// version replaces the kept document.
func TestKeptDocument(t *testing.T) {
	ctx := context.Background()
	a, _ := newApp(t)
	folderWithPDFs(t, a, "Deals", policy.Confidential, "asy-latex.pdf")
	keep := func(page int) *app.Page {
		t.Helper()
		p, err := a.Preview(ctx, "Deals", "asy-latex.pdf", app.PreviewOptions{Page: page, DPI: 72, Keep: true})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// ink sums how much redder than green each pixel is: the red
	// watermark's share of the page (text is grey). A second watermark
	// over the first nearly doubles it; trace codes and times, different
	// in every view, move it by a few per cent.
	ink := func(p *app.Page) (n int) {
		for i := 0; i+1 < len(p.Image.Pix); i += 4 {
			n += max(int(p.Image.Pix[i])-int(p.Image.Pix[i+1]), 0)
		}
		return n
	}
	once, err := a.Preview(ctx, "Deals", "asy-latex.pdf", app.PreviewOptions{Page: 2, DPI: 72})
	if err != nil {
		t.Fatal(err)
	}
	first, _, again := keep(2), keep(3), keep(2)
	if first.TraceCode == again.TraceCode || first.Pages != 11 {
		t.Fatalf("kept views: trace codes %s and %s, %d pages", first.TraceCode, again.TraceCode, first.Pages)
	}
	base, r1, r2 := ink(once), ink(first), ink(again)
	if r1 < base*85/100 || r1 > base*115/100 || r2 < base*85/100 || r2 > base*115/100 {
		t.Errorf("ink on the page: unkept %d, kept %d, kept again %d: the cache was stamped", base, r1, r2)
	}
	if _, err := a.Preview(ctx, "Deals", "asy-latex.pdf", app.PreviewOptions{Page: 12, DPI: 72, Keep: true}); !errors.Is(err, preview.ErrPage) {
		t.Errorf("page 12 of 11: %v", err)
	}
	// A new version (another PDF under the same name) is what the next view shows.
	other, err := os.Open(filepath.Join(testenv.Corpus(t), "pdf", "reportlab-userguide.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := a.Import(ctx, "Deals", "asy-latex.pdf", other, nil); err != nil {
		t.Fatal(err)
	}
	if p := keep(1); p.Pages == 11 || p.Version.Seq != 2 {
		t.Errorf("after a new version the viewer shows %d pages of version %d", p.Pages, p.Version.Seq)
	}
	log, err := a.AuditLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	views := 0
	for _, e := range log.Events {
		if e.Action == audit.Preview && e.Outcome == audit.OK {
			views++
		}
	}
	if views != 5 {
		t.Errorf("%d views in the audit trail, want 5", views)
	}
}

// CopyText hands out text only where policy allows copying, and records
// the answer either way.
func TestCopyText(t *testing.T) {
	ctx := context.Background()
	a, _ := newApp(t)
	const text = "desk,pnl\nrates,2.0\n"
	for _, c := range []policy.Class{policy.Internal, policy.Restricted} {
		if _, err := a.CreateFolder(ctx, string(c), c); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Import(ctx, string(c), "pnl.csv", strings.NewReader(text), nil); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := a.CopyText(ctx, "internal", "pnl.csv"); err != nil || got != text {
		t.Errorf("copy from internal: %q, %v", got, err)
	}
	if got, err := a.CopyText(ctx, "restricted", "pnl.csv"); !errors.Is(err, app.ErrBlocked) || got != "" {
		t.Errorf("copy from restricted: %q, %v", got, err)
	}
	if _, err := a.ImportFile(ctx, "internal", filepath.Join(testenv.Corpus(t), "img", "debian-logo-256.png"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CopyText(ctx, "internal", "debian-logo-256.png"); err == nil || !strings.Contains(err.Error(), "only text") {
		t.Errorf("copy of an image: %v", err)
	}
	log, err := a.AuditLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ok, blocked int
	for _, e := range log.Events {
		if e.Action == audit.Action(policy.Copy) && e.FileName == "pnl.csv" {
			switch e.Outcome {
			case audit.OK:
				ok++
			case audit.Blocked:
				blocked++
			}
		}
	}
	if ok != 1 || blocked != 1 {
		t.Errorf("audit: %d copies, %d refusals; want 1 and 1", ok, blocked)
	}
}

// OpenCopy writes a stamped, recorded copy for the default application
// where policy allows, nothing where it does not, and Close deletes it.
func TestOpenCopy(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	ctx := context.Background()
	a, _ := newApp(t)
	for _, c := range []policy.Class{policy.Internal, policy.Confidential} {
		folderWithPDFs(t, a, string(c), c, "asy-latex.pdf")
	}
	if _, err := a.Import(ctx, string(policy.Internal), "evil\u202efdp.exe", strings.NewReader("x"), nil); err != nil {
		t.Fatal(err)
	}
	c, err := a.OpenCopy(ctx, policy.Print, "internal", "asy-latex.pdf", launched)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(c.Path)
	if err != nil || !bytes.HasPrefix(data, []byte("%PDF-")) || !c.Stamped || filepath.Base(c.Path) != "asy-latex.pdf" {
		t.Fatalf("copy %s: %d bytes, stamped %v, %v", c.Path, len(data), c.Stamped, err)
	}
	if fi, err := os.Stat(filepath.Dir(filepath.Dir(c.Path))); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the copies folder: %v, %v; want 0700", fi.Mode(), err)
	}
	odd, err := a.OpenCopy(ctx, policy.OpenExternal, "internal", "evil\u202efdp.exe", launched)
	if err != nil || filepath.Base(odd.Path) != "evil_fdp.exe" {
		t.Errorf("copy of a name with an override: %v, %v", odd, err)
	}
	if _, err := a.OpenCopy(ctx, policy.Print, "confidential", "asy-latex.pdf", launched); !errors.Is(err, app.ErrBlocked) {
		t.Errorf("print from confidential: %v", err)
	}
	if _, err := a.OpenCopy(ctx, policy.Export, "internal", "asy-latex.pdf", launched); err == nil {
		t.Error("OpenCopy accepted the export action")
	}
	log, err := a.AuditLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, e := range log.Events {
		if e.Action == audit.Action(policy.Print) || e.Action == audit.Action(policy.OpenExternal) {
			got[string(e.Action)+" "+string(e.Outcome)+" "+e.FolderName]++
		}
	}
	want := map[string]int{"print ok internal": 1, "open-external ok internal": 1, "print blocked confidential": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audit: %v, want %v", got, want)
	}
	a.Close()
	if _, err := os.Stat(c.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the copy outlived Close: %v", err)
	}
}

// TestCloseDuringPreviews closes the App while several viewers open and
// page PDFs: Close must wait for opens in flight (the PDF pool is not safe
// to close under them), return, and leave every later call failing cleanly.
func TestCloseDuringPreviews(t *testing.T) {
	ctx := context.Background()
	a, _ := newApp(t)
	names := []string{"asy-latex.pdf", "reportlab-userguide.pdf"}
	folderWithPDFs(t, a, "Deals", policy.Confidential, names...)
	if _, err := a.Preview(ctx, "Deals", names[0], app.PreviewOptions{DPI: 36}); err != nil {
		t.Fatal(err) // starts the renderer
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				_, err := a.Preview(ctx, "Deals", names[(g+i)%2], app.PreviewOptions{Page: 1 + i%3, DPI: 36 + float64(g), Keep: true})
				if err != nil {
					return // the App closed under it
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	if err := a.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	wg.Wait()
	if _, err := a.Preview(ctx, "Deals", names[0], app.PreviewOptions{Keep: true}); err == nil {
		t.Error("a preview after Close succeeded")
	}
}

// TestPolicyRollbackCannotHideInTheIndex puts back the older policy and
// also removes, in the index, the trace of the newer one: the audit row
// that applied it, its sealed bytes, or the whole index. The highest serial
// applied is in the signed checkpoint, so each is refused.
func TestPolicyRollbackCannotHideInTheIndex(t *testing.T) {
	ctx := context.Background()
	a, dir := newApp(t)
	doc := a.Policy()
	doc.Retention = map[policy.Class]policy.Keep{policy.Internal: {Days: 30, Last: 3}}
	if _, err := a.SetPolicy(ctx, doc); err != nil {
		t.Fatal(err)
	}
	a.Close()
	index := func(dir, q string) {
		db, err := sql.Open("sqlite", filepath.Join(dir, "index.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	newest := `(SELECT max(seq) FROM audit WHERE action = 'policy')`
	cases := map[string]func(dir string){
		"audit row of the newer serial deleted": func(dir string) {
			index(dir, "DELETE FROM audit WHERE seq >= "+newest)
		},
		"its sealed bytes zeroed": func(dir string) {
			index(dir, "UPDATE audit SET sealed = zeroblob(length(sealed)) WHERE seq = "+newest)
		},
		"index removed": func(dir string) {
			for _, f := range []string{"index.db", "index.db-wal", "index.db-shm"} {
				os.Remove(filepath.Join(dir, f))
			}
		},
	}
	for name, hide := range cases {
		t.Run(name, func(t *testing.T) {
			cp := filepath.Join(t.TempDir(), "v")
			testenv.CopyDir(t, dir, cp)
			removeSerial(t, ctx, cp, 2)
			hide(cp)
			_, err := app.Open(ctx, cp, pass)
			if !errors.Is(err, vault.ErrTampered) {
				t.Fatalf("open after the rollback: %v", err)
			}
			if errors.Is(err, vault.ErrNeedsRebuild) {
				// Rebuilding the index does not bring the old policy
				// back into force either.
				if _, _, err := app.Rebuild(ctx, cp, pass); !errors.Is(err, vault.ErrTampered) || !strings.Contains(err.Error(), "older policy") {
					t.Fatalf("rebuild after the rollback: %v", err)
				}
			} else if !strings.Contains(err.Error(), "older policy") {
				t.Fatalf("the refusal does not say why: %v", err)
			}
		})
	}
}

// TestImportOfAGrowingFile: a file something keeps appending to faster
// than it is read (here 1 GiB of sparse zeros every 2 ms once the import
// has begun) is imported as it was when opened; it used to be read until
// the disk or the user gave up.
func TestImportOfAGrowingFile(t *testing.T) {
	a, _ := newApp(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := a.CreateFolder(ctx, "Desk", policy.Internal); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "capture.bin")
	data := make([]byte, 96<<20) // read in blocks: growth starts at the first
	rand.NewChaCha8([32]byte{7}).Read(data)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	grow := make(chan struct{})
	stop := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-grow:
		case <-stop:
			return
		}
		size := int64(len(data))
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			size += 1 << 30
			if err := os.Truncate(path, size); err != nil {
				t.Error(err)
				return
			}
		}
	})
	ver, err := a.ImportFile(ctx, "Desk", path, func(done, total int64) { once.Do(func() { close(grow) }) })
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if ver.Size != int64(len(data)) {
		t.Errorf("imported %d bytes, want the %d the file had when opened", ver.Size, len(data))
	}
}
