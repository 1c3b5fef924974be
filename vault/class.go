package vault

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault/index"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// A folder's class changes by a new revision of its folder object
// (docs/vault-format.md, "Folder classes change"): signed by the owner's
// device, or a manager's among its members; a narrowing (to a more
// protected class) stands on its own; in an organisation a widening also
// needs the admin's approval in the log — a commitment to the folder, the
// revision, the class and a salt, so the server never learns the class.

// ErrNeedsApproval is returned by ChangeClass when widening a class waits
// for the organisation's admin: the request says what to send.
var ErrNeedsApproval = errors.New("widening a folder's class needs your organisation's admin")

// ClassRequest is a request to widen a folder's class, for the admin.
type ClassRequest struct {
	Folder   object.ID    `json:"folder"`
	Name     string       `json:"name"`
	Revision int64        `json:"revision"`
	From     policy.Class `json:"from"`
	Class    policy.Class `json:"class"`
	Salt     []byte       `json:"salt"`
}

const classRequestPrefix = "COFFER-CLASS1-"

// Code is the request as one line, for the admin's
// `cofferd admin approve-class`.
func (r ClassRequest) Code() string {
	b, _ := json.Marshal(r)
	return classRequestPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// Commitment is what the admin's approval names.
func (r ClassRequest) Commitment() []byte {
	return ClassCommitment(r.Folder, r.Revision, r.Class, r.Salt)
}

// ParseClassRequest reads a request code.
func ParseClassRequest(code string) (ClassRequest, error) {
	var r ClassRequest
	s, ok := strings.CutPrefix(strings.TrimSpace(code), classRequestPrefix)
	if !ok {
		return r, fmt.Errorf("not a class request (they begin %s)", classRequestPrefix)
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &r) != nil || !r.Class.Valid() || !r.From.Valid() || r.Revision < 1 || len(r.Salt) != 16 || ValidateFolderName(r.Name) != nil {
		return r, errors.New("the class request is damaged: ask for it again")
	}
	return r, nil
}

// ClassCommitment returns SHA-256("coffer class v1\n" folder "\n"
// revision "\n" class "\n" hex(salt) "\n").
func ClassCommitment(folder object.ID, revision int64, class policy.Class, salt []byte) []byte {
	h := sha256.Sum256([]byte("coffer class v1\n" + folder.String() + "\n" + strconv.FormatInt(revision, 10) + "\n" +
		string(class) + "\n" + hex.EncodeToString(salt) + "\n"))
	return h[:]
}

// ChangeClass moves a folder to class: a new revision of its folder object,
// pushed with the next sync. In an organisation, widening returns
// ErrNeedsApproval with the request for the admin, until the admin's
// approval of that very request is in the log this device verified; then
// it is written.
func (v *Vault) ChangeClass(ctx context.Context, name string, class policy.Class) (*ClassRequest, error) {
	if !class.Valid() {
		return nil, fmt.Errorf("unknown class %q (want one of %s)", class, policy.ClassNames())
	}
	row, err := v.idx.FolderByMAC(ctx, v.seal.nameMAC(foldersScope, name))
	if errors.Is(err, index.ErrNotFound) {
		return nil, fmt.Errorf("folder %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	cur, err := v.readFolderObject(ctx, row)
	if err != nil {
		return nil, err
	}
	if cur.Class == class {
		return nil, nil
	}
	next := cur
	next.Class, next.Revision = class, cur.Revision+1
	metaKey := "class_request:" + row.ID.String()
	if st := v.OrgState(); v.user.Org != nil && class.Level() < cur.Class.Level() {
		var req ClassRequest
		if b, err := v.idx.GetMeta(ctx, metaKey); err == nil && json.Unmarshal(b, &req) == nil && req.Revision == next.Revision && req.Class == class {
			if f := st.Folders[row.ID]; f != nil && string(f.Widenings[req.Revision]) == string(req.Commitment()) {
				next.Salt = req.Salt
			}
		}
		if next.Salt == nil {
			req = ClassRequest{Folder: row.ID, Name: cur.Name, Revision: next.Revision, From: cur.Class, Class: class, Salt: make([]byte, 16)}
			if _, err := rand.Read(req.Salt); err != nil {
				return nil, err
			}
			b, _ := json.Marshal(req)
			if err := v.idx.SetMeta(ctx, metaKey, b); err != nil {
				return nil, err
			}
			return &req, ErrNeedsApproval
		}
	}
	if err := v.writeFolderRevision(ctx, row, next); err != nil {
		return nil, err
	}
	_ = v.idx.SetMeta(ctx, metaKey, []byte("{}"))
	return nil, nil
}

// writeFolderRevision stores the next folder object and points the index
// at it; the superseded object goes (the server keeps the history).
func (v *Vault) writeFolderRevision(ctx context.Context, row index.Folder, body folderBody) error {
	fk, err := v.folderKey(ctx, row.ID, 1)
	if err != nil {
		return err
	}
	id := object.NewRandomID()
	data, err := sealObject(object.KindFolder, id, body, v.devKey, fk.recipient)
	if err != nil {
		return err
	}
	if err := v.objects.Put(ctx, store.Handle{Kind: object.KindFolder, ID: id}, data); err != nil {
		return err
	}
	if err := v.objects.Sync(ctx); err != nil {
		return err
	}
	return v.pointFolderAt(ctx, row, id, body)
}

// pointFolderAt makes id the folder's current object and removes the one
// it replaces.
func (v *Vault) pointFolderAt(ctx context.Context, row index.Folder, id object.ID, body folderBody) error {
	sealed, err := v.seal.sealJSON("folder:"+row.ID.String(), folderSealed{Name: body.Name, Class: body.Class})
	if err != nil {
		return err
	}
	if err := v.idx.SetFolderObject(ctx, row.ID, id, sealed); err != nil {
		return err
	}
	if row.ObjectID != id {
		_ = v.objects.Remove(ctx, store.Handle{Kind: object.KindFolder, ID: row.ObjectID})
	}
	return nil
}

// checkRevision checks that next may follow cur as a folder's object:
// the same folder, name and creation; a higher revision; and, for a
// widening in an organisation, the admin's approval of exactly it.
func (v *Vault) checkRevision(cur, next folderBody) error {
	switch {
	case next.Folder != cur.Folder || next.Name != cur.Name || next.Created != cur.Created:
		return fmt.Errorf("%w: a revision of folder %q changes more than its class", ErrTampered, cur.Name)
	case next.Revision <= cur.Revision:
		return ErrSuperseded
	}
	st := v.OrgState()
	if v.user.Org == nil || next.Class.Level() >= cur.Class.Level() {
		return nil
	}
	var approved []byte
	if st != nil && st.Folders[next.Folder] != nil {
		approved = st.Folders[next.Folder].Widenings[next.Revision]
	}
	if approved == nil || string(approved) != string(ClassCommitment(next.Folder, next.Revision, next.Class, next.Salt)) {
		return fmt.Errorf("%w: folder %q is widened from %s to %s without the admin's approval", ErrTampered, cur.Name, cur.Class, next.Class)
	}
	return nil
}

// ErrSuperseded is wrapped for a folder object older than the one held:
// not an error, nothing to keep.
var ErrSuperseded = errors.New("a superseded revision of the folder")

// checkFolderRevision checks a received folder object against the one
// this vault holds for its folder. A folder new to this vault is taken
// only from its first object (revision 0) and each later revision checked
// against the one received before it in the same pull: a reader shared a
// folder late must not take a widened revision as is, without the chain
// that shows whether the admin approved it. A later revision with no
// earlier one received waits (ErrNotAddressed): the feed is read again
// from the start once the folder's key arrives.
func (v *Vault) checkFolderRevision(ctx context.Context, data []byte, id object.ID) error {
	for folder, fks := range v.knownKeys() {
		if fks[0].epoch != 1 {
			continue
		}
		plain, signer, err := v.openData(data, object.KindFolder, id, 1<<20, fks[0].identity)
		if err != nil {
			continue
		}
		var next folderBody
		if err := json.Unmarshal(plain, &next); err != nil || next.Folder != folder {
			return fmt.Errorf("%w: folder object", ErrMalformed)
		}
		if err := v.checkFolderSigner(object.KindFolder, folder, signer); err != nil {
			return err
		}
		row, err := v.idx.FolderByID(ctx, folder)
		if err == nil {
			cur, err := v.readFolderObject(ctx, row)
			if err != nil {
				return err
			}
			if row.ObjectID == id {
				return nil
			}
			return v.checkRevision(cur, next)
		}
		if !errors.Is(err, index.ErrNotFound) {
			return err
		}
		v.pullMu.Lock()
		defer v.pullMu.Unlock()
		prev, ok := v.pullFolders[folder]
		switch {
		case !ok && next.Revision == 0:
		case !ok:
			return fmt.Errorf("folder %s revision %d: %w: its earlier revisions have not arrived", folder.String()[:12], next.Revision, ErrNotAddressed)
		default:
			if err := v.checkRevision(prev, next); err != nil {
				return err
			}
		}
		if v.pullFolders == nil {
			v.pullFolders = map[object.ID]folderBody{}
		}
		v.pullFolders[folder] = next
		return nil
	}
	return nil
}
