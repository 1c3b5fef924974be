package assets

import (
	"io/fs"
	"testing"
)

func TestDemoDocuments(t *testing.T) {
	entries, err := fs.ReadDir(Demo, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 3 {
		t.Fatalf("demo has %d documents, the tour needs 3", len(entries))
	}
	for _, e := range entries {
		b, err := fs.ReadFile(Demo, "demo/"+e.Name())
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %d bytes, %v", e.Name(), len(b), err)
		}
	}
}
