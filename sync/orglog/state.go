package orglog

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault/object"
)

// MaxInvite is the longest an invite may stay open.
const MaxInvite = 90 * 24 * time.Hour

// ErrRejected is wrapped by every error Apply returns for an entry that
// breaks a rule of the log.
var ErrRejected = errors.New("org log entry breaks the rules")

// InviteState is an invite the log holds.
type InviteState struct {
	Email   string
	Role    policy.Role
	Key     ed25519.PublicKey
	Expires time.Time
	Used    bool
}

// UserState is an enrolled user.
type UserState struct {
	Email     string
	Name      string
	Role      policy.Role
	Key       ed25519.PublicKey
	Recipient string
}

// DeviceState is a certified device.
type DeviceState struct {
	ID        object.ID
	Email     string
	Name      string
	Key       ed25519.PublicKey
	Transport ed25519.PublicKey
	Revoked   bool
	Entry     int64 // index of its device entry
}

// State is what the log says after the entries applied so far. The zero
// State expects a genesis entry.
type State struct {
	Org     object.ID
	Name    string
	Admin   ed25519.PublicKey
	Server  ed25519.PublicKey
	TLS     [32]byte
	Size    int64                   // entries applied
	Invites map[string]*InviteState // by invite key
	Users   map[string]*UserState   // by e-mail
	Devices map[object.ID]*DeviceState
	keys    map[string]bool // every key ever certified, to refuse reuse
}

// AdminFingerprint returns the SHA-256 of an admin public key: what invite
// codes carry.
func AdminFingerprint(k ed25519.PublicKey) [32]byte { return sha256.Sum256(k) }

// Apply checks the entry raw against the rules, given what came before, and
// applies it. now is the server's clock when it appends (so that an expired
// invite is refused), or the zero time when replaying a log already
// accepted, when expiry was the server's to judge. On error the state is
// unchanged.
func (s *State) Apply(raw []byte, now time.Time) (*Entry, error) {
	e, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("entry %d: %w", s.Size, err)
	}
	if err := s.check(e, now); err != nil {
		return nil, fmt.Errorf("entry %d (%s): %w: %v", s.Size, e.Kind, ErrRejected, err)
	}
	s.apply(e)
	return e, nil
}

func (s *State) check(e *Entry, now time.Time) error {
	if s.Size == 0 {
		if e.Kind != Genesis {
			return errors.New("the first entry must be the genesis")
		}
		return e.verify(map[string]ed25519.PublicKey{AdminName: e.Admin})
	}
	if e.Org != s.Org {
		return errors.New("belongs to another organisation")
	}
	switch e.Kind {
	case Genesis:
		return errors.New("a second genesis")
	case Invite:
		if s.keys[string(e.Invite)] {
			return errors.New("the invite key is not new")
		}
		if !inviteRole(policy.Role(e.Role)) {
			return fmt.Errorf("role %q cannot be invited", e.Role)
		}
		if !e.Expires.After(e.Time) || e.Expires.Sub(e.Time) > MaxInvite {
			return errors.New("an invite must expire after it is made, within 90 days")
		}
		return e.verify(map[string]ed25519.PublicKey{AdminName: s.Admin})
	case User:
		inv := s.Invites[string(e.Invite)]
		switch {
		case inv == nil:
			return errors.New("no such invite")
		case inv.Used:
			return errors.New("the invite was used already")
		case inv.Email != e.Email || string(inv.Role) != e.Role:
			return errors.New("the invite is for another e-mail or role")
		case !now.IsZero() && !now.Before(inv.Expires):
			return fmt.Errorf("the invite expired at %s", inv.Expires.Format(time.RFC3339))
		case s.Users[e.Email] != nil:
			return fmt.Errorf("%s is enrolled already", e.Email)
		case s.keys[string(e.Key)]:
			return errors.New("the user key is not new")
		}
		return e.verify(map[string]ed25519.PublicKey{InviteName: e.Invite, UserName: e.Key})
	case Device:
		u := s.Users[e.Email]
		switch {
		case u == nil:
			return fmt.Errorf("no user %s", e.Email)
		case s.Devices[e.Device] != nil:
			return errors.New("the device ID is taken")
		case s.keys[string(e.Key)] || s.keys[string(e.Transport)] || string(e.Key) == string(e.Transport):
			return errors.New("the device's keys are not new")
		}
		return e.verify(map[string]ed25519.PublicKey{UserName: u.Key})
	case Revoke:
		d := s.Devices[e.Device]
		switch {
		case d == nil:
			return errors.New("no such device")
		case d.Revoked:
			return errors.New("the device is revoked already")
		}
		return e.verify(map[string]ed25519.PublicKey{AdminName: s.Admin})
	}
	return fmt.Errorf("unknown kind %q", e.Kind)
}

func inviteRole(r policy.Role) bool {
	switch r {
	case policy.Admin, policy.Compliance, policy.Manager, policy.Member, policy.Risk, policy.Guest:
		return true
	}
	return false
}

func (s *State) apply(e *Entry) {
	if s.Invites == nil {
		s.Invites, s.Users, s.Devices, s.keys = map[string]*InviteState{}, map[string]*UserState{}, map[object.ID]*DeviceState{}, map[string]bool{}
	}
	switch e.Kind {
	case Genesis:
		s.Org, s.Name, s.Admin, s.Server, s.TLS = e.Org, e.Name, e.Admin, e.Server, e.TLS
		s.keys[string(e.Admin)], s.keys[string(e.Server)] = true, true
	case Invite:
		s.Invites[string(e.Invite)] = &InviteState{Email: e.Email, Role: policy.Role(e.Role), Key: e.Invite, Expires: e.Expires}
		s.keys[string(e.Invite)] = true
	case User:
		s.Invites[string(e.Invite)].Used = true
		s.Users[e.Email] = &UserState{Email: e.Email, Name: e.Name, Role: policy.Role(e.Role), Key: e.Key, Recipient: e.Recipient}
		s.keys[string(e.Key)] = true
	case Device:
		s.Devices[e.Device] = &DeviceState{ID: e.Device, Email: e.Email, Name: e.Name, Key: e.Key, Transport: e.Transport, Entry: s.Size}
		s.keys[string(e.Key)], s.keys[string(e.Transport)] = true, true
	case Revoke:
		s.Devices[e.Device].Revoked = true
	}
	s.Size++
}

// DevicesOf returns the devices of a user, revoked ones included.
func (s *State) DevicesOf(email string) []*DeviceState {
	var out []*DeviceState
	for _, d := range s.Devices {
		if d.Email == email {
			out = append(out, d)
		}
	}
	return out
}

// DeviceByKey returns the device whose device key is k.
func (s *State) DeviceByKey(k ed25519.PublicKey) *DeviceState {
	for _, d := range s.Devices {
		if d.Key.Equal(k) {
			return d
		}
	}
	return nil
}
