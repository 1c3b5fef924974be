// Command coffer is the Coffer desktop app and its command line; see
// internal/cli for the commands and ui for the window.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/assets"
	"github.com/coffer-vault/coffer/internal/cli"
	"github.com/coffer-vault/coffer/internal/nodump"
	// Before Fyne initialises: see the package's doc.
	_ "github.com/coffer-vault/coffer/internal/locale"
	"github.com/coffer-vault/coffer/internal/version"
	"github.com/coffer-vault/coffer/ui"
)

func main() {
	// First: no core dump of decrypted documents, of this process or the
	// converters it starts. A failure leaves things as they were.
	_ = nodump.Apply()
	cli.Version = version.Get().String() // --version: release, commit, commit time
	// SIGTERM too (kill, timeout, systemd): a cancelled import removes
	// what it stored at once instead of leaving it to the next writer.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, GUI: gui, DisplayVars: displayVars}
	code := cli.Main(ctx, os.Args[1:], env)
	stop()
	os.Exit(code)
}

// gui opens the desktop window on the vault in dir and returns when it is
// closed.
func gui(ctx context.Context, dir, inbox string) error {
	a := fyneapp.NewWithID("dev.coffer.desktop")
	a.SetIcon(fyne.NewStaticResource("coffer.png", assets.Icon()))
	u := ui.New(ctx, a, dir, app.Open, ui.Options{Inbox: inbox})
	u.Window().ShowAndRun()
	return nil
}
