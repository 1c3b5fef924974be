package office_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/preview/office"
)

// FuzzCheckEncrypted hands arbitrary bytes to the password check, which
// parses OLE compound files and zips of untrusted documents before any
// converter runs: it must never panic, and says only "password" or
// nothing.
func FuzzCheckEncrypted(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := office.CheckEncrypted(data); err != nil && !errors.Is(err, office.ErrPassword) {
			t.Fatalf("not a password error: %v", err)
		}
	})
}

func TestFuzzSeedsPresent(t *testing.T) { testenv.CheckFuzzSeeds(t) }

// TestWriteFuzzSeeds writes FuzzCheckEncrypted's seeds (small: the
// headers that matter, not whole documents) when COFFER_WRITE_SEEDS is
// set.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("COFFER_WRITE_SEEDS") == "" {
		t.Skip("COFFER_WRITE_SEEDS is not set")
	}
	var odf bytes.Buffer
	zw := zip.NewWriter(&odf)
	w, _ := zw.Create("META-INF/manifest.xml")
	w.Write([]byte(`<manifest:manifest><manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data/></manifest:file-entry></manifest:manifest>`))
	zw.Close()
	encrypted := encrypt(t, odf.Bytes())
	seeds := map[string][]byte{
		"encrypted-ooxml": encrypted,
		"odf-encrypted":   odf.Bytes(),
		"cfb-truncated":   encrypted[:600],
		"cfb-header-only": encrypted[:512],
		"zip-header":      []byte("PK\x03\x04garbage"),
		"empty":           nil,
	}
	files := map[string][]byte{}
	for name, data := range seeds {
		files[name] = testenv.FuzzCorpusFile(data)
	}
	testenv.WriteFuzzSeeds(t, "FuzzCheckEncrypted", files)
}
