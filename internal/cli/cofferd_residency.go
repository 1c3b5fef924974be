package cli

import (
	"encoding/json"
	"fmt"
	"slices"
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
an embedded store, or the PostgreSQL database and the S3 bucket (with its
region name) of a scale-out one; what each holds; how many objects of each
kind it holds and their bytes (ciphertext: the server has no key to
them); and how many devices may hold copies of their users' folders.
A revoked device that was not wiped may still hold its copies. An S3
region is a place only on AWS; on other S3-compatible servers it is a
label. What the server cannot know (backups, replicas) is said too.`,
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
	out := env.Stdout
	fmt.Fprintf(out, "Answered by cofferd on %s, %s store.\n", display.Text(r.Server), display.Text(r.Backend))
	for _, p := range r.Places {
		kind := map[string]string{"folder": "Folder", "postgresql": "PostgreSQL", "s3": "S3"}[p.Kind]
		if kind == "" {
			kind = display.Text(p.Kind)
		}
		fmt.Fprintf(out, "%s %s holds %s.\n", kind, display.Text(p.Where), display.Text(p.Holds))
		if p.Region != "" {
			fmt.Fprintf(out, "  Region %s: %s.\n", display.Text(p.Region), display.Text(p.Note))
		} else if p.Note != "" {
			fmt.Fprintf(out, "  %s.\n", display.Text(p.Note))
		}
	}
	var n, bytes int64
	for _, o := range r.Objects {
		n += o.Count
		bytes += o.Bytes
	}
	fmt.Fprintf(out, "Objects indexed: %s, %s of ciphertext\n", english.Plural(int(n), "object", ""), humanize.IBytes(uint64(max(bytes, 0))))
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	for _, o := range r.Objects {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t\n", display.Text(o.Kind), humanize.Comma(o.Count), humanize.IBytes(uint64(max(o.Bytes, 0))))
	}
	tw.Flush()
	fmt.Fprintln(out, "  (every version ever sent is kept; uploads a crash or a lost race left behind may lie beside them, unindexed)")
	states := []string{"active", "revoked", "wipe pending", "wiped itself", "wiped"}
	for st := range r.Devices {
		if !slices.Contains(states, st) {
			states = append(states, st)
		}
	}
	slices.Sort(states[5:])
	var parts []string
	for _, st := range states {
		if c := r.Devices[st]; c > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c, display.Text(st)))
		}
	}
	if len(parts) == 0 {
		parts = []string{"none"}
	}
	fmt.Fprintf(out, "Devices: %s.\n", strings.Join(parts, ", "))
	if c := r.Devices["revoked"]; c > 0 {
		fmt.Fprintf(out, "  Revoked, never ordered wiped: %d. Revoking erases nothing: a revoked device keeps its encrypted copies until its policy's wipe deadline, if it has one; 'cofferd admin wipe --device ID' orders a wipe.\n", c)
	}
	if c := r.Devices["wipe pending"]; c > 0 {
		fmt.Fprintf(out, "  %s ordered wiped did not answer yet.\n", english.Plural(c, "device", "devices"))
	}
	if c := r.Devices["wiped itself"]; c > 0 {
		fmt.Fprintf(out, "  Self-wipes reported: %d, each the device's own word (its receipt is signed by a key a copy of its disk holds too).\n", c)
	}
	if r.Copies > 0 {
		fmt.Fprintf(out, "  Further copies of wiped devices (disk images, backups) that came online and were wiped in turn: %d. There may be more.\n", r.Copies)
	}
	fmt.Fprintln(out, "Not known to the server: backups or snapshots of the places above, database replicas, bucket versions or replication, devices' own backups, and where cofferd's logs go.")
}
