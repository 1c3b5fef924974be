package policy

import (
	"testing"
	"time"
)

// TestDecideForEveryCell checks every role × action × class cell against a
// table written out by hand: each string gives the answer for public,
// internal, confidential and restricted ('y' allowed, '-' denied).
func TestDecideForEveryCell(t *testing.T) {
	actions := []Action{Preview, Export, PreviewToFile, Print, Copy, OpenExternal, Import, Restore, Delete, Share, ReadAudit, CreateFolder, RunRetention}
	want := map[Role][]string{
		//          prev    export  p2file  print   copy    openext import  restore delete  share   audit   mkdir   retention
		Owner:      {"yyyy", "yy--", "yy--", "yy--", "yy--", "yy--", "yyyy", "yyyy", "yyyy", "yyyy", "yyyy", "yyyy", "yyyy"},
		Admin:      {"----", "----", "----", "----", "----", "----", "----", "----", "----", "----", "yyyy", "----", "yyyy"},
		Compliance: {"yyyy", "----", "----", "----", "----", "----", "----", "----", "----", "----", "yyyy", "----", "----"},
		Manager:    {"yyyy", "yy--", "yy--", "yy--", "yy--", "yy--", "yyyy", "yyyy", "yyyy", "yyyy", "----", "yyyy", "yyyy"},
		Member:     {"yyyy", "yy--", "yy--", "yy--", "yy--", "yy--", "yyyy", "yyyy", "----", "----", "----", "----", "----"},
		Risk:       {"----", "----", "----", "----", "----", "----", "----", "----", "----", "----", "yyyy", "----", "----"},
		// A guest with a live grant on the folder: preview only, never restricted.
		Guest: {"yyy-", "----", "----", "----", "----", "----", "----", "----", "----", "----", "----", "----", "----"},
	}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	grant := Grant{Folder: "f1", Issued: now.Add(-24 * time.Hour), Expires: now.Add(24 * time.Hour)}
	cells := 0
	for _, role := range Roles {
		row := want[role]
		if len(row) != len(actions) {
			t.Fatalf("%s: table row has %d actions", role, len(row))
		}
		s := Subject{Role: role, Grants: []Grant{grant}, Now: now}
		for i, action := range actions {
			for j, class := range Classes {
				d := DecideFor(s, "f1", class, action)
				if d.Allowed != (row[i][j] == 'y') {
					t.Errorf("%s × %s × %s: allowed=%v (%s)", role, action, class, d.Allowed, d.Reason)
				}
				if !d.Allowed && d.Reason == "" {
					t.Errorf("%s × %s × %s: denied without a reason", role, action, class)
				}
				cells++
			}
		}
	}
	if cells != len(Roles)*len(actions)*len(Classes) {
		t.Fatalf("checked %d cells", cells)
	}
}

func TestGuestGrants(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	live := Grant{Folder: "f1", Issued: now.Add(-time.Hour), Expires: now.Add(time.Hour)}
	cases := []struct {
		name  string
		s     Subject
		allow bool
	}{
		{"live grant", Subject{Role: Guest, Grants: []Grant{live}, Now: now}, true},
		{"other folder", Subject{Role: Guest, Grants: []Grant{{Folder: "f2", Issued: live.Issued, Expires: live.Expires}}, Now: now}, false},
		{"expired", Subject{Role: Guest, Grants: []Grant{live}, Now: now.Add(2 * time.Hour)}, false},
		{"at expiry", Subject{Role: Guest, Grants: []Grant{live}, Now: live.Expires}, false},
		{"no grants", Subject{Role: Guest, Now: now}, false},
		{"clock set back", Subject{Role: Guest, Grants: []Grant{live}, Now: now, ClockSuspect: true}, false},
		{"grant over 90 days", Subject{Role: Guest, Grants: []Grant{{Folder: "f1", Issued: now.Add(-time.Hour), Expires: now.Add(91 * 24 * time.Hour)}}, Now: now}, false},
		{"unknown role", Subject{Role: "superuser", Now: now}, false},
	}
	for _, tc := range cases {
		if d := DecideFor(tc.s, "f1", Internal, Preview); d.Allowed != tc.allow {
			t.Errorf("%s: allowed=%v (%s)", tc.name, d.Allowed, d.Reason)
		}
	}
}
