package client

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

// ErrPairingNeeded is returned by Enroll when the invite's user is
// enrolled already: a further device of theirs must be paired (Pair).
var ErrPairingNeeded = errors.New("this e-mail has an enrolled device already")

// orgContact is what an invite leads to: a connection signed by the invite
// key, and the organisation's log verified against the invite's pins.
type orgContact struct {
	inv    wire.Invite
	conn   *Conn
	state  *orglog.State
	invite *orglog.InviteState
	server ed25519.PublicKey
	now    time.Time // the server's, from its checkpoint
}

func contact(ctx context.Context, code string) (*orgContact, error) {
	inv, err := wire.ParseInvite(code)
	if err != nil {
		return nil, err
	}
	key := inv.Key()
	conn, err := Dial(inv.ServerURL, inv.TLS, wire.InviteKeyID(key.Public().(ed25519.PublicKey)), key)
	if err != nil {
		return nil, err
	}
	var info wire.Info
	if _, err := conn.JSON(ctx, "GET", "/v1/info", nil, nil, &info); err != nil {
		return nil, err
	}
	if info.Protocol != wire.ProtocolVersion {
		return nil, fmt.Errorf("the server speaks Coffer protocol %d, this Coffer %d: update Coffer", info.Protocol, wire.ProtocolVersion)
	}
	if info.Org == nil || object.ID(*info.Org) != inv.Org || len(info.ServerKey) != ed25519.PublicKeySize {
		return nil, errors.New("the server does not hold your invite's organisation")
	}
	server := ed25519.PublicKey(info.ServerKey)
	conn.SetServer(inv.Org, server)
	var st *orglog.State
	var cp orglog.Checkpoint
	entries, cpMsg, err := FetchLog(ctx, conn, 0)
	switch {
	case IsCode(err, wire.CodeGuestView):
		view, verr := FetchView(ctx, conn, 0)
		if verr != nil {
			return nil, verr
		}
		st, cp, err = VerifyFreshView(view, inv, server)
	case err == nil:
		st, cp, err = VerifyFreshLog(entries, cpMsg, inv, server)
	}
	if err != nil {
		return nil, err
	}
	invite := st.Invites[string(key.Public().(ed25519.PublicKey))]
	if invite == nil {
		return nil, errors.New("the organisation's log holds no such invite: check the code")
	}
	if !cp.Time.Before(invite.Expires) {
		return nil, fmt.Errorf("the invite expired on %s UTC; ask your admin for a new one", invite.Expires.UTC().Format("2006-01-02 15:04"))
	}
	return &orgContact{inv: inv, conn: conn, state: st, invite: invite, server: server, now: cp.Time}, nil
}

func (oc *orgContact) pin() *vault.OrgPin {
	return &vault.OrgPin{Org: oc.inv.Org, Admin: oc.state.Admin, Server: oc.server, TLS: oc.inv.TLS[:], URL: oc.inv.ServerURL}
}

// Enrollment is how a device joins: its vault's folder, the person's name
// and the passphrase of the new vault, and the device's name.
type Enrollment struct {
	Dir        string
	Invite     string // the invite code
	Name       string // the person's full name
	DeviceName string // defaults to the host name
	Passphrase string
}

// Enroll makes an enrolled vault for the first device of the invite's
// user and enrols it: the user and device entries go into the org log,
// signed by the invite key and the new user key. A vault left by an
// enrolment the server never answered is enrolled again with the same keys.
// When the user is enrolled already it returns ErrPairingNeeded.
func Enroll(ctx context.Context, en Enrollment) (*vault.Vault, error) {
	oc, err := contact(ctx, en.Invite)
	if err != nil {
		return nil, err
	}
	defer oc.conn.Close()
	email := oc.invite.Email
	var v *vault.Vault
	if vault.Exists(en.Dir) {
		if v, err = vault.Open(ctx, en.Dir, en.Passphrase); err != nil {
			return nil, err
		}
		if pin := v.Org(); pin == nil || pin.Org != oc.inv.Org || v.Owner().Email != email {
			v.Close()
			return nil, fmt.Errorf("%s holds another vault: choose an empty folder", en.Dir)
		}
	} else {
		if oc.invite.Used {
			return nil, fmt.Errorf("%w (%s): approve this device from one of them", ErrPairingNeeded, email)
		}
		name, err := checkDeviceName(en.DeviceName)
		if err != nil {
			return nil, err
		}
		v, err = vault.CreateWith(ctx, en.Dir, vault.Identity{Email: email, Name: en.Name}, en.Passphrase,
			vault.CreateOptions{Org: oc.pin(), Device: deviceKeys(name)})
		if err != nil {
			return nil, err
		}
	}
	if err := oc.enroll(ctx, v, en); err != nil {
		v.Close()
		return nil, err
	}
	return v, nil
}

