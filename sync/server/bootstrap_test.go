package server

import (
	"context"
	"crypto/sha256"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/store/embedded"
)

// TestSharedBootstrapToken: servers sharing a store print one token, and
// keep printing it until the organisation is made; a server that died
// after keeping the token but before its hash leaves nothing lost.
func TestSharedBootstrapToken(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The crash: the token kept, its hash not yet.
	if err := st.PutMeta(ctx, metaBootstrapShared, nil, []byte("0123456789abcdef")); err != nil {
		t.Fatal(err)
	}
	var tokens []string
	for range 2 {
		s, err := New(ctx, Config{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := s.SharedBootstrapToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok)
	}
	sum := sha256.Sum256([]byte("0123456789abcdef"))
	if have, err := st.GetMeta(ctx, metaBootstrap); tokens[0] != "0123456789abcdef" || tokens[1] != tokens[0] || err != nil || string(have) != string(sum[:]) {
		t.Fatalf("tokens %q, stored hash %x %v", tokens, have, err)
	}
	// Used (as the bootstrap request marks it): no token any more.
	if err := st.PutMeta(ctx, metaBootstrap, sum[:], []byte("used")); err != nil {
		t.Fatal(err)
	}
	s, _ := New(ctx, Config{Store: st})
	if tok, err := s.SharedBootstrapToken(ctx); tok != "" || err != nil {
		t.Fatalf("after use: %q %v", tok, err)
	}
	// A bootstrap cut off after the organisation was made left the token
	// kept: the next start forgets it.
	if err := st.AppendLog(ctx, 0, store.LogRecord{Entry: []byte("genesis"), Hashes: []tlog.Hash{tlog.RecordHash([]byte("genesis"))}}); err != nil {
		t.Fatal(err)
	}
	if tok, err := s.SharedBootstrapToken(ctx); tok != "" || err != nil {
		t.Fatalf("with an organisation: %q %v", tok, err)
	}
	if kept, err := st.GetMeta(ctx, metaBootstrapShared); err != nil || string(kept) != "used" {
		t.Fatalf("the store keeps %q (%v) once the organisation exists", kept, err)
	}
}
