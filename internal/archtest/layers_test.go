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
	rules := map[string][]string{ // package → module packages it must not import
		"vault":  {"app", "internal/cli", "ui"},
		"policy": {"vault", "app", "audit", "internal/cli", "ui"},
		"audit":  {"vault", "app", "internal/cli", "ui"},
		"app":    {"internal/cli", "ui"},
	}
	for pkg, banned := range rules {
		for _, d := range goList(t, "-deps", "-f", "{{.ImportPath}}", module+"/"+pkg) {
			for _, b := range banned {
				if d == module+"/"+b || strings.HasPrefix(d, module+"/"+b+"/") {
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
