// Package store is cofferd's storage: what the server keeps for one
// organisation, behind an interface small enough for two backends — the
// embedded one (SQLite and a folder of blobs, for one machine,
// sync/store/embedded) and PostgreSQL with an S3-compatible object store
// for several stateless servers (sync/store/scaleout). Every backend runs the same conformance suite,
// sync/store/storetest.
//
// The store holds ciphertext, signatures and routing metadata only
// (docs/sync-protocol.md, "Storage on the server"); it decides nothing
// about who may do what — the server does — but every write that must not
// race is a compare-and-swap or a create-if-absent here, so that any
// number of servers may share one store.
package store

import (
	"context"
	"errors"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/coffer-vault/coffer/vault/object"
)

// Errors callers test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrConflict = errors.New("changed meanwhile") // a compare-and-swap lost
	// ErrLost: the object's metadata is stored but its bytes are not (a
	// damaged disk, a backup that copied the database and the blobs at
	// different times). GetObject returns it with the metadata.
	ErrLost   = errors.New("its stored bytes are lost")
	ErrReplay = errors.New("nonce already used")
	ErrFull   = errors.New("too many waiting") // a bounded put found its bound reached
)

// ObjectMeta is what the server knows of a stored object.
type ObjectMeta struct {
	Kind   object.Kind
	ID     object.ID
	Space  object.ID // folder ID, or the user space of a device certificate
	Size   int64
	Device object.ID // the device that uploaded it
	// For manifests, as the uploading client declared them.
	File   object.ID
	Parent object.ID
	Seq    int64
	Stored time.Time
}

// Event is a change-feed event.
type Event struct {
	Seq    int64
	Kind   object.Kind // 0 for an org log entry
	ID     object.ID
	Space  object.ID
	File   object.ID
	Parent object.ID
	Log    int64 // for a log entry: its index + 1
}

// AuditRow is one link of a device's audit chain as the server keeps it.
type AuditRow struct {
	Seq     int64
	At      int64
	Action  string
	Outcome string
	Sealed  []byte
	Prev    []byte
	Hash    []byte
	Sig     []byte
}

// Batch is the request metadata the server keeps beside a batch of audit
// entries, with the details only compliance and risk can read.
type Batch struct {
	IP         string
	Time       time.Time
	Details    []byte // age ciphertext (docs/sync-protocol.md, "Audit for compliance"); nil if none
	DetailsSig []byte // the device's signature of Details
}

// AuditBatch is a stored batch of one device's audit entries, for the
// organisation-wide audit trail.
type AuditBatch struct {
	ID     int64 // increasing in arrival order
	Device object.ID
	Batch
	Rows []AuditRow
}

// DeviceRuntime is what the server records of a device's activity.
type DeviceRuntime struct {
	LastSeen  time.Time
	LastIP    string
	OS        string // as the client names it ("linux/amd64")
	AuditSeq  int64
	AuditHash []byte
	AuditFlag string // "" or "fork" or "gap"
}

// StoredReceipt is a device's wipe receipt as the server verified it.
type StoredReceipt struct {
	Device   object.ID
	Order    string // the wipe order it answers (hex hash of the entry), "-" for a self-wipe
	Receipt  []byte // the signed note
	Received time.Time
	// Copies counts the further receipts of the same wipe from copies
	// of the device (a disk image, a backup put back): the first stands.
	Copies int
}

// PairingKept is how long a store keeps a pairing request after it
// expired: long enough for a device that asked to read the answer, then
// gone with the address and time the server recorded of it.
const PairingKept = 24 * time.Hour

// Pairing is a pending or answered pairing request, opaque to the store.
type Pairing struct {
	ID      object.ID
	Email   string
	Request []byte // the server's JSON record of the request (opaque here)
	Expires time.Time
	Bundle  []byte // set once approved
}

// LogRecord is one org log entry to append, with the tlog stored hashes
// it adds (tlog.StoredHashes).
type LogRecord struct {
	Entry  []byte
	Hashes []tlog.Hash
}

// Notifier is implemented by a Store several servers share: it tells each
// server of the others' writes, so that their feeds wake at once rather
// than at their next look.
type Notifier interface {
	// Changes returns a channel that receives after any server stored a
	// feed event or an audit batch (several may come as one), and after
	// each reconnection; it is closed when ctx ends or the store closes.
	Changes(ctx context.Context) <-chan struct{}
}

