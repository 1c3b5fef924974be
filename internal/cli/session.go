package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/internal/oskeyring"
	"github.com/coffer-vault/coffer/vault"
)

func cmdUnlock(env Env) *cobra.Command {
	var (
		dir  string
		idle time.Duration
	)
	cmd := &cobra.Command{
		Use:   "unlock --vault DIR [--idle DUR]",
		Short: "Let this user's next commands on this machine open the vault without the passphrase, until unused for a while",
		Long: `Unlock asks for the passphrase once; until the vault has been unused for the
idle time (--idle, at most the policy's idle lock, which is also the default),
and for 12 hours at most, this user's commands on this machine open it without
asking. 'coffer lock' ends it at once; so do a reboot and a wipe. The key of
the session lives only in the kernel's keyring (Linux), never on disk.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if idle < 0 {
				return usagef("--idle %v: want a positive duration such as 15m", idle)
			}
			if err := requireVault(dir); err != nil {
				return err
			}
			if err := app.BeforeUnlock(cmd.Context(), dir, 3*time.Second); err != nil {
				return err
			}
			a, err := unlockWithPassphrase(cmd.Context(), env, dir)
			if err != nil {
				return err
			}
			defer a.Close()
			until, got, err := a.StartSession(cmd.Context(), idle)
			if errors.Is(err, oskeyring.ErrUnsupported) {
				return fmt.Errorf("this system has no kernel keyring to keep the session in, so every command asks for the passphrase (%w)", err)
			}
			if err != nil {
				return err
			}
			if idle > got {
				fmt.Fprintf(env.Stderr, "coffer: the policy's idle lock is %v, so the session ends after %v unused, not %v\n", got, got, idle)
			}
			fmt.Fprintf(env.Stdout, "Unlocked: commands open %s without the passphrase until it is unused for %v, and until %s at the latest. 'coffer lock --vault %s' ends it now.\n",
				dir, got, until.Local().Format("15:04"), dir)
			return nil
		},
	}
	vaultFlag(cmd, &dir)
	cmd.Flags().DurationVar(&idle, "idle", 0, "end the session after the vault is unused this long (default and maximum: the policy's idle lock)")
	return cmd
}

func cmdLock(env Env) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "lock --vault DIR",
		Short: "End the unlocked session: commands ask for the passphrase again",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireVault(dir); err != nil {
				return err
			}
			had := vault.HasSession(dir)
			if had {
				// Recorded in the trail when the session still opens it.
				if a, err := app.OpenSession(cmd.Context(), dir); err == nil {
					_ = a.Lock(cmd.Context(), "the unlocked session was ended ('coffer lock')")
				}
			}
			if err := app.EndSession(dir); err != nil {
				return err
			}
			if had {
				fmt.Fprintln(env.Stdout, "Locked: commands ask for the passphrase again.")
			} else {
				fmt.Fprintln(env.Stdout, "No session was open: commands ask for the passphrase.")
			}
			return nil
		},
	}
	vaultFlag(cmd, &dir)
	return cmd
}
