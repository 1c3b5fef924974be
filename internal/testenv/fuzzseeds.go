package testenv

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CheckFuzzSeeds fails if a fuzz target declared in the current package's
// test files has fewer than 5 seed files in testdata/fuzz/<target>, or a
// seed file that does not decode to the target's arguments: such seeds
// would load nothing, or test nothing useful.
func CheckFuzzSeeds(t *testing.T) {
	t.Helper()
	targets := fuzzTargets(t)
	if len(targets) == 0 {
		t.Fatal("found no fuzz targets in this package's test files")
	}
	for name, nargs := range targets {
		dir := filepath.Join("testdata", "fuzz", name)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		n := 0
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			if lines[0] != "go test fuzz v1" {
				t.Errorf("%s/%s: not a \"go test fuzz v1\" file", name, e.Name())
				continue
			}
			if got := len(lines) - 1; got != nargs {
				t.Errorf("%s/%s: %d values, %s takes %d", name, e.Name(), got, name, nargs)
				continue
			}
			n++
		}
		if n < 5 {
			t.Errorf("%s: %d seed files in %s, want at least 5", name, n, dir)
		}
	}
}

// FuzzCorpusFile encodes values in the "go test fuzz v1" format.
func FuzzCorpusFile(vals ...any) []byte {
	b := []byte("go test fuzz v1\n")
	for _, v := range vals {
		switch v := v.(type) {
		case []byte:
			b = fmt.Appendf(b, "[]byte(%q)\n", v)
		case byte:
			b = fmt.Appendf(b, "byte(%q)\n", v)
		case uint32:
			b = fmt.Appendf(b, "uint32(%d)\n", v)
		default:
			panic(fmt.Sprintf("FuzzCorpusFile: unsupported %T", v))
		}
	}
	return b
}

// WriteFuzzSeeds writes seed files for a fuzz target of the current package.
func WriteFuzzSeeds(t *testing.T, target string, files map[string][]byte) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fuzzTargets returns the Fuzz functions declared in this package's test
// files, with the number of arguments their f.Fuzz callback takes.
func fuzzTargets(t *testing.T) map[string]int {
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]int{}
	fset := token.NewFileSet()
	for _, file := range files {
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Fuzz") || fn.Body == nil {
				continue
			}
			nargs := -1
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "Fuzz" || len(call.Args) != 1 {
					return true
				}
				if lit, ok := call.Args[0].(*ast.FuncLit); ok {
					nargs = -1 // the *testing.T
					for _, field := range lit.Type.Params.List {
						nargs += max(1, len(field.Names))
					}
				}
				return false
			})
			if nargs < 1 {
				t.Errorf("%s: cannot find its f.Fuzz callback", fn.Name.Name)
				continue
			}
			targets[fn.Name.Name] = nargs
		}
	}
	return targets
}
