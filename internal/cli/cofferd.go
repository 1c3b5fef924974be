package cli

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/coffer-vault/coffer/internal/display"
	strength "github.com/coffer-vault/coffer/internal/passphrase"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/server"
	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/store/embedded"
	"github.com/coffer-vault/coffer/sync/store/scaleout"
	vstore "github.com/coffer-vault/coffer/vault/store"
)

// CofferdMain runs the cofferd command line (the server and the admin's
// commands) and returns the exit code.
func CofferdMain(ctx context.Context, args []string, env Env) int {
	return runCofferd(ctx, newCofferdRoot(env), args, env)
}

// newCofferdRoot builds cofferd's command tree.
func newCofferdRoot(env Env) *cobra.Command {
	root := &cobra.Command{
		Use:           "cofferd",
		Short:         "cofferd is Coffer's server: it stores ciphertext and relays it between an organisation's devices",
		Version:       Version,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	admin := &cobra.Command{Use: "admin", Short: "The organisation's admin: create it, invite people, list and revoke devices"}
	admin.AddCommand(cmdAdminInit(env), cmdAdminInvite(env), cmdAdminDevices(env), cmdAdminRevoke(env),
		cmdAdminGuest(env), cmdAdminPolicy(env), cmdAdminRole(env), cmdAdminWipe(env), cmdAdminReceipts(env), cmdAdminApproveClass(env),
		cmdAdminResidency(env))
	root.AddCommand(cmdServe(env), admin)
	return root
}

func runCofferd(ctx context.Context, root *cobra.Command, args []string, env Env) int {
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	cmd, err := root.ExecuteContextC(ctx)
	return finish(env, cmd, err)
}

func cmdServe(env Env) *cobra.Command {
	var data, listen, certFile, keyFile, postgres, s3, metricsAddr string
	var hosts []string
	cmd := &cobra.Command{
		Use:   "serve (--data DIR | --postgres DSN --s3 URL) --listen ADDR",
		Short: "Run the server, with embedded storage in DIR (SQLite and a folder of blobs) or on PostgreSQL and an S3 bucket",
		Long: `Run the server with embedded storage in DIR, for one machine; or, for
organisations that outgrow one, on PostgreSQL (--postgres, a libpq
connection string; the password from PGPASSWORD or ~/.pgpass) and an
S3-compatible bucket (--s3 https://HOST[:PORT]/BUCKET; the keys from
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), shared by any number of
cofferd behind a load balancer that passes TLS through.

On first start it makes DIR (0700), a self-signed TLS certificate (unless
--tls-cert and --tls-key are given) and a one-time bootstrap token, written
to DIR/bootstrap-token and printed with the TLS key's fingerprint: give both
to 'cofferd admin init' on the admin's own machine. On PostgreSQL the
self-signed certificate is kept in the database, so that every server
presents the key devices pin, and so is the token, which every server
prints until the organisation is made.

Blocked exports, prints and copies devices report are printed on standard
output as CEF lines (logs go to standard error), for SIEMs that tail it.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if (data == "") == (postgres == "") || (postgres == "") != (s3 == "") {
				return usagef("give --data DIR (one machine), or --postgres DSN with --s3 URL (several servers)")
			}
			log := slog.New(slog.NewTextHandler(env.Stderr, nil))
			var st store.Store
			var cert tls.Certificate
			var pin [32]byte
			var where []any
			if data != "" {
				if err := os.MkdirAll(data, 0o700); err != nil {
					return err
				}
				es, err := embedded.Open(ctx, data)
				if err != nil {
					return err
				}
				defer es.Close()
				st = es
				if cert, pin, err = server.LoadOrMakeTLS(data, certFile, keyFile, hosts); err != nil {
					return err
				}
				where = []any{"data", data}
			} else {
				ss, err := scaleout.Open(ctx, scaleout.Config{Postgres: postgres, S3: s3,
					AccessKey: env.Getenv("AWS_ACCESS_KEY_ID"), SecretKey: env.Getenv("AWS_SECRET_ACCESS_KEY"),
					SessionToken: env.Getenv("AWS_SESSION_TOKEN"), Region: env.Getenv("AWS_REGION")})
				if err != nil {
					return err
				}
				defer ss.Close()
				st = ss
				if cert, pin, err = server.LoadOrMakeSharedTLS(ctx, st, certFile, keyFile, hosts); err != nil {
					return err
				}
				// Not the connection string: it may hold a password.
				where = []any{"store", "postgres", "s3", s3}
			}
			if missing := server.HostsNotIn(cert, hosts); len(missing) > 0 {
				// --host shapes the certificate made at the first start
				// only; it was silently ignored after.
				fmt.Fprintf(env.Stderr, "cofferd: the TLS certificate in use does not name %s: --host applies when the certificate is made, at the first start. Coffer devices pin its key, not a name, so they connect all the same; for other clients, give --tls-cert and --tls-key.\n",
					strings.Join(missing, ", "))
			}
			srv, err := server.New(ctx, server.Config{Store: st, TLSKeyHash: pin, Logger: log, Alerts: env.Stdout})
			if err != nil {
				return err
			}
			bootstrap := srv.BootstrapToken
			if data == "" {
				bootstrap = srv.SharedBootstrapToken
			}
			token, err := bootstrap(ctx)
			if err != nil {
				return err
			}
			switch {
			case token != "" && data != "":
				if err := vstore.WriteFileAtomic(filepath.Join(data, "bootstrap-token"), []byte(token+"\n"), 0o600); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "bootstrap token: %s (also in %s)\n", token, filepath.Join(data, "bootstrap-token"))
			case token != "":
				fmt.Fprintf(env.Stdout, "bootstrap token: %s (every server prints it until 'cofferd admin init' uses it)\n", token)
			}
			fmt.Fprintf(env.Stdout, "TLS key fingerprint: %s\n", hex.EncodeToString(pin[:]))
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			hs := &http.Server{
				Handler:           srv.Handler(),
				TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
				ReadHeaderTimeout: 10 * time.Second,
				ReadTimeout:       10 * time.Minute, // a 64 MiB object on a slow line
				IdleTimeout:       2 * time.Minute,
				ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
				BaseContext:       func(net.Listener) context.Context { return ctx },
			}
			if metricsAddr != "" {
				// Plain HTTP on a listener of its own: counts, routes and
				// status codes, nothing of the organisation's (see
				// sync/server/metrics.go); keep it off the public network.
				ml, err := net.Listen("tcp", metricsAddr)
				if err != nil {
					return fmt.Errorf("--metrics: %w", err)
				}
				mux := http.NewServeMux()
				mux.Handle("GET /metrics", srv.MetricsHandler())
				ms := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
				go func() { _ = ms.Serve(ml) }()
				defer ms.Close()
				fmt.Fprintf(env.Stdout, "metrics on http://%s/metrics\n", ml.Addr())
			}
			fmt.Fprintf(env.Stdout, "listening on https://%s\n", ln.Addr())
			log.Info("cofferd serving", append([]any{"addr", ln.Addr().String()}, where...)...)
			go func() {
				<-ctx.Done()
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = hs.Shutdown(sctx)
			}()
			if err := hs.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "the server's data folder (embedded storage, one machine)")
	cmd.Flags().StringVar(&postgres, "postgres", "", "PostgreSQL connection string (scale-out storage, with --s3)")
	cmd.Flags().StringVar(&s3, "s3", "", "S3 bucket URL, https://HOST[:PORT]/BUCKET (http:// to this machine only; scale-out storage, with --postgres)")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8443", "address to listen on")
	cmd.Flags().StringVar(&certFile, "tls-cert", "", "TLS certificate (PEM) instead of the self-signed one")
	cmd.Flags().StringVar(&keyFile, "tls-key", "", "its private key (PEM)")
	cmd.Flags().StringSliceVar(&hosts, "host", nil, "host names and addresses for the self-signed certificate")
	cmd.Flags().StringVar(&metricsAddr, "metrics", "", "serve Prometheus metrics at http://ADDR/metrics (plain HTTP: a loopback or management address)")
	return cmd
}

func cmdAdminInit(env Env) *cobra.Command {
	var serverURL, token, keyFile, orgName, fingerprint string
	cmd := &cobra.Command{
		Use:   "init --server URL --bootstrap TOKEN --key FILE [--org NAME] [--fingerprint HEX]",
		Short: "Create the organisation on a new server; its admin key goes to FILE, on this machine only",
		Long: `Create the organisation on a new server; its admin key goes to FILE, on
this machine only.

The token is the one cofferd serve printed (COFFERD_BOOTSTRAP in the
environment instead of --bootstrap keeps it out of the process list).
Give --fingerprint, the TLS key fingerprint cofferd serve printed: without
it, the key of whatever server answers is trusted, and every device
invited later pins it.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if token == "" {
				token = env.Getenv("COFFERD_BOOTSTRAP")
			}
			if token == "" {
				return usagef("give the bootstrap token cofferd serve printed: --bootstrap TOKEN, or COFFERD_BOOTSTRAP in the environment")
			}
			var pin [32]byte
			if fingerprint != "" {
				b, err := hex.DecodeString(strings.ReplaceAll(fingerprint, ":", ""))
				if err != nil || len(b) != 32 {
					return usagef("--fingerprint: want the 64 hex digits cofferd serve printed")
				}
				copy(pin[:], b)
			}
			if _, err := os.Stat(keyFile); err == nil {
				return fmt.Errorf("%s exists: an admin key is made once (keep it safe; it is the organisation's root)", keyFile)
			}
			pass, err := passphrase(env, true)
			if err != nil {
				return err
			}
			// The organisation's root key: a copy of its file must not
			// open to a guess, no more than a vault's.
			if err := strength.Check(pass, orgName); err != nil {
				return fmt.Errorf("the admin key's %w; nothing was created", err)
			}
			// The key is kept before the server makes the organisation:
			// a crash or a lost answer after must not leave one whose
			// admin key nobody holds.
			saved := false
			key, seen, err := client.Init(cmd.Context(), serverURL, strings.TrimSpace(token), orgName, pin, func(k *client.AdminKey) error {
				if err := client.SaveAdminKey(keyFile, k, pass); err != nil {
					return err
				}
				saved = true
				return nil
			})
			if err != nil && saved && errors.Is(err, client.ErrBootstrapRefused) {
				_ = os.Remove(keyFile)
			} else if err != nil && saved {
				return fmt.Errorf("%w; the admin key was kept in %s before the server was asked: if 'cofferd admin devices --key %s' works, the organisation was made and that key is its admin key", err, keyFile, keyFile)
			}
			if err != nil {
				return err
			}
			if fingerprint == "" {
				fmt.Fprintf(env.Stderr, "cofferd: the server's TLS key fingerprint is %s: check it is the one cofferd serve printed\n", hex.EncodeToString(seen[:]))
			}
			fmt.Fprintf(env.Stdout, "Created the organisation %q (%s). Its admin key is in %s: keep it, and its passphrase, safe and offline.\n",
				orgName, key.Org, keyFile)
			return nil
		},
	}
	cmd.Flags().StringVar(&serverURL, "server", "", "the server (https://host:port)")
	cmd.Flags().StringVar(&token, "bootstrap", "", "the server's one-time token, as cofferd serve printed it (default: $COFFERD_BOOTSTRAP)")
	cmd.Flags().StringVar(&keyFile, "key", "", "where to write the admin key")
	cmd.Flags().StringVar(&orgName, "org", "Coffer", "the organisation's name")
	cmd.Flags().StringVar(&fingerprint, "fingerprint", "", "the TLS key fingerprint cofferd serve printed")
	for _, f := range []string{"server", "key"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

// adminFlags are the flags of every admin command after init.
type adminFlags struct{ server, key string }

func (f *adminFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.server, "server", "", "the server (default: the one the key was made with)")
	cmd.Flags().StringVar(&f.key, "key", "", "the admin key file (required)")
	_ = cmd.MarkFlagRequired("key")
}

func (f *adminFlags) dial(ctx context.Context, env Env) (*client.Admin, error) {
	pass, err := passphrase(env, false)
	if err != nil {
		return nil, err
	}
	k, err := client.LoadAdminKey(f.key, pass)
	if err != nil {
		return nil, err
	}
	if f.server != "" {
		k.URL = f.server
	}
	return client.DialAdmin(ctx, k)
}

// with runs fn with a connection signed in with the admin key, and closes
// it.
func (f *adminFlags) with(cmd *cobra.Command, env Env, fn func(*client.Admin) error) error {
	a, err := f.dial(cmd.Context(), env)
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(a)
}

func cmdAdminInvite(env Env) *cobra.Command {
	var f adminFlags
	var email, role string
	var expires time.Duration
	cmd := &cobra.Command{
		Use:   "invite --server URL --key FILE --email E --role ROLE [--expires DUR]",
		Short: "Invite a person: prints the one-time invite code alone on its last line",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			r := policy.Role(role)
			if r == policy.Owner || !policy.Known(r) {
				return usagef("--role: one of admin, compliance, manager, member, risk, guest")
			}
			if err := checkEmail("email", email); err != nil {
				return err
			}
			return f.with(cmd, env, func(a *client.Admin) error {
				code, until, err := a.Invite(cmd.Context(), email, r, expires)
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "Invite for %s (%s), valid until %s UTC; it works once. Send this code:\n%s\n",
					email, role, until.UTC().Format("2006-01-02 15:04"), code)
				return nil
			})
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&email, "email", "", "the person's e-mail")
	cmd.Flags().StringVar(&role, "role", "member", "their role")
	cmd.Flags().DurationVar(&expires, "expires", 7*24*time.Hour, "how long the code stays valid (at most 2160h)")
	_ = cmd.MarkFlagRequired("email")
	return cmd
}

