package server

import (
	"time"

	"github.com/coffer-vault/coffer/policy"
	"net/http"
	"sort"

	"github.com/coffer-vault/coffer/sync/wire"
)

// adminDevices lists every device of the log with its activity.
func (s *Server) adminDevices(w http.ResponseWriter, r *http.Request, c *caller) error {
	out := []wire.DeviceInfo{}
	var lease time.Duration
	if c.state.Policy != nil {
		if doc, err := policy.ParseDocument(c.state.Policy.Document); err == nil {
			lease = time.Duration(doc.LeaseHours) * time.Hour
		}
	}
	for _, d := range c.state.Devices {
		rt, err := s.store.Device(r.Context(), d.ID)
		if err != nil {
			return err
		}
		info := wire.DeviceInfo{ID: wire.HexID(d.ID), Email: d.Email, Name: d.Name, Revoked: d.Revoked,
			LastIP: rt.LastIP, AuditSeq: rt.AuditSeq, AuditFlag: rt.AuditFlag, OS: rt.OS, State: "active"}
		if !rt.LastSeen.IsZero() {
			info.LastSeen = rt.LastSeen.Unix()
			if lease > 0 {
				info.LeaseEnd = rt.LastSeen.Add(lease).Unix()
			}
		}
		sent, orderDone, err := s.receiptState(r.Context(), d)
		if err != nil {
			return err
		}
		switch {
		case orderDone:
			info.State = "wiped"
		case d.Wipe != nil:
			info.State = "wipe pending"
		case d.Revoked:
			info.State = "revoked"
		case sent:
			info.State = "wiped itself"
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Email != out[j].Email {
			return out[i].Email < out[j].Email
		}
		return out[i].Name < out[j].Name
	})
	writeJSON(w, http.StatusOK, out)
	return nil
}
