package vault

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// trust says which keys may sign which kinds of object. It is built at
// unlock from keys the passphrase proves (docs/vault-format.md, "Who may
// sign what"):
//
//   - device certificates: the user signing key, which is inside the
//     passphrase-protected keys/user.age;
//   - policy documents: the issuer (the user key of a standalone vault);
//   - keyrings, folders and manifests: a device key that a device
//     certificate certifies;
//   - this device's audit chain: this device's key.
//
// Nothing is trusted because it decrypts: age encryption says nothing about
// who wrote a file.
type trust struct {
	user    ed25519.PublicKey
	issuer  ed25519.PublicKey
	self    ed25519.PublicKey
	devices map[string]object.ID // certified device key → device ID
	org     *orglog.State        // the org log this device verified (nil: standalone)
}

// allows reports whether signer may sign objects of kind.
func (t *trust) allows(kind object.Kind, signer ed25519.PublicKey) bool {
	switch kind {
	case object.KindDevice:
		return signer.Equal(t.user)
	case object.KindPolicy:
		return signer.Equal(t.issuer)
	case object.KindKeyring, object.KindFolder, object.KindManifest:
		// Another person's device may sign these for a folder they
		// share; which folder is known once the object is open:
		// allowsIn says. A device revoked since (a lost laptop, a
		// person who left) still vouches for what it signed before:
		// the folders, keys and versions a vault holds stay readable.
		// What arrives from it now is judged on receipt: keys by the
		// log's commitment to them, versions by checkWroteUnder,
		// folder objects refused (checkRevokedFolderSigner).
		if _, ok := t.devices[string(signer)]; ok {
			return true
		}
		if t.org != nil {
			return t.org.DeviceByKey(signer) != nil
		}
	}
	return false
}

// allowsIn reports whether signer may sign objects of kind for folder:
// this user's certified devices may; in an organisation, a current device
// of a user the log allows — for keyrings, one who may share the folder
// (its owner or a manager among its members); for the folder object, the
// same people (its revisions change the class); for versions, one who is or was its owner or an editor
// (docs/sync-protocol.md, "Folders, sharing and guests").
func (t *trust) allowsIn(kind object.Kind, folder object.ID, signer ed25519.PublicKey) bool {
	if _, ok := t.devices[string(signer)]; ok {
		return true
	}
	if t.org == nil {
		return false
	}
	d, f := t.org.DeviceByKey(signer), t.org.Folders[folder]
	if d == nil || f == nil {
		return false // revoked devices as allows says
	}
	switch kind {
	case object.KindKeyring:
		return t.org.MayShare(d.Email, folder)
	case object.KindFolder:
		return t.org.MayShare(d.Email, folder) // its owner, or a manager among its members (class changes)
	case object.KindManifest:
		return f.Writers[d.Email]
	}
	return false
}

// checkFolderSigner returns an error unless signer may sign kind for
// folder.
func (v *Vault) checkFolderSigner(kind object.Kind, folder object.ID, signer ed25519.PublicKey) error {
	v.mu.Lock()
	ok := v.trust.allowsIn(kind, folder, signer)
	v.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %w (%v of folder %s)", ErrTampered, ErrNotAllowedSigner, kind, folder.String()[:12])
	}
	return nil
}

