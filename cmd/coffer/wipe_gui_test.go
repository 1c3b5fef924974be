package main_test

import (
	"cmp"
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/orgtest"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

// Remote wipe in the real desktop window: `coffer gui` runs as its own
// process on Xvfb, the organisation's cofferd on loopback in the test's.

// acme starts a real cofferd on loopback (embedded storage, TLS) for an
// organisation "Acme" and signs its admin in.
func acme(t *testing.T) *client.Admin {
	t.Helper()
	return orgtest.Start(t, "Acme").Admin
}

// enrolDevice enrols a member's first device and returns its vault
// folder, closed, and the device's ID.
func enrolDevice(t *testing.T, admin *client.Admin, email, name, device string) (string, object.ID) {
	t.Helper()
	ctx := context.Background()
	code, _, err := admin.Invite(ctx, email, policy.Member, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "vault")
	a, err := app.Enroll(ctx, client.Enrollment{Dir: dir, Invite: code, Name: name, DeviceName: device, Passphrase: crashPass})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	a.Close()
	id, _, err := vault.ReadTransportKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, id
}

// checkReceipt waits for the device's receipt of the admin's order, as
// the admin verifies it.
func checkReceipt(t *testing.T, admin *client.Admin, device object.ID) {
	t.Helper()
	// The window appends the order after the keystroke: wait for it.
	for deadline := time.Now().Add(15 * time.Second); deviceState(t, admin, device) == "active"; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no wipe order was given")
		}
	}
	r, err := admin.WaitReceipt(context.Background(), device, 30*time.Second)
	if err != nil || r == nil {
		t.Fatalf("the wipe receipt: %v, %v", r, err)
	}
	if r.Cause != vault.CauseAdmin || r.Files == 0 {
		t.Errorf("receipt: cause %q, %d files", r.Cause, r.Files)
	}
}

// TestDesktopWipedNotice: the admin orders a laptop wiped while it is
// switched off. `coffer gui` started on it carries the wipe out before it
// asks for anything, sends the signed receipt, and shows the notice; the
// screenshot wiped-notice.png is kept in $COFFER_SCREENSHOTS.
func TestDesktopWipedNotice(t *testing.T) {
	needTools(t, "Xvfb", "xdotool", "import")
	bin := buildCoffer(t)
	admin := acme(t)
	dir, device := enrolDevice(t, admin, "ann@acme.test", "Ann Trader", "Ann's laptop")
	if err := admin.Wipe(context.Background(), device, "laptop left in a taxi"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "user.age")); err != nil {
		t.Fatal(err)
	}
	display := startXvfb(t)
	openWindow(t, bin, display, dir)
	// Nobody typed anything: the window's check did this.
	checkReceipt(t, admin, device)
	notice, err := os.ReadFile(filepath.Join(dir, vault.WipeNotice))
	if err != nil || !strings.Contains(string(notice), "by order of Acme's administrator") {
		t.Fatalf("the notice in the vault folder: %q, %v", notice, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "user.age")); !os.IsNotExist(err) {
		t.Errorf("the user key file after the wipe: %v", err)
	}
	time.Sleep(2 * time.Second) // the notice's frame, with the receipt's line
	path := filepath.Join(screenshotDir(t), "wiped-notice.png")
	img := screenshot(t, display, path)
	if n := textPixels(img, image.Rect(0, 0, 1200, 800)); n < 3000 {
		t.Errorf("the window shows no text (%d light pixels); see %s", n, path)
	}
}

// textPixels counts the light pixels in r: the text of the dark theme.
func textPixels(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if cr>>8 > 160 && cg>>8 > 160 && cb>>8 > 160 {
				n++
			}
		}
	}
	return n
}

