package policy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/testenv"
)

func TestDefaultIsValid(t *testing.T) {
	d := Default("ann@example.com", time.Now())
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.RoleOf("ann@example.com") != Owner || d.RoleOf("eve@example.com") != "" {
		t.Errorf("roles %v", d.Roles)
	}
}

func TestParseDocumentRejects(t *testing.T) {
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	for name, edit := range map[string]func(d *Document){
		"version zero":  func(d *Document) { d.V = 0 },
		"serial zero":   func(d *Document) { d.Serial = 0 },
		"bad role":      func(d *Document) { d.Roles["x@example.com"] = "god" },
		"not an e-mail": func(d *Document) { d.Roles["bob"] = Member },
		"grant to member": func(d *Document) {
			d.Grants = map[string][]Grant{"ann@example.com": {{Folder: "f", Issued: now, Expires: now.Add(time.Hour)}}}
		},
		"grant 91 days": func(d *Document) {
			d.Roles["g@example.com"] = Guest
			d.Grants = map[string][]Grant{"g@example.com": {{Folder: "f", Issued: now, Expires: now.Add(91 * 24 * time.Hour)}}}
		},
		"retention keeps nothing": func(d *Document) { d.Retention = map[Class]Keep{Internal: {Days: 3, Last: 0}} },
		"retention bad class":     func(d *Document) { d.Retention = map[Class]Keep{"secret": {Days: 3, Last: 1}} },
		"no unlock limit":         func(d *Document) { d.MaxUnlockFailures = 0 },
		"idle lock zero":          func(d *Document) { d.IdleLockMinutes = 0 },
	} {
		d := Default("ann@example.com", now)
		edit(&d)
		b, _ := json.Marshal(d)
		if _, err := ParseDocument(b); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: accepted (%v)", name, err)
		}
	}
	// A newer format is not bad data: it asks for an update, even with
	// fields this version does not know.
	if _, err := ParseDocument([]byte(`{"v":2,"serial":3,"watermark_text":"x"}`)); !errors.Is(err, ErrNewerFormat) || errors.Is(err, ErrInvalid) {
		t.Errorf("a newer format: %v", err)
	}
	for _, raw := range []string{"", "null", "[]", `{"v":1,"serial":1,"unknown":true}`, `{"v":1}{"v":1}`} {
		if _, err := ParseDocument([]byte(raw)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: accepted (%v)", raw, err)
		}
	}
}

// FuzzParseDocument: the parser never panics, and whatever it accepts is
// valid and survives a round trip.
func FuzzParseDocument(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDocument(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("accepted an invalid document: %v", err)
		}
		again, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseDocument(again); err != nil {
			t.Fatalf("round trip: %v", err)
		}
		for who := range d.Roles {
			if !strings.Contains(who, "@") {
				t.Fatalf("accepted role holder %q", who)
			}
		}
	})
}

func TestFuzzSeedsPresent(t *testing.T) { testenv.CheckFuzzSeeds(t) }
