// Package cli is the `coffer` command line: it parses arguments (with
// spf13/cobra, for subcommands and flags anywhere on the line), asks for the
// passphrase, calls app, and turns results into output and exit codes. All
// decisions are app's; this package only speaks to the terminal.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/vault"
)

// Exit codes, part of the CLI contract.
const (
	ExitOK        = 0
	ExitError     = 1
	ExitUsage     = 2
	ExitBlocked   = 3
	ExitWrongPass = 4
)

// Version is the program version, set by main.
var Version = "dev"

// Env is what a command sees of the outside world.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// GUI opens the desktop window on a vault; nil where the binary has
	// none (tests of the command line).
	GUI func(ctx context.Context, vaultDir, inboxDir string) error
	// DisplayVars are the environment variables that name the display the
	// desktop window opens on (DISPLAY for X11); one of them must be set
	// before GUI is called. None where the system always has one (Windows,
	// macOS).
	DisplayVars []string
}

// usageError marks a mistake in how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// Main runs the coffer command line and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	root := newRoot(env)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	cmd, err := root.ExecuteContextC(ctx)
	return finish(env, cmd, err)
}

// finish prints err, if any, prefixed by the program's name, with where to
// read about the command for a usage error, and returns the exit code.
func finish(env Env, cmd *cobra.Command, err error) int {
	if err == nil {
		return ExitOK
	}
	if rest, ok := strings.CutPrefix(err.Error(), "required flag(s) "); ok {
		// cobra reports missing required flags as a plain error:
		// `required flag(s) "vault", "user" not set`.
		var flags []string
		for _, f := range strings.Split(strings.TrimSuffix(rest, " not set"), ", ") {
			flags = append(flags, "--"+strings.Trim(f, `"`))
		}
		err = usagef("missing %s", strings.Join(flags, " and "))
	}
	msg, prog := message(err), "coffer"
	if cmd != nil {
		prog = cmd.Root().Name()
		if errors.As(err, new(usageError)) {
			msg += fmt.Sprintf(" (see '%s --help')", cmd.CommandPath())
		}
	}
	// A path or name in the message may hold control characters (an
	// escape sequence in a file name): they reach the terminal escaped.
	// A wipe's notice is lines of Coffer's own making (its reason and
	// organisation come from the verified log, where no value holds a
	// control character): each line escaped, the breaks kept.
	var wiped *vault.WipedError
	if errors.As(err, &wiped) {
		lines := strings.Split(strings.TrimSpace(wiped.Notice), "\n")
		for i := range lines {
			lines[i] = display.Text(lines[i])
		}
		msg = strings.Join(lines, "\n"+strings.Repeat(" ", len(prog)+2))
		fmt.Fprintf(env.Stderr, "%s: %s\n", prog, msg)
		return exitCode(err)
	}
	fmt.Fprintf(env.Stderr, "%s: %s\n", prog, display.Text(msg))
	return exitCode(err)
}

func exitCode(err error) int {
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return ExitUsage
	case errors.Is(err, app.ErrBlocked), errors.Is(err, client.ErrNotAllowed), errors.Is(err, app.ErrGrantEnded), errors.Is(err, vault.ErrNeedsApproval):
		return ExitBlocked
	case errors.Is(err, vault.ErrWrongPassphrase), errors.Is(err, vault.ErrLocked), errors.Is(err, vault.ErrWiped), errors.Is(err, app.ErrLeaseExpired):
		return ExitWrongPass
	}
	return ExitError
}

// message turns an error into what the user reads, with a next step where
// there is one.
func message(err error) string {
	switch {
	case errors.Is(err, vault.ErrWrongPassphrase):
		return err.Error() + "; try again (the passphrase is case-sensitive)"
	case errors.Is(err, vault.ErrLocked):
		return err.Error() + "; wait, or restore the vault folder from a backup if you have lost the passphrase"
	case errors.Is(err, vault.ErrNeedsRebuild):
		return err.Error() + "; your documents are still in the signed objects: 'coffer check --rebuild' makes a new index from them (the old one is kept)"
	case errors.Is(err, vault.ErrTampered):
		return err.Error() + "; the vault was modified outside Coffer — run 'coffer check' and restore the vault folder from a backup"
	case errors.Is(err, vault.ErrDamaged):
		return err.Error() + "; run 'coffer check' to see what is affected"
	case errors.Is(err, vault.ErrDiskFull):
		return err.Error() + "; free some space on it and try again (nothing half-written is kept; ls, versions, audit and check work meanwhile)"
	case errors.Is(err, vault.ErrReadOnly):
		return err.Error() + "; to change it, or to preview or export from it, copy the vault to storage that can be written (ls, versions, audit and check work as it is)"
	case errors.Is(err, vault.ErrBusy):
		return err.Error() + "; try again when it is done"
	case errors.Is(err, vault.ErrExists) && strings.HasPrefix(err.Error(), "folder "):
		return err.Error() + "; choose another name"
	case errors.Is(err, vault.ErrNotFound):
		// The message names what is missing; the sentinel's words add nothing.
		msg := strings.TrimSuffix(err.Error(), ": "+vault.ErrNotFound.Error())
		switch {
		case strings.HasPrefix(msg, "no file "):
			return msg + "; 'coffer ls --folder NAME' lists a folder's files"
		case strings.HasPrefix(msg, "no version "):
			return msg + "; 'coffer versions' lists them"
		}
		return msg
	}
	return err.Error()
}

