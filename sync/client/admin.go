package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/internal/notekey"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// AdminKey is the organisation's root key and what it pins, as kept in
// the admin's key file (age scrypt with the admin's passphrase). The server
// never holds it.
type AdminKey struct {
	V      int       `json:"v"`
	Seed   []byte    `json:"seed"`
	Org    object.ID `json:"org"`
	URL    string    `json:"url"`
	TLS    []byte    `json:"tls"`
	Server []byte    `json:"server"`
}

// Key returns the admin's private key.
func (k *AdminKey) Key() ed25519.PrivateKey { return ed25519.NewKeyFromSeed(k.Seed) }

// SaveAdminKey writes the key file, encrypted with passphrase (age scrypt,
// work factor 2^18: it guards the organisation), refusing to replace one.
func SaveAdminKey(path string, k *AdminKey, passphrase string) error {
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return err
	}
	r.SetWorkFactor(18)
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		return err
	}
	if err := json.NewEncoder(w).Encode(k); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if _, err := store.ReadRegular(path, 1); err == nil {
		return fmt.Errorf("%s exists: the admin key is made once; keep it safe", path)
	}
	return store.WriteFileAtomic(path, buf.Bytes(), 0o600)
}

// LoadAdminKey reads and decrypts the key file.
func LoadAdminKey(path, passphrase string) (*AdminKey, error) {
	data, err := store.ReadRegular(path, 1<<16)
	if err != nil {
		return nil, fmt.Errorf("admin key: %w", err)
	}
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, err
	}
	r, err := age.Decrypt(bytes.NewReader(data), id)
	if err != nil {
		var inc *age.NoIdentityMatchError
		if errors.As(err, &inc) || errors.Is(err, age.ErrIncorrectIdentity) {
			return nil, fmt.Errorf("admin key %s: wrong passphrase", path)
		}
		return nil, fmt.Errorf("admin key %s: %w", path, err)
	}
	var k AdminKey
	if err := json.NewDecoder(io.LimitReader(r, 1<<16)).Decode(&k); err != nil || k.V != 1 || len(k.Seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("admin key %s: not an admin key file", path)
	}
	return &k, nil
}

// Admin is a connection as the admin.
type Admin struct {
	Key   *AdminKey
	conn  *Conn
	state *orglog.State
}

