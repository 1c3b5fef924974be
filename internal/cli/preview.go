package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/preview"
)

func cmdPreview(env Env) *cobra.Command {
	var dir, out string
	var page int
	var dpi float64
	var force bool
	cmd := &cobra.Command{
		Use:   "preview --vault DIR FOLDER/FILE [--page N] [--dpi D] --out PAGE.png",
		Short: "Write one watermarked page as PNG (exit 3 for confidential and restricted: a file is an export)",
		Args:  exactArgs(1, "FOLDER/FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			folder, file, err := splitPath(args[0])
			if err != nil {
				return err
			}
			if page < 1 || !(dpi >= 18 && dpi <= 600) { // NaN fails both
				return usagef("--page must be 1 or more and --dpi between 18 and 600")
			}
			if err := checkOut(out, "page.png", force); err != nil {
				return err
			}
			// PDFium starts on another core while the passphrase unlocks.
			early := app.StartPDF(cmd.Context())
			defer early.Abandon()
			return withVault(cmd, env, dir, func(a *app.App) error {
				a.UsePDF(early)
				p, err := a.Preview(cmd.Context(), folder, file, app.PreviewOptions{Page: page, DPI: dpi, ToFile: true})
				if err != nil {
					return err
				}
				var buf bytes.Buffer
				if err := preview.EncodePNG(&buf, p.Image); err != nil {
					return err
				}
				if err := writeNew(out, buf.Bytes(), force); err != nil {
					return outError(err, "page.png")
				}
				fmt.Fprintf(env.Stdout, "Wrote page %d of %d of %s to %s (trace code %s)\n", p.Page, p.Pages, display.Name(p.Version.Name), out, p.TraceCode)
				return nil
			})
		},
	}
	vaultFlag(cmd, &dir)
	cmd.Flags().StringVar(&out, "out", "", "PNG file to write (required)")
	cmd.Flags().IntVar(&page, "page", 1, "page number, from 1")
	cmd.Flags().Float64Var(&dpi, "dpi", 110, "resolution in dots per inch, 18 to 600")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing file at --out")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// writeNew writes data to path atomically (temp file, fsync, then a link
// that fails if path appeared meanwhile, or a rename over it with force).
func writeNew(path string, data []byte, force bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".coffer-*")
	if err != nil {
		// The temp file's name means nothing to the user.
		return &app.DestinationError{Path: filepath.Dir(path), Err: unwrapPath(err)}
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	rename := func() error {
		if err := os.Rename(tmp.Name(), path); err != nil {
			var le *os.LinkError
			if errors.As(err, &le) {
				err = le.Err
			}
			return &app.DestinationError{Path: filepath.Dir(path), Err: err}
		}
		return nil
	}
	if force {
		return rename()
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if _, serr := os.Lstat(path); serr == nil {
			return &app.DestinationError{Path: path, Err: fs.ErrExist}
		}
		return rename() // a filesystem without links
	}
	return nil
}

func cmdTrace(env Env) *cobra.Command {
	var dir string
	var org bool
	cmd := &cobra.Command{
		Use:   "trace --vault DIR [--org] CODE",
		Short: "Who saw what, when: resolve a watermark's trace code (--org: anywhere in the organisation)",
		Args:  exactArgs(1, "a trace CODE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(audit.NormalizeTraceCode(args[0])) != 11 {
				return usagef("%q is not a trace code: they look like K7Q4M-ZP2XA", args[0])
			}
			return withVault(cmd, env, dir, func(a *app.App) error {
				trace := a.Trace
				if org {
					trace = a.OrgTrace
				}
				res, err := trace(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				for _, e := range res.Events {
					device := e.Device[:min(12, len(e.Device))]
					if e.DeviceName != "" {
						device = fmt.Sprintf("%s (%s, %s)", device, display.Text(e.DeviceName), e.IP)
					}
					// A whole-file export has no page.
					page := ""
					if e.Page > 0 {
						page = fmt.Sprintf(" page %d", e.Page)
					}
					fmt.Fprintf(env.Stdout, "%s: %s by %s on device %s at %s UTC: %s/%s version %d%s\n",
						e.Trace, e.Action, e.User, device, e.Time.Format("2006-01-02 15:04:05"),
						display.Name(e.FolderName), display.Name(e.FileName), e.Version, page)
				}
				return nil
			})
		},
	}
	vaultFlag(cmd, &dir)
	cmd.Flags().BoolVar(&org, "org", false, "search every device's trail (compliance and risk)")
	return cmd
}
