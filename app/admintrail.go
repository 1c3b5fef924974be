package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/vault/object"
)

// The organisation's log, read as the actions of its admin and its people
// (who invited, revoked, wiped, granted, changed a role or the policy, who
// shared a folder with whom): audit events of the actions below, so that
// compliance reads them in the organisation's trail beside the devices'.
// Every enrolled device holds the log already; nothing is disclosed to
// compliance that it did not hold.
const (
	OrgCreate  audit.Action = "org-create"
	OrgInvite  audit.Action = "org-invite"
	OrgJoin    audit.Action = "org-join"
	OrgDevice  audit.Action = "org-device"
	OrgRevoke  audit.Action = "org-revoke"
	OrgRole    audit.Action = "org-role"
	OrgFolder  audit.Action = "org-folder"
	OrgShare   audit.Action = "org-share"
	OrgUnshare audit.Action = "org-unshare"
	OrgGrant   audit.Action = "org-grant"
	OrgPolicy  audit.Action = "org-policy"
	OrgWipe    audit.Action = "org-wipe"
	OrgClass   audit.Action = "org-class"
	OrgRekey   audit.Action = "org-rekey"
)

// AdminUser is the User of events the admin key signed; LogDevice is
// their Device (their Seq is the entry's index in the log).
const (
	AdminUser = "admin"
	LogDevice = "org-log"
)

// logEvent is an org log entry as an audit event, with the people it is
// about (for --user) and the folders (for --folder).
type logEvent struct {
	audit.Event
	about       []string
	folders     []object.ID
	folderNames []string // of the folders the reader's device holds
}

func (le logEvent) match(f OrgAuditFilter) bool {
	if f.User != "" && !strings.EqualFold(le.User, f.User) && !containsFold(le.about, f.User) {
		return false
	}
	if f.Folder != "" && !slices.Contains(le.folderNames, f.Folder) {
		hit := false
		for _, id := range le.folders {
			hit = hit || strings.HasPrefix(id.String(), strings.ToLower(f.Folder))
		}
		if !hit {
			return false
		}
	}
	return f.Since.IsZero() || !le.Time.Before(f.Since)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// logEvents turns entries (the log from index start) into events; st is
// the log's state, for device names and owners. Entries of no interest to
// an auditor (a folder object's anchor) are left out.
func logEvents(st *orglog.State, start int64, entries []*orglog.Entry) []logEvent {
	var out []logEvent
	device := func(id object.ID) (string, string) {
		if d := st.Devices[id]; d != nil {
			return fmt.Sprintf("device %q (%s) of %s", d.Name, id.String()[:8], d.Email), d.Email
		}
		return "device " + id.String()[:8], ""
	}
	for i, e := range entries {
		// Device names the emitter, the log (a SIEM that keys entries by
		// device and sequence number must not take one for a device's).
		le := logEvent{Event: audit.Event{Seq: start + int64(i), Time: e.Time.UTC(), Outcome: audit.OK, User: AdminUser, Device: LogDevice}}
		switch e.Kind {
		case orglog.Genesis:
			le.Action, le.Reason = OrgCreate, fmt.Sprintf("the organisation %q was made", e.Name)
		case orglog.Invite:
			le.Action, le.about = OrgInvite, []string{e.Email}
			le.Reason = fmt.Sprintf("invited %s as %s, until %s", e.Email, e.Role, e.Expires.UTC().Format("2006-01-02 15:04 UTC"))
		case orglog.User:
			le.Action, le.User = OrgJoin, e.Email
			le.Reason = fmt.Sprintf("joined as %s (%q), with new keys", e.Role, e.Name)
		case orglog.Device:
			le.Action, le.User = OrgDevice, e.Email
			le.Reason = fmt.Sprintf("added device %q (%s)", e.Name, e.Device.String()[:8])
		case orglog.Revoke, orglog.Wipe:
			what, owner := device(e.Device)
			le.about = []string{owner}
			le.Action, le.Reason = OrgRevoke, "revoked "+what
			if e.Kind == orglog.Wipe {
				le.Action, le.Reason = OrgWipe, "ordered "+what+" wiped (and revoked)"
			}
			if e.Reason != "" {
				le.Reason += ": " + e.Reason
			}
		case orglog.Role:
			le.Action, le.about = OrgRole, []string{e.Email}
			le.Reason = fmt.Sprintf("%s is now %s", e.Email, e.Role)
		case orglog.Folder:
			le.Action, le.User, le.Folder, le.folders = OrgFolder, e.Email, e.Folder.String(), []object.ID{e.Folder}
			le.Reason = fmt.Sprintf("registered folder %s, which they made", e.Folder.String()[:8])
		case orglog.Share:
			le.Action, le.User, le.Folder, le.folders, le.about = OrgShare, e.By, e.Folder.String(), []object.ID{e.Folder}, []string{e.Email}
			le.Reason = fmt.Sprintf("shared folder %s with %s as %s", e.Folder.String()[:8], e.Email, e.Role)
		case orglog.Unshare:
			le.Action, le.User, le.Folder, le.folders, le.about = OrgUnshare, e.By, e.Folder.String(), []object.ID{e.Folder}, []string{e.Email}
			le.Reason = fmt.Sprintf("took %s off folder %s", e.Email, e.Folder.String()[:8])
		case orglog.Grant:
			le.Action, le.folders, le.about = OrgGrant, e.Folders, []string{e.Email}
			if len(e.Folders) == 1 {
				le.Folder = e.Folders[0].String()
			}
			ids := make([]string, len(e.Folders))
			for j, f := range e.Folders {
				ids[j] = f.String()[:8]
			}
			if !e.Expires.After(e.Time) || len(e.Folders) == 0 {
				le.Reason = fmt.Sprintf("ended the guest access of %s", e.Email)
			} else {
				le.Reason = fmt.Sprintf("guest %s may read %d folder(s) (%s) until %s", e.Email, len(e.Folders),
					strings.Join(ids, ", "), e.Expires.UTC().Format("2006-01-02 15:04 UTC"))
			}
		case orglog.Policy:
			le.Action, le.Reason = OrgPolicy, fmt.Sprintf("issued policy version %d", e.Serial)
		case orglog.Class:
			le.Action, le.Folder, le.folders = OrgClass, e.Folder.String(), []object.ID{e.Folder}
			le.Reason = fmt.Sprintf("approved widening the class of folder %s (its revision %d)", e.Folder.String()[:8], e.Revision)
		case orglog.Epoch:
			le.Action, le.User, le.Folder, le.folders = OrgRekey, e.By, e.Folder.String(), []object.ID{e.Folder}
			le.Reason = fmt.Sprintf("gave the key of folder %s a new epoch (%d)", e.Folder.String()[:8], e.Epoch)
		default:
			continue
		}
		out = append(out, le)
	}
	return out
}