// DialAdmin connects as the admin with the key file's pins and verifies
// the org log's genesis names this admin key.
func DialAdmin(ctx context.Context, k *AdminKey) (*Admin, error) {
	var pin [32]byte
	copy(pin[:], k.TLS)
	conn, err := Dial(k.URL, pin, wire.KeyAdmin, k.Key())
	if err != nil {
		return nil, err
	}
	conn.SetServer(k.Org, ed25519.PublicKey(k.Server))
	a := &Admin{Key: k, conn: conn}
	if err := a.refresh(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return a, nil
}

// Close closes the connection.
func (a *Admin) Close() { a.conn.Close() }

// Conn returns the admin's connection.
func (a *Admin) Conn() *Conn { return a.conn }

// refresh fetches and verifies the whole log.
func (a *Admin) refresh(ctx context.Context) error {
	entries, cpMsg, err := FetchLog(ctx, a.conn, 0)
	if err != nil {
		return err
	}
	inv := wire.Invite{Org: a.Key.Org, AdminFP: orglog.AdminFingerprint(a.Key.Key().Public().(ed25519.PublicKey))}
	copy(inv.TLS[:], a.Key.TLS)
	st, _, err := VerifyFreshLog(entries, cpMsg, inv, ed25519.PublicKey(a.Key.Server))
	if err != nil {
		return err
	}
	a.state = st
	return nil
}

// State returns the verified org log.
func (a *Admin) State() *orglog.State { return a.state }

// Init makes the organisation on a new server: a fresh admin key, the
// genesis entry naming the server's keys, appended with the bootstrap
// token. tlsPin, if not zero, is the server's TLS key hash as `cofferd
// serve` printed it; otherwise the key the server presents is trusted and
// returned for the admin to compare.
//
// save, if not nil, is given the new admin key before the server is asked
// to make the organisation: a crash (or a lost answer) after the server
// made it must not leave an organisation whose admin key was never kept.
// Errors after save wrap ErrBootstrapRefused when the server answered no
// (no organisation was made: the saved key may go).
func Init(ctx context.Context, serverURL, token, orgName string, tlsPin [32]byte, save func(*AdminKey) error) (*AdminKey, [32]byte, error) {
	seen, err := presentedTLS(ctx, serverURL)
	if err != nil {
		return nil, seen, err
	}
	if tlsPin != ([32]byte{}) && tlsPin != seen {
		return nil, seen, fmt.Errorf("%w (it presents %s)", ErrPin, hex.EncodeToString(seen[:]))
	}
	conn, err := Dial(serverURL, seen, "", nil)
	if err != nil {
		return nil, seen, err
	}
	defer conn.Close()
	var info wire.Info
	if _, err := conn.JSON(ctx, "GET", "/v1/info", nil, nil, &info); err != nil {
		return nil, seen, err
	}
	if info.Org != nil {
		return nil, seen, errors.New("this server holds an organisation already")
	}
	if info.TLS != hex.EncodeToString(seen[:]) || len(info.ServerKey) != ed25519.PublicKeySize {
		return nil, seen, errors.New("the server's description of its keys does not match the connection")
	}
	_, admin, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, seen, err
	}
	org := object.NewRandomID()
	g := &orglog.Entry{Org: org, Kind: orglog.Genesis, Name: orgName, Admin: admin.Public().(ed25519.PublicKey),
		Server: info.ServerKey, TLS: seen, Time: time.Now().Truncate(time.Second)}
	genesis, err := orglog.Sign(g, notekey.Signer(orglog.AdminName, admin))
	if err != nil {
		return nil, seen, err
	}
	key := &AdminKey{V: 1, Seed: admin.Seed(), Org: org, URL: serverURL, TLS: seen[:], Server: info.ServerKey}
	if save != nil {
		if err := save(key); err != nil {
			return nil, seen, err
		}
	}
	var got wire.LogEntries
	if _, err := conn.JSON(ctx, "POST", "/v1/bootstrap", nil, wire.Bootstrap{Token: token, Genesis: genesis}, &got); err != nil {
		// Refused only if the server still holds no organisation: an
		// error answer can come after it made this one (a proxy's 502, a
		// failure past the bootstrap), and then the saved key is its only
		// admin key.
		var after wire.Info
		if _, ierr := conn.JSON(ctx, "GET", "/v1/info", nil, nil, &after); ierr == nil && after.Org == nil {
			return nil, seen, fmt.Errorf("%w: %w", ErrBootstrapRefused, err)
		}
		return nil, seen, err
	}
	cp, err := orglog.OpenCheckpoint(got.Checkpoint, ed25519.PublicKey(info.ServerKey))
	if err != nil || cp.Size != 1 || cp.Org != org {
		return nil, seen, errors.New("the server's answer to the bootstrap does not verify")
	}
	return key, seen, nil
}

// ErrBootstrapRefused is wrapped by Init's error when the server refused
// to make the organisation.
var ErrBootstrapRefused = errors.New("the server made no organisation")

// presentedTLS connects once to read the TLS key the server presents.
func presentedTLS(ctx context.Context, serverURL string) ([32]byte, error) {
	var seen [32]byte
	u, err := url.Parse(serverURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return seen, fmt.Errorf("server address %q: want https://host[:port]", serverURL)
	}
	host := u.Host
	if u.Port() == "" {
		host += ":443"
	}
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}} // read the key, trust nothing yet
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return seen, fmt.Errorf("%w (%s): %v", ErrUnreachable, u.Host, err)
	}
	defer c.Close()
	certs := c.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return seen, errors.New("the server presents no certificate")
	}
	return sha256.Sum256(certs[0].RawSubjectPublicKeyInfo), nil
}

