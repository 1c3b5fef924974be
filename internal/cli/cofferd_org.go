package cli

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

func cmdAdminGuest(env Env) *cobra.Command {
	var f adminFlags
	var email, folders string
	var expires time.Duration
	var end bool
	cmd := &cobra.Command{
		Use:   "guest --server URL --key FILE --email E (--folders F1,F2 --expires DUR | --end)",
		Short: "Grant a guest folders until a time (prints an invite code for a new guest); extend or --end it",
		Long: `Grant a guest (an external consultant, say) read access to folders until
a time: at most 90 days, down to seconds. Folders are named by their IDs
(or unique prefixes), which their owner sees with 'coffer members'. A new
guest gets an invite code, printed alone on the last line. Running it
again for the same guest replaces the grant (extends it, changes the
folders); --end ends it now. When a grant ends the server refuses the
guest at once and the guest's devices destroy the folders, even offline.
A restricted folder is never given to a guest, whatever the grant says.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if end && expires != 0 {
				return usagef("--expires or --end, not both")
			}
			if end {
				expires = 0
			} else if expires <= 0 || expires > policy.MaxGrant {
				return usagef("--expires: a duration up to 2160h (90 days), or --end")
			}
			if strings.TrimSpace(folders) == "" && !end {
				return usagef("--folders: the folder IDs, comma-separated")
			}
			if !end {
				// A grant ends for whoever it was given to, even a
				// misspelt address; a new one goes to a real address.
				if err := checkEmail("email", email); err != nil {
					return err
				}
			}
			return f.with(cmd, env, func(a *client.Admin) error {
				var ids []object.ID
				if strings.TrimSpace(folders) == "" {
					// --end alone: the folders of the grant it ends.
					if ids = a.GrantFolders(email); len(ids) == 0 {
						return fmt.Errorf("%s has no guest grant to end", email)
					}
				}
				for _, p := range strings.FieldsFunc(folders, func(r rune) bool { return r == ',' }) {
					id, err := a.FindFolder(strings.TrimSpace(p))
					if err != nil {
						return err
					}
					ids = append(ids, id)
				}
				code, until, err := a.Guest(cmd.Context(), email, ids, expires)
				if err != nil {
					return err
				}
				if end {
					fmt.Fprintf(env.Stdout, "Ended %s's guest access.\n", email)
					return nil
				}
				fmt.Fprintf(env.Stdout, "%s is granted %d folder(s) until %s UTC. A restricted one is never given to a guest: its owner's device refuses it (the server cannot tell classes, nor can you).\n",
					email, len(ids), until.UTC().Format("2006-01-02 15:04:05"))
				if code != "" {
					fmt.Fprintf(env.Stdout, "Send this invite code (it works once):\n%s\n", code)
				}
				return nil
			})
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&email, "email", "", "the guest's e-mail")
	cmd.Flags().StringVar(&folders, "folders", "", "folder IDs or unique prefixes (8 hex digits at least), comma-separated")
	cmd.Flags().DurationVar(&expires, "expires", 0, "how long the access lasts (e.g. 720h; at most 2160h)")
	cmd.Flags().BoolVar(&end, "end", false, "end the guest's access now")
	_ = cmd.MarkFlagRequired("email")
	return cmd
}

func cmdAdminPolicy(env Env) *cobra.Command {
	var f adminFlags
	var set string
	cmd := &cobra.Command{
		Use:   "policy --server URL --key FILE [--set FILE]",
		Short: "Print the organisation's policy, or sign and publish a new one (--set)",
		Long: `Print the organisation's policy in force, or sign a new one with the
admin key and publish it in the organisation's log (--set FILE, JSON as
printed). Every device applies it at its next sync; nobody can relax it
by editing local files. Its serial must rise; leave it 0 to take the next.
The file is the whole policy: a field left out is not set (start from
what this command prints); what changes is listed when it is published.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var doc *policy.Document
			if set != "" {
				b, err := os.ReadFile(set)
				if err != nil {
					return err
				}
				doc = &policy.Document{}
				dec := json.NewDecoder(strings.NewReader(string(b)))
				dec.DisallowUnknownFields()
				if err := dec.Decode(doc); err != nil {
					return fmt.Errorf("%s: %w", set, err)
				}
				if doc.V == 0 {
					doc.V = policy.Format
				}
				if doc.Roles != nil || doc.Grants != nil {
					return fmt.Errorf("%s: roles and grants of an organisation are entries of its log ('cofferd admin invite', 'guest', 'role'), not policy fields", set)
				}
			}
			return f.with(cmd, env, func(a *client.Admin) error {
				var err error
				if doc != nil {
					old, err := a.Policy(cmd.Context())
					if err != nil {
						return err
					}
					if doc, err = a.SetPolicy(cmd.Context(), doc); err != nil {
						return err
					}
					fmt.Fprintf(env.Stderr, "Published policy serial %d.\n", doc.Serial)
					for _, line := range policyChanges(old, doc) {
						fmt.Fprintf(env.Stderr, "  %s\n", line)
					}
				} else if doc, err = a.Policy(cmd.Context()); err != nil {
					return err
				} else if doc == nil {
					fmt.Fprintln(env.Stderr, "No policy was issued yet: devices use the defaults (10 wrong passphrases lock, 15 minutes idle lock, nothing expires).")
					return nil
				}
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(doc)
			})
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&set, "set", "", "a policy JSON file to sign and publish")
	return cmd
}

