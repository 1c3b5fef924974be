package cli

import (
	"fmt"
	"os"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/policy"
)

func cmdRetention(env Env) *cobra.Command {
	var dir string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "retention --vault DIR [--dry-run]",
		Short: "Remove versions the policy no longer keeps (never a current version)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withVault(cmd, env, dir, func(a *app.App) error {
				res, err := a.Retention(cmd.Context(), dryRun)
				if err != nil {
					return err
				}
				verb := "Removed"
				if dryRun {
					verb = "Would remove"
				}
				for _, e := range res.Versions {
					fmt.Fprintf(env.Stdout, "%s %s/%s version %d (%s, %s)\n", verb, display.Name(e.Folder), display.Name(e.Name), e.Seq,
						humanize.IBytes(uint64(e.Size)), e.Time.Format("2006-01-02"))
				}
				fmt.Fprintf(env.Stdout, "%s %d versions", verb, len(res.Versions))
				if !dryRun {
					fmt.Fprintf(env.Stdout, " and %d chunks no version uses", res.Chunks)
				}
				fmt.Fprintln(env.Stdout, ".")
				return nil
			})
		},
	}
	vaultFlag(cmd, &dir)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only list what would be removed")
	return cmd
}

func cmdPolicy(env Env) *cobra.Command {
	var dir, set string
	cmd := &cobra.Command{
		Use:   "policy --vault DIR [--set FILE]",
		Short: "Show the signed policy in force, or issue a new one from a JSON file (owner only)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withVault(cmd, env, dir, func(a *app.App) error {
				if set == "" {
					return writeJSON(env.Stdout, a.Policy())
				}
				if a.Enrolled() {
					_, err := a.SetPolicy(cmd.Context(), policy.Document{}) // refused, naming the admin
					return err
				}
				b, err := os.ReadFile(set)
				if err != nil {
					return err
				}
				doc, err := policy.ParseDocument(b)
				if err != nil {
					return fmt.Errorf("%s: %w", set, err)
				}
				newDoc, err := a.SetPolicy(cmd.Context(), *doc)
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "Policy serial %d is in force.\n", newDoc.Serial)
				return nil
			})
		},
	}
	vaultFlag(cmd, &dir)
	cmd.Flags().StringVar(&set, "set", "", "a policy JSON file to sign and put in force")
	return cmd
}
