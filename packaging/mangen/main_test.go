package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/coffer-vault/coffer/internal/cli"
)

// TestEveryCommandHasAPage walks both command trees and wants a page for
// each command that is not hidden, the exit codes on the root pages, and
// the same bytes from a second run on the same SOURCE_DATE_EPOCH.
func TestEveryCommandHasAPage(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if err := run(dir, "0.1.0", "1796037420"); err != nil {
			t.Fatal(err)
		}
	}
	coffer, cofferd := cli.Roots(cli.Env{})
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		pa, err := os.ReadFile(filepath.Join(a, name))
		if err != nil {
			t.Errorf("no page for %q: %v", c.CommandPath(), err)
			return
		}
		pb, err := os.ReadFile(filepath.Join(b, name))
		if err != nil || !bytes.Equal(pa, pb) {
			t.Errorf("%s differs between two runs", name)
		}
		n++
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(coffer)
	walk(cofferd)
	if n < 20 {
		t.Errorf("only %d pages", n)
	}
	for _, root := range []string{"coffer.1", "cofferd.1"} {
		page, err := os.ReadFile(filepath.Join(a, root))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{".SH EXIT STATUS", ".B 3\nblocked by policy", ".B COFFER_PASSPHRASE", "--version", `"Nov 2026" "Coffer 0.1.0"`} {
			if !strings.Contains(string(page), want) {
				t.Errorf("%s lacks %q", root, want)
			}
		}
		if strings.Contains(string(page), "Auto generated") {
			t.Errorf("%s carries cobra's generation date line", root)
		}
	}
}

func TestNeedsTheCommitTime(t *testing.T) {
	if err := run(t.TempDir(), "0.1.0", ""); err == nil {
		t.Error("no error without SOURCE_DATE_EPOCH: the pages would carry the day they were made")
	}
}