// TestDesktopDevicesWindow: IT opens the organisation's devices from the
// first-run screen of a machine without a vault, with the admin key file
// and its passphrase, and wipes Ann's laptop, which sits at its unlock
// screen, from the real window: the name typed to confirm, the receipt
// shown. Screenshots devices.png and devices-receipt.png are kept in
// $COFFER_SCREENSHOTS.
func TestDesktopDevicesWindow(t *testing.T) {
	needTools(t, "Xvfb", "xdotool", "import")
	bin := buildCoffer(t)
	admin := acme(t)
	annDir, ann := enrolDevice(t, admin, "ann@acme.test", "Ann Trader", "Ann's laptop")
	enrolDevice(t, admin, "bob@acme.test", "Bob Analyst", "Bob's desk")
	keyFile := filepath.Join(t.TempDir(), "admin.key")
	if err := client.SaveAdminKey(keyFile, admin.Key, "admin key passphrase"); err != nil {
		t.Fatal(err)
	}
	// Ann's laptop is online, locked: what its unlock screen runs.
	ctx, cancel := context.WithCancel(context.Background())
	watched := make(chan error, 1)
	go func() { watched <- app.WatchLocked(ctx, annDir, nil, nil) }()
	t.Cleanup(func() { cancel(); <-watched })

	display := startXvfb(t)
	shots := screenshotDir(t)
	openWindow(t, bin, display, filepath.Join(t.TempDir(), "no-vault-yet"))
	// The window is 1200×800 at the origin: the link is under "Join".
	x(t, display, "xdotool", "mousemove", "600", "643", "click", "1")
	win := strings.Fields(x(t, display, "xdotool", "search", "--sync", "--name", "Organisation devices"))[0]
	time.Sleep(time.Second)
	x(t, display, "xdotool", "windowfocus", "--sync", win)
	// The key form is centred in a 1200×800 window at the origin.
	x(t, display, "xdotool", "mousemove", "595", "371", "click", "1")
	x(t, display, "xdotool", "type", "--delay", "20", keyFile)
	x(t, display, "xdotool", "mousemove", "630", "411", "click", "1")
	x(t, display, "xdotool", "type", "--delay", "20", "admin key passphrase")
	x(t, display, "xdotool", "key", "Return")
	time.Sleep(5 * time.Second) // scrypt, the log, the list
	screenshot(t, display, filepath.Join(shots, "devices.png"))

	// Ann's laptop is the first row (sorted by user); Wipe… is bottom right
	// of the 1180×720 window.
	x(t, display, "xdotool", "mousemove", "276", "136", "click", "1")
	time.Sleep(500 * time.Millisecond)
	x(t, display, "xdotool", "mousemove", "1132", "697", "click", "1")
	time.Sleep(time.Second)
	x(t, display, "xdotool", "type", "--delay", "20", "left in a taxi") // the reason has the focus
	x(t, display, "xdotool", "key", "Tab")
	x(t, display, "xdotool", "type", "--delay", "20", "ann's laptop")
	x(t, display, "xdotool", "key", "Return")
	time.Sleep(2 * time.Second)
	screenshot(t, display, filepath.Join(shots, "devices-confirm.png"))
	if state := deviceState(t, admin, ann); state != "active" {
		t.Fatalf("a near-miss name ordered the wipe: Ann's laptop is %q", state)
	}
	x(t, display, "xdotool", "key", "ctrl+a")
	x(t, display, "xdotool", "type", "--delay", "20", "Ann's laptop")
	x(t, display, "xdotool", "key", "Return")
	checkReceipt(t, admin, ann)
	if err := <-watched; !errors.Is(err, vault.ErrWiped) {
		t.Errorf("Ann's locked laptop: %v, want it wiped", err)
	}
	watched <- nil              // for the cleanup
	time.Sleep(2 * time.Second) // the window verifies the receipt too
	path := filepath.Join(shots, "devices-receipt.png")
	img := screenshot(t, display, path)
	if n := textPixels(img, image.Rect(0, 0, 1180, 720)); n < 3000 {
		t.Errorf("the window shows no text (%d light pixels); see %s", n, path)
	}
	if state := deviceState(t, admin, ann); state != "wiped" {
		t.Errorf("Ann's laptop is %q after its receipt, want wiped", state)
	}
}

// deviceState is the device's state as the server lists it.
func deviceState(t *testing.T, admin *client.Admin, device object.ID) string {
	t.Helper()
	devs, err := admin.Devices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if object.ID(d.ID) == device {
			return cmp.Or(d.State, "active")
		}
	}
	t.Fatalf("device %s not listed", device)
	return ""
}