func newRoot(env Env) *cobra.Command {
	root := &cobra.Command{
		Use:           "coffer",
		Short:         "Coffer keeps confidential documents in an encrypted vault",
		Version:       Version,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		cmdInit(env),
		cmdFolder(env),
		cmdImport(env),
		cmdLs(env),
		cmdVersions(env),
		cmdRestore(env),
		cmdExport(env),
		cmdCheck(env),
		cmdAudit(env),
		cmdRetention(env),
		cmdPolicy(env),
		cmdPreview(env),
		cmdTrace(env),
		cmdEnroll(env),
		cmdDevice(env),
		cmdSync(env),
		cmdShare(env),
		cmdUnshare(env),
		cmdMembers(env),
		cmdUnlock(env),
		cmdLock(env),
		cmdGUI(env),
	)
	// Unknown subcommands and wrong argument counts are usage errors.
	root.Args = func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usagef("unknown command %q", args[0])
		}
		return nil
	}
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		dir, err := defaultVault()
		if err != nil {
			return err
		}
		return runGUI(cmd, env, dir, "")
	}
	return root
}

func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("want %s, got %d arguments", what, len(args))
		}
		return nil
	}
}

// vaultFlag adds the --vault flag every command but the bare one has.
func vaultFlag(cmd *cobra.Command, dir *string) {
	cmd.Flags().StringVar(dir, "vault", "", "vault folder (required)")
	_ = cmd.MarkFlagRequired("vault")
}

// passphrase returns COFFER_PASSPHRASE or asks on the terminal. confirm asks
// twice, for a new vault.
func passphrase(env Env, confirm bool) (string, error) {
	if p := env.Getenv("COFFER_PASSPHRASE"); p != "" {
		return p, nil
	}
	f, ok := env.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("no passphrase: set COFFER_PASSPHRASE or run in a terminal to be asked")
	}
	fmt.Fprint(env.Stderr, "Passphrase: ")
	p, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(env.Stderr)
	if err != nil {
		return "", err
	}
	if confirm {
		fmt.Fprint(env.Stderr, "Passphrase again: ")
		q, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", err
		}
		if string(p) != string(q) {
			return "", errors.New("the passphrases do not match; nothing was created")
		}
	}
	if len(p) == 0 {
		return "", errors.New("the passphrase is empty")
	}
	return string(p), nil
}

// unlock opens the vault in dir with the passphrase.
func unlock(ctx context.Context, env Env, dir string) (*app.App, error) {
	if err := requireVault(dir); err != nil {
		return nil, err
	}
	// A wipe the admin ordered, or the lease's deadline, comes before any
	// passphrase is asked.
	if err := app.BeforeUnlock(ctx, dir, 3*time.Second); err != nil {
		return nil, err
	}
	// An unlocked session ('coffer unlock') comes before the passphrase.
	if vault.HasSession(dir) {
		a, err := app.OpenSession(ctx, dir)
		if err == nil {
			warn(env, a)
			return a, nil
		}
		if !errors.Is(err, vault.ErrNoSession) {
			return nil, err
		}
	}
	return unlockWithPassphrase(ctx, env, dir)
}

// requireVault says what to do when dir holds no vault.
func requireVault(dir string) error {
	if vault.Exists(dir) {
		return nil
	}
	// A vault this user may not read is not a missing one.
	if _, err := os.Stat(filepath.Join(dir, "coffer.json")); errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%s cannot be read by this user (%w): run coffer as the user who owns the vault", dir, err)
	}
	return fmt.Errorf("%s is not a Coffer vault (create one with 'coffer init --vault %s --user EMAIL')", dir, dir)
}

// unlockWithPassphrase opens the vault in dir with the passphrase, whatever
// session it has.
func unlockWithPassphrase(ctx context.Context, env Env, dir string) (*app.App, error) {
	p, err := passphrase(env, false)
	if err != nil {
		return nil, err
	}
	a, err := app.Open(ctx, dir, p)
	if err != nil {
		return nil, err
	}
	warn(env, a)
	return a, nil
}