// Invite appends an invite for email with role, open for valid, and
// returns its code.
func (a *Admin) Invite(ctx context.Context, email string, role policy.Role, valid time.Duration) (string, time.Time, error) {
	if valid <= 0 || valid > orglog.MaxInvite {
		return "", time.Time{}, fmt.Errorf("an invite is valid for up to 90 days, not %s", valid)
	}
	_, inviteKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", time.Time{}, err
	}
	now := a.serverTime()
	e := &orglog.Entry{Org: a.Key.Org, Kind: orglog.Invite, Email: email, Role: string(role),
		Invite: inviteKey.Public().(ed25519.PublicKey), Expires: now.Add(valid), Time: now}
	if err := a.append(ctx, e); err != nil {
		return "", time.Time{}, err
	}
	inv := wire.Invite{Org: a.Key.Org, AdminFP: orglog.AdminFingerprint(a.Key.Key().Public().(ed25519.PublicKey)), ServerURL: a.Key.URL}
	copy(inv.TLS[:], a.Key.TLS)
	copy(inv.Seed[:], inviteKey.Seed())
	return inv.String(), e.Expires, nil
}

// Revoke appends the revocation of a device.
func (a *Admin) Revoke(ctx context.Context, device object.ID, reason string) error {
	if err := a.refresh(ctx); err != nil {
		return err
	}
	if a.state.Devices[device] == nil {
		return fmt.Errorf("no device %s in the organisation", device)
	}
	return a.append(ctx, &orglog.Entry{Org: a.Key.Org, Kind: orglog.Revoke, Device: device, Reason: reason, Time: a.serverTime()})
}

// serverTime asks the server's signed time, for an entry's time (an
// invite's expiry is judged by the server's clock).
func (a *Admin) serverTime() time.Time {
	resp, err := a.conn.JSON(context.Background(), "GET", "/v1/admin/devices", nil, nil, nil)
	if err == nil && !resp.Time.IsZero() {
		return resp.Time.Truncate(time.Second)
	}
	return time.Now().Truncate(time.Second)
}

func (a *Admin) append(ctx context.Context, e *orglog.Entry) error {
	raw, err := orglog.Sign(e, notekey.Signer(orglog.AdminName, a.Key.Key()))
	if err != nil {
		return err
	}
	if _, err := a.conn.JSON(ctx, "POST", "/v1/log", nil, wire.LogAppend{Entry: raw}, nil); err != nil {
		return err
	}
	return a.refresh(ctx)
}

// Devices lists the organisation's devices with the server's view of them.
func (a *Admin) Devices(ctx context.Context) ([]wire.DeviceInfo, error) {
	var out []wire.DeviceInfo
	_, err := a.conn.JSON(ctx, "GET", "/v1/admin/devices", nil, nil, &out)
	return out, err
}

// Residency asks the server where it keeps the organisation's data, how
// much of it, and how many devices may hold copies.
func (a *Admin) Residency(ctx context.Context) (wire.Residency, error) {
	var out wire.Residency
	_, err := a.conn.JSON(ctx, "GET", "/v1/admin/residency", nil, nil, &out)
	return out, err
}

// MinPrefix is the fewest hex digits of an ID an admin command takes:
// one digit revoked whichever laptop's ID began with it, for good.
const MinPrefix = 8

// FindDevice finds a device of the log by its ID or a unique prefix of it
// (MinPrefix hex digits at least).
func (a *Admin) FindDevice(prefix string) (object.ID, error) {
	if len(prefix) < MinPrefix {
		return object.ID{}, fmt.Errorf("device %q: give at least %d hex digits of its ID, as 'cofferd admin devices' lists it", prefix, MinPrefix)
	}
	var found []object.ID
	for id := range a.state.Devices {
		if strings.HasPrefix(id.String(), strings.ToLower(prefix)) {
			found = append(found, id)
		}
	}
	switch {
	case prefix == "" || len(found) == 0:
		return object.ID{}, fmt.Errorf("no device %q in the organisation (see cofferd admin devices)", prefix)
	case len(found) > 1:
		return object.ID{}, fmt.Errorf("%q names %d devices: give more of the ID", prefix, len(found))
	}
	return found[0], nil
}

