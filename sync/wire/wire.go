// Package wire is what a Coffer device and cofferd say to each other over
// HTTPS, as docs/sync-protocol.md specifies: the protocol version, paths,
// request signatures, the server's signed time, invite and pairing codes,
// and the JSON bodies. The server and the client share it and nothing else
// of each other.
package wire

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/coffer-vault/coffer/vault/object"
)

// ProtocolVersion is the version of the protocol this package speaks.
// History: 1 — the first (enrolment, pairing, objects, feed, audit);
// 2 — key epochs are org log entries (an epoch entry, which a client of 1
// would refuse the whole log for); 3 — folder owners anchor the folder
// object made with the folder (an anchor entry, likewise).
const ProtocolVersion = 3

// Headers of the protocol.
const (
	HeaderProtocol    = "Coffer-Protocol"
	HeaderTime        = "Coffer-Time"
	HeaderTimeSig     = "Coffer-Time-Signature"
	HeaderFolder      = "Coffer-Folder"
	HeaderFile        = "Coffer-File"
	HeaderParent      = "Coffer-Parent"
	HeaderSeq         = "Coffer-Seq"
	MaxObjectBody     = object.MaxSize
	MaxJSONBody       = 4 << 20
	MaxFeedWait       = 25 // seconds
	MaxHasRefs        = 10000
	MaxAuditBatch     = 1000
	DefaultInviteDays = 7
)

// Key IDs of signed requests.
const (
	KeyAdmin       = "admin"
	keyDevicePfx   = "device:"
	keyInvitePfx   = "invite:"
	MaxServerNonce = 64
)

// DeviceKeyID names a device's transport key.
func DeviceKeyID(id object.ID) string { return keyDevicePfx + id.String() }

// InviteKeyID names an invite key.
func InviteKeyID(k ed25519.PublicKey) string {
	return keyInvitePfx + base64.RawURLEncoding.EncodeToString(k)
}

// KeyIDKind splits a key ID into its kind ("device", "invite", "admin")
// and what it names.
func KeyIDKind(keyID string) (kind string, device object.ID, invite ed25519.PublicKey, err error) {
	switch {
	case keyID == KeyAdmin:
		return "admin", device, nil, nil
	case strings.HasPrefix(keyID, keyDevicePfx):
		device, err = object.ParseID(strings.TrimPrefix(keyID, keyDevicePfx))
		return "device", device, nil, err
	case strings.HasPrefix(keyID, keyInvitePfx):
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(keyID, keyInvitePfx))
		if err != nil || len(b) != ed25519.PublicKeySize {
			return "", device, nil, fmt.Errorf("bad invite key ID")
		}
		return "invite", device, b, nil
	}
	return "", device, nil, fmt.Errorf("unknown key ID %q", keyID)
}

