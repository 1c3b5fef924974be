// Package app holds Coffer's use cases — create and unlock a vault, create
// folders, import, list, restore, export, check — and the one policy gate
// every face (CLI, GUI) goes through. Whatever moves plaintext out of the
// vault asks Gate first, and every decision is written to the audit log.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofrs/flock"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/internal/passphrase"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/preview"
	"github.com/coffer-vault/coffer/preview/office"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/store"
	"github.com/coffer-vault/coffer/watermark"
)

// ErrBlocked is wrapped by every error that reports an action denied by
// policy. The CLI maps it to exit code 3.
var ErrBlocked = errors.New("blocked by policy")

// BlockedError says which action policy denied, where and why.
type BlockedError struct {
	Action policy.Action
	Folder string
	Class  policy.Class
	Reason string
	// Recorded is the reason as the audit trail holds it (no class words).
	Recorded string
}

// auditReason is what the audit trail records of err: for a refusal, the
// policy's reason without the words that name a class; otherwise the error.
func auditReason(err error) string {
	var be *BlockedError
	if errors.As(err, &be) && be.Recorded != "" {
		return be.Recorded
	}
	return err.Error()
}

// blocked makes the error for a decision that denied action on folder.
func blocked(action policy.Action, folder vault.Folder, d policy.Decision) *BlockedError {
	return &BlockedError{Action: action, Folder: folder.Name, Class: folder.Class, Reason: d.Reason, Recorded: d.Recorded()}
}

func (e *BlockedError) Error() string {
	// The policy's reason may end by naming the block again, and name the
	// class: say each once.
	reason := strings.TrimSuffix(e.Reason, fmt.Sprintf(" (%s is blocked)", e.Action))
	switch {
	case e.Folder == "":
		return fmt.Sprintf("%s blocked: %s", e.Action, reason)
	case strings.Contains(reason, string(e.Class)):
		return fmt.Sprintf("%s blocked in folder %q: %s", e.Action, e.Folder, reason)
	}
	return fmt.Sprintf("%s blocked in folder %q (%s): %s", e.Action, e.Folder, e.Class, reason)
}

// Unwrap lets errors.Is(err, ErrBlocked) match.
func (e *BlockedError) Unwrap() error { return ErrBlocked }

// ClockTolerance is how far the clock may go back behind the newest time
// this device has recorded before Coffer reports it.
const ClockTolerance = 5 * time.Minute

// App is an unlocked vault with its use cases.
type App struct {
	v            *vault.Vault
	pdfMu        sync.Mutex
	pdf          preview.PDFOpener // started on the first PDF preview
	pdfClose     func() error
	pdfClosed    bool           // Close ran: start no renderer
	pdfUses      sync.WaitGroup // opens and closes of PDF documents in flight
	view         viewing        // the document a viewer has open
	officeMu     sync.Mutex
	office       *office.Converter // LibreOffice, found on the first Office preview
	officeClosed bool              // Close ran: convert nothing more
	stampMu      sync.Mutex
	stamp        *watermark.Stamper // draws previews' watermarks; made on first use
	textFonts    *preview.TextFonts // sets text previews; made on first use, under stampMu
	copiesMu     sync.Mutex
	copies       string                          // folder of copies made for other applications
	copiesLock   *flock.Flock                    // held while copies exists: see copies.go
	doc          atomic.Pointer[policy.Document] // the policy in force; an organisation's changes as it syncs
	warnings     []string
	clockSuspect bool
	syncMu       sync.Mutex
	sync         *client.Syncer // the server connection of an enrolled vault
	notices      []string       // what syncing did that the user should know, under syncMu
	alerted      atomic.Bool    // a blocked action was recorded: FlushAlerts sends it
	wiped        atomic.Bool    // the vault was wiped while the App ran
	auditMu      sync.Mutex
	unrecorded   int   // events record could not write (AuditFailures)
	auditErr     error // why the last of them could not be written
}

