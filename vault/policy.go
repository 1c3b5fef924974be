package vault

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// ErrNoPolicy is returned when a vault holds no valid policy document.
var ErrNoPolicy = errors.New("no valid policy")

// Policy returns the policy document in force: of every policy object
// signed by the issuer (the vault owner's key for a standalone vault), the
// one with the highest serial. A policy object signed by any other key, or
// two different documents with one serial, is tampering.
func (v *Vault) Policy(ctx context.Context) (*policy.Document, error) {
	var best *policy.Document
	var bestID object.ID
	err := v.objects.List(ctx, object.KindPolicy, func(id object.ID, _ int64) error {
		doc, err := v.readPolicy(ctx, id)
		if err != nil {
			return err
		}
		switch {
		case best == nil || doc.Serial > best.Serial:
			best, bestID = doc, id
		case doc.Serial == best.Serial && id != bestID:
			return fmt.Errorf("two policy documents carry serial %d: %w", doc.Serial, ErrTampered)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if best == nil {
		return nil, fmt.Errorf("vault: %w: the policy was removed", ErrNoPolicy)
	}
	return best, nil
}

func (v *Vault) readPolicy(ctx context.Context, id object.ID) (*policy.Document, error) {
	data, err := v.objects.Get(ctx, store.Handle{Kind: object.KindPolicy, ID: id})
	if err != nil {
		return nil, err
	}
	o, err := object.Open(data, object.KindPolicy, id)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w: %w", id.String()[:12], ErrTampered, err)
	}
	if !o.Signer.Equal(v.issuer()) {
		return nil, fmt.Errorf("policy %s: %w: not signed by the policy issuer", id.String()[:12], ErrTampered)
	}
	plain, err := decrypt(o.Body, 1<<20, v.userID)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w: %v", id.String()[:12], ErrDamaged, err)
	}
	doc, err := policy.ParseDocument(plain)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", id.String()[:12], err)
	}
	return doc, nil
}

// issuer is the trust root for policy. For a standalone vault it is the
// user key; an organisation's vault will name the admin key here instead,
// without any change to the policy object format.
func (v *Vault) issuer() ed25519.PublicKey { return v.trust.issuer }

// SetPolicy signs doc as the next policy (serial one above the current) and
// stores it durably. Only the issuer can do this; for a standalone vault
// that is its owner.
func (v *Vault) SetPolicy(ctx context.Context, doc policy.Document) (_ *policy.Document, err error) {
	if v.ro != nil {
		return nil, v.ro
	}
	defer func() { err = v.storageErr(err) }()
	cur, err := v.Policy(ctx)
	if err != nil && !errors.Is(err, ErrNoPolicy) {
		return nil, err
	}
	doc.V, doc.Serial, doc.Issued = 1, 1, time.Now().UTC()
	if cur != nil {
		doc.Serial = cur.Serial + 1
	}
	if err := doc.Validate(); err != nil {
		return nil, err
	}
	id := object.NewRandomID()
	data, err := sealObject(object.KindPolicy, id, doc, v.userSig, v.userID.Recipient())
	if err != nil {
		return nil, err
	}
	if err := v.objects.Put(ctx, store.Handle{Kind: object.KindPolicy, ID: id}, data); err != nil {
		return nil, err
	}
	if err := v.objects.Sync(ctx); err != nil {
		return nil, err
	}
	if err := v.MarkPolicyApplied(doc.Serial); err != nil {
		return nil, err
	}
	return &doc, nil
}
