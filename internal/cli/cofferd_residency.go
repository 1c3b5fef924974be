package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/dustin/go-humanize"
	"github.com/dustin/go-humanize/english"
	"github.com/spf13/cobra"

	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/wire"
)

func cmdAdminResidency(env Env) *cobra.Command {
	var f adminFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "residency --server URL --key FILE [--json]",
		Short: "Say where the server keeps the organisation's data, how much, and which devices may hold copies",
		Long: `Say where the server keeps the organisation's data: the folder and host of
an embedded store, or the PostgreSQL database and the S3 bucket (with the
region the bucket reports) of a scale-out one; how many objects of each
kind it holds and their bytes (ciphertext: the server has no key to
them); and how many devices may hold copies of their users' folders.
A revoked device that was not wiped may still hold its copies.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.with(cmd, env, func(a *client.Admin) error {
				r, err := a.Residency(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(env.Stdout).Encode(r)
				}
				printResidency(env, r)
				return nil
			})
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// printResidency writes r for a person. Every string is the server's, so
// each goes through display.Text.
func printResidency(env Env, r wire.Residency) {
	fmt.Fprintf(env.Stdout, "Server %s, %s store:\n", display.Text(r.Server), display.Text(r.Backend))
	for _, p := range r.Places {
		where := display.Text(p.Where)
		if p.Region != "" {
			where += ", region " + display.Text(p.Region)
		}
		fmt.Fprintf(env.Stdout, "  %s: %s %s\n", display.Text(p.Holds), display.Text(p.Kind), where)
	}
	var n, bytes int64
	for _, o := range r.Objects {
		n += o.Count
		bytes += o.Bytes
	}
	fmt.Fprintf(env.Stdout, "Objects: %s, %s of ciphertext (the server holds no key to it)\n",
		english.Plural(int(n), "object", ""), humanize.IBytes(uint64(max(bytes, 0))))
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	for _, o := range r.Objects {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t\n", display.Text(o.Kind), humanize.Comma(o.Count), humanize.IBytes(uint64(max(o.Bytes, 0))))
	}
	tw.Flush()
	var parts []string
	for _, st := range []string{"active", "wipe pending", "revoked", "wiped itself", "wiped"} {
		if c := r.Devices[st]; c > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c, st))
		}
	}
	if len(parts) == 0 {
		parts = []string{"none"}
	}
	fmt.Fprintf(env.Stdout, "Devices: %s.\n", strings.Join(parts, ", "))
	if c := r.Devices["revoked"] + r.Devices["wipe pending"]; c > 0 {
		fmt.Fprintf(env.Stdout, "%s may still hold copies of their users' folders: revoking erases nothing; 'cofferd admin wipe' does.\n",
			english.Plural(c, "device not wiped yet", "devices not wiped yet"))
	}
}