// Init creates a vault in dir and returns it unlocked. A passphrase that
// zxcvbn rates below passphrase.MinScore is refused before anything is
// written, with a hint the user can act on.
func Init(ctx context.Context, dir string, who vault.Identity, pass string) (*App, error) {
	if err := CheckEmail(who.Email); err != nil {
		return nil, err
	}
	if err := CheckName(who.Name); err != nil {
		return nil, fmt.Errorf("%w; nothing was created", err)
	}
	if err := passphrase.Check(pass, who.Name, who.Email); err != nil {
		return nil, fmt.Errorf("%w; nothing was created", err)
	}
	v, err := vault.Create(ctx, dir, who, pass)
	if err != nil {
		return nil, err
	}
	a := &App{v: v}
	if err := a.loadPolicy(ctx); err != nil {
		v.Close()
		return nil, err
	}
	a.record(ctx, audit.Event{Action: audit.Unlock, Outcome: audit.OK, Reason: "vault created"})
	return a, nil
}

// Open unlocks the vault in dir.
func Open(ctx context.Context, dir, passphrase string) (*App, error) {
	return OpenWith(ctx, dir, passphrase, vault.Options{})
}

// OpenWith is Open with the vault's options (tests move the clock).
func OpenWith(ctx context.Context, dir, passphrase string, opt vault.Options) (*App, error) {
	v, err := vault.OpenWith(ctx, dir, passphrase, opt)
	if err != nil {
		return nil, err
	}
	return start(ctx, v, "")
}

