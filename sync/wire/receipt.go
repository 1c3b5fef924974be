package wire

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-vault/coffer/internal/notekey"
	"github.com/coffer-vault/coffer/vault/object"
)

// ReceiptKeyName is the key name of a wipe receipt's signature: the
// device's transport key, which its device entry certifies (it works
// without the passphrase, and survives the keys it vouches were destroyed).
const ReceiptKeyName = "coffer-transport"

// Receipt is a device's signed account of a wipe (docs/sync-protocol.md,
// "Remote wipe, receipts and the lease"):
//
//	coffer wipe receipt v1
//	org <hex>
//	device <hex>
//	cause admin|lease|failures
//	order <hex SHA-256 of the wipe entry, or "-">
//	wiped <unix ns, the device's clock>
//	server-time <unix ns, the highest server time it had verified, or 0>
//	files <number destroyed>
//	bytes <their size>
type Receipt struct {
	Org        object.ID
	Device     object.ID
	Cause      string
	Order      string // hex hash of the wipe entry; "" or "-" for a self-wipe
	Wiped      time.Time
	ServerTime time.Time
	Files      int64
	Bytes      int64
}

// Text returns the receipt's note text.
func (r Receipt) Text() string {
	order := r.Order
	if order == "" {
		order = "-"
	}
	var st int64
	if !r.ServerTime.IsZero() {
		st = r.ServerTime.UnixNano()
	}
	return fmt.Sprintf("coffer wipe receipt v1\norg %s\ndevice %s\ncause %s\norder %s\nwiped %d\nserver-time %d\nfiles %d\nbytes %d\n",
		r.Org, r.Device, r.Cause, order, r.Wiped.UnixNano(), st, r.Files, r.Bytes)
}

// Sign signs the receipt with a transport key.
func (r Receipt) Sign(key ed25519.PrivateKey) ([]byte, error) {
	return notekey.Sign(r.Text(), ReceiptKeyName, key)
}

// OpenReceipt verifies a wipe receipt against a device's transport key
// and parses it.
func OpenReceipt(msg []byte, transport ed25519.PublicKey) (*Receipt, error) {
	text, err := notekey.Open(msg, ReceiptKeyName, transport)
	if err != nil {
		return nil, fmt.Errorf("wipe receipt: %w", err)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	want := []string{"org", "device", "cause", "order", "wiped", "server-time", "files", "bytes"}
	if len(lines) != len(want)+1 || lines[0] != "coffer wipe receipt v1" {
		return nil, errors.New("wipe receipt: malformed")
	}
	r := &Receipt{}
	for i, name := range want {
		v, ok := strings.CutPrefix(lines[i+1], name+" ")
		if !ok {
			return nil, fmt.Errorf("wipe receipt: want %s", name)
		}
		switch name {
		case "org", "device":
			id, err := object.ParseID(v)
			if err != nil {
				return nil, errors.New("wipe receipt: bad ID")
			}
			if name == "org" {
				r.Org = id
			} else {
				r.Device = id
			}
			continue
		case "cause":
			if v != "admin" && v != "lease" && v != "failures" {
				return nil, errors.New("wipe receipt: unknown cause")
			}
			r.Cause = v
			continue
		case "order":
			if v != "-" {
				if b, err := hex.DecodeString(v); err != nil || len(b) != 32 {
					return nil, errors.New("wipe receipt: bad order")
				}
			}
			r.Order = v
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("wipe receipt: bad %s", name)
		}
		switch name {
		case "wiped":
			r.Wiped = time.Unix(0, n)
		case "server-time":
			if n > 0 {
				r.ServerTime = time.Unix(0, n)
			}
		case "files":
			r.Files = n
		case "bytes":
			r.Bytes = n
		}
	}
	return r, nil
}

// ReceiptPost is POST /v1/receipts.
type ReceiptPost struct {
	Receipt []byte `json:"receipt"`
}

// StoredReceipt is an entry of GET /v1/admin/receipts.
type StoredReceipt struct {
	Device   HexID  `json:"device"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	Receipt  []byte `json:"receipt"`  // the signed note, for the admin to verify
	Received int64  `json:"received"` // unix ns, the server's clock
	// Copies counts further receipts of the same wipe from copies of
	// the device (disk images, backups put back).
	Copies int `json:"copies,omitempty"`
}
