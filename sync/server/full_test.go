package server

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/store/embedded"
	"github.com/coffer-vault/coffer/sync/wire"
)

// TestDiskFullIsSaid: the store's "no space left" — SQLite's SQLITE_FULL
// from a database that cannot grow, ENOSPC from /dev/full — reaches the
// client as 507 server-full with a message that says so, not as an
// internal error; other failures stay internal errors.
func TestDiskFullIsSaid(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "small.db")+"?_pragma=max_page_count(8)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE t (b BLOB)"); err != nil {
		t.Fatal(err)
	}
	var full error
	for i := 0; i < 100 && full == nil; i++ {
		_, full = db.Exec("INSERT INTO t VALUES (?)", make([]byte, 4096))
	}
	if full == nil {
		t.Fatal("a database of 8 pages took 100 pages of rows")
	}
	var nospace error
	if f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0); err == nil {
		_, nospace = f.Write([]byte("x"))
		f.Close()
	}
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cases := map[string]struct {
		err  error
		code string
	}{
		"SQLITE_FULL": {fmt.Errorf("store: %w", full), wire.CodeServerFull},
		"other":       {fmt.Errorf("store: %w", os.ErrPermission), wire.CodeInternal},
	}
	if nospace != nil {
		cases["ENOSPC"] = struct {
			err  error
			code string
		}{fmt.Errorf("store: blob: %w", nospace), wire.CodeServerFull}
	}
	for name, c := range cases {
		rec := httptest.NewRecorder()
		s.respond(rec, httptest.NewRequest("GET", "/v1/log", nil), c.err)
		var e wire.Error
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if e.Code != c.code || (c.code == wire.CodeServerFull) != (rec.Code == http.StatusInsufficientStorage) {
			t.Errorf("%s (%v): %d %+v", name, c.err, rec.Code, e)
		}
	}
}

// TestDamagedLogRefusedAtStart: a server whose stored log does not replay
// (a byte of store.db changed) does not start, saying why, instead of
// answering every request "internal error".
func TestDamagedLogRefusedAtStart(t *testing.T) {
	ctx := t.Context()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := New(ctx, Config{Store: st}); err != nil {
		t.Fatalf("a server with no organisation yet: %v", err)
	}
	if err := st.AppendLog(ctx, 0, store.LogRecord{Entry: []byte("coffer org entry v1\norg 00\nkind genesis\n\n— x\n")}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(ctx, Config{Store: st}); err == nil || !strings.Contains(err.Error(), "invalid at entry 0") || !strings.Contains(err.Error(), "restore the data folder") {
		t.Fatalf("a server with a damaged log: %v", err)
	}
}
