package vault

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/vault/index"
)

// The organisation's audit trail (docs/sync-protocol.md, "Audit for
// compliance"): with each batch of its chain a device sends the entries'
// details, names resolved, encrypted to the compliance and risk users the
// log certifies and signed by the device key, so that the server can
// neither read nor forge them.

// detailsContext prefixes what a device signs of a batch's details.
const detailsContext = "coffer audit details v1\n"

// AuditNames maps the folder and file IDs this vault holds to their names
// (hex ID → name), for showing audit events.
func (v *Vault) AuditNames(ctx context.Context) (folders, files map[string]string, err error) {
	fs, err := v.Folders(ctx)
	if err != nil {
		return nil, nil, err
	}
	folders, files = map[string]string{}, map[string]string{}
	for _, f := range fs {
		folders[f.ID.String()] = f.Name
		list, err := v.Files(ctx, f)
		if err != nil {
			return nil, nil, err
		}
		for _, fi := range list {
			files[fi.ID.String()] = fi.Name
		}
	}
	return folders, files, nil
}

// SealAuditDetails returns the details of rows (this device's audit
// entries) as JSON events with names, encrypted to recipients, and the
// device's signature of that ciphertext. No recipients: nil, nil.
func (v *Vault) SealAuditDetails(ctx context.Context, rows []index.AuditRow, recipients []age.Recipient) (details, sig []byte, err error) {
	if len(recipients) == 0 || len(rows) == 0 {
		return nil, nil, nil
	}
	folders, files, err := v.AuditNames(ctx)
	if err != nil {
		return nil, nil, err
	}
	events := make([]audit.Event, 0, len(rows))
	for _, r := range rows {
		ev := audit.Event{Seq: r.Seq, Time: r.At, Action: audit.Action(r.Action), Outcome: audit.Outcome(r.Outcome)}
		var d audit.Details
		if err := v.seal.openJSON(auditAD(r.At, ev.Action, ev.Outcome), r.Sealed, &d); err != nil {
			ev.Reason = "the sealed details of this entry do not open on its device"
		} else {
			ev = ev.WithDetails(d)
		}
		if ev.User == "" {
			ev.User = v.user.Email
		}
		if ev.Device == "" {
			ev.Device = v.device.Device.String()
		}
		ev.FolderName, ev.FileName = folders[ev.Folder], files[ev.File]
		events = append(events, ev)
	}
	plain, err := json.Marshal(events)
	if err != nil {
		return nil, nil, err
	}
	details, err = encrypt(plain, recipients...)
	if err != nil {
		return nil, nil, err
	}
	return details, SignAuditDetails(v.devKey, details), nil
}

// SignAuditDetails signs a batch's details ciphertext with a device key.
func SignAuditDetails(key ed25519.PrivateKey, details []byte) []byte {
	h := sha256.Sum256(details)
	return ed25519.Sign(key, append([]byte(detailsContext), h[:]...))
}

// ErrAuditDetails is wrapped when a batch's details cannot be trusted.
var ErrAuditDetails = errors.New("audit details cannot be trusted")

// OpenAuditDetails checks a batch's details against the signature of the
// device that sent them and decrypts them with this vault's user
// identity: the events of a batch of another device's audit trail.
func (v *Vault) OpenAuditDetails(details, sig []byte, device ed25519.PublicKey) ([]audit.Event, error) {
	h := sha256.Sum256(details)
	if !ed25519.Verify(device, append([]byte(detailsContext), h[:]...), sig) {
		return nil, fmt.Errorf("%w: not signed by the device", ErrAuditDetails)
	}
	plain, err := decrypt(details, 64<<20, v.userID)
	var miss *age.NoIdentityMatchError
	if errors.As(err, &miss) {
		return nil, fmt.Errorf("%w: %w", ErrNotAddressed, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAuditDetails, err)
	}
	var events []audit.Event
	if err := json.Unmarshal(plain, &events); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAuditDetails, err)
	}
	return events, nil
}