// checkDeviceName returns the name a new device goes by in the log and on
// watermarks: name, or the host name; an error says why the log would
// refuse it, before anything is made.
func checkDeviceName(name string) (string, error) {
	if name == "" {
		name, _ = os.Hostname()
	}
	if err := orglog.CheckText(name); err != nil {
		return "", fmt.Errorf("the device name %q cannot be used (%v): choose another; nothing was created", name, err)
	}
	return name, nil
}

func deviceKeys(name string) *vault.DeviceKeys {
	dk := vault.NewDeviceKeys(name)
	return &dk
}

func (oc *orgContact) enroll(ctx context.Context, v *vault.Vault, en Enrollment) error {
	now := oc.now.Truncate(time.Second)
	name := en.Name
	if name == "" {
		name = v.Owner().Name
	}
	if name == "" {
		name = oc.invite.Email
	}
	ue := &orglog.Entry{Org: oc.inv.Org, Kind: orglog.User, Email: oc.invite.Email, Role: string(oc.invite.Role),
		Invite: oc.invite.Key, Key: v.UserKey(), Recipient: v.UserRecipient(), Name: name, Time: now}
	user, err := v.SignUserEntry(ue, oc.inv.Key())
	if err != nil {
		return err
	}
	transport := v.TransportKey().Public().(ed25519.PublicKey)
	de := &orglog.Entry{Org: oc.inv.Org, Kind: orglog.Device, Device: v.DeviceID(), Email: oc.invite.Email,
		Key: v.DeviceKey(), Transport: transport, Name: v.DeviceName(), Time: now}
	device, err := v.SignUserEntry(de)
	if err != nil {
		return err
	}
	cert, err := v.DeviceCert(ctx)
	if err != nil {
		return err
	}
	if d := oc.state.Devices[v.DeviceID()]; d == nil {
		if _, err := oc.conn.JSON(ctx, "POST", "/v1/enroll", nil, wire.Enroll{User: user, Device: device, DeviceCert: cert}, nil); err != nil {
			return fmt.Errorf("enrol: %w", err)
		}
	}
	st, err := syncVaultLog(ctx, oc.conn, v)
	if err != nil {
		return err
	}
	if st.Devices[v.DeviceID()] == nil {
		return errors.New("enrol: the server's log does not hold this device after enrolment")
	}
	_, err = v.AppendAudit(ctx, audit.Event{Action: audit.Enroll, Outcome: audit.OK,
		Reason: "enrolled in the organisation " + st.Name})
	return err
}

// Pairing is a further device's request to join, waiting for approval.
type Pairing struct {
	Code    string // show it: the user types it on an existing device
	Expires time.Time
	oc      *orgContact
	id      object.ID
	eph     *age.HybridIdentity
	dk      vault.DeviceKeys
}

// RequestPairing asks to add a device to the invite's user, who is
// enrolled already. Show the code, then call Wait.
func RequestPairing(ctx context.Context, inviteCode, deviceName string) (*Pairing, error) {
	deviceName, err := checkDeviceName(deviceName)
	if err != nil {
		return nil, err
	}
	oc, err := contact(ctx, inviteCode)
	if err != nil {
		return nil, err
	}
	if oc.state.Users[oc.invite.Email] == nil {
		oc.conn.Close()
		return nil, fmt.Errorf("%s has no enrolled device yet: enrol with the invite first", oc.invite.Email)
	}
	eph, err := age.GenerateHybridIdentity()
	if err != nil {
		return nil, err
	}
	p := &Pairing{oc: oc, eph: eph, dk: *deviceKeys(deviceName)}
	dev, transport := p.dk.Public()
	req := wire.PairingRequest{Email: oc.invite.Email, Device: wire.HexID(p.dk.ID), Key: dev, Transport: transport,
		Recipient: eph.Recipient().String(), Name: p.dk.Name}
	var got wire.Pairing
	if _, err := oc.conn.JSON(ctx, "POST", "/v1/pairings", nil, req, &got); err != nil {
		oc.conn.Close()
		return nil, err
	}
	p.id, p.Expires = object.ID(got.ID), time.Unix(got.Expires, 0)
	p.Code = wire.PairingCode(p.id, req)
	return p, nil
}

