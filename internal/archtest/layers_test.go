package archtest

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/coffer-vault/coffer/internal/testenv"
)

const module = "github.com/coffer-vault/coffer"

// TestCoreDoesNotImportFyne fails the build when a package below the GUI
// pulls in Fyne: every use case must run and be tested headless.
func TestCoreDoesNotImportFyne(t *testing.T) {
	pkgs := goList(t, "-f", "{{.ImportPath}}", module+"/...")
	if len(pkgs) < 8 {
		t.Fatalf("go list found only %d packages: %v", len(pkgs), pkgs)
	}
	for _, p := range pkgs {
		if isGUI(p) {
			continue
		}
		for _, d := range goList(t, "-deps", "-f", "{{.ImportPath}}", p) {
			if strings.HasPrefix(d, "fyne.io/") {
				t.Errorf("%s imports %s (through its dependencies); only ui/ and cmd/coffer may", p, d)
				break
			}
		}
	}
}

// TestLayers checks that dependencies point one way: ui → app → core.
func TestLayers(t *testing.T) {
	// package → module packages it must not import ("vault$": the vault
	// package itself, not vault/object, the envelope the server parses).
	// The server shares only wire types and verification with the client.
	rules := map[string][]string{
		"vault":       {"app", "internal/cli", "ui", "sync/client", "sync/server", "sync/store"},
		"policy":      {"vault", "app", "audit", "internal/cli", "ui"},
		"audit":       {"vault", "app", "internal/cli", "ui"},
		"app":         {"internal/cli", "ui"},
		"sync/orglog": {"vault$", "app", "sync/client", "sync/server", "sync/store", "ui", "internal/cli"},
		"sync/wire":   {"vault$", "app", "sync/client", "sync/server", "sync/store", "ui", "internal/cli"},
		"sync/store":  {"vault$", "app", "sync/client", "sync/server", "ui", "internal/cli"},
		"sync/server": {"vault$", "app", "sync/client", "ui", "internal/cli"},
		"sync/client": {"sync/server", "sync/store", "app", "ui", "internal/cli"},
	}
	for pkg, banned := range rules {
		for _, d := range goList(t, "-deps", "-f", "{{.ImportPath}}", module+"/"+pkg+"/...") {
			for _, b := range banned {
				exact, hit := strings.CutSuffix(b, "$")
				if d == module+"/"+exact || (!hit && strings.HasPrefix(d, module+"/"+b+"/")) {
					t.Errorf("%s depends on %s", pkg, d)
				}
			}
		}
	}
}

func isGUI(pkg string) bool {
	rel := strings.TrimPrefix(pkg, module)
	return rel == "/cmd/coffer" || rel == "/ui" || strings.HasPrefix(rel, "/ui/")
}

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = testenv.RepoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out))
}