// OpenSession opens the vault in dir with the keys of its unlocked session
// (StartSession), as Open does with the passphrase. Without a usable
// session it returns an error wrapping vault.ErrNoSession: ask for the
// passphrase then.
func OpenSession(ctx context.Context, dir string) (*App, error) {
	v, err := vault.OpenSession(ctx, dir, vault.Options{})
	if err != nil {
		return nil, err
	}
	a, err := start(ctx, v, "by the unlocked session")
	if err != nil {
		return nil, err
	}
	// A policy whose idle lock was shortened since the session began
	// shortens it now.
	if err := v.RefreshSession(a.IdleLock()); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// StartSession lets the user's later processes on this machine open the
// vault without the passphrase (OpenSession) until it has been unused for
// idle — at most the policy's idle lock (and MaxSessionLife), which is
// also the default (0) — and for MaxSessionLife at most. It returns when the session ends at the
// latest and the idle time it got. Where the system has no keyring the
// error wraps oskeyring.ErrUnsupported.
func (a *App) StartSession(ctx context.Context, idle time.Duration) (time.Time, time.Duration, error) {
	if limit := min(a.IdleLock(), vault.MaxSessionLife); idle <= 0 || idle > limit {
		idle = limit
	}
	until, err := a.v.StartSession(ctx, idle, vault.MaxSessionLife)
	if err != nil {
		return time.Time{}, 0, err
	}
	a.record(ctx, audit.Event{Action: audit.Unlock, Outcome: audit.OK,
		Reason: fmt.Sprintf("session started: commands open the vault without the passphrase until it is unused for %v, until %s at the latest",
			idle, until.Local().Format("2006-01-02 15:04"))})
	return until, idle, nil
}

// EndSession ends the vault's unlocked session, if it has one; the
// passphrase is needed again.
func EndSession(dir string) error { return vault.EndSession(dir) }

// Rebuild makes a new index for the vault in dir from its signed objects
// (when Open fails with vault.ErrNeedsRebuild) and opens it.
func Rebuild(ctx context.Context, dir, passphrase string) (*App, *vault.RebuildReport, error) {
	v, rep, err := vault.Rebuild(ctx, dir, passphrase)
	if err != nil {
		return nil, nil, err
	}
	a, err := start(ctx, v, "")
	if err != nil {
		return nil, nil, err
	}
	a.warnings = append([]string{fmt.Sprintf("the index was rebuilt from the signed objects (%d folders, %d versions); %s",
		rep.Folders, rep.Versions, rep.Trail)}, a.warnings...)
	return a, rep, nil
}

// start finishes unlocking an open vault: warnings, clock, policy,
// retention. how says in the unlock's audit entry how the vault was
// opened ("" for the passphrase).
func start(ctx context.Context, v *vault.Vault, how string) (*App, error) {
	removeOrphanCopies()
	office.RemoveStale()
	a := &App{v: v}
	a.warnings = append(a.warnings, v.Warnings()...)
	if n := v.FailedUnlocks(); n > 0 {
		a.record(ctx, audit.Event{Action: audit.Unlock, Outcome: audit.Failed, Reason: fmt.Sprintf("%d wrong passphrases before this unlock", n)})
		tried := fmt.Sprintf("%d wrong passphrases were", n)
		if n == 1 {
			tried = "1 wrong passphrase was"
		}
		a.warnings = append(a.warnings, tried+" tried since the last unlock")
	}
	a.checkClock(ctx, time.Now())
	if err := a.loadPolicy(ctx); err != nil {
		v.Close()
		return nil, err
	}
	if err := a.checkLease(ctx); err != nil {
		if !errors.Is(err, vault.ErrWiped) {
			a.closeSync()
			v.Close()
		}
		return nil, err
	}
	if err := a.tryRecord(ctx, audit.Event{Action: audit.Unlock, Outcome: audit.OK, Reason: how}); err != nil {
		// Listing needs no record, so the vault opens; what must be
		// recorded (a preview, an export) is refused while this lasts.
		a.warnings = append(a.warnings, "this unlock could not be written to the audit trail, so previews and exports are refused until it can: "+err.Error())
	} else if ro := v.ReadOnly(); ro != nil {
		a.warnings = append(a.warnings, "the vault opened read-only: "+ro.Error())
	}
	if v.ReadOnly() != nil {
		return a, nil // retention removes nothing from storage that cannot be written
	}
	if a.retentionDue(ctx) && !a.clockSuspect {
		if _, err := a.retention(ctx, false); err != nil {
			a.warnings = append(a.warnings, "retention did not run: "+err.Error())
		}
	}
	return a, nil
}

// checkClock compares the clock with the newest time in the audit trail. A
// clock set back could make an expired grant look valid; it is reported and
// audited (and, once guests exist, time-limited actions are refused).
func (a *App) checkClock(ctx context.Context, now time.Time) {
	last, err := a.v.LastAuditTime(ctx)
	if err != nil || last.IsZero() {
		return
	}
	if behind := last.Sub(now); behind > ClockTolerance {
		msg := fmt.Sprintf("the clock is %s behind the newest audit entry (%s UTC); check the system time",
			behind.Round(time.Second), last.Format("2006-01-02 15:04:05"))
		a.warnings = append(a.warnings, msg)
		a.clockSuspect = true
		a.record(ctx, audit.Event{Action: audit.Clock, Outcome: audit.Failed, Reason: msg})
	}
}

// Warnings returns what the user should know after unlock: wrong
// passphrases tried meanwhile, a clock set back.
func (a *App) Warnings() []string { return a.warnings }

// Lock records why the vault locks (idle time, the user) and closes it.
func (a *App) Lock(ctx context.Context, reason string) error {
	a.record(ctx, audit.Event{Action: audit.Lock, Outcome: audit.OK, Reason: reason})
	return a.Close()
}

// IdleLock returns how long the policy lets an unlocked vault sit unused.
func (a *App) IdleLock() time.Duration {
	return time.Duration(a.policyDoc().IdleLockMinutes) * time.Minute
}

// Close locks the vault, stops the PDF renderer if it ran, and drops the
// Office documents converted to PDF.
func (a *App) Close() error {
	if a.wiped.Load() {
		return nil // closed for the wipe
	}
	a.closeSync()
	a.view.close()
	a.removeCopies()
	a.closeOffice()
	a.pdfMu.Lock()
	a.pdfClosed = true
	a.pdfMu.Unlock()
	a.pdfUses.Wait()
	a.pdfMu.Lock()
	if a.pdfClose != nil {
		_ = a.pdfClose()
		a.pdf, a.pdfClose = nil, nil
	}
	a.pdfMu.Unlock()
	return a.v.Close()
}

// Vault returns the underlying vault.
func (a *App) Vault() *vault.Vault { return a.v }

// record appends an audit event for an action that may go on without it:
// one that shows nothing of a document's content (a listing, a check), or
// one that did not happen (a refusal, a failure). A record that cannot be
// written is counted, and the user told (AuditFailures); actions that must
// not happen without a record use mustRecord.
func (a *App) record(ctx context.Context, e audit.Event) { _ = a.tryRecord(ctx, e) }

func (a *App) tryRecord(ctx context.Context, e audit.Event) error {
	if _, err := a.v.AppendAudit(ctx, e); err != nil {
		a.auditMu.Lock()
		a.unrecorded++
		a.auditErr = err
		a.auditMu.Unlock()
		return err
	}
	a.recorded(e)
	return nil
}

// mustRecord appends the audit event an action needs before it happens (a
// preview, an export, a policy decision): if it cannot be written — the
// disk is full, the vault is on read-only storage — the action is refused
// with the reason, never done unrecorded.
func (a *App) mustRecord(ctx context.Context, e audit.Event) error {
	if _, err := a.v.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("%s not done: it must be recorded in the audit trail first, and that failed: %w", e.Action, err)
	}
	a.recorded(e)
	return nil
}