// Wait waits for an existing device to approve the pairing, then makes
// the vault in dir with the user's keys it received and this device's
// keys, protected by passphrase.
func (p *Pairing) Wait(ctx context.Context, dir, passphrase string) (*vault.Vault, error) {
	defer p.oc.conn.Close()
	var got wire.Pairing
	for {
		if _, err := p.oc.conn.JSON(ctx, "GET", "/v1/pairings/"+p.id.String(), nil, nil, &got); err != nil {
			return nil, err
		}
		if got.Bundle != nil {
			break
		}
		if got.Refused {
			return nil, errors.New("the pairing request expired before a device approved it; start again")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	keys, err := vault.OpenUserKeys(got.Bundle, p.eph)
	if err != nil {
		return nil, err
	}
	// The keys must be the user's of the log, not ones the server made up.
	u := p.oc.state.Users[p.oc.invite.Email]
	if !ed25519.NewKeyFromSeed(keys.SigningSeed).Public().(ed25519.PublicKey).Equal(u.Key) || keys.Email != u.Email {
		return nil, errors.New("the keys received are not the enrolled user's: refused")
	}
	v, err := vault.CreateWith(ctx, dir, vault.Identity{Email: keys.Email, Name: keys.Name}, passphrase,
		vault.CreateOptions{Org: p.oc.pin(), User: &keys, Device: &p.dk})
	if err != nil {
		return nil, err
	}
	st, err := syncVaultLog(ctx, p.oc.conn, v)
	if err == nil && st.Devices[p.dk.ID] == nil {
		err = errors.New("the server's log does not certify this device")
	}
	if err == nil {
		_, err = v.AppendAudit(ctx, audit.Event{Action: audit.Enroll, Outcome: audit.OK, Reason: "paired with an enrolled device of the user"})
	}
	if err != nil {
		v.Close()
		return nil, err
	}
	return v, nil
}

// Approve approves, from an enrolled vault, the pairing request whose code
// the user typed: it certifies the new device in the org log and hands it
// the user's keys, encrypted to the request's key. It returns the request
// it approved.
func Approve(ctx context.Context, s *Syncer, code string) (PendingRequest, error) {
	code = wire.NormalizePairingCode(code)
	var list []wire.Pairing
	if _, err := s.conn.JSON(ctx, "GET", "/v1/pairings", nil, nil, &list); err != nil {
		return PendingRequest{}, err
	}
	v := s.v
	for _, p := range list {
		if wire.PairingCode(object.ID(p.ID), p.Request) != code {
			continue
		}
		r, pr := p.Request, pendingRequest(p)
		st := v.OrgState()
		de := &orglog.Entry{Org: st.Org, Kind: orglog.Device, Device: object.ID(r.Device), Email: r.Email, Key: r.Key,
			Transport: r.Transport, Name: r.Name, Time: s.serverNow().Truncate(time.Second)}
		entry, err := v.SignUserEntry(de)
		if err != nil {
			return pr, err
		}
		cert, err := v.CertifyDevice(object.ID(r.Device), r.Key, r.Name)
		if err != nil {
			return pr, err
		}
		bundle, err := v.SealUserKeys(r.Recipient)
		if err != nil {
			return pr, err
		}
		if _, err := s.conn.JSON(ctx, "POST", "/v1/pairings/"+p.ID.String()+"/approve", nil,
			wire.PairingApprove{Device: entry, DeviceCert: cert, Bundle: bundle}, nil); err != nil {
			return pr, err
		}
		// The name is the asker's text: quoted, so that a name of
		// "phone, asked from 10.0.0.1" cannot pass for the address.
		reason := fmt.Sprintf("approved the device %q", r.Name)
		if pr.From != "" {
			reason += ", asked from " + pr.From
		}
		if _, err := v.AppendAudit(ctx, audit.Event{Action: audit.Pair, Outcome: audit.OK, Reason: reason}); err != nil {
			return pr, err
		}
		return pr, s.syncLog(ctx)
	}
	return PendingRequest{}, fmt.Errorf("no device is waiting with the code %s: check it on the new device's screen (codes last 15 minutes)", code)
}

// PendingRequest is a pairing request waiting for this user's approval.
type PendingRequest struct {
	Name string
	Code string
	// From, OS and Asked are where and when the request reached the
	// server, in its word ("" and zero from a server that does not say):
	// the peer's IP address, the system the new device's client names,
	// the time.
	From  string
	OS    string
	Asked time.Time
}

// pendingRequest is p as the user sees it, with the code computed here.
// Where and when it came from are the server's word: an address that
// does not parse as one, a system that is not GOOS/GOARCH, a time after
// the request expired or more than an hour before, are dropped rather
// than shown (a server's "127.0.0.1 (checked by IT: safe)" would be).
func pendingRequest(p wire.Pairing) PendingRequest {
	pr := PendingRequest{Name: p.Request.Name, Code: wire.PairingCode(object.ID(p.ID), p.Request)}
	if a, err := netip.ParseAddr(p.From); err == nil && a.String() == p.From {
		pr.From = p.From
	}
	if wire.ValidOS(p.OS) {
		pr.OS = p.OS
	}
	if p.Asked > 0 && p.Asked <= p.Expires && p.Asked >= p.Expires-3600 {
		pr.Asked = time.Unix(p.Asked, 0)
	}
	return pr
}

// Pending lists the pairing requests of the syncer's user, with the code
// each new device shows (computed here from what the server relays: a
// request whose keys a server swapped shows another code than the device).
func Pending(ctx context.Context, s *Syncer) ([]PendingRequest, error) {
	var list []wire.Pairing
	if _, err := s.conn.JSON(ctx, "GET", "/v1/pairings", nil, nil, &list); err != nil {
		return nil, err
	}
	out := make([]PendingRequest, len(list))
	for i, p := range list {
		out[i] = pendingRequest(p)
	}
	return out, nil
}
