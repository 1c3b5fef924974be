// Package orglog is the organisation's log of facts — genesis, invites,
// users, devices, revocations — as docs/sync-protocol.md ("The org log")
// specifies it: the entry format, the rules that decide which entries may
// follow which, and the log's signed checkpoints. The server and every
// client apply the same rules with this package, so a server cannot get a
// client to accept what the server itself would have to refuse.
//
// An entry is a signed note (golang.org/x/mod/sumdb/note); the record the
// transparency log hashes is the whole signed note, bytes as stored.
package orglog

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"

	"github.com/coffer-vault/coffer/internal/notekey"
	"github.com/coffer-vault/coffer/vault/object"
)

// Kind says what an entry records.
type Kind string

const (
	Genesis Kind = "genesis" // the organisation and its root keys
	Invite  Kind = "invite"  // the admin lets an invite key enrol an e-mail
	User    Kind = "user"    // an invite was used: this e-mail's keys
	Device  Kind = "device"  // a user certifies one of their devices
	Revoke  Kind = "revoke"  // the admin revokes a device
	Role    Kind = "role"    // the admin changes a user's role
	Folder  Kind = "folder"  // a user registers a folder they made: its owner
	Share   Kind = "share"   // the owner (or a manager among its members) shares a folder, or changes a member's role
	Unshare Kind = "unshare" // … or takes a member off it
	Grant   Kind = "grant"   // the admin grants a guest folders until a time (a later grant replaces it; expiring now ends it)
	Policy  Kind = "policy"  // the admin issues the organisation's policy
	Wipe    Kind = "wipe"    // the admin orders a device wiped (and revokes it)
	Class   Kind = "class"   // the admin approves widening a folder's class (a commitment: the class stays secret)
	Epoch   Kind = "epoch"   // the owner (or a manager among its members) gives a folder's key a new epoch: a commitment to the key
	Anchor  Kind = "anchor"  // the owner commits to the folder object made with the folder (SHA-256 of its envelope)
)

// Signature key names (docs/sync-protocol.md, "Entries").
const (
	AdminName  = "coffer-admin"
	InviteName = "coffer-invite"
	UserName   = "coffer-user"
	DeviceName = "coffer-device"
	ServerName = "coffer-server"
)

const entryHead = "coffer org entry v1"

// MaxEntrySize bounds a signed entry (an age hybrid recipient is about 2 KB).
const MaxEntrySize = 16 << 10

// ErrMalformed is wrapped by every error Parse returns for bytes that are
// not a well-formed entry.
var ErrMalformed = errors.New("malformed org log entry")

// Entry is one fact of the log. Which fields are set depends on Kind (the
// table in docs/sync-protocol.md); Raw is the signed note as stored.
type Entry struct {
	Org  object.ID
	Kind Kind

	Name      string            // genesis: org name; user: full name; device: device name
	Admin     ed25519.PublicKey // genesis
	Server    ed25519.PublicKey // genesis
	TLS       [32]byte          // genesis: SHA-256 of the server's TLS SubjectPublicKeyInfo
	Email     string            // invite, user, device
	Role      string            // invite, user
	Invite    ed25519.PublicKey // invite, user
	Expires   time.Time         // invite
	Key       ed25519.PublicKey // user: user key; device: device key
	Recipient string            // user: age hybrid recipient
	Device    object.ID         // device, revoke
	Transport ed25519.PublicKey // device
	Reason    string            // revoke, wipe
	Nonce     string            // wipe: 16 random bytes, lowercase hex
	Revision  int64             // class: the folder object revision approved
	Commit    []byte            // class: SHA-256 commitment to the folder, revision, class and a salt; epoch: EpochCommitment; anchor: SHA-256 of the envelope
	Epoch     int64             // epoch: the key epoch it begins (1 or more)
	Folder    object.ID         // folder, share, unshare, class, epoch, anchor
	By        string            // share, unshare, epoch: the e-mail of who did it
	Folders   []object.ID       // grant
	Serial    uint64            // policy
	Document  []byte            // policy: the policy document (JSON)
	Time      time.Time         // every kind: when the signer made it (seconds)

	Raw []byte
}

