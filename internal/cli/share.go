package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/sync/orglog"
)

func cmdShare(env Env) *cobra.Command {
	var dir, with, role string
	cmd := &cobra.Command{
		Use:   "share --vault DIR FOLDER --with EMAIL [--role viewer|editor]",
		Short: "Share a folder with a person of your organisation, or change their role in it",
		Long: `Share a folder with a person of your organisation: they can read it
(viewer) or also add and restore versions (editor). The folder's key is
encrypted to their key as your organisation's log certifies it. Changing
a member's role gives the folder a new key for what is written next.

Only the folder's owner, or a manager among its members, shares it.
Guests get folders from the admin ('cofferd admin guest').`,
		Args: exactArgs(1, "the FOLDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if role != orglog.Viewer && role != orglog.Editor {
				return usagef("--role: viewer or editor")
			}
			if err := checkEmail("with", with); err != nil {
				return err
			}
			return withVault(cmd, env, dir, func(a *app.App) error {
				if err := a.Share(cmd.Context(), args[0], with, role); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "Shared %q with %s as %s.\n", display.Text(args[0]), with, role)
				return nil
			})
		},
	}
	vaultFlag(cmd, &dir)
	cmd.Flags().StringVar(&with, "with", "", "the person's e-mail")
	cmd.Flags().StringVar(&role, "role", orglog.Viewer, "viewer or editor")
	_ = cmd.MarkFlagRequired("with")
	return cmd
}

func cmdUnshare(env Env) *cobra.Command {
	var dir, with string
	cmd := &cobra.Command{
		Use:   "unshare --vault DIR FOLDER --with EMAIL",
		Short: "Take a person off a folder: the server refuses them at once and the folder gets a new key",
		Args:  exactArgs(1, "the FOLDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withVault(cmd, env, dir, func(a *app.App) error {
				if err := a.Unshare(cmd.Context(), args[0], with); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "%s is off %q; what is written from now on is under a key they never had.\n", with, display.Text(args[0]))
				return nil
			})
		},
	}
	vaultFlag(cmd, &dir)
	cmd.Flags().StringVar(&with, "with", "", "the person's e-mail")
	_ = cmd.MarkFlagRequired("with")
	return cmd
}

func cmdMembers(env Env) *cobra.Command {
	var dir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "members --vault DIR FOLDER [--json]",
		Short: "List who may read a folder: owner, editors, viewers and guests (with the folder's ID)",
		Args:  exactArgs(1, "the FOLDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withVault(cmd, env, dir, func(a *app.App) error {
				f, ms, err := a.Members(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(env.Stdout).Encode(struct {
						Folder  string `json:"folder"`
						ID      string `json:"id"`
						Members any    `json:"members"`
					}{f.Name, f.ID.String(), ms})
				}
				fmt.Fprintf(env.Stdout, "%s (folder %s)\n", display.Text(f.Name), f.ID)
				tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tUNTIL")
				for _, m := range ms {
					until := ""
					if !m.Expires.IsZero() {
						until = m.Expires.UTC().Format("2006-01-02 15:04") + " UTC"
					}
					role := m.Role
					if m.Refused != "" {
						role += " (refused: " + m.Refused + ")"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Email, display.Text(m.Name), role, until)
				}
				return tw.Flush()
			})
		},
	}
	vaultFlag(cmd, &dir)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
