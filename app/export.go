package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
)

// ExportOptions tune Export.
type ExportOptions struct {
	Version   int  // 0 for the current version
	Overwrite bool // replace an existing file at the destination
}

// Exported says what Export wrote.
type Exported struct {
	Version   vault.Version
	TraceCode string // recorded in the audit trail with the export
	Stamped   bool   // the trace code is stamped on every page and was seen on rendered pages (PDFs of stamped classes)
	Detached  int    // files attached to a stamped PDF, left out of the copy (they would leave unstamped)
}

// StampNote says in words what stamping did, for a message after the
// trace code: "" for a copy that was not stamped, else ", stamped on every
// page" and how many attached files were left out.
func (e *Exported) StampNote() string {
	switch {
	case !e.Stamped:
		return ""
	case e.Detached == 1:
		return ", stamped on every page; 1 attached file left out: it would leave unstamped"
	case e.Detached > 1:
		return fmt.Sprintf(", stamped on every page; %d attached files left out: they would leave unstamped", e.Detached)
	}
	return ", stamped on every page"
}

// Export writes a plaintext copy of folder/name to out — exactly that path,
// never a path derived from the stored name — if policy allows. Classes
// that require it get PDFs stamped with the exporter and a trace code. The
// copy appears atomically and only after the audit record is written: on
// any error, nothing is left at out.
func (a *App) Export(ctx context.Context, folder, name, out string, opts ExportOptions) (*Exported, error) {
	return a.export(ctx, policy.Export, folder, name, out, opts, nil)
}

// export writes the copy for action (Export, OpenExternal, Print): asked
// of policy, recorded under that action. A copy for another application
// is handed to launch, and recorded with how that went (handOver).
func (a *App) export(ctx context.Context, action policy.Action, folder, name, out string, opts ExportOptions, launch func(string) error) (*Exported, error) {
	f, ver, err := a.current(ctx, folder, name)
	if err != nil {
		return nil, err
	}
	e := audit.Event{Action: audit.Action(action), Folder: f.ID.String(), File: ver.File.String(), Version: ver.Seq}
	// The gate comes before any byte is decrypted.
	d := a.decideFor(f.ID.String(), f.Class, action)
	if !d.Allowed {
		e.Outcome, e.Reason = audit.Blocked, d.Recorded()
		a.record(ctx, e)
		return nil, blocked(action, f, d)
	}
	if err := CheckDestination(out, opts.Overwrite); err != nil {
		return nil, err
	}
	if inside(a.v.Dir(), filepath.Dir(out)) {
		// A plaintext copy among the vault's encrypted files, which
		// 'coffer check' does not look for and a sync never removes.
		return nil, &DestinationError{Path: filepath.Dir(out), Err: ErrInVault}
	}
	res := &Exported{TraceCode: audit.NewTraceCode()}
	// What exports killed half-way left there goes first.
	sweepExportLeftovers(filepath.Dir(out))
	tmp, err := os.CreateTemp(filepath.Dir(out), exportTempPrefix+"*")
	if err != nil {
		return nil, &DestinationError{Path: filepath.Dir(out), Err: unwrapPath(err)}
	}
	defer os.Remove(tmp.Name())
	defer holdExport(tmp.Name())() // released before the removal above
	var st *stamped
	// On a device of an organisation, a copy that names its exporter is
	// recorded, and the record held by the server, before its first
	// byte is written (releaseRecord).
	var release func(vault.Version, *stamped) error
	released := false
	if d.Stamp && a.Enrolled() {
		release = func(v vault.Version, st *stamped) error {
			r := e
			r.Outcome, r.Trace, r.Version = audit.OK, res.TraceCode, v.Seq
			if st != nil {
				r.Reason = st.note
			}
			if err := a.releaseRecord(ctx, r); err != nil {
				return err
			}
			released = true
			return nil
		}
	}
	res.Version, st, err = a.writeExport(ctx, tmp, f, ver.Name, opts.Version, action, d.Stamp, res.TraceCode, release)
	note := ""
	if st != nil {
		res.Stamped, res.Detached, note = true, st.detached, st.note
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, ErrNotReleased) {
		return nil, err // recorded by releaseRecord
	}
	if err != nil {
		// A PDF that could not be stamped is a refusal on record.
		e.Outcome, e.Reason = audit.Failed, err.Error()
		if errors.Is(err, ErrBlocked) {
			e.Outcome, e.Reason = audit.Blocked, auditReason(err)
		}
		if res.Version.Seq != 0 {
			e.Version = res.Version.Seq
		}
		a.record(ctx, e)
		return nil, err
	}
	e.Outcome, e.Trace, e.Version, e.Reason = audit.OK, res.TraceCode, res.Version.Seq, note
	if launch != nil {
		return res, a.handOver(ctx, e, tmp.Name(), out, launch, released)
	}
	if !released {
		if err := a.mustRecord(ctx, e); err != nil {
			return nil, err
		}
	}
	if err := place(tmp.Name(), out, opts.Overwrite); err != nil {
		var de *DestinationError
		if !errors.As(err, &de) {
			err = &DestinationError{Path: filepath.Dir(out), Err: unwrapPath(err)}
		}
		e.Outcome, e.Reason = audit.Failed, "the copy was not placed: "+err.Error()
		a.record(ctx, e)
		return nil, err
	}
	return res, nil
}