// AuditFailures says how many events this App could not write to the
// audit trail since it opened (for actions that go on without a record:
// listings, checks, refusals) and why the last one failed.
func (a *App) AuditFailures() (int, error) {
	a.auditMu.Lock()
	defer a.auditMu.Unlock()
	return a.unrecorded, a.auditErr
}

// recorded sends a blocked attempt on its way to compliance: a running
// sync pushes it now; a one-off command flushes it before it ends
// (FlushAlerts).
func (a *App) recorded(e audit.Event) {
	if e.Outcome == audit.Blocked && a.Enrolled() {
		a.alerted.Store(true)
		a.KickSync()
	}
}

// Policy returns the policy document in force.
func (a *App) Policy() policy.Document { return *a.policyDoc() }

func (a *App) policyDoc() *policy.Document { return a.doc.Load() }

// subject is the person using this vault, as policy sees them: in an
// organisation, as its log says.
func (a *App) subject() policy.Subject {
	if a.Enrolled() {
		return a.orgSubject()
	}
	return a.policyDoc().Subject(a.v.Owner().Email, time.Now(), a.clockSuspect)
}

// decide asks policy without recording anything; callers record the
// outcome in their own audit event.
func (a *App) decide(folder vault.Folder, action policy.Action) error {
	d := a.decideFor(folder.ID.String(), folder.Class, action)
	if !d.Allowed {
		return blocked(action, folder, d)
	}
	return nil
}

// May reports whether policy allows action on documents of folder, without
// recording anything: for a window that greys out or offers an action. The
// action itself (Export, Preview) or Gate records the decision.
func (a *App) May(folder vault.Folder, action policy.Action) error {
	return a.decide(folder, action)
}

// Gate asks policy whether action may happen to a document of folder, and
// records the answer. It returns a *BlockedError when denied.
func (a *App) Gate(ctx context.Context, folder vault.Folder, file vault.Version, action policy.Action) error {
	d := a.decideFor(folder.ID.String(), folder.Class, action)
	e := audit.Event{Action: audit.Action(action), Folder: folder.ID.String(), Version: file.Seq}
	if !file.File.IsZero() {
		e.File = file.File.String()
	}
	if !d.Allowed {
		e.Outcome, e.Reason = audit.Blocked, d.Recorded()
		a.record(ctx, e)
		return blocked(action, folder, d)
	}
	e.Outcome = audit.OK
	return a.mustRecord(ctx, e)
}

// CreateFolder creates a folder of a class, if the user's role may.
func (a *App) CreateFolder(ctx context.Context, name string, class policy.Class) (vault.Folder, error) {
	if d := policy.DecideFor(a.subject(), "", class, policy.CreateFolder); !d.Allowed {
		a.record(ctx, audit.Event{Action: audit.FolderCreate, Outcome: audit.Blocked, Reason: d.Recorded()})
		return vault.Folder{}, &BlockedError{Action: policy.CreateFolder, Reason: d.Reason, Recorded: d.Recorded()}
	}
	f, err := a.v.CreateFolder(ctx, name, class)
	if err != nil {
		return f, err
	}
	// The class is in the signed folder object; the trail names the folder.
	a.record(ctx, audit.Event{Action: audit.FolderCreate, Outcome: audit.OK, Folder: f.ID.String()})
	a.KickSync()
	return f, nil
}

// Folders lists the folders.
func (a *App) Folders(ctx context.Context) ([]vault.Folder, error) { return a.v.Folders(ctx) }