// GrantFolders returns the folders of email's guest grant, as the
// admin's copy of the log has it (nil: no grant).
func (a *Admin) GrantFolders(email string) []object.ID {
	g := a.state.Grants[email]
	if g == nil {
		return nil
	}
	ids := slices.Collect(maps.Keys(g.Folders))
	slices.SortFunc(ids, func(x, y object.ID) int { return strings.Compare(x.String(), y.String()) })
	return ids
}

// DeviceLabel names a device of the log for a person: its ID's first 12
// hex digits, its name and its user's e-mail.
func (a *Admin) DeviceLabel(id object.ID) string {
	d := a.state.Devices[id]
	if d == nil {
		return id.String()[:12]
	}
	return fmt.Sprintf("%s (%q of %s)", id.String()[:12], d.Name, d.Email)
}

// FindFolder finds a registered folder by its ID or a unique prefix of it
// (MinPrefix hex digits at least; its owner sees the ID with 'coffer
// members').
func (a *Admin) FindFolder(prefix string) (object.ID, error) {
	if len(prefix) < MinPrefix {
		return object.ID{}, fmt.Errorf("folder %q: give at least %d hex digits of its ID, as its owner sees it with 'coffer members'", prefix, MinPrefix)
	}
	var found []object.ID
	for id := range a.state.Folders {
		if strings.HasPrefix(id.String(), strings.ToLower(prefix)) {
			found = append(found, id)
		}
	}
	switch {
	case prefix == "" || len(found) == 0:
		return object.ID{}, fmt.Errorf("no folder %q in the organisation's log (its owner sees its ID with 'coffer members')", prefix)
	case len(found) > 1:
		return object.ID{}, fmt.Errorf("%q names %d folders: give more of the ID", prefix, len(found))
	}
	return found[0], nil
}

// Guest grants a guest folders for valid (at most 90 days; 0 ends the
// guest's access now), replacing any grant they had. For a guest not
// enrolled yet it also makes an invite, valid as long as the grant, and
// returns its code ("" otherwise).
func (a *Admin) Guest(ctx context.Context, email string, folders []object.ID, valid time.Duration) (code string, expires time.Time, err error) {
	if valid < 0 || valid > policy.MaxGrant {
		return "", time.Time{}, fmt.Errorf("a guest's access lasts up to 90 days, not %s", valid)
	}
	if len(folders) == 0 {
		return "", time.Time{}, errors.New("name the folders the guest may read")
	}
	if err := a.refresh(ctx); err != nil {
		return "", time.Time{}, err
	}
	if u := a.state.Users[email]; u != nil && u.Role != policy.Guest {
		return "", time.Time{}, fmt.Errorf("%s is a %s of the organisation, not a guest: share folders with them instead", email, u.Role)
	}
	if a.state.Users[email] == nil && valid > 0 {
		if code, _, err = a.Invite(ctx, email, policy.Guest, min(valid, orglog.MaxInvite)); err != nil {
			return "", time.Time{}, err
		}
	}
	now := a.serverTime()
	if g := a.state.Grants[email]; g != nil && now.Before(g.Issued) {
		now = g.Issued // a grant is not dated before the last one
	}
	e := &orglog.Entry{Org: a.Key.Org, Kind: orglog.Grant, Email: email, Folders: folders, Expires: now.Add(valid), Time: now}
	return code, e.Expires, a.append(ctx, e)
}

