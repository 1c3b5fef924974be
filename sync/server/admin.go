package server

import (
	"context"
	"net/http"
	"os"
	"sort"
	"time"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/orglog"
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
			LastIP: rt.LastIP, AuditSeq: rt.AuditSeq, AuditFlag: rt.AuditFlag, OS: rt.OS}
		if !rt.LastSeen.IsZero() {
			info.LastSeen = rt.LastSeen.Unix()
			if lease > 0 {
				info.LeaseEnd = rt.LastSeen.Add(lease).Unix()
			}
		}
		if info.State, err = s.deviceState(r.Context(), d); err != nil {
			return err
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

// deviceState is a device's state as the admin sees it: "active",
// "wiped" (its receipt of the admin's order came), "wipe pending",
// "revoked", or "wiped itself" (a receipt of its own wipe came).
func (s *Server) deviceState(ctx context.Context, d *orglog.DeviceState) (string, error) {
	sent, orderDone, err := s.receiptState(ctx, d)
	if err != nil {
		return "", err
	}
	switch {
	case orderDone:
		return "wiped", nil
	case d.Wipe != nil:
		return "wipe pending", nil
	case d.Revoked:
		return "revoked", nil
	case sent:
		return "wiped itself", nil
	}
	return "active", nil
}

// adminResidency says where this server keeps the organisation's data, how
// much of it, and how many devices may hold copies.
func (s *Server) adminResidency(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	res, err := s.store.Residency(ctx)
	if err != nil {
		return err
	}
	out := wire.Residency{Backend: res.Backend, Places: []wire.ResidencyPlace{}, Objects: []wire.ObjectCount{}, Devices: map[string]int{}}
	if out.Server, err = os.Hostname(); err != nil {
		out.Server = "(host name unknown)"
	}
	for _, p := range res.Places {
		out.Places = append(out.Places, wire.ResidencyPlace(p))
	}
	for _, o := range res.Objects {
		out.Objects = append(out.Objects, wire.ObjectCount{Kind: o.Kind.String(), Count: o.Count, Bytes: o.Bytes})
	}
	for _, d := range c.state.Devices {
		st, err := s.residencyState(ctx, d)
		if err != nil {
			return err
		}
		out.Devices[st]++
	}
	receipts, err := s.store.Receipts(ctx)
	if err != nil {
		return err
	}
	for _, rc := range receipts {
		out.Copies += rc.Copies
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// residencyState is deviceState as residency counts it: a revoked device
// that sent a receipt of its own wipe (a revoked device may, once) is
// "wiped itself", not "revoked": the receipt is its word, but it is all
// the server knows.
func (s *Server) residencyState(ctx context.Context, d *orglog.DeviceState) (string, error) {
	st, err := s.deviceState(ctx, d)
	if err != nil || st != "revoked" {
		return st, err
	}
	if sent, _, err := s.receiptState(ctx, d); err != nil || !sent {
		return st, err
	}
	return "wiped itself", nil
}
