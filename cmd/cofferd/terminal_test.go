package main_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/testenv"
)

// runOnTerminal runs bin with a pseudo-terminal as its standard input (and
// controlling terminal), types ahead into it before the command starts
// and answer once the command has written prompt, and returns the exit
// code and what the command wrote to stdout and stderr. The command is
// killed after a minute.
func runOnTerminal(t *testing.T, pass, bin, ahead, prompt, answer string, args ...string) (int, string) {
	t.Helper()
	ptmx, pts := testenv.PTY(t)
	if _, err := ptmx.WriteString(ahead); err != nil {
		t.Fatal(err)
	}
	go func() { // the terminal's echo, so that it never fills
		b := make([]byte, 4096)
		for {
			if _, err := ptmx.Read(b); err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "COFFER_PASSPHRASE="+pass)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	var out bytes.Buffer
	read := make(chan struct{})
	go func() {
		defer close(read)
		b := make([]byte, 4096)
		typed := false
		for {
			n, err := r.Read(b)
			out.Write(b[:n])
			if !typed && bytes.Contains(out.Bytes(), []byte(prompt)) {
				typed = true
				ptmx.WriteString(answer + "\n")
			}
			if err != nil {
				return
			}
		}
	}()
	err = cmd.Wait()
	<-read
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String()
	}
	t.Fatalf("%v\n%s", err, out.String())
	return 0, ""
}
