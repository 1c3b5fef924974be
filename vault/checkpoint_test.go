package vault

import (
	"strings"
	"testing"
)

// FuzzParseCheckpoint: the checkpoint is read from a file anyone with the
// vault folder can write (its signature is checked first, but the parser
// must hold on any text). What parses must print back to the same text, so
// that one state has exactly one encoding.
func FuzzParseCheckpoint(f *testing.F) {
	f.Add(checkpoint{}.text())
	f.Fuzz(func(t *testing.T, text string) {
		c, err := parseCheckpoint(text)
		if err != nil {
			return
		}
		if got := c.text(); got != text {
			t.Fatalf("parsed %q, prints back as %q", text, got)
		}
	})
}

func TestParseCheckpointIsStrict(t *testing.T) {
	good := checkpoint{AuditSeq: 7, PolicySerial: 3, OrgSize: 12, ServerTime: 1_800_000_000_000_000_000}
	good.AuditHash[0] = 0xab
	good.OrgHash[1] = 0xcd
	if c, err := parseCheckpoint(good.text()); err != nil || c != good {
		t.Fatalf("round trip: %+v, %v", c, err)
	}
	withSeq := good
	withSeq.ServerAudit = 5
	if c, err := parseCheckpoint(withSeq.text()); err != nil || c != withSeq || !strings.Contains(withSeq.text(), "time 1800000000000000000 5\n") {
		t.Fatalf("round trip with the audit seq of the server time: %+v, %v", c, err)
	}
	for _, bad := range []string{
		"",
		strings.Replace(good.text(), "audit 7", "audit -7", 1),
		strings.Replace(good.text(), "audit 7", "audit 07", 1),
		strings.Replace(good.text(), "policy 3", "policy 3 4", 1),
		strings.Replace(good.text(), "ab00", "AB00", 1),
		strings.Replace(good.text(), "coffer checkpoint v1", "coffer checkpoint v2", 1),
		good.text() + "extra\n",
		strings.Replace(good.text(), "org 12", "org 12 34", 1),
		strings.Replace(good.text(), "time 1800000000000000000", "time -1", 1),
		strings.Replace(good.text(), "time 1800000000000000000", "time 1800000000000000000 0", 1),
		strings.Replace(good.text(), "time 1800000000000000000", "time 1800000000000000000 05", 1),
		strings.Replace(good.text(), "time 1800000000000000000", "time 1800000000000000000 5 6", 1),
		strings.TrimSuffix(good.text(), "\n"),
	} {
		if _, err := parseCheckpoint(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
