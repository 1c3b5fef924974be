package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
)

func cmdInit(env Env) *cobra.Command {
	var dir, user, name string
	cmd := &cobra.Command{
		Use:   "init --vault DIR --user EMAIL [--name \"Full Name\"]",
		Short: "Create a new vault protected by a passphrase",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Everything that can be checked is, before the passphrase is
			// asked for twice.
			if err := checkEmail("user", user); err != nil {
				return err
			}
			if err := checkNewVault(dir, "init"); err != nil {
				return err
			}
			p, err := passphrase(env, true)
			if err != nil {
				return err
			}
			a, err := app.Init(cmd.Context(), dir, vault.Identity{Email: user, Name: name}, p)
			if errors.Is(err, vault.ErrExists) {
				return checkNewVault(dir, "init") // made meanwhile
			}
			if err != nil {
				return err
			}
			defer a.Close()
			fmt.Fprintf(env.Stdout, "Created vault %s for %s.\nNext: coffer folder create --vault %s NAME --class %s\n",
				dir, user, dir, strings.ReplaceAll(policy.ClassNames(), ", ", "|"))
			return nil
		},
	}
	vaultFlag(cmd, &dir)
	cmd.Flags().StringVar(&user, "user", "", "your e-mail address (required)")
	cmd.Flags().StringVar(&name, "name", "", "your full name, shown in watermarks (at most 64 characters)")
	_ = cmd.MarkFlagRequired("user")
	return cmd
}

// checkNewVault refuses a --vault folder that holds anything: a vault, or
// other files.
func checkNewVault(dir, verb string) error {
	if dir == "" {
		return usagef("--vault is empty: give the folder for the new vault")
	}
	if vault.Exists(dir) {
		return fmt.Errorf("a vault exists in %s already: open it with 'coffer ls --vault %s', or choose another --vault", dir, dir)
	}
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		return fmt.Errorf("%s is not empty: %s makes a new vault, in an empty or new folder", dir, verb)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		if st, serr := os.Stat(dir); serr == nil && !st.IsDir() {
			return fmt.Errorf("%s is a file: %s makes a new vault, in an empty or new folder", dir, verb)
		}
		return fmt.Errorf("cannot read %s: %v", dir, unwrapPath(err))
	}
	return nil
}

// unwrapPath drops the path a *fs.PathError repeats.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func cmdFolder(env Env) *cobra.Command {
	folder := &cobra.Command{Use: "folder", Short: "Manage folders", Args: exactArgs(0, "a subcommand such as 'create'"),
		RunE: func(*cobra.Command, []string) error { return usagef("want a subcommand: create") }}
	var dir, class string
	create := &cobra.Command{
		Use:   "create --vault DIR NAME --class public|internal|confidential|restricted",
		Short: "Create a folder of a class; the class decides what may leave it",
		Args:  exactArgs(1, "one folder NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := policy.ParseClass(class)
			if err != nil {
				return usageError{err}
			}
			return withVault(cmd, env, dir, func(a *app.App) error {
				f, err := a.CreateFolder(cmd.Context(), args[0], c)
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "Created folder %s (%s).\n", display.Name(f.Name), f.Class)
				return nil
			})
		},
	}
	vaultFlag(create, &dir)
	create.Flags().StringVar(&class, "class", "", "public, internal, confidential or restricted (required)")
	_ = create.MarkFlagRequired("class")
	var cdir, cclass string
	change := &cobra.Command{
		Use:   "class --vault DIR NAME --class public|internal|confidential|restricted",
		Short: "Move a folder to another class (widening needs your organisation's admin)",
		Long: `Move a folder to another class: the folder's owner, or a manager among
its members, may always make it more protected. Making it less protected
in an organisation needs the admin: the first run prints a request code
to send them ('cofferd admin approve-class'), and the same command, run
again once they approved, does it. Exit 3 while it waits.`,
		Args: exactArgs(1, "one folder NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := policy.ParseClass(cclass)
			if err != nil {
				return usageError{err}
			}
			return withVault(cmd, env, cdir, func(a *app.App) error {
				req, err := a.ChangeClass(cmd.Context(), args[0], c)
				if req != nil {
					fmt.Fprintf(env.Stdout, "Widening %s from %s to %s needs your organisation's admin. Send them this request; run this command again once they approved it:\n%s\n",
						display.Name(req.Name), req.From, req.Class, req.Code())
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "Folder %s is %s now.\n", display.Name(args[0]), c)
				return nil
			})
		},
	}
	vaultFlag(change, &cdir)
	change.Flags().StringVar(&cclass, "class", "", "the new class (required)")
	_ = change.MarkFlagRequired("class")
	folder.AddCommand(create, change)
	return folder
}