// Folder finds a folder by name, with a message that lists what exists when
// it does not.
func (a *App) Folder(ctx context.Context, name string) (vault.Folder, error) {
	f, err := a.v.Folder(ctx, name)
	if errors.Is(err, vault.ErrNotFound) {
		all, _ := a.v.Folders(ctx)
		names := make([]string, len(all))
		for i, f := range all {
			names[i] = f.Name
		}
		hint := "the vault has no folders yet; create one with 'coffer folder create'"
		if len(names) > 0 {
			hint = "folders: " + strings.Join(names, ", ")
		}
		return f, fmt.Errorf("no folder %q in this vault (%s): %w", name, hint, vault.ErrNotFound)
	}
	if errors.Is(err, vault.ErrTampered) || errors.Is(err, vault.ErrDamaged) {
		// A folder whose signed object does not match the index is never
		// used, and the attempt is on record.
		a.record(ctx, audit.Event{Action: audit.Tamper, Outcome: audit.Blocked, Reason: err.Error()})
	}
	return f, err
}

// Files lists the files of a folder.
func (a *App) Files(ctx context.Context, folder string) ([]vault.FileInfo, error) {
	f, err := a.Folder(ctx, folder)
	if err != nil {
		return nil, err
	}
	return a.v.Files(ctx, f)
}

// Versions lists the versions of FOLDER/FILE.
func (a *App) Versions(ctx context.Context, folder, name string) ([]vault.Version, error) {
	f, err := a.Folder(ctx, folder)
	if err != nil {
		return nil, err
	}
	return a.v.Versions(ctx, f, name)
}

// ImportFile imports the file at path into folder under its base name. A
// file imported before from the same path and not touched since is
// recognised by its fingerprint and not read again.
func (a *App) ImportFile(ctx context.Context, folder, path string, progress func(done, total int64)) (vault.Version, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return vault.Version{}, err
	}
	// The type is checked before anything is opened for reading: a named
	// pipe, device or socket gets an immediate error, never a hang.
	fh, st, err := store.OpenRegular(abs)
	if err != nil {
		return vault.Version{}, fmt.Errorf("cannot import: %w", err)
	}
	defer fh.Close()
	f, err := a.Folder(ctx, folder)
	if err != nil {
		return vault.Version{}, err
	}
	name := filepath.Base(abs)
	fp, canSkip := fingerprint(st)
	if canSkip {
		if ver, same := a.v.UnchangedSource(ctx, f, name, abs, fp); same {
			a.record(ctx, audit.Event{Action: audit.Import, Outcome: audit.OK, Folder: f.ID.String(), File: ver.File.String(), Version: ver.Seq, Reason: "unchanged"})
			return ver, nil
		}
	}
	var p func(int64)
	if progress != nil {
		p = func(done int64) { progress(done, st.Size()) }
	}
	// The file as it was when opened: one that something keeps appending
	// to faster than it is read (a capture, a log) would otherwise never
	// end. (A file that says it is empty — /proc, some FUSE mounts — is
	// read to its end.)
	var src io.Reader = fh
	if st.Size() > 0 {
		src = io.LimitReader(fh, st.Size())
	}
	ver, err := a.Import(ctx, folder, name, src, p)
	if err != nil || !canSkip {
		return ver, err
	}
	// Remember the source only if it did not change while being read.
	if after, err := os.Stat(abs); err == nil {
		if fp2, _ := fingerprint(after); fp2 == fp && ver.Size == fp.Size {
			_ = a.v.RememberSource(ctx, f, abs, fp, ver)
		}
	}
	return ver, nil
}

// ImportOpened imports fh, opened by the caller and examined as st (a
// regular file; store.OpenRegularIn), into folder as name: the inbox opens
// its files itself, so that what is imported (and then removed) is the
// file that was put there, never one a link leads to.
func (a *App) ImportOpened(ctx context.Context, folder, name string, fh *os.File, st fs.FileInfo, progress func(done, total int64)) (vault.Version, error) {
	var p func(int64)
	if progress != nil {
		p = func(done int64) { progress(done, st.Size()) }
	}
	var src io.Reader = fh
	if st.Size() > 0 {
		src = io.LimitReader(fh, st.Size()) // as ImportFile
	}
	return a.Import(ctx, folder, name, src, p)
}

