package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/vault/object"
)

func cmdAdminWipe(env Env) *cobra.Command {
	var f adminFlags
	var device, user, reason string
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "wipe --server URL --key FILE --device ID | --user EMAIL [--wait DUR] [--reason TEXT]",
		Short: "Wipe a device (or all of a user's): its keys and documents are destroyed, and it signs a receipt",
		Long: `Order a device wiped — a lost laptop, say. The order is signed with the
admin key and goes into the organisation's log; the server revokes the
device at once. Online, the device destroys every key that could decrypt
its vault within seconds, even locked, and sends a receipt signed by its
own key; offline, it does so the next time it starts, before anyone is
asked for a passphrase. --wait prints the verified receipt when it comes.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (device == "") == (user == "") {
				return usagef("give --device ID or --user EMAIL")
			}
			ctx := cmd.Context()
			a, err := f.dial(ctx, env)
			if err != nil {
				return err
			}
			defer a.Close()
			var ids []object.ID
			if device != "" {
				id, err := a.FindDevice(device)
				if err != nil {
					return err
				}
				ids = append(ids, id)
			} else if ids, err = a.DevicesOf(ctx, user); err != nil {
				return err
			}
			if len(ids) == 0 {
				return fmt.Errorf("%s has no device left to wipe", user)
			}
			for _, id := range ids {
				if err := a.Wipe(ctx, id, reason); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "Ordered %s wiped; the server refuses it from now on.\n", display.Text(a.DeviceLabel(id)))
			}
			if wait <= 0 {
				return nil
			}
			started := time.Now()
			for _, id := range ids {
				r, err := a.WaitReceipt(ctx, id, wait-time.Since(started))
				if err != nil {
					return err
				}
				if r == nil {
					return fmt.Errorf("no receipt from %s within %s: it wipes itself when it next reaches the server or starts; 'cofferd admin receipts' shows it then", id.String()[:12], wait)
				}
				printReceipt(env, r, time.Since(started))
			}
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&device, "device", "", "the device ID, or a unique prefix of it (8 hex digits at least)")
	cmd.Flags().StringVar(&user, "user", "", "wipe every device of this user")
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the log and the device's notice")
	cmd.Flags().DurationVar(&wait, "wait", 0, "wait this long for the signed receipt")
	return cmd
}

func printReceipt(env Env, r *client.VerifiedReceipt, after time.Duration) {
	how := "by order of the admin"
	switch r.Cause {
	case "lease":
		how = "by itself: its lease's deadline passed offline"
	case "failures":
		how = "by itself: too many wrong passphrases"
	}
	if r.Cause != "admin" {
		// Nobody ordered it: only the device's key vouches for it, which
		// a thief holding the laptop holds too.
		how += " (the device's own word: no order of yours)"
	}
	fmt.Fprintf(env.Stdout, "Receipt verified: %s (%s, %s) wiped %s at %s UTC: %d files, %d bytes destroyed.",
		r.Device.String()[:12], display.Text(r.Name), r.Email, how, r.Wiped.UTC().Format("2006-01-02 15:04:05"), r.Files, r.Bytes)
	if after > 0 {
		fmt.Fprintf(env.Stdout, " (%s after the order)", after.Round(time.Millisecond))
	}
	switch {
	case r.Copies == 1:
		fmt.Fprint(env.Stdout, " A copy of the device (a disk image, a backup) reached the server and was wiped too: it had been copied.")
	case r.Copies > 1:
		fmt.Fprintf(env.Stdout, " %d copies of the device (disk images, backups) reached the server and were wiped too: it had been copied.", r.Copies)
	}
	fmt.Fprintln(env.Stdout)
}

func cmdAdminReceipts(env Env) *cobra.Command {
	var f adminFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "receipts --server URL --key FILE [--json]",
		Short: "List the wipe receipts devices sent, each verified against the organisation's log",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.with(cmd, env, func(a *client.Admin) error {
				rs, err := a.Receipts(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					type out struct {
						Device   string    `json:"device"`
						Email    string    `json:"email"`
						Name     string    `json:"name"`
						Cause    string    `json:"cause"`
						Wiped    time.Time `json:"wiped"`
						Received time.Time `json:"received"`
						Files    int64     `json:"files"`
						Bytes    int64     `json:"bytes"`
						Receipt  string    `json:"receipt"`
					}
					list := []out{}
					for _, r := range rs {
						list = append(list, out{r.Device.String(), r.Email, r.Name, r.Cause, r.Wiped.UTC(), r.Received.UTC(), r.Files, r.Bytes, string(r.Raw)})
					}
					return json.NewEncoder(env.Stdout).Encode(list)
				}
				if len(rs) == 0 {
					fmt.Fprintln(env.Stdout, "No wipe receipts yet.")
				}
				for _, r := range rs {
					printReceipt(env, r, 0)
				}
				return nil
			})
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (with each signed receipt)")
	return cmd
}