// fields lists each kind's fields in their order.
var fields = map[Kind][]string{
	Genesis: {"name", "admin", "server", "tls", "time"},
	Invite:  {"email", "role", "invite", "expires", "time"},
	User:    {"email", "role", "invite", "key", "recipient", "name", "time"},
	Device:  {"device", "email", "key", "transport", "name", "time"},
	Revoke:  {"device", "reason", "time"},
	Role:    {"email", "role", "time"},
	Folder:  {"folder", "email", "time"},
	Share:   {"folder", "email", "role", "by", "time"},
	Unshare: {"folder", "email", "by", "time"},
	Grant:   {"email", "folders", "expires", "time"},
	Policy:  {"serial", "document", "time"},
	Wipe:    {"device", "nonce", "reason", "time"},
	Class:   {"folder", "revision", "commit", "time"},
	Epoch:   {"folder", "epoch", "commit", "by", "time"},
	Anchor:  {"folder", "email", "commit", "time"},
}

// Text returns the entry's note text, canonical: Parse(Sign(e)) yields e.
func (e *Entry) Text() (string, error) {
	names, ok := fields[e.Kind]
	if !ok {
		return "", fmt.Errorf("%w: unknown kind %q", ErrMalformed, e.Kind)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\norg %s\nkind %s\n", entryHead, e.Org, e.Kind)
	for _, name := range names {
		v, err := e.value(name)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s %s\n", name, v)
	}
	return b.String(), nil
}

func b64(k ed25519.PublicKey) (string, error) {
	if len(k) != ed25519.PublicKeySize {
		return "", fmt.Errorf("%w: a key is not an ed25519 public key", ErrMalformed)
	}
	return base64.StdEncoding.EncodeToString(k), nil
}

func (e *Entry) value(name string) (string, error) {
	text := func(s string) (string, error) {
		if err := checkText(s); err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		return s, nil
	}
	switch name {
	case "name":
		return text(e.Name)
	case "email":
		return emailValue(e.Email)
	case "by":
		return emailValue(e.By)
	case "folder":
		return e.Folder.String(), nil
	case "folders":
		if len(e.Folders) == 0 || len(e.Folders) > 64 {
			return "", fmt.Errorf("%w: a grant names 1 to 64 folders", ErrMalformed)
		}
		ids := make([]string, len(e.Folders))
		for i, f := range e.Folders {
			ids[i] = f.String()
		}
		return strings.Join(ids, ","), nil
	case "serial":
		return strconv.FormatUint(e.Serial, 10), nil
	case "document":
		if len(e.Document) == 0 || len(e.Document) > 8<<10 {
			return "", fmt.Errorf("%w: a policy document is 1 byte to 8 KiB", ErrMalformed)
		}
		return base64.StdEncoding.EncodeToString(e.Document), nil
	case "role":
		return text(e.Role)
	case "reason":
		return text(e.Reason)
	case "revision":
		if e.Revision < 1 {
			return "", fmt.Errorf("%w: a revision is 1 or more", ErrMalformed)
		}
		return strconv.FormatInt(e.Revision, 10), nil
	case "epoch":
		if e.Epoch < 1 {
			return "", fmt.Errorf("%w: an epoch entry begins epoch 1 or later", ErrMalformed)
		}
		return strconv.FormatInt(e.Epoch, 10), nil
	case "commit":
		if len(e.Commit) != 32 {
			return "", fmt.Errorf("%w: a commitment is 32 bytes", ErrMalformed)
		}
		return hex.EncodeToString(e.Commit), nil
	case "nonce":
		if b, err := hex.DecodeString(e.Nonce); err != nil || len(b) != 16 || hex.EncodeToString(b) != e.Nonce {
			return "", fmt.Errorf("%w: a nonce is 16 bytes in lowercase hex", ErrMalformed)
		}
		return e.Nonce, nil
	case "recipient":
		if e.Recipient == "" || strings.ContainsAny(e.Recipient, " \n") {
			return "", fmt.Errorf("%w: bad recipient", ErrMalformed)
		}
		return e.Recipient, nil
	case "admin":
		return b64(e.Admin)
	case "server":
		return b64(e.Server)
	case "invite":
		return b64(e.Invite)
	case "key":
		return b64(e.Key)
	case "transport":
		return b64(e.Transport)
	case "tls":
		return hex.EncodeToString(e.TLS[:]), nil
	case "device":
		return e.Device.String(), nil
	case "time":
		return strconv.FormatInt(e.Time.Unix(), 10), nil
	case "expires":
		return strconv.FormatInt(e.Expires.Unix(), 10), nil
	}
	return "", fmt.Errorf("%w: unknown field %q", ErrMalformed, name)
}

func emailValue(s string) (string, error) {
	if !strings.Contains(s, "@") || strings.ContainsAny(s, " ,") {
		return "", fmt.Errorf("%w: %q is not an e-mail address", ErrMalformed, s)
	}
	if err := checkText(s); err != nil {
		return "", err
	}
	return s, nil
}

// CheckText reports whether s may be a name in an entry (a device's, a
// person's): printable UTF-8, 1 to 256 bytes, no leading or trailing
// space. Errors wrap ErrMalformed.
func CheckText(s string) error { return checkText(s) }

// checkText accepts a value: valid UTF-8, 1..256 bytes, no control
// characters, no leading or trailing space.
func checkText(s string) error {
	switch {
	case s == "" || len(s) > 256:
		return fmt.Errorf("%w: empty or over 256 bytes", ErrMalformed)
	case !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: not printable text", ErrMalformed)
	case strings.TrimSpace(s) != s:
		return fmt.Errorf("%w: leading or trailing space", ErrMalformed)
	}
	return nil
}

// Sign returns the entry signed by signers, as stored in the log.
func Sign(e *Entry, signers ...note.Signer) ([]byte, error) {
	text, err := e.Text()
	if err != nil {
		return nil, err
	}
	return note.Sign(&note.Note{Text: text}, signers...)
}

// Parse decodes a stored entry without checking its signatures (State.Apply
// does, knowing which keys must have signed). It is strict: the text must
// be exactly what Text would write.
func Parse(raw []byte) (*Entry, error) {
	if len(raw) > MaxEntrySize {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(raw))
	}
	// The text ends at the blank line before the signatures.
	i := strings.Index(string(raw), "\n\n")
	if i < 0 {
		return nil, fmt.Errorf("%w: no signatures", ErrMalformed)
	}
	text := string(raw[:i+1])
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 || lines[0] != entryHead {
		return nil, fmt.Errorf("%w: not a version 1 entry", ErrMalformed)
	}
	e := &Entry{Raw: raw}
	org, ok := strings.CutPrefix(lines[1], "org ")
	if !ok {
		return nil, fmt.Errorf("%w: no org", ErrMalformed)
	}
	var err error
	if e.Org, err = parseHexID(org); err != nil {
		return nil, err
	}
	kind, ok := strings.CutPrefix(lines[2], "kind ")
	names, known := fields[Kind(kind)]
	if !ok || !known {
		return nil, fmt.Errorf("%w: unknown kind %q", ErrMalformed, kind)
	}
	e.Kind = Kind(kind)
	if len(lines) != 3+len(names) {
		return nil, fmt.Errorf("%w: %s entry has %d fields, want %d", ErrMalformed, kind, len(lines)-3, len(names))
	}
	for j, name := range names {
		v, ok := strings.CutPrefix(lines[3+j], name+" ")
		if !ok {
			return nil, fmt.Errorf("%w: field %d is not %q", ErrMalformed, j+1, name)
		}
		if err := e.set(name, v); err != nil {
			return nil, err
		}
	}
	if again, err := e.Text(); err != nil || again != text {
		return nil, fmt.Errorf("%w: not in canonical form", ErrMalformed)
	}
	return e, nil
}