func cmdImport(env Env) *cobra.Command {
	var dir, folder string
	cmd := &cobra.Command{
		Use:   "import --vault DIR --folder NAME FILE...",
		Short: "Import files; a name that exists gets a new version",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("want at least one FILE")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ioBoundProcs()
			return withVault(cmd, env, dir, func(a *app.App) error {
				failed, blocked := 0, 0
				for _, path := range args {
					bar := newBar(env, path)
					ver, err := a.ImportFile(cmd.Context(), folder, path, bar.update)
					bar.finish()
					var pe *fs.PathError
					if errors.As(err, &pe) && filepath.Clean(pe.Path) == filepath.Clean(path) {
						err = pe.Err // the line names the file already
					}
					switch {
					case err != nil && len(args) == 1:
						return fmt.Errorf("import %s: %w", display.Name(path), err)
					case err != nil:
						failed++
						if errors.Is(err, app.ErrBlocked) {
							blocked++ // a refusal by policy exits 3, as for one file
						}
						fmt.Fprintf(env.Stderr, "coffer: import %s: %s\n", display.Name(path), display.Text(message(err)))
					case ver.Unchanged:
						fmt.Fprintf(env.Stdout, "%s: unchanged (version %d)\n", display.Name(ver.Name), ver.Seq)
					default:
						fmt.Fprintf(env.Stdout, "%s: version %d, %s (%s new)\n", display.Name(ver.Name), ver.Seq,
							humanize.IBytes(uint64(ver.Size)), humanize.IBytes(uint64(ver.NewBytes)))
						// Names are compared in Unicode's composed form: two
						// files on disk whose names differ only in how an
						// accent is written are one document, and say so.
						if prev := previousName(cmd.Context(), a, folder, ver); prev != "" && prev != ver.Name {
							fmt.Fprintf(env.Stdout, "  (the name %s is %s written another way: a version of the same document)\n",
								strconv.QuoteToASCII(ver.Name), strconv.QuoteToASCII(prev))
						}
					}
				}
				if blocked > 0 {
					return fmt.Errorf("%d of %d files were not imported: %w", failed, len(args), app.ErrBlocked)
				}
				if failed > 0 {
					return fmt.Errorf("%d of %d files were not imported", failed, len(args))
				}
				return nil
			})
		},
	}
	vaultFlag(cmd, &dir)
	cmd.Flags().StringVar(&folder, "folder", "", "folder to import into (required)")
	_ = cmd.MarkFlagRequired("folder")
	return cmd
}

// ioBoundProcs lets this process run twice as many goroutines at once as
// Go would (one per core, or per CPU the cgroup allows), unless the
// GOMAXPROCS variable says otherwise. An import's workers
// spend about as long blocked in their chunks' direct writes as hashing
// and encrypting them, and Go counts a goroutine blocked in a system call
// against GOMAXPROCS until the scheduler hands its processor over: with
// one per core, 1 GiB kept 1.5 of 2 cores busy; with two per core, 1.9
// (1.47 s against 1.26-1.30 s wall, same CPU time; bench/ BenchmarkImport).
func ioBoundProcs() {
	if os.Getenv("GOMAXPROCS") == "" {
		// From the default each time: a process that runs several
		// imports (tests call Main over and over) must not double it
		// again and again.
		runtime.SetDefaultGOMAXPROCS()
		runtime.GOMAXPROCS(2 * runtime.GOMAXPROCS(0))
	}
}

// bar shows import progress on a terminal, and nothing otherwise.
type bar struct{ pb *progressbar.ProgressBar }

func newBar(env Env, path string) *bar {
	if !isTerminal(env.Stderr) {
		return &bar{}
	}
	return &bar{pb: progressbar.NewOptions64(-1, progressbar.OptionSetWriter(env.Stderr),
		progressbar.OptionSetDescription(path), progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())}
}

