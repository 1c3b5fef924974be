// Command cofferd is Coffer's server and the organisation admin's tool; see
// internal/cli (cofferd.go) for the commands and sync/server for the API.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/coffer-vault/coffer/internal/cli"
	"github.com/coffer-vault/coffer/internal/version"
)

func main() {
	cli.Version = version.Get().String() // --version: release, commit, commit time
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	code := cli.CofferdMain(ctx, os.Args[1:], env)
	stop()
	os.Exit(code)
}