func cmdAdminDevices(env Env) *cobra.Command {
	var f adminFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "devices --server URL --key FILE [--json]",
		Short: "List the organisation's devices: user, name, last seen, address, audit trail",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.with(cmd, env, func(a *client.Admin) error {
				devs, err := a.Devices(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(env.Stdout).Encode(devs)
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "DEVICE\tUSER\tNAME\tOS\tLAST SEEN\tADDRESS\tLEASE END\tAUDIT\tSTATE")
				for _, d := range devs {
					seen, lease, state := "never", "-", d.State
					if d.LastSeen > 0 {
						seen = time.Unix(d.LastSeen, 0).UTC().Format("2006-01-02 15:04")
					}
					if d.LeaseEnd > 0 {
						lease = time.Unix(d.LeaseEnd, 0).UTC().Format("2006-01-02 15:04")
					}
					if state == "" {
						state = "active"
					}
					if d.AuditFlag != "" {
						state += ", audit " + d.AuditFlag
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", d.ID.String()[:12], display.Text(d.Email), display.Text(d.Name), display.Text(d.OS), seen, display.Text(d.LastIP), lease, d.AuditSeq, display.Text(state))
				}
				return tw.Flush()
			})
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func cmdAdminRevoke(env Env) *cobra.Command {
	var f adminFlags
	var device, reason string
	cmd := &cobra.Command{
		Use:   "revoke --server URL --key FILE --device ID [--reason TEXT]",
		Short: "Revoke a device: the server refuses it from its next request, other devices stop trusting it",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.with(cmd, env, func(a *client.Admin) error {
				id, err := a.FindDevice(device)
				if err != nil {
					return err
				}
				if err := a.Revoke(cmd.Context(), id, reason); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "Revoked %s.\n", display.Text(a.DeviceLabel(id)))
				return nil
			})
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&device, "device", "", "the device ID, or a unique prefix of it (8 hex digits at least)")
	cmd.Flags().StringVar(&reason, "reason", "revoked by the admin", "why, for the log")
	_ = cmd.MarkFlagRequired("device")
	return cmd
}