// Import stores the content of r as a new version of folder/name.
func (a *App) Import(ctx context.Context, folder, name string, r io.Reader, progress func(int64)) (vault.Version, error) {
	f, err := a.Folder(ctx, folder)
	if err != nil {
		return vault.Version{}, err
	}
	if err := a.decide(f, policy.Import); err != nil {
		a.record(ctx, audit.Event{Action: audit.Import, Outcome: audit.Blocked, Folder: f.ID.String(), Reason: auditReason(err)})
		return vault.Version{}, err
	}
	ver, err := a.v.Put(ctx, f, name, r, vault.PutOptions{Progress: progress})
	e := audit.Event{Action: audit.Import, Outcome: audit.OK, Folder: f.ID.String(), File: ver.File.String(), Version: ver.Seq}
	switch {
	case err != nil:
		e.Outcome, e.Reason, e.File = audit.Failed, err.Error(), ""
	case ver.Unchanged:
		e.Reason = "unchanged"
	case ver.Conflict:
		e.Reason = "made from an older version: kept as a conflict beside the current one"
	}
	a.record(ctx, e)
	if err == nil && !ver.Unchanged {
		a.KickSync()
	}
	return ver, err
}

// Restore makes version seq of folder/name current again, as a new version.
func (a *App) Restore(ctx context.Context, folder, name string, seq int) (vault.Version, error) {
	f, err := a.Folder(ctx, folder)
	if err != nil {
		return vault.Version{}, err
	}
	if err := a.decide(f, policy.Restore); err != nil {
		a.record(ctx, audit.Event{Action: audit.Restore, Outcome: audit.Blocked, Folder: f.ID.String(), Reason: auditReason(err)})
		return vault.Version{}, err
	}
	ver, err := a.v.Restore(ctx, f, name, seq)
	if err != nil {
		return ver, err
	}
	a.record(ctx, audit.Event{Action: audit.Restore, Outcome: audit.OK, Folder: f.ID.String(), File: ver.File.String(),
		Version: ver.Seq, Reason: fmt.Sprintf("restored version %d", seq)})
	a.KickSync()
	return ver, nil
}

// current finds folder/name and its current version, read from the signed
// manifest: what Preview and Export both start from.
func (a *App) current(ctx context.Context, folder, name string) (vault.Folder, vault.Version, error) {
	f, err := a.Folder(ctx, folder)
	if err != nil {
		return f, vault.Version{}, err
	}
	ver, err := a.v.Stat(ctx, f, name)
	return f, ver, err
}

// Check verifies the whole vault.
func (a *App) Check(ctx context.Context, progress vault.CheckProgress) (*vault.Report, error) {
	r, err := a.v.Check(ctx, progress)
	if err != nil {
		return nil, err
	}
	e := audit.Event{Action: audit.Check, Outcome: audit.OK}
	if !r.OK() {
		e.Outcome, e.Reason = audit.Failed, fmt.Sprintf("%d problems", len(r.Problems))
	}
	a.record(ctx, e)
	return r, nil
}

// Repair removes what interrupted or failed writes left in the vault:
// objects no index row names and nothing signed needs, and temp files
// (vault.ReclaimLeftovers). It waits up to wait for other writers to
// finish; the run is audited.
func (a *App) Repair(ctx context.Context, wait time.Duration) (vault.Reclaimed, error) {
	r, err := a.v.ReclaimLeftovers(ctx, wait)
	e := audit.Event{Action: audit.Repair, Outcome: audit.OK,
		Reason: fmt.Sprintf("removed %d objects and %d temp files left by interrupted writes", r.Objects, r.Temp)}
	if err != nil {
		e.Outcome, e.Reason = audit.Failed, err.Error()
	}
	a.record(ctx, e)
	return r, err
}

// AuditLog returns this device's verified audit log with names resolved.
// Breaks in the chain are part of the result; they are also recorded as a
// tamper event, once per distinct set of breaks.
func (a *App) AuditLog(ctx context.Context) (*vault.AuditLog, error) {
	if d := policy.DecideFor(a.subject(), "", policy.Public, policy.ReadAudit); !d.Allowed {
		return nil, &BlockedError{Action: policy.ReadAudit, Reason: d.Reason}
	}
	log, err := a.v.AuditEvents(ctx)
	if err != nil {
		return nil, err
	}
	folders, err := a.v.Folders(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	fileNames := map[string]string{}
	for _, f := range folders {
		names[f.ID.String()] = f.Name
		files, err := a.v.Files(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, fi := range files {
			fileNames[fi.ID.String()] = fi.Name
		}
	}
	for i := range log.Events {
		log.Events[i].FolderName = names[log.Events[i].Folder]
		log.Events[i].FileName = fileNames[log.Events[i].File]
	}
	return log, nil
}
