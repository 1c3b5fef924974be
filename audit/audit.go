// Package audit defines the events Coffer records — who did what to which
// document, when, and whether it was allowed — and how they are printed for
// people and for a SIEM. Storage is the vault's; events on disk carry IDs,
// never plaintext names.
package audit

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/coffer-vault/coffer/internal/display"
)

// Action is what an event records.
type Action string

const (
	Unlock       Action = "unlock"
	Lock         Action = "lock"
	FolderCreate Action = "folder-create"
	Import       Action = "import"
	Export       Action = "export"
	Restore      Action = "restore"
	Check        Action = "check"
	Clock        Action = "clock"   // the clock went back behind recorded time
	Tamper       Action = "tamper"  // vault data was altered outside Coffer
	Repair       Action = "repair"  // the index was put back in line with the signed objects
	Rebuild      Action = "rebuild" // the index was made anew from the signed objects
	Sync         Action = "sync"    // versions pulled from the organisation's server
	Enroll       Action = "enroll"  // this device joined an organisation
	Pair         Action = "pair"    // this device approved another device of its user
	PolicyChange Action = "policy"  // a policy document came into force
	Share        Action = "share"   // a folder was shared or unshared, its key rotated, or its copy on this device destroyed
	ClassChange  Action = "class"   // a folder moved to another class
	Retention    Action = "retention"
	Preview      Action = "preview"
	PreviewFile  Action = "preview-to-file"
)

// Outcome says how it ended.
type Outcome string

const (
	OK      Outcome = "ok"
	Blocked Outcome = "blocked"
	Failed  Outcome = "failed"
)

// Event is one audit record. Folder, File and Version are object IDs in hex;
// names are resolved only for display by an unlocked vault.
type Event struct {
	Seq     int64     `json:"seq"`
	Time    time.Time `json:"time"`
	Action  Action    `json:"action"`
	Outcome Outcome   `json:"outcome"`
	User    string    `json:"user"`
	Device  string    `json:"device"`
	Folder  string    `json:"folder,omitempty"`
	File    string    `json:"file,omitempty"`
	Version int       `json:"version,omitempty"`
	Page    int       `json:"page,omitempty"`  // 1-based page of a preview
	Trace   string    `json:"trace,omitempty"` // trace code of a preview or export
	Reason  string    `json:"reason,omitempty"`
	// Names, filled in for display only, never stored.
	FolderName string `json:"folder_name,omitempty"`
	FileName   string `json:"file_name,omitempty"`
	// For the organisation's trail: the device's name and the address the
	// server saw it from.
	DeviceName string `json:"device_name,omitempty"`
	IP         string `json:"ip,omitempty"`
	// DetailsSealed: the entry's details (folder, file, trace code,
	// reason) were sealed to the compliance and risk officers of the time
	// it was sent, and the reader was not one of them.
	DetailsSealed bool `json:"details_sealed,omitempty"`
}

// Details is the part of an event stored sealed.
type Details struct {
	User    string `json:"user"`
	Device  string `json:"device"`
	Folder  string `json:"folder,omitempty"`
	File    string `json:"file,omitempty"`
	Version int    `json:"version,omitempty"`
	Page    int    `json:"page,omitempty"`
	Trace   string `json:"trace,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// Details returns the event's sealed part.
func (e Event) Details() Details {
	return Details{User: e.User, Device: e.Device, Folder: e.Folder, File: e.File, Version: e.Version,
		Page: e.Page, Trace: e.Trace, Reason: e.Reason}
}

// WithDetails returns e with d filled in.
func (e Event) WithDetails(d Details) Event {
	e.User, e.Device, e.Folder, e.File, e.Version, e.Reason = d.User, d.Device, d.Folder, d.File, d.Version, d.Reason
	e.Page, e.Trace = d.Page, d.Trace
	return e
}

// Redacted returns e without what names documents: folder and file names
// (their IDs stay, so events still correlate), and the reason of a failure,
// which may quote a name or a path. For a SIEM that must not hold the
// names of confidential files.
func (e Event) Redacted() Event {
	e.FolderName, e.FileName = "", ""
	if e.Outcome == Failed || e.Action == Tamper {
		e.Reason = ""
	}
	return e
}

// ValidWord reports whether s may be an entry's action or outcome: 1 to
// 32 lowercase letters, digits and hyphens, a letter first
// ("preview-to-file"). Words this version does not know pass, for newer
// devices' entries; anything that could move a terminal's cursor or forge
// a line does not.
func ValidWord(s string) bool {
	if len(s) == 0 || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// Line formats an event as one line for a terminal. Every field is shown
// with the characters that do not print escaped (display.Text): an entry
// is written by a device, and one modified by its user must not erase or
// forge lines on a compliance officer's terminal.
func (e Event) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%5d  %s  %-13s %-7s %s", e.Seq, e.Time.UTC().Format(time.RFC3339),
		display.Text(string(e.Action)), display.Text(string(e.Outcome)), display.Text(e.User))
	if e.FolderName != "" {
		fmt.Fprintf(&b, "  %s", display.Text(e.FolderName))
		if e.FileName != "" {
			fmt.Fprintf(&b, "/%s", display.Text(e.FileName))
		}
	}
	if e.Version > 0 {
		fmt.Fprintf(&b, " v%d", e.Version)
	}
	if e.Page > 0 {
		fmt.Fprintf(&b, " p%d", e.Page)
	}
	if e.Trace != "" {
		fmt.Fprintf(&b, "  trace %s", display.Text(e.Trace))
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, "  (%s)", display.Text(e.Reason))
	}
	return b.String()
}

// JSON formats an event as one JSON line.
func (e Event) JSON() ([]byte, error) { return json.Marshal(e) }
