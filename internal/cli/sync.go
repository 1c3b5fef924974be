package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
)

func cmdEnroll(env Env) *cobra.Command {
	var dir, server, invite, name, deviceName string
	cmd := &cobra.Command{
		Use:   "enroll --vault DIR --invite CODE [--server URL] [--name \"Full Name\"]",
		Short: "Join your organisation with an invite code (a further device of yours shows a pairing code)",
		Long: `Join your organisation with the invite code your admin sent.

The first device of a person becomes their vault in DIR. For a further
device of someone already enrolled, enroll shows a pairing code and waits
until 'coffer device approve --vault DIR CODE' runs on one of their
enrolled devices; their keys then travel, encrypted, to this device only.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			inv, err := wire.ParseInvite(invite)
			if err != nil {
				return usagef("%v", err)
			}
			if server != "" && server != inv.ServerURL {
				return fmt.Errorf("the invite is for %s, not %s: use the server the invite names", inv.ServerURL, server)
			}
			if _, err := os.Stat(dir); err == nil {
				if entries, _ := os.ReadDir(dir); len(entries) > 0 && !vaultExists(dir) {
					return fmt.Errorf("%s is not empty: enroll makes a new vault, in an empty or new folder", dir)
				}
			}
			pass, err := passphrase(env, !vaultExists(dir))
			if err != nil {
				return err
			}
			a, err := app.Enroll(ctx, client.Enrollment{Dir: dir, Invite: invite, Name: name, DeviceName: deviceName, Passphrase: pass})
			if errors.Is(err, client.ErrPairingNeeded) {
				return pairThisDevice(ctx, env, dir, invite, deviceName, pass)
			}
			if err != nil {
				return err
			}
			defer a.Close()
			fmt.Fprintf(env.Stdout, "Enrolled %s as %s in %s.\n", display.Text(a.Vault().DeviceName()), a.Vault().Owner().Email, dir)
			return nil
		},
	}
	vaultFlag(cmd, &dir)
	cmd.Flags().StringVar(&server, "server", "", "the organisation's server (default: the one the invite names; another is refused)")
	cmd.Flags().StringVar(&invite, "invite", "", "the invite code (COFFER1-…)")
	cmd.Flags().StringVar(&name, "name", "", "your full name, as watermarks show it (at most 64 characters)")
	cmd.Flags().StringVar(&deviceName, "device-name", "", "this device's name (default: the host name)")
	_ = cmd.MarkFlagRequired("invite")
	return cmd
}

// pairThisDevice asks to join as a further device of an enrolled person
// and waits for one of their devices to approve.
func pairThisDevice(ctx context.Context, env Env, dir, invite, deviceName, pass string) error {
	p, err := app.RequestPairing(ctx, invite, deviceName)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "This e-mail has an enrolled device already. On one of its devices, run:\n\n"+
		"    coffer device approve --vault DIR %s\n\nWaiting for the approval (15 minutes)…\n", p.Code())
	a, err := p.Wait(ctx, dir, pass)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintf(env.Stdout, "Paired: %s is now a device of %s, vault in %s.\n", display.Text(a.Vault().DeviceName()), a.Vault().Owner().Email, dir)
	return nil
}

func cmdDevice(env Env) *cobra.Command {
	cmd := &cobra.Command{Use: "device", Short: "Devices of your organisation"}
	var dir string
	var yes bool
	approve := &cobra.Command{
		Use:   "approve --vault DIR CODE [--yes]",
		Short: "Approve a new device of yours by the pairing code it shows",
		Args:  exactArgs(1, "the pairing CODE"),
		Long: `Approve a new device of yours by the pairing code it shows.

The device receives your keys: approve only a device whose pairing you
started yourself. On a terminal, approve first shows where and when the
request reached the server (its address and time in the server's word,
the system the device claims) and asks before it approves; --yes, or
no terminal (a script), approves without asking.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withVault(cmd, env, dir, func(a *app.App) error {
				if !yes && stdinIsTerminal(env) {
					if err := confirmPairing(cmd.Context(), env, a, args[0]); err != nil {
						return err
					}
				}
				p, err := a.ApproveDevice(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				origin := ""
				if o := p.Origin(); o != "" {
					origin = " (" + display.Text(o) + ")"
				}
				fmt.Fprintf(env.Stdout, "Approved %q%s: it receives your keys and syncs your folders. If you did not start this pairing yourself, tell your organisation's admin now.\n", p.Name, origin)
				return nil
			})
		},
	}
	vaultFlag(approve, &dir)
	approve.Flags().BoolVar(&yes, "yes", false, "approve without asking, on a terminal too")
	cmd.AddCommand(approve)
	return cmd
}

// errNotApproved is the answer no to confirmPairing.
var errNotApproved = errors.New("not approved: the device got nothing. If you did not start this pairing, someone has your invite code: tell your organisation's admin")