// Error is the body of every error response.
type Error struct {
	Code    string `json:"error"`   // a stable word: see the Code* constants
	Message string `json:"message"` // for people
	// ServerTime is set with CodeClockSkew: the server's clock, unix
	// nanoseconds, so the client can say how far off it is.
	ServerTime int64 `json:"server_time,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// Error codes.
const (
	CodeProtocol     = "protocol"
	CodeUnauthorized = "unauthorized"
	CodeClockSkew    = "clock-skew"
	CodeRevoked      = "revoked"
	CodeNotFound     = "not-found"
	CodeConflict     = "conflict"
	CodeBadRequest   = "bad-request"
	CodeTooLarge     = "too-large"
	CodeRejected     = "rejected" // an org log entry that breaks the rules
	CodeInvite       = "invite"   // an invite that is unknown, used or expired
	CodeInternal     = "internal"
	CodeGrantEnded   = "grant-ended" // a guest whose grant expired or was ended
	CodeGuestView    = "guest-view"  // a guest reads the log as a view: GET /v1/log/view
	CodeBusy         = "busy"        // the server has no room for the request now: retry after Retry-After
	CodeServerFull   = "server-full" // the disk holding the server's data is full: nothing was lost, retry once IT made room
	CodeLost         = "lost"        // the server lost an object's bytes (a damaged disk, a partial restore): an upload of it repairs it
)

// HexID is an object ID in JSON: lowercase hex.
type HexID object.ID

// MarshalText implements encoding.TextMarshaler.
func (h HexID) MarshalText() ([]byte, error) { return []byte(object.ID(h).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *HexID) UnmarshalText(b []byte) error {
	id, err := object.ParseID(string(b))
	if err != nil {
		return err
	}
	if strings.ToLower(string(b)) != string(b) {
		return fmt.Errorf("ID %q is not lowercase hex", b)
	}
	*h = HexID(id)
	return nil
}

// Info is GET /v1/info.
type Info struct {
	Protocol     int      `json:"protocol"`
	Capabilities []string `json:"capabilities"`
	Org          *HexID   `json:"org,omitempty"` // nil before bootstrap
	ServerKey    []byte   `json:"server_key"`
	TLS          string   `json:"tls"` // hex SHA-256 of the TLS SubjectPublicKeyInfo
}

// Bootstrap is POST /v1/bootstrap: the admin's genesis entry, with the
// one-time token the server wrote to its data folder.
type Bootstrap struct {
	Token   string `json:"token"`
	Genesis []byte `json:"genesis"`
}

// LogAppend is POST /v1/log: an entry to append (admin entries).
type LogAppend struct {
	Entry []byte `json:"entry"`
}

// LogEntries is GET /v1/log?start=&end=: entries [Start, Start+len) and the
// signed checkpoint they belong to.
type LogEntries struct {
	Start      int64    `json:"start"`
	Entries    [][]byte `json:"entries"`
	Checkpoint []byte   `json:"checkpoint"`
}

// LogView is GET /v1/log/view's answer: the entries of the log a guest
// needs, each with its index and record proof (tlog hashes), and the proof
// that the checkpoint's tree extends the one of size From.
type LogView struct {
	Checkpoint []byte         `json:"checkpoint"`
	Entries    []LogViewEntry `json:"entries"`
	From       int64          `json:"from"`
	Tree       [][]byte       `json:"tree,omitempty"`
}

// LogViewEntry is an entry of a LogView.
type LogViewEntry struct {
	Index int64    `json:"index"`
	Entry []byte   `json:"entry"`
	Proof [][]byte `json:"proof"`
}

// Enroll is POST /v1/enroll, signed by the invite key.
type Enroll struct {
	User       []byte `json:"user"`        // the user entry
	Device     []byte `json:"device"`      // the device entry
	DeviceCert []byte `json:"device_cert"` // the device certificate object (envelope)
}

// Ref names an object.
type Ref struct {
	Kind object.Kind `json:"kind"`
	ID   HexID       `json:"id"`
}

// Has is POST /v1/objects/has.
type Has struct {
	Folder HexID `json:"folder"`
	Refs   []Ref `json:"refs"`
}

// HasReply answers Has, one bool per ref.
type HasReply struct {
	Have []bool `json:"have"`
}

// Event is one entry of the change feed.
type Event struct {
	Seq    int64       `json:"seq"`
	Kind   object.Kind `json:"kind"` // 0 for an org log entry
	ID     HexID       `json:"id"`
	Folder *HexID      `json:"folder,omitempty"`
	File   *HexID      `json:"file,omitempty"`
	Parent *HexID      `json:"parent,omitempty"`
	Log    int64       `json:"log,omitempty"` // for a log entry: its index + 1
}

// Feed is GET /v1/feed.
type Feed struct {
	Events []Event `json:"events"`
	Next   int64   `json:"next"` // the cursor to ask with next
}

// AuditEntry is one link of a device's audit chain as uploaded.
type AuditEntry struct {
	Seq     int64  `json:"seq"`
	At      int64  `json:"at"` // unix nanoseconds
	Action  string `json:"action"`
	Outcome string `json:"outcome"`
	Sealed  []byte `json:"sealed"`
	Prev    []byte `json:"prev"`
	Hash    []byte `json:"hash"`
	Sig     []byte `json:"sig"`
}

// AuditBatch is POST /v1/audit.
type AuditBatch struct {
	Entries []AuditEntry `json:"entries"`
	// Details: the entries' details, age-encrypted to the organisation's
	// compliance and risk users (docs/sync-protocol.md, "Audit for
	// compliance"); absent when there are none.
	Details    []byte `json:"details,omitempty"`
	DetailsSig []byte `json:"details_sig,omitempty"` // the device key's signature of Details
}

// MaxAuditDetails bounds a batch's details.
const MaxAuditDetails = 4 << 20

// MaxAuditSealed bounds one audit entry's sealed part (a client keeps an
// entry's reason within 4 KiB).
const MaxAuditSealed = 64 << 10

// MaxOrgAuditPage bounds the bytes of details and sealed entries one
// GET /v1/audit/org answer carries (at least one batch is always sent).
const MaxOrgAuditPage = 16 << 20

// OrgAuditBatch is one device's batch in GET /v1/audit/org.
type OrgAuditBatch struct {
	ID         int64        `json:"id"`
	Device     HexID        `json:"device"`
	Email      string       `json:"email"`
	Name       string       `json:"name"` // the device's certified name
	IP         string       `json:"ip"`
	Time       int64        `json:"time"` // when the server received it, unix ns
	Entries    []AuditEntry `json:"entries"`
	Details    []byte       `json:"details,omitempty"`
	DetailsSig []byte       `json:"details_sig,omitempty"`
}

// OrgAudit is GET /v1/audit/org's answer; Next is the cursor to ask after.
type OrgAudit struct {
	Batches []OrgAuditBatch `json:"batches"`
	Next    int64           `json:"next"`
}

// AuditHead is the server's head of a device's chain.
type AuditHead struct {
	Seq  int64  `json:"seq"`
	Hash []byte `json:"hash"`
}

// PairingRequest is POST /v1/pairings, signed by an invite key of the
// user's e-mail: a further device asks to join.
type PairingRequest struct {
	Email     string `json:"email"`
	Device    HexID  `json:"device"`
	Key       []byte `json:"key"`       // device key
	Transport []byte `json:"transport"` // transport key
	Recipient string `json:"recipient"` // ephemeral age recipient for the bundle
	Name      string `json:"name"`      // device name
}

// Pairing is a pairing request as the server keeps it.
type Pairing struct {
	ID      HexID          `json:"id"`
	Request PairingRequest `json:"request"`
	Expires int64          `json:"expires"`           // unix seconds
	Bundle  []byte         `json:"bundle,omitempty"`  // set when approved: age ciphertext to Recipient
	Refused bool           `json:"refused,omitempty"` // the request expired or was refused
	// Where and when the request reached the server: the peer's IP
	// address and the time (unix seconds), in the server's word, and the
	// system the asker's User-Agent claims ("linux/amd64"). Shown to the
	// user who approves, so that a request from a stranger (a stolen
	// invite and a pairing code read out over the phone) looks like one;
	// the code, not these, is what the approving device checks. Behind a
	// load balancer that does not keep the client's address, From is the
	// balancer's.
	From  string `json:"from,omitempty"`
	OS    string `json:"os,omitempty"`
	Asked int64  `json:"asked,omitempty"`
}

// ValidOS reports whether s is a Go GOOS/GOARCH pair as a client's
// User-Agent names it ("linux/amd64"): lower-case letters and digits, one
// slash between, 31 bytes at most.
func ValidOS(s string) bool {
	sys, arch, ok := strings.Cut(s, "/")
	return ok && lowerAlnum(sys) && lowerAlnum(arch) && len(sys) <= 15 && len(arch) <= 15
}

func lowerAlnum(s string) bool {
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

// PairingApprove is POST /v1/pairings/<id>/approve, signed by an existing
// device of the user.
type PairingApprove struct {
	Device     []byte `json:"device"`      // the device entry, signed by the user key
	DeviceCert []byte `json:"device_cert"` // the device certificate object
	Bundle     []byte `json:"bundle"`      // the user secret, age-encrypted to the request's recipient
}

// Residency is GET /v1/admin/residency: where the server keeps the
// organisation's data (ciphertext, signatures and routing metadata), how
// much of it, and how many devices may hold copies.
type Residency struct {
	Server  string           `json:"server"`  // the answering server's host name
	Backend string           `json:"backend"` // "embedded" or "scale-out"
	Places  []ResidencyPlace `json:"places"`
	Objects []ObjectCount    `json:"objects"` // objects the index names, by kind; kinds with none left out
	// Devices counts the log's devices by state: "active"; "revoked"
	// (never ordered wiped: a revocation erases nothing, and the device
	// keeps its encrypted copies until its policy's wipe deadline);
	// "wipe pending" (ordered, not answered); "wiped" (its signed receipt
	// of the order came); "wiped itself" (its receipt of its own wipe:
	// its word alone).
	Devices map[string]int `json:"devices"`
	// Copies counts further copies of devices (disk images, backups put
	// back) that came online after their wipe and were wiped in turn:
	// there were copies, and others may exist.
	Copies int `json:"copies"`
}

// ResidencyPlace is one place the server keeps data in.
type ResidencyPlace struct {
	Holds  string `json:"holds"`            // what it holds
	Kind   string `json:"kind"`             // "folder", "postgresql" or "s3"
	Where  string `json:"where"`            // a folder and host, a database's host and name, an endpoint and bucket
	Region string `json:"region,omitempty"` // an S3 bucket's region name, as the client library has it
	Note   string `json:"note,omitempty"`   // what the region name means, or why it is unknown
}

// ObjectCount is how many objects of one kind ("chunk", "manifest", …)
// the server holds, and their bytes as uploaded (ciphertext).
type ObjectCount struct {
	Kind  string `json:"kind"`
	Count int64  `json:"count"`
	Bytes int64  `json:"bytes"`
}

// DeviceInfo is a row of GET /v1/admin/devices.
type DeviceInfo struct {
	ID        HexID  `json:"id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	Revoked   bool   `json:"revoked"`
	LastSeen  int64  `json:"last_seen,omitempty"` // unix seconds
	LastIP    string `json:"last_ip,omitempty"`
	AuditSeq  int64  `json:"audit_seq"`
	AuditFlag string `json:"audit_flag,omitempty"` // "fork" or "gap"
	OS        string `json:"os,omitempty"`
	// State: "active", "revoked", "wipe pending" (ordered, no receipt
	// yet) or "wiped" (its receipt is in).
	State    string `json:"state"`
	LeaseEnd int64  `json:"lease_end,omitempty"` // unix seconds: last seen + the policy's lease
}

// Marshal encodes v as JSON (for bodies).
func Marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("wire: " + err.Error())
	}
	return b
}

// HexOf formats a byte slice as lowercase hex.
func HexOf(b []byte) string { return hex.EncodeToString(b) }
