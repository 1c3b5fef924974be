package server

import (
	"slices"
	"testing"
)

// TestHostsNotIn: the self-signed certificate names the hosts it was made
// for; --host given at a later start is reported, not silently ignored.
func TestHostsNotIn(t *testing.T) {
	dir := t.TempDir()
	cert, _, err := LoadOrMakeTLS(dir, "", "", []string{"coffer.bank.example", "10.1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	if got := HostsNotIn(cert, []string{"coffer.bank.example", "10.1.2.3", "localhost"}); len(got) != 0 {
		t.Fatalf("the hosts it was made for: %v not named", got)
	}
	again, _, err := LoadOrMakeTLS(dir, "", "", []string{"vault.bank.example"})
	if err != nil {
		t.Fatal(err)
	}
	if got := HostsNotIn(again, []string{"vault.bank.example", "coffer.bank.example"}); !slices.Equal(got, []string{"vault.bank.example"}) {
		t.Fatalf("a host given at a later start: %v", got)
	}
}