// ErrInVault is wrapped by the *DestinationError of a copy asked into the
// vault's own folder.
var ErrInVault = errors.New("that folder is inside the vault: a copy goes outside it")

// inside reports whether dir is root or a folder under it: dir or one of
// the folders above it is the same folder as root (os.SameFile, so links,
// bind mounts and another case of the name on a case-insensitive disk
// are seen through).
func inside(root, dir string) bool {
	rs, err := os.Stat(root)
	if err != nil {
		return false
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	for {
		if st, err := os.Stat(dir); err == nil && os.SameFile(st, rs) {
			return true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return false
		}
		dir = parent
	}
}

// CheckDestination says why a copy cannot be written to the file out, as
// a *DestinationError: a folder that does not exist (ErrNoFolder), a folder
// at out (ErrIsFolder), or a file there already unless overwrite
// (fs.ErrExist).
func CheckDestination(out string, overwrite bool) error {
	if out == "" {
		return &DestinationError{Path: out, Err: fs.ErrInvalid}
	}
	dir := filepath.Dir(out)
	if st, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return &DestinationError{Path: dir, Err: ErrNoFolder}
		}
		return &DestinationError{Path: dir, Err: unwrapPath(err)}
	} else if !st.IsDir() {
		return &DestinationError{Path: dir, Err: ErrNoFolder}
	}
	st, err := os.Lstat(out)
	switch {
	case err != nil:
		return nil
	case st.IsDir():
		return &DestinationError{Path: out, Err: ErrIsFolder}
	case !overwrite:
		return existsError(out)
	}
	return nil
}

// handOver places the finished copy at out (in the private copies
// folder), starts launch on it, and then records what happened: ok with
// the trace code, or failed with the reason, since an ok before the
// application started would record a view that never happened (no
// xdg-open, no application for the type). Should the record fail after
// the start, the copy is removed at once, before the application is
// likely to have read it, and the error says so.
//
// A copy recorded already, its record held by the server (released: see
// releaseRecord), is placed and handed over; a launch that fails then adds
// a failed entry.
func (a *App) handOver(ctx context.Context, e audit.Event, tmp, out string, launch func(string) error, released bool) error {
	if err := place(tmp, out, false); err != nil {
		e.Outcome, e.Reason, e.Trace = audit.Failed, "the copy was not placed: "+err.Error(), ""
		a.record(ctx, e)
		return err
	}
	if released {
		if err := launch(out); err != nil {
			_ = os.Remove(out)
			e.Outcome, e.Reason, e.Trace = audit.Failed, "no application opened it: "+err.Error(), ""
			a.record(ctx, e)
			return fmt.Errorf("no application opened the copy: %w", err)
		}
		return nil
	}
	if err := launch(out); err != nil {
		_ = os.Remove(out)
		e.Outcome, e.Reason, e.Trace = audit.Failed, "no application opened it: "+err.Error(), ""
		a.record(ctx, e)
		return fmt.Errorf("no application opened the copy: %w", err)
	}
	if err := a.mustRecord(ctx, e); err != nil {
		_ = os.Remove(out)
		return err
	}
	return nil
}

// releaseWait bounds how long a copy waits for the server to take its
// record (releaseRecord).
const releaseWait = 15 * time.Second

// ErrNotReleased is wrapped when a copy is not let out because its record
// could not reach the organisation's server.
var ErrNotReleased = errors.New("not released before the organisation's server holds its record")

// releaseRecord records e, the copy about to be written, and has the
// organisation's server hold the record before a copy that names its
// exporter (a class that stamps) is written on an enrolled device. The
// record on the device alone is not enough: its user can put back a copy
// of the vault folder made before, and the entry is gone, unseen by any
// check; held by the server, a rollback shows as a gap. So no byte of the
// copy is on disk before the server has its record. The server is reached
// first, so that offline nothing is recorded as done: the attempt is recorded as failed, and the error
// says to connect. Should the record itself then not get through, a failed
// entry with the same trace code follows it.
func (a *App) releaseRecord(ctx context.Context, e audit.Event) error {
	s, err := a.syncer()
	timed := func(f func(context.Context) error) error {
		cctx, cancel := context.WithTimeout(ctx, releaseWait)
		defer cancel()
		return f(cctx)
	}
	push := func() error { return timed(s.PushAudit) }
	if err == nil {
		err = timed(s.Reach)
	}
	if err != nil {
		f := e
		f.Outcome, f.Trace, f.Reason = audit.Failed, "", "not released: the organisation's server could not be reached: "+err.Error()
		a.record(ctx, f)
		return fmt.Errorf("%w (%v)%s", ErrNotReleased, err, releaseAdvice(err))
	}
	if err := a.mustRecord(ctx, e); err != nil {
		return err
	}
	if err := push(); err != nil {
		f := e
		f.Outcome, f.Reason = audit.Failed, "not released: its record did not reach the organisation's server: "+err.Error()
		a.record(ctx, f)
		return fmt.Errorf("%w (%v)%s", ErrNotReleased, err, releaseAdvice(err))
	}
	return nil
}

