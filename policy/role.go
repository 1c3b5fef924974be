package policy

import (
	"fmt"
	"time"
)

// Role is what a person is to the organisation, and so what they may do.
type Role string

const (
	// Owner is the person a standalone vault belongs to: a member who may
	// also read the vault's audit trail and manage its folders.
	Owner      Role = "owner"
	Admin      Role = "admin"      // enrols devices, sets policy, wipes; never reads content
	Compliance Role = "compliance" // reads documents and every audit trail; never changes documents
	Manager    Role = "manager"    // creates folders, invites members, shares
	Member     Role = "member"     // imports, reads, restores where the class allows
	Risk       Role = "risk"       // reads audit trails only
	Guest      Role = "guest"      // previews granted folders until the grant expires
)

// Roles lists every role.
var Roles = []Role{Owner, Admin, Compliance, Manager, Member, Risk, Guest}

// Known reports whether r is a role of Roles.
func Known(r Role) bool {
	_, ok := roleActions[r]
	return ok
}

// More actions, beyond those on documents.
const (
	Delete       Action = "delete"
	Share        Action = "share"
	ReadAudit    Action = "read-audit"
	CreateFolder Action = "create-folder" // make a folder of any class
	RunRetention Action = "retention"     // apply (or plan) the policy's retention by hand
	ChangeClass  Action = "change-class"  // move a folder to another class (widening also needs the admin in an organisation)
)

// MaxGrant is the longest a guest grant may run.
const MaxGrant = 90 * 24 * time.Hour

// Grant gives a guest one folder until Expires.
type Grant struct {
	Folder  string    `json:"folder"` // folder ID
	Expires time.Time `json:"expires"`
	Issued  time.Time `json:"issued"`
}

// Valid checks a grant's shape: a folder and at most MaxGrant long.
func (g Grant) Valid() error {
	if g.Folder == "" {
		return fmt.Errorf("grant names no folder")
	}
	if !g.Expires.After(g.Issued) || g.Expires.Sub(g.Issued) > MaxGrant {
		return fmt.Errorf("grant runs %s; it must be positive and at most 90 days", g.Expires.Sub(g.Issued).Round(time.Hour))
	}
	return nil
}

// Subject is who asks, with what they need for time-limited decisions.
type Subject struct {
	Role   Role
	Grants []Grant // for guests
	Now    time.Time
	// ClockSuspect is set when the clock went back behind recorded time;
	// time-limited rights are then refused.
	ClockSuspect bool
}

// roleActions says which actions each role may ask for at all; the class
// of the folder then decides (Decide).
var roleActions = map[Role]map[Action]bool{
	Owner: {Preview: true, Export: true, PreviewToFile: true, Print: true, Copy: true, OpenExternal: true,
		Import: true, Restore: true, Delete: true, Share: true, ReadAudit: true, CreateFolder: true, RunRetention: true, ChangeClass: true},
	Admin:      {ReadAudit: true, RunRetention: true},
	Compliance: {Preview: true, ReadAudit: true},
	Manager: {Preview: true, Export: true, PreviewToFile: true, Print: true, Copy: true, OpenExternal: true,
		Import: true, Restore: true, Delete: true, Share: true, CreateFolder: true, RunRetention: true, ChangeClass: true},
	Member: {Preview: true, Export: true, PreviewToFile: true, Print: true, Copy: true, OpenExternal: true,
		Import: true, Restore: true},
	Risk:  {ReadAudit: true},
	Guest: {Preview: true},
}

// DecideFor answers whether subject may do action on a document of a
// folder (ID and class). Unknown roles, actions and classes are denied.
func DecideFor(s Subject, folder string, class Class, action Action) Decision {
	allowed, known := roleActions[s.Role]
	if !known {
		return Decision{Reason: fmt.Sprintf("unknown role %q: denied to be safe", s.Role)}
	}
	if !allowed[action] {
		return Decision{Reason: fmt.Sprintf("the %s role may not %s", s.Role, action)}
	}
	if s.Role == Guest {
		if d := decideGuest(s, folder, class); !d.Allowed {
			return d
		}
	}
	if action == ReadAudit || action == Delete || action == Share || action == CreateFolder || action == RunRetention || action == ChangeClass {
		if !class.Valid() {
			return Decision{Reason: fmt.Sprintf("unknown class %q: denied to be safe", class)}
		}
		return Decision{Allowed: true}
	}
	return Decide(class, action)
}

func decideGuest(s Subject, folder string, class Class) Decision {
	if class == Restricted {
		return Decision{Reason: "restricted folders are for named users only, never guests",
			Audit: "this folder's class is for named users only, never guests"}
	}
	if s.ClockSuspect {
		return Decision{Reason: "the clock was set back, so a time-limited grant cannot be trusted"}
	}
	for _, g := range s.Grants {
		if g.Folder != folder || g.Valid() != nil {
			continue
		}
		if !s.Now.Before(g.Expires) {
			return Decision{Reason: fmt.Sprintf("the guest grant expired on %s", g.Expires.UTC().Format("2006-01-02"))}
		}
		return Decision{Allowed: true}
	}
	return Decision{Reason: "no guest grant for this folder"}
}
