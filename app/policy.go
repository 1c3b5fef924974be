package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
)

// loadPolicy reads the signed policy in force and refuses a vault whose
// policy was removed, forged or replaced by an older one. The highest
// serial ever applied is kept in the vault's signed checkpoint, which no
// edit of the index reaches; a checkpoint that cannot be read refuses.
func (a *App) loadPolicy(ctx context.Context) error {
	if a.Enrolled() {
		return a.loadOrgPolicy(ctx)
	}
	doc, err := a.v.Policy(ctx)
	if err != nil {
		if errors.Is(err, vault.ErrTampered) || errors.Is(err, vault.ErrNoPolicy) || errors.Is(err, policy.ErrInvalid) {
			a.record(ctx, audit.Event{Action: audit.Tamper, Outcome: audit.Blocked, Reason: err.Error()})
			return fmt.Errorf("%w: %v", vault.ErrTampered, err)
		}
		return err
	}
	applied, err := a.v.AppliedPolicySerial()
	if err != nil {
		return err
	}
	switch {
	case doc.Serial < applied:
		msg := fmt.Sprintf("the policy on disk is serial %d, but serial %d was already in force: an older policy was put back", doc.Serial, applied)
		a.record(ctx, audit.Event{Action: audit.Tamper, Outcome: audit.Blocked, Reason: msg})
		return fmt.Errorf("%w: %s", vault.ErrTampered, msg)
	case doc.Serial > applied:
		if err := a.mustRecord(ctx, audit.Event{Action: audit.PolicyChange, Outcome: audit.OK, Version: int(doc.Serial),
			Reason: fmt.Sprintf("policy serial %d in force", doc.Serial)}); err != nil {
			return err
		}
		if err := a.v.MarkPolicyApplied(doc.Serial); err != nil {
			return err
		}
	}
	a.doc.Store(doc)
	_ = a.v.SetMaxFailures(doc.MaxUnlockFailures)
	return nil
}

// SetPolicy issues a new policy (the owner of a standalone vault is its
// issuer) and puts it in force at once.
func (a *App) SetPolicy(ctx context.Context, doc policy.Document) (*policy.Document, error) {
	if a.Enrolled() {
		return nil, &BlockedError{Action: "set-policy", Reason: "this vault obeys its organisation's policy, which only " +
			admins(a.v.OrgState()) + " sets ('cofferd admin policy --set FILE')"}
	}
	if a.subject().Role != policy.Owner {
		return nil, &BlockedError{Action: "set-policy", Reason: "only the vault owner issues its policy"}
	}
	if doc.RoleOf(a.v.Owner().Email) != policy.Owner {
		return nil, fmt.Errorf("the new policy must keep %s as owner, or nobody could change it again", a.v.Owner().Email)
	}
	newDoc, err := a.v.SetPolicy(ctx, doc)
	if err != nil {
		return nil, err
	}
	a.record(ctx, audit.Event{Action: audit.PolicyChange, Outcome: audit.OK, Version: int(newDoc.Serial),
		Reason: fmt.Sprintf("policy serial %d in force", newDoc.Serial)})
	a.doc.Store(newDoc)
	_ = a.v.SetMaxFailures(newDoc.MaxUnlockFailures)
	return newDoc, nil
}

// RetentionResult says what a retention run removed (or would remove).
type RetentionResult struct {
	Versions []vault.Expired
	Chunks   int
	DryRun   bool
}

// Retention applies the policy's retention rules by hand, if the user's
// role may: versions older than a class keeps them go, never the current
// version nor the newest few. With dryRun it only reports. Either way the
// run is audited. (At unlock, retention runs as the policy says, whoever
// unlocks.)
func (a *App) Retention(ctx context.Context, dryRun bool) (*RetentionResult, error) {
	if d := policy.DecideFor(a.subject(), "", policy.Public, policy.RunRetention); !d.Allowed {
		a.record(ctx, audit.Event{Action: audit.Retention, Outcome: audit.Blocked, Reason: d.Recorded()})
		return nil, &BlockedError{Action: policy.RunRetention, Reason: d.Reason, Recorded: d.Recorded()}
	}
	return a.retention(ctx, dryRun)
}

func (a *App) retention(ctx context.Context, dryRun bool) (*RetentionResult, error) {
	plan, err := a.v.PlanRetention(ctx, a.policyDoc().Retention, time.Now())
	if err != nil {
		return nil, err
	}
	res := &RetentionResult{Versions: plan, DryRun: dryRun}
	reason := fmt.Sprintf("%d versions expired", len(plan))
	if !dryRun {
		if res.Chunks, err = a.v.ApplyRetention(ctx, plan); err != nil {
			a.record(ctx, audit.Event{Action: audit.Retention, Outcome: audit.Failed, Reason: err.Error()})
			return nil, err
		}
		reason = fmt.Sprintf("removed %d versions and %d chunks", len(plan), res.Chunks)
	} else {
		reason += " (dry run, nothing removed)"
	}
	a.record(ctx, audit.Event{Action: audit.Retention, Outcome: audit.OK, Reason: reason})
	if !dryRun {
		_ = a.v.SetLastRetention(ctx, time.Now())
	}
	return res, nil
}

// retentionDue reports whether the policy keeps versions for a limited
// time and retention has not run for a day.
func (a *App) retentionDue(ctx context.Context) bool {
	limited := false
	for _, k := range a.policyDoc().Retention {
		limited = limited || k.Days > 0
	}
	return limited && time.Since(a.v.LastRetention(ctx)) > 24*time.Hour
}
