//go:build !linux

package office

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"
)

// On Windows and macOS there are no namespaces and no RAM folder a user
// can make without administrator rights, so the only sandbox is
// TempFolder: a 0700 folder in the user's temp folder, removed after each
// conversion and, after a crash, at the next start. The time limit kills
// LibreOffice; the memory limit is not enforced (no job object or
// resource limit is set up here). RAMBacked reports false, so that the
// caller keeps documents that must never touch a disk away from it.

func probe(_ context.Context, _ string, want Isolation) (Isolation, error) {
	if want != Auto && want != TempFolder {
		return 0, fmt.Errorf("%w: only the temp folder sandbox exists on %s", ErrSandbox, runtime.GOOS)
	}
	return TempFolder, nil
}

func privateBases() []string { return []string{os.TempDir()} }

func convertIn(ctx context.Context, _ Isolation, j job) (result, error) {
	dir, remove, err := privateFolder(os.TempDir())
	if err != nil {
		return result{}, fmt.Errorf("%w: %v", ErrSandbox, err)
	}
	defer remove()
	profile := filepath.Join(dir, "profile")
	out := filepath.Join(dir, "out")
	for _, d := range []string{filepath.Join(profile, "user"), out} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return result{}, fmt.Errorf("%w: %v", ErrSandbox, err)
		}
	}
	if err := os.WriteFile(filepath.Join(profile, "user", "registrymodifications.xcu"), []byte(j.profile), 0o600); err != nil {
		return result{}, fmt.Errorf("%w: %v", ErrSandbox, err)
	}
	in := filepath.Join(dir, workName(j.ext))
	if err := os.WriteFile(in, j.data, 0o600); err != nil {
		return result{}, fmt.Errorf("%w: %v", ErrSandbox, err)
	}
	ctx, cancel := context.WithTimeout(ctx, j.timeout)
	defer cancel()
	errOut := &tail{max: 16 << 10}
	var runErr error
	for range 3 {
		cmd := exec.CommandContext(ctx, j.program, "-env:UserInstallation="+fileURL(profile), "--headless",
			"--invisible", "--nodefault", "--nologo", "--norestore", "--nolockcheck",
			"--convert-to", "pdf", "--outdir", out, in)
		cmd.Stdout, cmd.Stderr = errOut, errOut
		cmd.Dir = dir
		cmd.WaitDelay = 2 * time.Second
		runErr = cmd.Run()
		var exit *exec.ExitError
		if !errors.As(runErr, &exit) || exit.ExitCode() != 81 {
			break // 81: a new profile was made; start again
		}
	}
	res := result{stderr: errOut.Bytes()}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		res.killed = killedTime
		return res, nil
	}
	if runErr != nil {
		res.status, res.exit = statusFailed, runErr.Error()
		return res, nil
	}
	f, err := os.Open(filepath.Join(out, "document.pdf"))
	if err != nil {
		res.status = statusNoPDF
		return res, nil
	}
	defer f.Close()
	pdf, err := io.ReadAll(io.LimitReader(f, j.maxOutput+1))
	if err != nil {
		return res, fmt.Errorf("%w: reading the PDF: %v", ErrSandbox, err)
	}
	if int64(len(pdf)) > j.maxOutput {
		res.killed = killedOutput
		return res, nil
	}
	res.pdf = bytes.Clone(pdf)
	return res, nil
}

// fileURL is the file: URL LibreOffice takes for a profile folder.
func fileURL(path string) string {
	p := filepath.ToSlash(path)
	if runtime.GOOS == "windows" {
		p = "/" + p
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}
