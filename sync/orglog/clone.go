package orglog

import (
	"maps"
	"slices"

	"github.com/coffer-vault/coffer/vault/object"
)

// Clone returns a deep copy of s: applying entries to the copy leaves s
// untouched. It costs a copy of every map (linear in the organisation's
// size) — far less than replaying the log, which verifies every entry's
// signatures again.
func (s *State) Clone() *State {
	c := *s
	c.Admin, c.Server = cloneKey(s.Admin), cloneKey(s.Server)
	if s.Invites != nil {
		c.Invites = make(map[string]*InviteState, len(s.Invites))
		for k, v := range s.Invites {
			x := *v
			c.Invites[k] = &x
		}
	}
	if s.Users != nil {
		c.Users = make(map[string]*UserState, len(s.Users))
		for k, v := range s.Users {
			x := *v
			c.Users[k] = &x
		}
	}
	if s.Devices != nil {
		c.Devices = make(map[object.ID]*DeviceState, len(s.Devices))
		for k, v := range s.Devices {
			x := *v
			if v.Wipe != nil {
				w := *v.Wipe
				x.Wipe = &w
			}
			c.Devices[k] = &x
		}
	}
	if s.Folders != nil {
		c.Folders = make(map[object.ID]*FolderState, len(s.Folders))
		for k, v := range s.Folders {
			x := *v
			x.Members, x.Writers, x.Widenings = maps.Clone(v.Members), maps.Clone(v.Writers), maps.Clone(v.Widenings)
			x.Epochs, x.Audience, x.WriterEnded = maps.Clone(v.Epochs), maps.Clone(v.Audience), maps.Clone(v.WriterEnded)
			x.Anchor = slices.Clone(v.Anchor)
			if v.EpochWriters != nil {
				x.EpochWriters = make(map[int64]map[string]bool, len(v.EpochWriters))
				for e, w := range v.EpochWriters {
					x.EpochWriters[e] = maps.Clone(w)
				}
			}
			c.Folders[k] = &x
		}
	}
	if s.Grants != nil {
		c.Grants = make(map[string]*GrantState, len(s.Grants))
		for k, v := range s.Grants {
			x := *v
			x.Folders = maps.Clone(v.Folders)
			c.Grants[k] = &x
		}
	}
	if s.Policy != nil {
		p := *s.Policy
		c.Policy = &p
	}
	c.keys, c.seen, c.live = maps.Clone(s.keys), maps.Clone(s.seen), maps.Clone(s.live)
	return &c
}

func cloneKey(k []byte) []byte {
	if k == nil {
		return nil
	}
	return append([]byte(nil), k...)
}