// checkWroteUnder returns an error wrapping ErrTampered unless the log
// says the user of the device that signed m could write its folder under
// m's epoch at m's time (orglog.State.WroteUnder): a version received
// from someone taken off the folder, or demoted to viewer, that they made
// after — under a key of an epoch they never wrote in, or dated after
// their writing was taken away — is refused. Checked when a version is
// received, not when it is read: what was accepted stays readable.
func (v *Vault) checkWroteUnder(ctx context.Context, m *Manifest, signer ed25519.PublicKey) error {
	v.mu.Lock()
	st := v.org
	v.mu.Unlock()
	if st == nil || st.Folders[m.Folder] == nil {
		return nil
	}
	d := st.DeviceByKey(signer)
	if d == nil {
		return nil // this user's own device before the org knew it: checkFolderSigner judged it
	}
	if !st.WroteUnder(d.Email, m.Folder, int64(m.Epoch), m.Time) {
		return fmt.Errorf("%w: %w (a version by %s, under key epoch %d, dated %s: not written while they could write the folder)",
			ErrTampered, ErrNotAllowedSigner, d.Email, m.Epoch, m.Time.UTC().Format(time.RFC3339))
	}
	if !d.Revoked {
		return nil
	}
	// From a device revoked since: only what it can have written before
	// — dated no later than its revocation (no grace: its keys may be a
	// thief's), on a version that existed then (a thief's version dated
	// back over one written since would otherwise become current).
	// The log's times are whole seconds: a version of the revocation's
	// own second is before it.
	if m.Time.Truncate(time.Second).After(d.RevokedAt) {
		return fmt.Errorf("%w: %w (a version dated %s by a device revoked at %s)",
			ErrTampered, ErrNotAllowedSigner, m.Time.UTC().Format(time.RFC3339), d.RevokedAt.UTC().Format(time.RFC3339))
	}
	if m.Parent != (object.ID{}) {
		parent, err := v.idx.Version(ctx, m.Parent)
		if err != nil {
			return fmt.Errorf("%w: %w (a version by a device revoked since, on a version this vault does not hold)", ErrTampered, ErrNotAllowedSigner)
		}
		if parent.Created.Truncate(time.Second).After(d.RevokedAt) {
			return fmt.Errorf("%w: %w (a version by a device revoked at %s, made on a version of %s)",
				ErrTampered, ErrNotAllowedSigner, d.RevokedAt.UTC().Format(time.RFC3339), parent.Created.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// checkAuthor returns an error wrapping ErrTampered unless m names as its
// author the device that signed it and that device's person: this user's
// certified devices and this user, or the log's device and its e-mail.
// The author is what version lists, conflict copies and the sync's "this
// device's own work" go by; without this an editor's modified client
// could put a version in another member's name (or in this device's,
// which would then wait forever to be pushed).
func (v *Vault) checkAuthor(m *Manifest, signer ed25519.PublicKey) error {
	v.mu.Lock()
	dev, own := v.trust.devices[string(signer)]
	st := v.org
	v.mu.Unlock()
	user := v.user.Email
	if !own {
		var d *orglog.DeviceState
		if st != nil {
			d = st.DeviceByKey(signer)
		}
		if d == nil {
			return fmt.Errorf("%w: %w (a version signed by a device neither this user nor the organisation knows)", ErrTampered, ErrNotAllowedSigner)
		}
		dev, user = d.ID, d.Email
	}
	if m.AuthorDevice != dev || m.AuthorUser != user {
		return fmt.Errorf("%w: a version that names %q (device %s) as its author, signed by a device of %s",
			ErrTampered, m.AuthorUser, m.AuthorDevice.String()[:12], user)
	}
	return nil
}

// checkRevokedFolderSigner refuses a folder object received from a device
// revoked since: a folder's class and name are in it alone, and a reader
// new to the folder takes its first revision as it comes, so a thief with
// a lost laptop's keys and a server's help could hand a restricted folder
// over as public. The one exception is the object its owner anchored in
// the log (orglog.Anchor) before the device was revoked: revision 0 of
// that very folder, byte for byte, so that people added later can still
// take a folder made on a laptop lost since. (An anchor appended after the
// revocation may be the thief's: the lost laptop holds the user key that
// signs anchors.) Folder objects a vault holds stay readable (allows).
func (v *Vault) checkRevokedFolderSigner(ctx context.Context, signer ed25519.PublicKey, data []byte, id object.ID) error {
	v.mu.Lock()
	st := v.org
	v.mu.Unlock()
	if st == nil {
		return nil
	}
	d := st.DeviceByKey(signer)
	if d == nil || !d.Revoked {
		return nil
	}
	refuse := fmt.Errorf("%w: %w (a folder object signed by a device revoked at %s, not the one its owner anchored in the log before)", ErrTampered, ErrNotAllowedSigner, d.RevokedAt.UTC().Format(time.RFC3339))
	body, err := v.folderBodyOf(ctx, data, id)
	if err != nil {
		return refuse
	}
	f := st.Folders[body.Folder]
	sum := sha256.Sum256(data)
	if body.Revision != 0 || f == nil || f.Anchor == nil || f.AnchorEntry >= d.RevokedEntry ||
		subtle.ConstantTimeCompare(f.Anchor, sum[:]) != 1 {
		return refuse
	}
	return nil
}

// folderBodyOf opens a received folder object with the epoch-1 key of
// the folder it is for (folder objects are sealed to it), among the keys
// this vault holds.
func (v *Vault) folderBodyOf(ctx context.Context, data []byte, id object.ID) (folderBody, error) {
	if err := v.loadAllKeys(ctx); err != nil {
		return folderBody{}, err
	}
	for folder, fks := range v.knownKeys() {
		if fks[0].epoch != 1 {
			continue
		}
		plain, _, err := v.openData(data, object.KindFolder, id, 1<<20, fks[0].identity)
		if err != nil {
			continue
		}
		var body folderBody
		if err := json.Unmarshal(plain, &body); err != nil || body.Folder != folder {
			return folderBody{}, fmt.Errorf("%w: folder object", ErrMalformed)
		}
		return body, nil
	}
	return folderBody{}, fmt.Errorf("folder object %s: %w", id.String()[:12], ErrNotAddressed)
}

// allowsAudit reports whether signer may sign entries of this device's
// audit chain: only this device's own key.
func (t *trust) allowsAudit(signer ed25519.PublicKey) bool { return signer.Equal(t.self) }

// loadDevices reads every device certificate and keeps those the user key
// signed. This device's own key must be pinned in keys/user.age or
// certified: the proof that keys/device.age was written by the owner and
// not planted.
func (v *Vault) loadDevices(ctx context.Context) error {
	certified := map[string]object.ID{}
	err := v.objects.List(ctx, object.KindDevice, func(id object.ID, _ int64) error {
		cert, err := v.readDeviceCert(ctx, id)
		if err != nil {
			return nil // not a certificate the user signed: trusted for nothing; check reports it
		}
		certified[string(cert.Key)] = cert.Device
		return nil
	})
	if err != nil {
		return err
	}
	// This device's key is proven by the pin inside keys/user.age (checked
	// by Open) or, in a vault made before the pin, by its certificate.
	self := v.devKey.Public().(ed25519.PublicKey)
	pinned := self.Equal(ed25519.PublicKey(v.user.DeviceKey))
	if dev, ok := certified[string(self)]; !pinned && (!ok || dev != v.device.Device) {
		return fmt.Errorf("vault: %w: keys/device.age holds a key that no certificate signed by your user key vouches for", ErrTampered)
	}
	certified[string(self)] = v.device.Device
	v.mu.Lock()
	v.trust.devices = certified
	v.mu.Unlock()
	return nil
}

// readDeviceCert reads and verifies the device certificate stored as id: it
// must be signed by the user key and certify the device it is stored as.
func (v *Vault) readDeviceCert(ctx context.Context, id object.ID) (deviceCert, error) {
	var cert deviceCert
	data, err := v.objects.Get(ctx, store.Handle{Kind: object.KindDevice, ID: id})
	if err != nil {
		return cert, err
	}
	o, err := object.Open(data, object.KindDevice, id)
	if err != nil {
		return cert, fmt.Errorf("device certificate %s: %w: %w", id.String()[:12], ErrDamaged, err)
	}
	if !o.Signer.Equal(v.trust.user) {
		return cert, fmt.Errorf("device certificate %s: %w: not signed by the user key", id.String()[:12], ErrTampered)
	}
	plain, err := decrypt(o.Body, 1<<20, v.userID)
	if err != nil {
		return cert, fmt.Errorf("device certificate %s: %w: %v", id.String()[:12], ErrDamaged, err)
	}
	if err := json.Unmarshal(plain, &cert); err != nil || cert.V != 1 {
		return cert, fmt.Errorf("device certificate %s: %w", id.String()[:12], ErrMalformed)
	}
	if cert.Device != id || len(cert.Key) != ed25519.PublicKeySize {
		return cert, fmt.Errorf("device certificate %s: %w: certifies another device", id.String()[:12], ErrTampered)
	}
	return cert, nil
}

// ErrNotAllowedSigner is wrapped when an object is validly signed by a key
// that may sign other kinds, or nothing at all.
var ErrNotAllowedSigner = errors.New("signed by a key that may not sign this kind of object")

// checkSigner returns an error unless signer may sign kind.
func (v *Vault) checkSigner(kind object.Kind, signer ed25519.PublicKey) error {
	v.mu.Lock()
	ok := v.trust.allows(kind, signer)
	v.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %w (%v)", ErrTampered, ErrNotAllowedSigner, kind)
	}
	return nil
}
