package policy

import "testing"

// TestDecideTable covers every class × action cell of the class table in
// DESIGN.md ("Classes and what they allow").
func TestDecideTable(t *testing.T) {
	const (
		allow = "allow"
		stamp = "allow, stamped"
		deny  = "deny"
	)
	want := map[Class]map[Action]string{
		Public: {Preview: allow, Export: allow, PreviewToFile: allow, Print: allow, Copy: allow,
			OpenExternal: allow, Import: allow, Restore: allow},
		Internal: {Preview: allow, Export: stamp, PreviewToFile: stamp, Print: stamp, Copy: allow,
			OpenExternal: stamp, Import: allow, Restore: allow},
		Confidential: {Preview: allow, Export: deny, PreviewToFile: deny, Print: deny, Copy: deny,
			OpenExternal: deny, Import: allow, Restore: allow},
		Restricted: {Preview: allow, Export: deny, PreviewToFile: deny, Print: deny, Copy: deny,
			OpenExternal: deny, Import: allow, Restore: allow},
	}
	for _, c := range Classes {
		for a, w := range want[c] {
			d := Decide(c, a)
			got := deny
			switch {
			case d.Allowed && d.Stamp:
				got = stamp
			case d.Allowed:
				got = allow
			}
			if got != w {
				t.Errorf("%s × %s = %s, want %s", c, a, got, w)
			}
			if !d.Allowed && d.Reason == "" {
				t.Errorf("%s × %s denied without a reason", c, a)
			}
		}
	}
	if len(want) != len(Classes) {
		t.Fatalf("table covers %d classes of %d", len(want), len(Classes))
	}
}

func TestUnknownIsDenied(t *testing.T) {
	if d := Decide("top-secret", Preview); d.Allowed {
		t.Error("unknown class allowed")
	}
	if d := Decide(Public, "teleport"); d.Allowed {
		t.Error("unknown action allowed")
	}
}

func TestParseClass(t *testing.T) {
	for in, want := range map[string]Class{"public": Public, " Internal ": Internal, "CONFIDENTIAL": Confidential, "restricted": Restricted} {
		if got, err := ParseClass(in); err != nil || got != want {
			t.Errorf("ParseClass(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "secret", "public;drop"} {
		if _, err := ParseClass(bad); err == nil {
			t.Errorf("ParseClass(%q) accepted", bad)
		}
	}
}
