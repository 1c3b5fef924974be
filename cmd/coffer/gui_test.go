package main_test

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/testenv"
)

// needTools skips without the X tools, except in CI, which installs them.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing; .ci/run must install it", tool)
			}
			t.Skipf("%s not installed (apt-get install xvfb xdotool imagemagick)", tool)
		}
	}
}

// startXvfb starts a virtual screen and returns its display. Xvfb picks a
// free display number itself (-displayfd), so stale lock files of killed
// servers in /tmp do not matter; it is stopped with SIGTERM, which removes
// its own lock file.
func startXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x900x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w} // fd 3 in Xvfb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(r).ReadString('\n')
	n, perr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || perr != nil {
		t.Fatalf("Xvfb did not report its display: %q, %v", line, err)
	}
	display := fmt.Sprintf(":%d", n)
	for range 50 {
		probe := exec.Command("xdotool", "getdisplaygeometry")
		probe.Env = append(os.Environ(), "DISPLAY="+display)
		if probe.Run() == nil {
			return display
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("Xvfb on %s did not come up", display)
	return ""
}

func x(t *testing.T, display string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func screenshot(t *testing.T, display, path string) image.Image {
	t.Helper()
	x(t, display, "import", "-window", "root", path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// pageShown reports whether the preview region holds a rendered page with
// the watermark: mostly white paper, some dark text, some reddish pixels.
func pageShown(img image.Image, r image.Rectangle) (white, dark, red int) {
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for xx := r.Min.X; xx < r.Max.X; xx += 2 {
			cr, cg, cb, _ := img.At(xx, y).RGBA()
			R, G, B := cr>>8, cg>>8, cb>>8
			switch {
			case R > 240 && G > 240 && B > 240:
				white++
			case R < 80 && G < 80 && B < 80:
				dark++
			case R > G+20 && R > B+20 && G < 236:
				red++
			}
		}
	}
	return
}

// TestDesktopWindow starts `coffer gui` on a real X server (Xvfb), types
// the passphrase with xdotool, opens a confidential PDF and checks the
// screenshot: the window exists, is not blank, and its preview region
// shows the page with the watermark. COFFER_SCREENSHOTS=DIR keeps the PNGs.
func TestDesktopWindow(t *testing.T) {
	needTools(t, "Xvfb", "xdotool", "import")
	bin := buildCoffer(t)
	dir := filepath.Join(t.TempDir(), "vault")
	mustRun(t, bin, "init", "--vault", dir, "--user", "ann@example.com", "--name", "Ann Trader")
	mustRun(t, bin, "folder", "create", "--vault", dir, "Deals", "--class", "confidential")
	mustRun(t, bin, "import", "--vault", dir, "--folder", "Deals", filepath.Join(testenv.Corpus(t), "pdf", "asy-latex.pdf"))
	display := startXvfb(t)
	shots := screenshotDir(t)
	openWindow(t, bin, display, dir)
	x(t, display, "xdotool", "type", "--delay", "40", crashPass)
	x(t, display, "xdotool", "key", "Return")

	// The window is 1200×800 at the origin under the menu bar: folders on
	// the left, the file table top right, the preview below it.
	preview := image.Rect(260, 340, 1190, 750)
	deadline := time.Now().Add(60 * time.Second)
	for attempt := 1; ; attempt++ {
		time.Sleep(2 * time.Second)
		x(t, display, "xdotool", "mousemove", "50", "88", "click", "1")
		time.Sleep(700 * time.Millisecond)
		x(t, display, "xdotool", "mousemove", "300", "125", "click", "1")
		time.Sleep(3 * time.Second)
		path := filepath.Join(shots, fmt.Sprintf("desktop-%d.png", attempt))
		img := screenshot(t, display, path)
		all, darkAll, _ := pageShown(img, image.Rect(0, 0, 1200, 800))
		white, dark, red := pageShown(img, preview)
		t.Logf("%s: preview white %d, text %d, watermark %d (whole window: white %d, dark %d)", path, white, dark, red, all, darkAll)
		if white > 20000 && dark > 100 && red > 500 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the preview never showed a watermarked page; see %s", path)
		}
	}
}

// TestDesktopFirstRun creates a vault from the first-run screen of a real
// window: name, e-mail and passphrase typed with xdotool, then a first
// folder with Ctrl+N; the command line then opens the vault with that
// passphrase and lists the folder as confidential (the dialog's default).
func TestDesktopFirstRun(t *testing.T) {
	needTools(t, "Xvfb", "xdotool", "import")
	bin := buildCoffer(t)
	dir := filepath.Join(t.TempDir(), "new-vault")
	display := startXvfb(t)
	openWindow(t, bin, display, dir)
	const firstPass = "gravel tulip anchor noodle"
	for i, field := range []string{"Ann Trader", "ann@example.com", firstPass, firstPass} {
		if i > 0 {
			x(t, display, "xdotool", "key", "Tab")
		}
		x(t, display, "xdotool", "type", "--delay", "30", field)
	}
	x(t, display, "xdotool", "key", "Return") // submits from the last field
	waitFor(t, "the vault on disk", func() bool { _, err := os.Stat(filepath.Join(dir, "coffer.json")); return err == nil })
	time.Sleep(2 * time.Second) // the main view replaces the form
	x(t, display, "xdotool", "key", "ctrl+n")
	time.Sleep(time.Second)
	x(t, display, "xdotool", "type", "--delay", "30", "Deals")
	x(t, display, "xdotool", "key", "Return")
	shot := filepath.Join(screenshotDir(t), "first-run.png")
	var out string
	waitFor(t, "the folder Deals", func() bool {
		cmd := exec.Command(bin, "ls", "--vault", dir)
		cmd.Env = append(os.Environ(), "COFFER_PASSPHRASE="+firstPass)
		b, _ := cmd.CombinedOutput()
		out = string(b)
		return strings.Contains(out, "Deals")
	})
	if !strings.Contains(out, "confidential") {
		t.Errorf("coffer ls after the first run:\n%s", out)
	}
	img := screenshot(t, display, shot)
	_, dark, _ := pageShown(img, image.Rect(0, 0, 1200, 800))
	if dark < 10000 {
		t.Errorf("the window looks blank (%d dark pixels); see %s", dark, shot)
	}
}

// openWindow starts `coffer gui` on the vault folder dir on display,
// waits for its window, checks the title and gives it the keyboard.
func openWindow(t *testing.T, bin, display, dir string) {
	t.Helper()
	gui := exec.Command(bin, "gui", "--vault", dir)
	gui.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+t.TempDir())
	if err := gui.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gui.Process.Kill(); _ = gui.Wait() })
	win := strings.Fields(x(t, display, "xdotool", "search", "--sync", "--name", "Coffer"))[0]
	if name := x(t, display, "xdotool", "getwindowname", win); !strings.HasPrefix(name, "Coffer") {
		t.Fatalf("window title %q", name)
	}
	time.Sleep(time.Second) // let the first frame and focus settle
	// No window manager runs under Xvfb: focus the window directly.
	x(t, display, "xdotool", "windowfocus", "--sync", win)
}

// screenshotDir is $COFFER_SCREENSHOTS, where the PNGs are kept, or a
// temporary folder.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("COFFER_SCREENSHOTS"); d != "" {
		return d
	}
	return t.TempDir()
}

// waitFor polls cond for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