// policyChanges lists, field by field (its JSON names), what next changes
// from prev (nil: none issued before): "lease_hours: 8 → not set".
func policyChanges(prev, next *policy.Document) []string {
	fields := func(d *policy.Document) map[string]string {
		out := map[string]string{}
		if d == nil {
			return out
		}
		b, err := json.Marshal(d)
		if err != nil {
			return out
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil {
			return out
		}
		for k, v := range m {
			if k != "serial" && k != "issued" && k != "v" {
				out[k] = string(v)
			}
		}
		return out
	}
	a, b := fields(prev), fields(next)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		was, is := a[k], b[k]
		if was == is {
			continue
		}
		if was == "" {
			was = "not set"
		}
		if is == "" {
			is = "not set"
		}
		out = append(out, fmt.Sprintf("%s: %s → %s", k, was, is))
	}
	return out
}

func cmdAdminRole(env Env) *cobra.Command {
	var f adminFlags
	var email, role string
	cmd := &cobra.Command{
		Use:   "role --server URL --key FILE --email E --role ROLE",
		Short: "Change a person's role",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			r := policy.Role(role)
			if r == policy.Owner || !policy.Known(r) {
				return usagef("--role: one of admin, compliance, manager, member, risk, guest")
			}
			return f.with(cmd, env, func(a *client.Admin) error {
				if err := a.SetRole(cmd.Context(), email, r); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "%s is now %s.\n", email, role)
				return nil
			})
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&email, "email", "", "the person's e-mail")
	cmd.Flags().StringVar(&role, "role", "", "their new role")
	_ = cmd.MarkFlagRequired("email")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}

func cmdAdminApproveClass(env Env) *cobra.Command {
	var f adminFlags
	var request string
	cmd := &cobra.Command{
		Use:   "approve-class --server URL --key FILE --request CODE",
		Short: "Approve widening a folder's class, by the request code its owner sent",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := vault.ParseClassRequest(request)
			if err != nil {
				return usagef("--request: %v", err)
			}
			return f.with(cmd, env, func(a *client.Admin) error {
				if err := a.ApproveClass(cmd.Context(), req); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "Approved: folder %q (%s) may go from %s to %s. Its owner runs 'coffer folder class' again to do it.\n",
					display.Text(req.Name), req.Folder.String()[:12], req.From, req.Class)
				return nil
			})
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&request, "request", "", "the request code (COFFER-CLASS1-…)")
	_ = cmd.MarkFlagRequired("request")
	return cmd
}