func (b *bar) update(done, total int64) {
	if b.pb == nil {
		return
	}
	if b.pb.GetMax64() != total {
		b.pb.ChangeMax64(total)
	}
	_ = b.pb.Set64(done)
}

func (b *bar) finish() {
	if b.pb != nil {
		_ = b.pb.Finish()
	}
}

type folderJSON struct {
	Name    string    `json:"name"`
	Class   string    `json:"class"`
	Files   int       `json:"files"`
	Created time.Time `json:"created"`
}

type fileJSON struct {
	Folder   string    `json:"folder"`
	Name     string    `json:"name"`
	Type     string    `json:"type"`
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
	Author   string    `json:"author"`
	Versions int       `json:"versions"`
}

func cmdLs(env Env) *cobra.Command {
	var dir, folder string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls --vault DIR [--folder NAME] [--json]",
		Short: "List folders, or the files of a folder",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			a, err := unlock(ctx, env, dir)
			if err != nil {
				return err
			}
			defer a.Close()
			if folder == "" {
				return listFolders(cmd, env, a, asJSON)
			}
			files, err := a.Files(ctx, folder)
			if err != nil {
				return err
			}
			out := make([]fileJSON, len(files))
			for i, f := range files {
				out[i] = fileJSON{Folder: folder, Name: f.Name, Type: f.Type, Size: f.Size, Modified: f.Modified, Author: f.Author, Versions: f.Versions}
			}
			sortBy(out, func(f fileJSON) string { return f.Name })
			if asJSON {
				return writeJSON(env.Stdout, out)
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTYPE\tSIZE\tMODIFIED (UTC)\tAUTHOR\tVERSIONS")
			for _, f := range out {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", display.Name(f.Name), f.Type, humanize.IBytes(uint64(f.Size)),
					f.Modified.Format("2006-01-02 15:04"), display.Name(f.Author), f.Versions)
			}
			return tw.Flush()
		},
	}
	vaultFlag(cmd, &dir)
	cmd.Flags().StringVar(&folder, "folder", "", "list the files of this folder")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func listFolders(cmd *cobra.Command, env Env, a *app.App, asJSON bool) error {
	ctx := cmd.Context()
	folders, err := a.Folders(ctx)
	if err != nil {
		return err
	}
	out := make([]folderJSON, len(folders))
	for i, f := range folders {
		files, err := a.Vault().Files(ctx, f)
		if err != nil {
			return err
		}
		out[i] = folderJSON{Name: f.Name, Class: string(f.Class), Files: len(files), Created: f.Created}
	}
	sortBy(out, func(f folderJSON) string { return f.Name })
	if asJSON {
		return writeJSON(env.Stdout, out)
	}
	if len(out) == 0 {
		switch {
		case a.GuestEnded():
			fmt.Fprintln(env.Stdout, "No folders: your guest access has ended (or was never granted); ask the organisation to extend it.")
		case a.MayCreateFolder():
			fmt.Fprintln(env.Stdout, "No folders yet. Create one with: coffer folder create --vault DIR NAME --class CLASS")
		default:
			fmt.Fprintln(env.Stdout, "No folders yet: folders shared with you arrive with 'coffer sync'.")
		}
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FOLDER\tCLASS\tFILES")
	for _, f := range out {
		fmt.Fprintf(tw, "%s\t%s\t%d\n", display.Name(f.Name), f.Class, f.Files)
	}
	return tw.Flush()
}

type versionJSON struct {
	Version      int       `json:"version"`
	Current      bool      `json:"current"`
	Name         string    `json:"name"`
	Size         int64     `json:"size"`
	Type         string    `json:"type"`
	Time         time.Time `json:"time"`
	Author       string    `json:"author"`
	Device       string    `json:"device"`
	RestoredFrom int       `json:"restored_from,omitempty"`
}

func cmdVersions(env Env) *cobra.Command {
	var dir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "versions --vault DIR FOLDER/FILE [--json]",
		Short: "List every version of a file",
		Args:  exactArgs(1, "FOLDER/FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			folder, file, err := splitPath(args[0])
			if err != nil {
				return err
			}
			return withVault(cmd, env, dir, func(a *app.App) error {
				vers, err := a.Versions(cmd.Context(), folder, file)
				if err != nil {
					return err
				}
				out := make([]versionJSON, len(vers))
				for i, v := range vers {
					out[i] = versionJSON{Version: v.Seq, Current: i == len(vers)-1, Name: v.Name, Size: v.Size, Type: v.Type,
						Time: v.Time, Author: v.AuthorUser, Device: v.AuthorDevice.String()[:12], RestoredFrom: v.RestoredFrom}
				}
				if asJSON {
					return writeJSON(env.Stdout, out)
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "VERSION\tTIME (UTC)\tSIZE\tAUTHOR\tNOTE")
				for _, v := range out {
					note := ""
					if v.RestoredFrom > 0 {
						note = fmt.Sprintf("restored from version %d", v.RestoredFrom)
					}
					if v.Current {
						note = strings.TrimPrefix(note+"; current", "; ")
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", v.Version, v.Time.Format("2006-01-02 15:04:05"),
						humanize.IBytes(uint64(v.Size)), display.Name(v.Author), note)
				}
				return tw.Flush()
			})
		},
	}
	vaultFlag(cmd, &dir)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func cmdRestore(env Env) *cobra.Command {
	var dir string
	var seq int
	cmd := &cobra.Command{
		Use:   "restore --vault DIR FOLDER/FILE --version N",
		Short: "Make an older version current again (as a new version; history is kept)",
		Args:  exactArgs(1, "FOLDER/FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			folder, file, err := splitPath(args[0])
			if err != nil {
				return err
			}
			if seq < 1 {
				return usagef("--version must be 1 or more")
			}
			return withVault(cmd, env, dir, func(a *app.App) error {
				ver, err := a.Restore(cmd.Context(), folder, file, seq)
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "%s: version %d restored as version %d\n", display.Name(ver.Name), seq, ver.Seq)
				return nil
			})
		},
	}
	vaultFlag(cmd, &dir)
	cmd.Flags().IntVar(&seq, "version", 0, "version to restore (required)")
	_ = cmd.MarkFlagRequired("version")
	return cmd
}