// SetRole changes a user's role.
func (a *Admin) SetRole(ctx context.Context, email string, role policy.Role) error {
	if err := a.refresh(ctx); err != nil {
		return err
	}
	if a.state.Users[email] == nil {
		return fmt.Errorf("no user %s in the organisation", email)
	}
	return a.append(ctx, &orglog.Entry{Org: a.Key.Org, Kind: orglog.Role, Email: email, Role: string(role), Time: a.serverTime()})
}

// Policy returns the organisation's policy in force (nil if none was
// issued).
func (a *Admin) Policy(ctx context.Context) (*policy.Document, error) {
	if err := a.refresh(ctx); err != nil {
		return nil, err
	}
	if a.state.Policy == nil {
		return nil, nil
	}
	return policy.ParseDocument(a.state.Policy.Document)
}

// SetPolicy signs and publishes a policy document: its serial must be
// above the one in force (0 in the document: the next one is used).
func (a *Admin) SetPolicy(ctx context.Context, doc *policy.Document) (*policy.Document, error) {
	if err := a.refresh(ctx); err != nil {
		return nil, err
	}
	if len(doc.Roles) > 0 || len(doc.Grants) > 0 {
		// In an organisation roles and guests' grants are entries of the
		// log ('cofferd admin role', 'cofferd admin guest'); a policy's
		// would be a second, contradicting source.
		return nil, errors.New("an organisation's policy holds no roles or grants: give roles with 'cofferd admin role' and guest access with 'cofferd admin guest'")
	}
	var cur uint64
	if a.state.Policy != nil {
		cur = a.state.Policy.Serial
	}
	switch {
	case doc.Serial == 0:
		doc.Serial = cur + 1
	case doc.Serial <= cur:
		return nil, fmt.Errorf("the policy's serial %d is not above %d, the one in force: raise it, or leave it 0", doc.Serial, cur)
	}
	now := a.serverTime()
	doc.Issued = now.UTC()
	raw, err := doc.Marshal()
	if err != nil {
		return nil, err
	}
	if _, err := policy.ParseDocument(raw); err != nil {
		return nil, err
	}
	return doc, a.append(ctx, &orglog.Entry{Org: a.Key.Org, Kind: orglog.Policy, Serial: doc.Serial, Document: raw, Time: now})
}