// Store is one organisation's storage. Implementations are safe for
// concurrent use by several servers.
type Store interface {
	// Meta values (bootstrap token hash, server key, TLS certificate).
	GetMeta(ctx context.Context, key string) ([]byte, error)
	// PutMeta sets key to value if old is its current value (nil: absent).
	PutMeta(ctx context.Context, key string, old, value []byte) error

	// Log: entries 0..n-1, their tlog stored hashes.
	LogSize(ctx context.Context) (int64, error)
	// AppendLog appends records as entries n, n+1, …, with their stored
	// hashes and feed events, if the log has exactly n entries
	// (ErrConflict otherwise): all of them durably, or none (an
	// enrolment's user and device entries, say: a crash between the two
	// would leave a user without a device, locked out for good).
	AppendLog(ctx context.Context, n int64, records ...LogRecord) error
	LogEntries(ctx context.Context, start, end int64) ([][]byte, error)
	// ReadHashes implements tlog.HashReader over the stored hashes.
	ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)

	// Objects. PutObject stores data under (kind, id) if absent and, once
	// stored, its metadata and feed event; it reports whether it stored
	// it (false: an object was there, identical or not — the caller
	// compares with GetObject). Blobs are written before their metadata,
	// so a crash leaves at most a blob no metadata names.
	PutObject(ctx context.Context, m ObjectMeta, data []byte) (bool, error)
	// RepairLost gives an object whose bytes are lost (ErrLost) data as
	// its bytes, if data is of the stored size; it reports whether it
	// did. The caller has authorised the uploader for the object's space.
	RepairLost(ctx context.Context, kind object.Kind, id object.ID, data []byte) (bool, error)
	GetObject(ctx context.Context, kind object.Kind, id object.ID) (ObjectMeta, []byte, error)
	StatObject(ctx context.Context, kind object.Kind, id object.ID) (ObjectMeta, error)

	// Feed: events after seq of the given spaces (the folders the caller
	// may read and its user space — the server decides which, from the org
	// log), and log entries; at most limit; and the newest seq.
	Events(ctx context.Context, after int64, spaces []object.ID, limit int) ([]Event, error)
	// AllEvents returns every event after seq, whatever its space, at most
	// limit: what a server caches once for all the feeds it serves.
	AllEvents(ctx context.Context, after int64, limit int) ([]Event, error)
	LastEvent(ctx context.Context) (int64, error)

	// UseNonce records a request nonce of keyID until expires; ErrReplay
	// if it was used.
	UseNonce(ctx context.Context, keyID, nonce string, expires time.Time) error

	// Devices' activity and audit chains.
	TouchDevice(ctx context.Context, device object.ID, ip, os string, at time.Time) error
	Device(ctx context.Context, device object.ID) (DeviceRuntime, error)
	// AppendAudit appends rows to device's chain if its head is (seq,
	// hash) (ErrConflict otherwise), with the batch's metadata.
	AppendAudit(ctx context.Context, device object.ID, headSeq int64, headHash []byte, rows []AuditRow, b Batch) error
	FlagDevice(ctx context.Context, device object.ID, flag string) error
	AuditRows(ctx context.Context, device object.ID, after int64, limit int) ([]AuditRow, error)
	// AuditBatches lists the batches of every device after batch ID after,
	// in arrival order, at most limit, with their rows.
	AuditBatches(ctx context.Context, after int64, limit int) ([]AuditBatch, error)

	// Wipe receipts: one per device and order, create-if-absent
	// (ErrExists).
	PutReceipt(ctx context.Context, r StoredReceipt) error
	// AddReceiptCopy counts one more copy of device that answered order
	// (a receipt other than the one kept).
	AddReceiptCopy(ctx context.Context, device object.ID, order string) error
	ReceiptsOf(ctx context.Context, device object.ID) ([]StoredReceipt, error)
	Receipts(ctx context.Context) ([]StoredReceipt, error)

	// Pairings. PutPairing adds p unless max requests of p.Email are
	// waiting (unanswered and unexpired at now) already (ErrFull), as
	// one step: servers adding at once never pass max between them (a
	// store of several connections serialises the count and the insert:
	// SQLite's one writer; elsewhere a serializable transaction or a lock
	// per e-mail). At the bound, a put of an ID held already is ErrFull.
	// It also removes every request that expired PairingKept or more
	// before now, answered or not: a request holds its asker's address.
	PutPairing(ctx context.Context, p Pairing, now time.Time, max int) error
	GetPairing(ctx context.Context, id object.ID) (Pairing, error)
	Pairings(ctx context.Context, email string, now time.Time) ([]Pairing, error)
	// AnswerPairing sets the bundle of a pairing that has none
	// (ErrConflict if answered already).
	AnswerPairing(ctx context.Context, id object.ID, bundle []byte) error

	// Residency says where the store keeps the organisation's data and
	// how many objects of each kind it holds.
	Residency(ctx context.Context) (Residency, error)

	Close() error
}

// Residency is where a store keeps the organisation's data, for the
// admin's `cofferd admin residency`: the places (a folder on a host, a
// PostgreSQL database, an S3 bucket) and the objects they hold.
type Residency struct {
	Backend string // "embedded" or "scale-out"
	Places  []Place
	Objects []KindCount // objects the index names, by kind; kinds with none left out
}

// What a store's places hold, in words for an auditor: the tables
// (everything but the objects' bytes) and the objects.
const (
	HoldsTables = "the organisation log (e-mail addresses, names, device names and roles, in the clear), " +
		"devices' last addresses and systems, audit trails (addresses, times and actions in the clear; details sealed), " +
		"pairing requests (an address each, a day past expiry), the server's private signing key and, " +
		"unless cofferd serves with --tls-cert, its TLS key"
	HoldsObjects = "the objects: documents, versions, folder keys (ciphertext the server has no key to)"
)

// Place is one place a store keeps data in.
type Place struct {
	Holds  string // what, in words for an auditor
	Kind   string // "folder", "postgresql" or "s3"
	Where  string // "/var/lib/cofferd on host db1", "db.example.com:5432 database coffer", "https://s3.example.com bucket coffer"
	Region string // the S3 bucket's region name ("" elsewhere, or unknown)
	Note   string // what Region means, or why it is unknown
}

// KindCount is how many objects of one kind a store holds, and their
// bytes (ciphertext, as uploaded).
type KindCount struct {
	Kind  object.Kind
	Count int64
	Bytes int64
}