func cmdExport(env Env) *cobra.Command {
	var dir, out string
	var seq int
	var force bool
	cmd := &cobra.Command{
		Use:   "export --vault DIR FOLDER/FILE --out PATH",
		Short: "Write a plaintext copy where the folder's class allows it (exit 3 when blocked)",
		Args:  exactArgs(1, "FOLDER/FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			folder, file, err := splitPath(args[0])
			if err != nil {
				return err
			}
			if err := checkOut(out, display.FileName(file), force); err != nil {
				return err
			}
			return withVault(cmd, env, dir, func(a *app.App) error {
				res, err := a.Export(cmd.Context(), folder, file, out, app.ExportOptions{Version: seq, Overwrite: force})
				if err != nil {
					return outError(err, display.FileName(file))
				}
				fmt.Fprintf(env.Stdout, "Exported %s version %d to %s (trace code %s%s)\n", display.Name(res.Version.Name), res.Version.Seq, out, res.TraceCode, res.StampNote())
				return nil
			})
		},
	}
	vaultFlag(cmd, &dir)
	cmd.Flags().StringVar(&out, "out", "", "where to write the copy (required)")
	cmd.Flags().IntVar(&seq, "version", 0, "export this version instead of the current one")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing file at --out")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func cmdCheck(env Env) *cobra.Command {
	var dir string
	var asJSON, rebuild, repair bool
	cmd := &cobra.Command{
		Use:   "check --vault DIR [--json] [--rebuild] [--repair]",
		Short: "Verify every key, manifest, signature and chunk (exit 1 on damage)",
		Long: `Verify every key, manifest, signature and chunk (exit 1 on damage).

--rebuild makes a new index from the signed objects first: for a vault
whose index was removed, rolled back or damaged. The old index is kept
beside it, and the audit trail records the rebuild and what it could keep.

--repair then removes what interrupted or failed writes left behind
(objects no version names, temp files), if the check found no damage. It
waits for imports in other Coffer processes to finish.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			open := withVault
			if rebuild {
				open = func(cmd *cobra.Command, env Env, dir string, fn func(a *app.App) error) error {
					a, err := rebuildVault(cmd.Context(), env, dir)
					if err != nil {
						return err
					}
					defer a.Close()
					return fn(a)
				}
			}
			return open(cmd, env, dir, func(a *app.App) error {
				r, err := a.Check(cmd.Context(), nil)
				if err != nil {
					return err
				}
				if asJSON {
					if err := writeJSON(env.Stdout, r); err != nil {
						return err
					}
				} else {
					printReport(env.Stdout, r, repair)
				}
				if !r.OK() {
					if repair {
						fmt.Fprintln(env.Stderr, "coffer: nothing was removed: leftovers are told apart from documents by the index, which must be sound first")
					}
					return fmt.Errorf("the vault is damaged: %d problems, %d versions affected", len(r.Problems), len(r.Damaged))
				}
				if repair {
					rec, err := a.Repair(cmd.Context(), repairWait)
					if err != nil {
						return err
					}
					out := env.Stdout
					if asJSON {
						out = env.Stderr // stdout holds the report alone
					}
					fmt.Fprintf(out, "Removed %d leftover objects and %d temp files (%s).\n",
						rec.Objects, rec.Temp, humanize.IBytes(uint64(rec.Bytes)))
				}
				return nil
			})
		},
	}
	vaultFlag(cmd, &dir)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().BoolVar(&rebuild, "rebuild", false, "make a new index from the signed objects first")
	cmd.Flags().BoolVar(&repair, "repair", false, "then remove what interrupted or failed writes left behind")
	return cmd
}

// repairWait is how long check --repair waits for other writers.
const repairWait = 30 * time.Second

// rebuildVault rebuilds the index of the vault in dir and says what it found.
func rebuildVault(ctx context.Context, env Env, dir string) (*app.App, error) {
	if !vault.Exists(dir) {
		return nil, fmt.Errorf("%s is not a Coffer vault", dir)
	}
	p, err := passphrase(env, false)
	if err != nil {
		return nil, err
	}
	a, rep, err := app.Rebuild(ctx, dir, p)
	if err != nil {
		return nil, err
	}
	if rep.Replaced != "" {
		fmt.Fprintf(env.Stderr, "coffer: the old index is kept as %s\n", display.Name(rep.Replaced))
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(env.Stderr, "coffer: not rebuilt: %s\n", display.Text(s))
	}
	for _, w := range a.Warnings() {
		fmt.Fprintf(env.Stderr, "coffer: warning: %s\n", display.Text(w))
	}
	return a, nil
}

func printReport(w io.Writer, r *vault.Report, repair bool) {
	fmt.Fprintf(w, "Checked %d device certificates, %d keyrings, %d folders, %d manifests, %d chunks.\n",
		r.Checked["device"], r.Checked["keyring"], r.Checked["folder"], r.Checked["manifest"], r.Checked["chunk"])
	for _, p := range r.Problems {
		fmt.Fprintf(w, "DAMAGED %s: %s\n", p.Object, p.What)
		for _, a := range p.Affects {
			fmt.Fprintf(w, "  affects %s\n", display.Name(a))
		}
	}
	if n := len(r.Leftovers); n > 0 && !repair {
		fmt.Fprintf(w, "%d objects are left over from interrupted imports (harmless; 'coffer check --repair' removes them).\n", n)
	}
	if r.OK() {
		fmt.Fprintf(w, "No damage: all %d versions are intact.\n", r.Intact)
	} else {
		fmt.Fprintf(w, "%d versions intact, %d damaged.\n", r.Intact, len(r.Damaged))
	}
}

func cmdAudit(env Env) *cobra.Command {
	var dir, user, folder, since string
	var asJSON, asCEF, redact, org, follow bool
	cmd := &cobra.Command{
		Use:   "audit --vault DIR [--json | --cef] [--redact] [--org [--follow] [--user E] [--folder F] [--since T]]",
		Short: "Verify and print this device's audit trail (exit 1 if it was tampered with), or the organisation's (--org)",
		Long: `Verify and print this device's audit trail (exit 1 if it was tampered with).
Who may: the owner of a standalone vault; in an organisation, its admin,
compliance and risk roles (members and managers: exit 3; their devices'
trails go to the server, where compliance reads them).

The output names folders and files in clear, confidential ones included:
treat it (and the SIEM it goes to) as sensitive. --redact leaves names
out (IDs stay, so events still correlate) and drops the reasons of
failures, which may quote a name or a path.

--org prints every device's trail from the organisation's server, for its
compliance and risk officers (everyone else: exit 3): views, exports and
blocked attempts with user, device and address. Each entry is checked
against its device's signature; details are readable only by compliance
and risk. --follow keeps printing new entries as devices send them (a
blocked attempt arrives within seconds); --user, --folder (a name or an
ID) and --since (RFC 3339 or a duration such as 24h) narrow it.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON && asCEF {
				return usagef("--json and --cef exclude each other")
			}
			if !org && (follow || user != "" || folder != "" || since != "") {
				return usagef("--follow, --user, --folder and --since go with --org")
			}
			print := func(e audit.Event) error {
				if redact {
					e = e.Redacted()
				}
				switch {
				case asJSON:
					b, err := e.JSON()
					if err != nil {
						return err
					}
					fmt.Fprintf(env.Stdout, "%s\n", b)
				case asCEF:
					fmt.Fprintln(env.Stdout, e.CEF(Version))
				default:
					e.FolderName, e.FileName = display.Name(e.FolderName), display.Name(e.FileName)
					line := e.Line()
					if e.DeviceName != "" {
						line += "  [" + display.Text(e.DeviceName) + " " + e.IP + "]"
					}
					if e.DetailsSealed {
						line += "  (details sealed to the officers of its time)"
					}
					fmt.Fprintln(env.Stdout, line)
				}
				return nil
			}
			return withVault(cmd, env, dir, func(a *app.App) error {
				if org {
					f := app.OrgAuditFilter{User: user, Folder: folder}
					if since != "" {
						t, err := parseSince(since)
						if err != nil {
							return usagef("--since: %v", err)
						}
						f.Since = t
					}
					return a.OrgAudit(cmd.Context(), f, follow, func(events []audit.Event, problems []string) error {
						for _, p := range problems {
							fmt.Fprintf(env.Stderr, "UNVERIFIED %s\n", display.Text(p))
						}
						for _, e := range events {
							if err := print(e); err != nil {
								return err
							}
						}
						return nil
					})
				}
				log, err := a.AuditLog(cmd.Context())
				if err != nil {
					return err
				}
				for _, e := range log.Events {
					if err := print(e); err != nil {
						return err
					}
				}
				if len(log.Breaks) > 0 {
					for _, b := range log.Breaks {
						fmt.Fprintf(env.Stderr, "TAMPERED %s\n", display.Text(fmt.Sprint(b)))
					}
					return fmt.Errorf("the audit trail was altered at %d places; it must not be trusted past entry %d", len(log.Breaks), log.Breaks[0].Position-1)
				}
				return nil
			})
		},
	}
	vaultFlag(cmd, &dir)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON lines")
	cmd.Flags().BoolVar(&asCEF, "cef", false, "print ArcSight CEF lines for a SIEM")
	cmd.Flags().BoolVar(&redact, "redact", false, "leave folder and file names out")
	cmd.Flags().BoolVar(&org, "org", false, "the organisation's trail, every device's (compliance and risk)")
	cmd.Flags().BoolVar(&follow, "follow", false, "with --org: keep printing new entries")
	cmd.Flags().StringVar(&user, "user", "", "with --org: only this user's entries")
	cmd.Flags().StringVar(&folder, "folder", "", "with --org: only this folder's (name or ID)")
	cmd.Flags().StringVar(&since, "since", "", "with --org: only entries since (RFC 3339, or a duration like 24h)")
	return cmd
}

// parseSince reads a time: RFC 3339, or a duration back from now.
func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration", s)
	}
	return time.Now().Add(-d), nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func sortBy[T any](s []T, key func(T) string) {
	slices.SortStableFunc(s, func(a, b T) int { return strings.Compare(key(a), key(b)) })
}

// previousName is the name the version before ver was imported under, ""
// if there is none or it cannot be read.
func previousName(ctx context.Context, a *app.App, folder string, ver vault.Version) string {
	if ver.Seq < 2 {
		return ""
	}
	vs, err := a.Versions(ctx, folder, ver.Name)
	if err != nil {
		return ""
	}
	for _, v := range vs {
		if v.Seq == ver.Seq-1 {
			return v.Name
		}
	}
	return ""
}