// releaseAdvice says what to do about a release the server did not take:
// nothing, for a device the organisation revoked (no network helps it);
// else reach the organisation's network.
func releaseAdvice(err error) string {
	if client.IsCode(err, wire.CodeRevoked) || errors.Is(err, client.ErrDeviceRevoked) {
		return ": the organisation revoked this device, so nothing leaves it any more (ask IT if that is a mistake)"
	}
	return ": connect to the organisation's network and try again"
}

// Why a destination is refused; see DestinationError.
var (
	ErrNoFolder = errors.New("no such folder")
	ErrIsFolder = errors.New("a folder, not a file")
)

// DestinationError says why a copy cannot be written at Path.
type DestinationError struct {
	Path string
	Err  error // ErrNoFolder, ErrIsFolder, fs.ErrExist, fs.ErrInvalid or the system's error
}

func (e *DestinationError) Error() string {
	switch e.Err {
	case ErrNoFolder:
		return fmt.Sprintf("folder %s does not exist", e.Path)
	case ErrIsFolder:
		return fmt.Sprintf("%s is a folder", e.Path)
	case fs.ErrExist:
		return fmt.Sprintf("%s already exists", e.Path)
	case fs.ErrInvalid:
		return "no file named to write the copy to"
	}
	return fmt.Sprintf("cannot write in folder %s: %v", e.Path, e.Err)
}

func (e *DestinationError) Unwrap() error { return e.Err }

// unwrapPath drops the path of a *fs.PathError, which names a temp file
// that means nothing to the user.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// existsError says that out is taken, wrapping fs.ErrExist.
func existsError(out string) error {
	return &DestinationError{Path: out, Err: fs.ErrExist}
}

// place moves the finished copy to out. Without overwrite it links, which
// fails if out appeared since the check above, rather than renaming over
// it; filesystems without links (FAT on a USB stick) get a checked rename.
func place(tmp, out string, overwrite bool) error {
	if overwrite {
		return os.Rename(tmp, out)
	}
	err := os.Link(tmp, out)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrExist):
		return existsError(out)
	}
	if _, serr := os.Lstat(out); serr == nil {
		return existsError(out)
	}
	return os.Rename(tmp, out)
}

// OpenedCopy is a plaintext copy made for another application.
type OpenedCopy struct {
	Exported
	Path string // in a private folder that Close removes
}

// OpenCopy writes a copy of folder/name for the user's default application
// to show or print, if policy allows action (OpenExternal or Print) for the
// folder's class, and hands its path to launch, which starts that
// application. It is stamped like an export, and recorded once launch
// returned: failed, with its error, if it did not start. The copy
// lives in a private folder (0700) under the user's cache folder, named
// after the document with unprintable characters replaced; Lock and Close
// delete it, and copies a crash left behind are deleted a day later.
func (a *App) OpenCopy(ctx context.Context, action policy.Action, folder, name string, launch func(path string) error) (*OpenedCopy, error) {
	if action != policy.OpenExternal && action != policy.Print {
		return nil, fmt.Errorf("OpenCopy is for %s or %s, not %s", policy.OpenExternal, policy.Print, action)
	}
	if launch == nil {
		return nil, errors.New("OpenCopy needs a launch function")
	}
	// Refuse, and record the refusal, before making any folder.
	f, ver, err := a.current(ctx, folder, name)
	if err != nil {
		return nil, err
	}
	if err := a.decide(f, action); err != nil {
		if gerr := a.Gate(ctx, f, ver, action); gerr != nil {
			return nil, gerr
		}
		return nil, err
	}
	dir, err := a.copiesDir()
	if err != nil {
		return nil, err
	}
	sub, err := os.MkdirTemp(dir, "")
	if err != nil {
		return nil, err
	}
	out := filepath.Join(sub, display.FileName(name))
	res, err := a.export(ctx, action, folder, name, out, ExportOptions{}, launch)
	if err != nil {
		_ = os.RemoveAll(sub)
		return nil, err
	}
	return &OpenedCopy{Exported: *res, Path: out}, nil
}
