package vault

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/vault/object"
)

// TestClassRevisionRules: a revision of a folder object may narrow its
// class; in an organisation it may widen it only with the admin's
// approval of exactly that folder, revision, class and salt; it changes
// nothing else, and an older one is superseded.
func TestClassRevisionRules(t *testing.T) {
	pub := func() []byte { p, _, _ := ed25519.GenerateKey(rand.Reader); return p }
	pin := &OrgPin{Org: object.NewRandomID(), Admin: pub(), Server: pub(), TLS: make([]byte, 32), URL: "https://127.0.0.1:1"}
	v, err := CreateWith(t.Context(), filepath.Join(t.TempDir(), "v"), Identity{Email: "ann@acme.test"}, "class test passphrase", CreateOptions{Org: pin})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	folder := object.NewRandomID()
	salt := []byte("0123456789abcdef")
	approved := ClassCommitment(folder, 2, policy.Internal, salt)
	v.org = &orglog.State{Folders: map[object.ID]*orglog.FolderState{folder: {ID: folder, Widenings: map[int64][]byte{2: approved}}}}
	cur := folderBody{V: 1, Folder: folder, Name: "Deals", Class: policy.Confidential, Created: 5, Revision: 1}
	next := func(class policy.Class, rev int64, salt []byte) folderBody {
		b := cur
		b.Class, b.Revision, b.Salt = class, rev, salt
		return b
	}
	renamed := next(policy.Restricted, 2, nil)
	renamed.Name = "Other"
	for name, tc := range map[string]struct {
		next folderBody
		want error
	}{
		"narrowing":               {next(policy.Restricted, 2, nil), nil},
		"widening, approved":      {next(policy.Internal, 2, salt), nil},
		"widening, no approval":   {next(policy.Public, 3, salt), ErrTampered},
		"widening, another class": {next(policy.Public, 2, salt), ErrTampered},
		"widening, another salt":  {next(policy.Internal, 2, []byte("fedcba9876543210")), ErrTampered},
		"an older revision":       {next(policy.Restricted, 1, nil), ErrSuperseded},
		"a revision that renames": {renamed, ErrTampered},
	} {
		err := v.checkRevision(cur, tc.next)
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}