// confirmPairing shows the request with code, where and when it came
// from, and asks the user on the terminal whether to approve it. A code
// no request has is refused here (not left to a second listing).
func confirmPairing(ctx context.Context, env Env, a *app.App, code string) error {
	ps, err := a.PendingDevices(ctx)
	if err != nil {
		return err
	}
	code = wire.NormalizePairingCode(code)
	for _, p := range ps {
		if wire.NormalizePairingCode(p.Code) != code {
			continue
		}
		origin := p.Origin()
		if origin == "" {
			origin = "the server does not say from where"
		}
		// %q: the name is the asker's text, and one that reads like an
		// origin stays inside its quotes.
		fmt.Fprintf(env.Stderr, "The device %q asks to join as yours, %s.\nIt receives your keys: approve it only if you started this pairing yourself. Approve? [y/N] ",
			p.Name, display.Text(origin))
		if f, ok := env.Stdin.(*os.File); ok {
			flushInput(f)
		}
		line, _ := bufio.NewReader(env.Stdin).ReadString('\n')
		if !approved(line) {
			return errNotApproved
		}
		return nil
	}
	return fmt.Errorf("no device is waiting with the code %s: check it on the new device's screen (codes last 15 minutes)", code)
}

// approved reports whether line answers yes ("y" or "yes", any case,
// spaces around); anything else, an empty line included, is no.
func approved(line string) bool {
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

func cmdSync(env Env) *cobra.Command {
	var dir string
	var watch, asJSON bool
	cmd := &cobra.Command{
		Use:   "sync --vault DIR [--watch] [--json]",
		Short: "Push this device's changes and pull the others' (--watch: keep at it)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if watch && env.Getenv("COFFER_PASSPHRASE") == "" && !stdinIsTerminal(env) && vault.Exists(dir) {
				return watchLocked(cmd.Context(), env, dir)
			}
			return withVault(cmd, env, dir, func(a *app.App) error {
				print := func(st client.Stats) {
					if asJSON {
						fmt.Fprintf(env.Stdout, "%s\n", client.MarshalStats(st))
						return
					}
					fmt.Fprintf(env.Stdout, "%s  up %d versions (%d bytes), down %d versions (%d bytes), %d conflicts\n",
						time.Now().UTC().Format("15:04:05"), st.VersionsUp, st.BytesUp, st.VersionsDown, st.BytesDown, st.Conflicts)
					if st.Pending > 0 {
						// Said at every sync until they arrive, not only at
						// the one that first met them.
						if st.Pending == 1 {
							fmt.Fprintf(env.Stdout, "  1 object from the server is still refused, or lost there: it is fetched again later\n")
						} else {
							fmt.Fprintf(env.Stdout, "  %d objects from the server are still refused, or lost there: they are fetched again later\n", st.Pending)
						}
					}
				}
				// What syncing did that the user must know (a folder
				// removed from this device): the window shows it too.
				notices := func() {
					for _, n := range a.Notices() {
						fmt.Fprintf(env.Stderr, "coffer: %s\n", display.Text(n))
					}
				}
				if !watch {
					st, err := a.Sync(cmd.Context())
					notices()
					if err != nil {
						return err
					}
					print(st)
					return nil
				}
				err := a.WatchSync(cmd.Context(), func(st client.Stats, err error) {
					notices()
					if errors.Is(err, vault.ErrWiped) {
						return // said once, as the command's error
					}
					if err != nil {
						fmt.Fprintf(env.Stderr, "coffer: sync: %s (retrying)\n", display.Text(message(err)))
						return
					}
					if st != (client.Stats{}) {
						print(st)
					}
				})
				if errors.Is(err, context.Canceled) {
					return nil
				}
				return err
			})
		},
	}
	vaultFlag(cmd, &dir)
	cmd.Flags().BoolVar(&watch, "watch", false, "keep syncing until interrupted")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"bytes_up":…,"bytes_down":…,"versions_up":…,"versions_down":…,"conflicts":…}`)
	return cmd
}

func vaultExists(dir string) bool { return vault.Exists(dir) }

func stdinIsTerminal(env Env) bool {
	f, ok := env.Stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// watchLocked is sync --watch without a passphrase: the vault stays
// locked and connected, for a wipe the admin may order (docs/sync-protocol.md,
// "Locked mode"); content syncs once someone unlocks it.
func watchLocked(ctx context.Context, env Env, dir string) error {
	fmt.Fprintln(env.Stderr, "coffer: no passphrase: watching in locked mode (a wipe the admin orders is carried out; content syncs once unlocked)")
	err := app.WatchLocked(ctx, dir, nil, func(err error) {
		fmt.Fprintf(env.Stderr, "coffer: locked mode: %s (retrying)\n", message(err))
	})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
