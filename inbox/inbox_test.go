package inbox_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/inbox"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
)

func next(t *testing.T, w *inbox.Watcher) inbox.Event {
	t.Helper()
	select {
	case e := <-w.Events():
		return e
	case <-time.After(20 * time.Second):
		t.Fatal("no inbox event")
	}
	return inbox.Event{}
}

// vaultWith makes a vault with internal folders of those names; the
// test's cleanup closes it.
func vaultWith(t *testing.T, folders ...string) *app.App {
	t.Helper()
	a, err := app.Init(context.Background(), filepath.Join(t.TempDir(), "vault"), vault.Identity{Email: "ann@example.com"}, "inbox test passphrase")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	for _, name := range folders {
		if _, err := a.CreateFolder(context.Background(), name, policy.Internal); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// TestImportsSettledFilesIntoTheirFolders writes a file in pieces (as a
// slow copy does) into INBOX/Research and expects one import of the whole
// file once it settles, then the file gone from the inbox.
func TestImportsSettledFilesIntoTheirFolders(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := vaultWith(t, "Research")
	root := filepath.Join(t.TempDir(), "inbox")
	if err := os.MkdirAll(filepath.Join(root, "Research"), 0o700); err != nil {
		t.Fatal(err)
	}
	imports := 0
	w, err := inbox.New(root, 400*time.Millisecond, func(ctx context.Context, folder, name string, f *os.File, info fs.FileInfo) error {
		imports++
		_, err := a.ImportOpened(ctx, folder, name, f, info, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	go w.Run(ctx)

	path := filepath.Join(root, "Research", "notes.txt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Repeat("quarterly notes, part of a slow copy\n", 200)
	for i := 0; i < len(want); i += len(want) / 4 {
		f.WriteString(want[i:min(i+len(want)/4, len(want))])
		f.Sync()
		time.Sleep(150 * time.Millisecond) // under the settle time
	}
	f.Close()
	e := next(t, w)
	if e.Err != nil || e.Folder != "Research" || imports != 1 {
		t.Fatalf("event %+v after %d imports", e, imports)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("imported file still in the inbox: %v", err)
	}
	var got bytes.Buffer
	f2, _ := a.Folder(ctx, "Research")
	if _, err := a.Vault().WriteTo(ctx, &got, f2, "notes.txt", 0); err != nil || got.String() != want {
		t.Fatalf("vault holds %d bytes (%v), want %d", got.Len(), err, len(want))
	}

	// A folder the vault does not have: reported, and the file stays.
	if err := os.MkdirAll(filepath.Join(root, "Nowhere"), 0o700); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the watcher see the new folder
	stray := filepath.Join(root, "Nowhere", "x.txt")
	if err := os.WriteFile(stray, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	e = next(t, w)
	if e.Err == nil || !strings.Contains(e.Err.Error(), "Nowhere") {
		t.Errorf("stray file: %+v", e)
	}
	if _, err := os.Stat(stray); err != nil {
		t.Errorf("a file that failed to import left the inbox: %v", err)
	}
}

// A link in the inbox is never followed: to a file outside (a private
// key), in a vault folder's subfolder, or as the subfolder itself (a link
// named after the vault folder, to ~/.ssh). Each is reported, nothing is
// imported, and the files the links point to are all still there. The
// inbox followed links: it imported ~/.ssh's keys into the folder (synced
// to its members) and then deleted them.
func TestLinksAreNotFollowed(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := vaultWith(t, "Research", "Internal")
	ssh := filepath.Join(t.TempDir(), ".ssh")
	if err := os.MkdirAll(ssh, 0o700); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----", "secret.txt": "the user's own file"}
	for name, text := range secrets {
		if err := os.WriteFile(filepath.Join(ssh, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	root := filepath.Join(t.TempDir(), "inbox")
	if err := os.MkdirAll(filepath.Join(root, "Research"), 0o700); err != nil {
		t.Fatal(err)
	}
	// Made before the watch (found when it starts) and after (seen as
	// events): a linked subfolder, and a linked file.
	if err := os.Symlink(ssh, filepath.Join(root, "Internal")); err != nil {
		t.Fatal(err)
	}
	var imported []string
	w, err := inbox.New(root, 300*time.Millisecond, func(ctx context.Context, folder, name string, f *os.File, info fs.FileInfo) error {
		imported = append(imported, folder+"/"+name)
		_, err := a.ImportOpened(ctx, folder, name, f, info, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	go w.Run(ctx)
	link := filepath.Join(root, "Research", "harmless.txt")
	if err := os.Symlink(filepath.Join(ssh, "secret.txt"), link); err != nil {
		t.Fatal(err)
	}
	e := next(t, w)
	if e.Err == nil || !strings.Contains(e.Err.Error(), "symbolic link") || e.Path != link {
		t.Errorf("a linked file: %+v, want it refused as a link", e)
	}
	// A real file after: taken as usual (the watch goes on).
	real := filepath.Join(root, "Research", "real.txt")
	if err := os.WriteFile(real, []byte("real"), 0o600); err != nil {
		t.Fatal(err)
	}
	if e := next(t, w); e.Err != nil || e.Path != real {
		t.Errorf("a real file after the link: %+v", e)
	}
	if _, err := os.Lstat(link); err != nil {
		t.Errorf("the refused link left the inbox: %v", err)
	}
	for name, text := range secrets {
		if got, err := os.ReadFile(filepath.Join(ssh, name)); err != nil || string(got) != text {
			t.Errorf("%s, which a link pointed to: %q %v", name, got, err)
		}
	}
	if len(imported) != 1 || imported[0] != "Research/real.txt" {
		t.Errorf("imported %q, want only Research/real.txt", imported)
	}
	f, _ := a.Folder(ctx, "Internal")
	if files, err := a.Vault().Files(ctx, f); err != nil || len(files) != 0 {
		t.Errorf("the folder a linked subfolder named holds %d files (%v)", len(files), err)
	}

	// A subfolder that was real when watched, then made a link to
	// another subfolder (os.Root follows links that stay inside): its
	// file waiting is not taken from where the link leads. A watch of its
	// own, settling for 2 s: the swap comes after the watch saw the file
	// (a second, even on a loaded machine) and before it takes it.
	cancel()
	for range w.Events() {
	}
	if err := os.Remove(filepath.Join(root, "Internal")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(root, "Internal", "stays.txt"), filepath.Join(root, "Research", "stays.txt")} {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(p), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	w2, err := inbox.New(root, 2*time.Second, func(ctx context.Context, folder, name string, f *os.File, info fs.FileInfo) error {
		_, err := a.ImportOpened(ctx, folder, name, f, info, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	go w2.Run(ctx2)
	time.Sleep(time.Second)
	// One step (the test's own race otherwise: a flush between moving
	// the folder away and making the link finds no Internal at all).
	swapForLink(t, filepath.Join(root, "Internal"), "Research")
	// Three files wait: Research/stays.txt, the refused link left in
	// Research, and Internal/stays.txt; the order is the watcher's.
	refused := false
	for range 3 {
		switch e := next(t, w2); {
		case e.Folder == "Internal" && e.Err == nil:
			t.Errorf("a file was taken through a linked subfolder: %+v", e)
		case e.Folder == "Internal":
			refused = strings.Contains(e.Err.Error(), "a link, not a folder")
			if !refused {
				t.Errorf("the file in the subfolder made a link: %v", e.Err)
			}
		case e.Path == link && e.Err == nil:
			t.Errorf("the link left in Research was taken: %+v", e)
		case e.Path != link && e.Err != nil:
			t.Errorf("Research/stays.txt: %v", e.Err)
		}
	}
	if !refused {
		t.Error("the file waiting in the subfolder made a link was not refused")
	}
}