func parseHexID(s string) (object.ID, error) {
	id, err := object.ParseID(s)
	if err != nil || strings.ToLower(s) != s {
		return id, fmt.Errorf("%w: bad ID", ErrMalformed)
	}
	return id, nil
}

func parseKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: bad key", ErrMalformed)
	}
	return b, nil
}

func parseTime(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 1<<40 {
		return time.Time{}, fmt.Errorf("%w: bad time", ErrMalformed)
	}
	return time.Unix(n, 0).UTC(), nil
}

func (e *Entry) set(name, v string) error {
	var err error
	switch name {
	case "name":
		e.Name = v
	case "email":
		e.Email = v
	case "by":
		e.By = v
	case "folder":
		e.Folder, err = parseHexID(v)
	case "folders":
		for _, f := range strings.Split(v, ",") {
			id, err := parseHexID(f)
			if err != nil {
				return err
			}
			e.Folders = append(e.Folders, id)
		}
	case "serial":
		e.Serial, err = strconv.ParseUint(v, 10, 64)
		if err != nil {
			err = fmt.Errorf("%w: bad serial", ErrMalformed)
		}
	case "document":
		e.Document, err = base64.StdEncoding.Strict().DecodeString(v)
		if err != nil {
			err = fmt.Errorf("%w: bad document", ErrMalformed)
		}
	case "role":
		e.Role = v
	case "reason":
		e.Reason = v
	case "nonce":
		e.Nonce = v
	case "revision":
		e.Revision, err = strconv.ParseInt(v, 10, 64)
		if err != nil || e.Revision < 1 {
			err = fmt.Errorf("%w: bad revision", ErrMalformed)
		}
	case "epoch":
		e.Epoch, err = strconv.ParseInt(v, 10, 64)
		if err != nil || e.Epoch < 1 {
			err = fmt.Errorf("%w: bad epoch", ErrMalformed)
		}
	case "commit":
		e.Commit, err = hex.DecodeString(v)
		if err != nil || len(e.Commit) != 32 || hex.EncodeToString(e.Commit) != v {
			err = fmt.Errorf("%w: bad commitment", ErrMalformed)
		}
	case "recipient":
		e.Recipient = v
	case "admin":
		e.Admin, err = parseKey(v)
	case "server":
		e.Server, err = parseKey(v)
	case "invite":
		e.Invite, err = parseKey(v)
	case "key":
		e.Key, err = parseKey(v)
	case "transport":
		e.Transport, err = parseKey(v)
	case "tls":
		var b []byte
		b, err = hex.DecodeString(v)
		if err == nil && len(b) != 32 {
			err = errors.New("length")
		}
		if err != nil {
			return fmt.Errorf("%w: bad tls", ErrMalformed)
		}
		copy(e.TLS[:], b)
	case "device":
		e.Device, err = parseHexID(v)
	case "time":
		e.Time, err = parseTime(v)
	case "expires":
		e.Expires, err = parseTime(v)
	}
	return err
}

// verify checks that the entry is signed by each of keys (name → key) and
// by nothing else.
func (e *Entry) verify(keys map[string]ed25519.PublicKey) error {
	var vs []note.Verifier
	for name, k := range keys {
		v, err := notekey.Verifier(name, k)
		if err != nil {
			return err
		}
		vs = append(vs, v)
	}
	n, err := note.Open(e.Raw, note.VerifierList(vs...))
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	if len(n.UnverifiedSigs) > 0 {
		return errors.New("signed by a key that has no say in it")
	}
	seen := map[string]bool{}
	for _, s := range n.Sigs {
		seen[s.Name] = true
	}
	for name := range keys {
		if !seen[name] {
			return fmt.Errorf("not signed by the %s key", name)
		}
	}
	return nil
}
