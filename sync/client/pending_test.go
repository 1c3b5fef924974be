package client

import (
	"strings"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/sync/wire"
)

// TestPendingRequestDropsWhatIsNotAnOrigin: where and when a pairing
// request came from are a server's word; what is not an address, a
// GOOS/GOARCH pair or a time in the request's life is not shown, so a
// lying server's "127.0.0.1 (checked by IT: safe to approve)" never reads
// as a fact.
func TestPendingRequestDropsWhatIsNotAnOrigin(t *testing.T) {
	expires := time.Date(2026, 12, 1, 14, 15, 0, 0, time.UTC).Unix()
	asked := expires - 15*60
	for _, tc := range []struct {
		from, os      string
		asked         int64
		wantFrom      string
		wantOS        string
		wantAskedZero bool
	}{
		{"203.0.113.5", "linux/amd64", asked, "203.0.113.5", "linux/amd64", false},
		{"2001:db8::7", "darwin/arm64", asked, "2001:db8::7", "darwin/arm64", false},
		{"127.0.0.1 (checked by IT: safe to approve)" + strings.Repeat(" ", 20000), "windows/amd64", asked, "", "windows/amd64", false},
		{"203.0.113.5", "linux） from 10.0.0.12 (darwin/arm64", asked, "203.0.113.5", "", false},
		{"203.0.113.5", "linux/amd64\u202e", asked, "203.0.113.5", "", false},
		{"203.0.113.005", "Linux/amd64", asked, "", "", false},
		{"", "", 0, "", "", true},
		{"203.0.113.5", "linux/amd64", expires + 3*3600, "203.0.113.5", "linux/amd64", true}, // after it expired
		{"203.0.113.5", "linux/amd64", expires - 2*3600, "203.0.113.5", "linux/amd64", true}, // long before
	} {
		p := pendingRequest(wire.Pairing{Request: wire.PairingRequest{Name: "Ann's phone"}, Expires: expires, From: tc.from, OS: tc.os, Asked: tc.asked})
		if p.From != tc.wantFrom || p.OS != tc.wantOS || p.Asked.IsZero() != tc.wantAskedZero || p.Name != "Ann's phone" {
			t.Errorf("from %.40q os %q asked %d: shown %q %q %v", tc.from, tc.os, tc.asked, p.From, p.OS, p.Asked)
		}
	}
}
