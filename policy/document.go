package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Document is the policy an issuer (the vault owner, or the organisation's
// admin once sync lands) signs: who has which role, guest grants, retention
// per class, and unlock limits. It is data; the vault stores it signed and
// verifies it on open. Serial increases with every change, so an older
// document replayed in place of a newer one is recognised.
type Document struct {
	V                 int                `json:"v"`
	Serial            uint64             `json:"serial"`
	Issued            time.Time          `json:"issued"`
	Roles             map[string]Role    `json:"roles,omitempty"`  // e-mail → role
	Grants            map[string][]Grant `json:"grants,omitempty"` // guest e-mail → grants
	Retention         map[Class]Keep     `json:"retention,omitempty"`
	MaxUnlockFailures int                `json:"max_unlock_failures"`
	IdleLockMinutes   int                `json:"idle_lock_minutes"`
	// The offline lease (docs/sync-protocol.md, "Remote wipe, receipts
	// and the lease"); 0 turns each off. A device that has not had a
	// server-signed time for LeaseHours locks; for WipeAfterDays, wipes
	// itself. WipeAfterFailures wrong passphrases in a row wipe it too.
	LeaseHours        int `json:"lease_hours,omitempty"`
	WipeAfterDays     int `json:"wipe_after_days,omitempty"`
	WipeAfterFailures int `json:"wipe_after_failures,omitempty"`
}

// Keep says how long versions of a class are kept. A version is removed
// only if it is older than Days, is not among the newest Last versions of
// its file, and is not the current version. Zero Days keeps everything.
type Keep struct {
	Days int `json:"days"`
	Last int `json:"last"`
}

// Default returns the policy of a new standalone vault: the owner is the
// owner, nothing is ever removed, 10 wrong passphrases lock, 15 minutes
// idle lock.
func Default(owner string, now time.Time) Document {
	return Document{V: 1, Serial: 1, Issued: now.UTC(), Roles: map[string]Role{owner: Owner},
		MaxUnlockFailures: 10, IdleLockMinutes: 15}
}

// ErrInvalid is wrapped by every error ParseDocument returns for bad data.
var ErrInvalid = errors.New("invalid policy")

// Format is the policy document format this version reads (the "v"
// field).
const Format = 1

// ErrNewerFormat is returned by ParseDocument for a document of a newer
// format than Format: Coffer must be updated, the document is not bad.
var ErrNewerFormat = errors.New("the policy is of a newer format than this version of Coffer reads: update Coffer")

// Marshal encodes the document as JSON.
func (d *Document) Marshal() ([]byte, error) { return json.Marshal(d) }

// ParseDocument decodes and validates a policy document.
func ParseDocument(b []byte) (*Document, error) {
	var head struct {
		V int `json:"v"`
	}
	if err := json.Unmarshal(b, &head); err == nil && head.V > Format {
		return nil, fmt.Errorf("%w (format %d, this Coffer reads %d)", ErrNewerFormat, head.V, Format)
	}
	var d Document
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", ErrInvalid)
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// Validate checks a document's invariants.
func (d *Document) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	if d.V != 1 {
		return bad("version %d is not supported", d.V)
	}
	if d.Serial == 0 {
		return bad("serial must be 1 or more")
	}
	for who, r := range d.Roles {
		if !strings.Contains(who, "@") {
			return bad("role holder %q is not an e-mail address", who)
		}
		if _, ok := roleActions[r]; !ok {
			return bad("unknown role %q for %s", r, who)
		}
	}
	for who, gs := range d.Grants {
		if d.Roles[who] != Guest {
			return bad("%s has grants but is not a guest", who)
		}
		for _, g := range gs {
			if err := g.Valid(); err != nil {
				return bad("grant to %s: %v", who, err)
			}
		}
	}
	for c, k := range d.Retention {
		if !c.Valid() {
			return bad("retention for unknown class %q", c)
		}
		if k.Days < 0 || k.Last < 0 || (k.Days > 0 && k.Last < 1) {
			return bad("retention for %s: days %d, last %d (keep at least the last version)", c, k.Days, k.Last)
		}
	}
	if d.MaxUnlockFailures < 1 || d.MaxUnlockFailures > 1000 {
		return bad("max_unlock_failures %d is not in 1..1000", d.MaxUnlockFailures)
	}
	if d.IdleLockMinutes < 1 || d.IdleLockMinutes > 24*60 {
		return bad("idle_lock_minutes %d is not in 1..1440", d.IdleLockMinutes)
	}
	if d.LeaseHours < 0 || d.LeaseHours > 24*365 {
		return bad("lease_hours %d is not in 0..8760", d.LeaseHours)
	}
	if d.WipeAfterDays < 0 || d.WipeAfterDays > 3650 || (d.WipeAfterDays > 0 && d.LeaseHours > 0 && d.WipeAfterDays*24 < d.LeaseHours) {
		return bad("wipe_after_days %d must be 0 (never) or up to 3650, and not before the lease of %d hours ends", d.WipeAfterDays, d.LeaseHours)
	}
	if d.WipeAfterFailures < 0 || (d.WipeAfterFailures > 0 && d.WipeAfterFailures < d.MaxUnlockFailures) || d.WipeAfterFailures > 1000 {
		return bad("wipe_after_failures %d must be 0 (never), or from max_unlock_failures (%d) up to 1000", d.WipeAfterFailures, d.MaxUnlockFailures)
	}
	return nil
}

// RoleOf returns the role of an e-mail address; people the policy does not
// name have none and are denied everything.
func (d *Document) RoleOf(email string) Role { return d.Roles[email] }

// Subject returns the policy subject for an e-mail address at now.
func (d *Document) Subject(email string, now time.Time, clockSuspect bool) Subject {
	return Subject{Role: d.RoleOf(email), Grants: d.Grants[email], Now: now, ClockSuspect: clockSuspect}
}