// warn prints what opening the vault repaired or noticed.
func warn(env Env, a *app.App) {
	for _, w := range a.Warnings() {
		fmt.Fprintf(env.Stderr, "coffer: warning: %s\n", display.Text(w))
	}
}

// checkEmail refuses flag's value unless it is an e-mail address, before
// anything is asked or made: a usage error.
func checkEmail(flag, s string) error {
	if err := app.CheckEmail(s); err != nil {
		return usagef("--%s: %v", flag, err)
	}
	return nil
}

// checkOut refuses an --out that cannot take a new file, before the
// passphrase is asked; suggest names a file for a folder given instead.
func checkOut(out, suggest string, force bool) error {
	if out == "" {
		return usagef("--out is empty: give the path of the file to write")
	}
	return outError(app.CheckDestination(out, force), suggest)
}

// outError adds to an error about --out what to do about it.
func outError(err error, suggest string) error {
	var de *app.DestinationError
	if !errors.As(err, &de) {
		return err
	}
	switch {
	case errors.Is(err, app.ErrNoFolder):
		return fmt.Errorf("%w: create it first, or choose another --out", err)
	case errors.Is(err, app.ErrIsFolder):
		return fmt.Errorf("%w: give --out a file name in it, such as %s", err, filepath.Join(de.Path, suggest))
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%w: choose another --out, or add --force to replace it", err)
	}
	return err
}

// splitPath splits FOLDER/FILE at the first slash; folder names cannot
// contain one, file names can.
func splitPath(arg string) (folder, file string, err error) {
	folder, file, ok := strings.Cut(arg, "/")
	if !ok || folder == "" || file == "" {
		return "", "", usagef("%q: want FOLDER/FILE", arg)
	}
	return folder, file, nil
}

// defaultVault is where `coffer` with no arguments looks for the vault.
func defaultVault() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no default vault location (%v): use 'coffer gui --vault DIR'", err)
	}
	return filepath.Join(dir, "coffer", "vault"), nil
}

func cmdGUI(env Env) *cobra.Command {
	var dir, inbox string
	cmd := &cobra.Command{
		Use:   "gui [--vault DIR]",
		Short: "Open the desktop app (the default when coffer runs without arguments)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				d, err := defaultVault()
				if err != nil {
					return err
				}
				dir = d
			}
			return runGUI(cmd, env, dir, inbox)
		},
	}
	cmd.Flags().StringVar(&dir, "vault", "", "vault folder (default: the user's config folder/coffer/vault)")
	cmd.Flags().StringVar(&inbox, "inbox", "", "watch this folder: files in INBOX/<Folder>/ are imported into that folder, then removed")
	return cmd
}

func runGUI(cmd *cobra.Command, env Env, dir, inbox string) error {
	if env.GUI == nil {
		return usagef("this build of coffer has no desktop app; use a subcommand such as 'coffer ls'")
	}
	// Without a display the toolkit would die in its C part with a stack
	// trace; say so before it starts.
	if len(env.DisplayVars) > 0 && !slices.ContainsFunc(env.DisplayVars, func(v string) bool { return env.Getenv(v) != "" }) {
		unset := env.DisplayVars[0] + " is not set"
		if len(env.DisplayVars) > 1 {
			unset = "neither " + strings.Join(env.DisplayVars, " nor ") + " is set"
		}
		return fmt.Errorf("no display found (%s): the desktop app needs one; run 'coffer --help' for the command line, or 'make tour' in Coffer's source folder for a guided tour", unset)
	}
	return env.GUI(cmd.Context(), dir, inbox)
}

// isTerminal reports whether w is a terminal, for progress bars.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// withVault unlocks the vault in dir for the length of fn.
func withVault(cmd *cobra.Command, env Env, dir string, fn func(a *app.App) error) error {
	a, err := unlock(cmd.Context(), env, dir)
	if err != nil {
		return err
	}
	defer a.Close()
	before, _ := a.AuditFailures()
	err = fn(a)
	if after, why := a.AuditFailures(); after > before {
		// What went on without its record (a listing, a check, a
		// refusal) is not passed over in silence.
		events := fmt.Sprintf("%d events", after-before)
		if after-before == 1 {
			events = "1 event"
		}
		fmt.Fprintf(env.Stderr, "coffer: warning: %s of this command could not be written to the audit trail: %s\n", events, display.Text(fmt.Sprint(why)))
	}
	// A blocked attempt reaches compliance now, not at the next sync.
	if ferr := a.FlushAlerts(cmd.Context(), 5*time.Second); ferr != nil {
		fmt.Fprintf(env.Stderr, "coffer: the blocked attempt is recorded and goes to your organisation at the next sync (%s)\n", display.Text(message(ferr)))
	}
	return err
}
