// Command coffer is the Coffer desktop client and its command line; see
// internal/cli for the commands.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/coffer-vault/coffer/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Main(ctx, os.Args[1:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}
