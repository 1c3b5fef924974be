// Package policy makes Coffer's access decisions: given a folder's class and
// an action, allow it or deny it with a reason. It is pure — no I/O, no
// clock — so every face of the product (CLI, GUI) asks the same question
// through app and gets the same answer.
package policy

import (
	"fmt"
	"strings"
)

// Class is a folder's classification.
type Class string

const (
	Public       Class = "public"
	Internal     Class = "internal"
	Confidential Class = "confidential"
	Restricted   Class = "restricted"
)

// Classes lists every class from least to most protected.
var Classes = []Class{Public, Internal, Confidential, Restricted}

// Valid reports whether c is a known class.
func (c Class) Valid() bool {
	for _, k := range Classes {
		if c == k {
			return true
		}
	}
	return false
}

// ParseClass parses a class name.
func ParseClass(s string) (Class, error) {
	c := Class(strings.ToLower(strings.TrimSpace(s)))
	if !c.Valid() {
		return "", fmt.Errorf("unknown class %q (want one of %s)", s, ClassNames())
	}
	return c, nil
}

// ClassNames returns the class names joined for messages.
func ClassNames() string {
	names := make([]string, len(Classes))
	for i, c := range Classes {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}

// Level ranks a class by protection: public 0 … restricted 3 (-1 if
// unknown). Moving a folder to a higher level narrows it; to a lower one
// widens it, which in an organisation needs its admin.
func (c Class) Level() int {
	for i, k := range Classes {
		if c == k {
			return i
		}
	}
	return -1
}

// NoExport reports whether plaintext of the class must never leave the
// process: no export, no preview to a file, no print, no copy.
func (c Class) NoExport() bool { return c == Confidential || c == Restricted }

// Action is something a user may try to do with a document.
type Action string

const (
	Preview       Action = "preview"         // in-app, watermarked view
	Export        Action = "export"          // save a plaintext copy outside the vault
	PreviewToFile Action = "preview-to-file" // write a rendered page to a file
	Print         Action = "print"
	Copy          Action = "copy" // copy text to the clipboard
	OpenExternal  Action = "open-external"
	Import        Action = "import"
	Restore       Action = "restore"
)

// Decision is the answer to "may this happen?".
type Decision struct {
	Allowed bool
	// Stamp is set when the action is allowed only with a trace-coded
	// watermark stamped into what leaves the vault.
	Stamp bool
	// Reason says why an action is denied, in words for the user.
	Reason string
	// Audit, when set, is Reason without the words that name the
	// document's class, for the audit trail: the trail names the folder,
	// and its sealed length must not tell a thief the class.
	Audit string
}

// Recorded returns the reason as the audit trail records it.
func (d Decision) Recorded() string {
	if d.Audit != "" {
		return d.Audit
	}
	return d.Reason
}

// Decide answers whether action is allowed on a document of class, per the
// class table in DESIGN.md.
func Decide(class Class, action Action) Decision {
	if !class.Valid() {
		return Decision{Reason: fmt.Sprintf("unknown class %q: denied to be safe", class)}
	}
	switch action {
	case Preview, Import, Restore:
		return Decision{Allowed: true}
	case Export, PreviewToFile, Print, Copy, OpenExternal:
		if class.NoExport() {
			return Decision{Reason: fmt.Sprintf("%s documents never leave Coffer (%s is blocked)", class, action),
				Audit: fmt.Sprintf("documents of this folder's class never leave Coffer (%s is blocked)", action)}
		}
		return Decision{Allowed: true, Stamp: class == Internal && action != Copy}
	}
	return Decision{Reason: fmt.Sprintf("unknown action %q: denied to be safe", action)}
}
