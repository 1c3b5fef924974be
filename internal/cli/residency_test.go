package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/coffer-vault/coffer/sync/wire"
)

// TestResidencyReport: the report as an admin reads it, for counts of one
// and of several, an S3 region and what it means, a state this version
// does not know, and a lying server's control characters (escaped, never
// sent to the terminal).
func TestResidencyReport(t *testing.T) {
	r := wire.Residency{Server: "db1", Backend: "scale-out",
		Places: []wire.ResidencyPlace{
			{Holds: "the tables", Kind: "postgresql", Where: "db.example.com:5432 database coffer"},
			{Holds: "the objects", Kind: "s3", Where: "https://minio.example.com bucket coffer\x1b]8;;evil\x07", Region: "us-east-1", Note: "a signing label"},
		},
		Objects: []wire.ObjectCount{{Kind: "chunk", Count: 1234, Bytes: 5 << 20}, {Kind: "manifest", Count: 1, Bytes: 2048}},
		Devices: map[string]int{"active": 3, "revoked": 1, "wipe pending": 2, "wiped itself": 1, "wiped": 4, "quarantined\u202e": 1},
		Copies:  1}
	var b bytes.Buffer
	printResidency(Env{Stdout: &b}, r)
	out := b.String()
	for _, want := range []string{
		"Answered by cofferd on db1, scale-out store.\n",
		"PostgreSQL db.example.com:5432 database coffer holds the tables.\n",
		`S3 https://minio.example.com bucket coffer\x1b]8;;evil\a holds the objects.` + "\n",
		"  Region us-east-1: a signing label.\n",
		"Objects indexed: 1,235 objects, 5.0 MiB of ciphertext\n",
		"Devices: 3 active, 1 revoked, 2 wipe pending, 1 wiped itself, 4 wiped, 1 quarantined\\u202e.\n",
		"  Revoked, never ordered wiped: 1. Revoking erases nothing",
		"  2 devices ordered wiped did not answer yet.\n",
		"  Self-wipes reported: 1, each the device's own word",
		"wiped in turn: 1. There may be more.\n",
		"Not known to the server: backups",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report does not say %q:\n%s", want, out)
		}
	}
	if strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Errorf("a control character reached the terminal:\n%q", out)
	}
}
