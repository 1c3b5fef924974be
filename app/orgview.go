package app

import "github.com/coffer-vault/coffer/policy"

// What a window asks of the user's place in the organisation, to offer
// only what their role allows. These decide nothing: every action still
// goes through its use case, which refuses and records what the role does
// not allow.

// MayReadAudit reports whether this vault's user may read its audit trail
// and resolve trace codes in it: the owner of a standalone vault, and in
// an organisation the roles the policy lets (not managers, members or
// guests, whose devices' trails compliance reads).
func (a *App) MayReadAudit() bool {
	return policy.DecideFor(a.subject(), "", policy.Public, policy.ReadAudit).Allowed
}

// MayReadOrgAudit reports whether this user may read the organisation's
// audit trail (compliance and risk officers), without recording anything:
// a window asks it to offer the view, where OrgAudit would record every
// refusal as an attempt. MayReadAudit is the same for this device's trail.
func (a *App) MayReadOrgAudit() bool {
	if !a.Enrolled() {
		return false
	}
	r := a.subject().Role
	return r == policy.Compliance || r == policy.Risk
}

// MayCreateFolder reports whether this user's role lets them make folders
// (the owner of a standalone vault; managers in an organisation).
func (a *App) MayCreateFolder() bool {
	return policy.DecideFor(a.subject(), "", policy.Internal, policy.CreateFolder).Allowed
}

// GuestEnded reports whether this vault's user is a guest whose access has
// ended (or was never granted), judged at the trusted time as the vault
// judges it when it destroys the granted folders: a window then says why
// instead of showing an empty vault.
func (a *App) GuestEnded() bool {
	_, ended, ok := a.v.GuestExpiry()
	return ok && ended
}