// Wipe orders a device wiped: a wipe entry in the log, which also revokes
// it. The device carries it out the next time it reaches the server, even
// locked; WaitReceipt waits for its signed receipt.
func (a *Admin) Wipe(ctx context.Context, device object.ID, reason string) error {
	if err := a.refresh(ctx); err != nil {
		return err
	}
	d := a.state.Devices[device]
	switch {
	case d == nil:
		return fmt.Errorf("no device %s in the organisation", device)
	case d.Wipe != nil:
		return fmt.Errorf("device %s (%s) has a wipe order already (%s UTC)", device.String()[:12], d.Name, d.Wipe.Time.UTC().Format("2006-01-02 15:04"))
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	if reason == "" {
		reason = "ordered by the admin"
	}
	return a.append(ctx, &orglog.Entry{Org: a.Key.Org, Kind: orglog.Wipe, Device: device, Nonce: hex.EncodeToString(nonce),
		Reason: reason, Time: a.serverTime()})
}

// VerifiedReceipt is a wipe receipt the admin checked against the log.
type VerifiedReceipt struct {
	wire.Receipt
	Email, Name string
	Received    time.Time
	Raw         []byte
	// Copies counts further copies of the device (disk images, backups)
	// that reached the server and wiped themselves on the same order:
	// the device had been copied. The server counts them; only the
	// first receipt is kept.
	Copies int
}

// WaitReceipt waits up to wait for a device's receipt of the admin's wipe
// order of it and verifies it: signed by the device's transport key as the
// log certifies it, for this organisation, naming that wipe entry (a
// self-wipe receipt, which anyone holding the transport key could make,
// does not answer it). nil if none came.
func (a *Admin) WaitReceipt(ctx context.Context, device object.ID, wait time.Duration) (*VerifiedReceipt, error) {
	if err := a.refresh(ctx); err != nil {
		return nil, err
	}
	d := a.state.Devices[device]
	if d == nil || d.Wipe == nil {
		return nil, fmt.Errorf("device %s has no wipe order to answer", device.String()[:12])
	}
	order := hex.EncodeToString(d.Wipe.Hash[:])
	deadline := time.Now().Add(wait)
	for {
		left := time.Until(deadline)
		q := url.Values{"device": {device.String()}, "order": {order},
			"wait": {strconv.Itoa(int(min(max(left, 0), time.Duration(wire.MaxFeedWait)*time.Second) / time.Second))}}
		var out []wire.StoredReceipt
		if _, err := a.conn.JSON(ctx, "GET", "/v1/admin/receipts", q, nil, &out); err != nil {
			return nil, err
		}
		if len(out) > 0 {
			return a.verifyReceipt(ctx, out[0])
		}
		if time.Until(deadline) <= 0 {
			return nil, nil
		}
	}
}

// Receipts lists every wipe receipt the server holds, each verified.
func (a *Admin) Receipts(ctx context.Context) ([]*VerifiedReceipt, error) {
	var out []wire.StoredReceipt
	if _, err := a.conn.JSON(ctx, "GET", "/v1/admin/receipts", nil, nil, &out); err != nil {
		return nil, err
	}
	var res []*VerifiedReceipt
	for _, r := range out {
		v, err := a.verifyReceipt(ctx, r)
		if err != nil {
			return nil, err
		}
		res = append(res, v)
	}
	return res, nil
}

func (a *Admin) verifyReceipt(ctx context.Context, sr wire.StoredReceipt) (*VerifiedReceipt, error) {
	if err := a.refresh(ctx); err != nil {
		return nil, err
	}
	d := a.state.Devices[object.ID(sr.Device)]
	if d == nil {
		return nil, fmt.Errorf("a receipt from device %s, which the log does not know", object.ID(sr.Device).String()[:12])
	}
	r, err := wire.OpenReceipt(sr.Receipt, d.Transport)
	if err != nil {
		return nil, fmt.Errorf("the receipt of %s does not verify: %w", d.Name, err)
	}
	if r.Org != a.Key.Org || r.Device != d.ID {
		return nil, fmt.Errorf("the receipt of %s is for another organisation or device", d.Name)
	}
	if r.Cause == "admin" && (d.Wipe == nil || r.Order != hex.EncodeToString(d.Wipe.Hash[:])) {
		return nil, fmt.Errorf("the receipt of %s names a wipe order the log does not hold", d.Name)
	}
	return &VerifiedReceipt{Receipt: *r, Email: d.Email, Name: d.Name, Received: time.Unix(0, sr.Received), Raw: sr.Receipt, Copies: sr.Copies}, nil
}

// DevicesOf returns the IDs of a user's devices that are not wiped.
func (a *Admin) DevicesOf(ctx context.Context, email string) ([]object.ID, error) {
	if err := a.refresh(ctx); err != nil {
		return nil, err
	}
	var out []object.ID
	for _, d := range a.state.DevicesOf(email) {
		if d.Wipe == nil {
			out = append(out, d.ID)
		}
	}
	if a.state.Users[email] == nil {
		return nil, fmt.Errorf("no user %s in the organisation", email)
	}
	return out, nil
}

// ApproveClass approves a request to widen a folder's class: an entry of
// the log that commits to the request (the server never learns the
// class).
func (a *Admin) ApproveClass(ctx context.Context, req vault.ClassRequest) error {
	if err := a.refresh(ctx); err != nil {
		return err
	}
	if a.state.Folders[req.Folder] == nil {
		return fmt.Errorf("no folder %s in the organisation's log", req.Folder.String()[:12])
	}
	return a.append(ctx, &orglog.Entry{Org: a.Key.Org, Kind: orglog.Class, Folder: req.Folder, Revision: req.Revision,
		Commit: req.Commitment(), Time: a.serverTime()})
}
