package server

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault/object"
)

// mayRead reports whether the caller's user may read objects of space.
func (s *Server) mayRead(ctx context.Context, c *caller, space object.ID) (bool, error) {
	if space == UserSpace(c.device.Email) {
		return true, nil
	}
	members, err := s.store.SpaceMembers(ctx, space)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, m := range members {
		if m == c.device.Email {
			return true, nil
		}
	}
	return false, nil
}

func (s *Server) has(w http.ResponseWriter, r *http.Request, c *caller) error {
	var h wire.Has
	if err := decode(c.body, &h); err != nil {
		return err
	}
	if len(h.Refs) > wire.MaxHasRefs {
		return fail(http.StatusRequestEntityTooLarge, wire.CodeTooLarge, "at most %d refs per request", wire.MaxHasRefs)
	}
	ctx := r.Context()
	out := wire.HasReply{Have: make([]bool, len(h.Refs))}
	ok, err := s.mayRead(ctx, c, object.ID(h.Folder))
	if err != nil {
		return err
	}
	if ok {
		for i, ref := range h.Refs {
			m, err := s.store.StatObject(ctx, ref.Kind, object.ID(ref.ID))
			out.Have[i] = err == nil && m.Space == object.ID(h.Folder)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// putObject stores an object the caller's device uploads, after checking
// its envelope, its signer and the caller's right to the space.
func (s *Server) putObject(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	kind, err := objectKind(r.PathValue("kind"))
	if err != nil {
		return err
	}
	id, err := object.ParseID(r.PathValue("id"))
	if err != nil {
		return fail(http.StatusBadRequest, wire.CodeBadRequest, "bad object ID")
	}
	o, err := object.Open(c.body, kind, id)
	if err != nil {
		return fail(http.StatusBadRequest, wire.CodeRejected, "the object does not verify: %v", err)
	}
	m := store.ObjectMeta{Kind: kind, ID: id, Device: c.device.ID, Size: int64(len(c.body))}
	switch kind {
	case object.KindDevice:
		if !o.Signer.Equal(c.user.Key) {
			return fail(http.StatusForbidden, wire.CodeRejected, "a device certificate must be signed by your user key")
		}
		if d := c.state.Devices[id]; d == nil || d.Email != c.device.Email {
			return fail(http.StatusForbidden, wire.CodeRejected, "no device entry of yours certifies this device")
		}
		m.Space = UserSpace(c.device.Email)
	case object.KindKeyring, object.KindFolder, object.KindManifest:
		d := c.state.DeviceByKey(o.Signer)
		if d == nil || d.Revoked || d.Email != c.device.Email {
			return fail(http.StatusForbidden, wire.CodeRejected, "the object is not signed by a current device of yours")
		}
		fallthrough
	case object.KindChunk:
		if m.Space, err = hexHeader(r, wire.HeaderFolder); err != nil {
			return err
		}
		if err := s.authoriseWrite(ctx, c, kind, m.Space); err != nil {
			return err
		}
	default:
		return fail(http.StatusForbidden, wire.CodeRejected, "%v objects are not synced", kind)
	}
	if kind == object.KindManifest {
		if m.File, err = hexHeader(r, wire.HeaderFile); err != nil {
			return err
		}
		if v := r.Header.Get(wire.HeaderParent); v != "" {
			if m.Parent, err = hexHeader(r, wire.HeaderParent); err != nil {
				return err
			}
		}
		if m.Seq, err = strconv.ParseInt(r.Header.Get(wire.HeaderSeq), 10, 64); err != nil || m.Seq < 1 {
			return fail(http.StatusBadRequest, wire.CodeBadRequest, "bad %s", wire.HeaderSeq)
		}
	}
	stored, err := s.store.PutObject(ctx, m, c.body)
	if err != nil {
		return err
	}
	if stored {
		s.feed.notify()
		writeJSON(w, http.StatusCreated, struct{}{})
		return nil
	}
	// Create-if-absent: the same bytes again are fine; so is another
	// encryption of a chunk (its ID is a keyed hash of the plaintext).
	held, data, err := s.store.GetObject(ctx, kind, id)
	if err != nil {
		return err
	}
	if held.Space != m.Space {
		return fail(http.StatusConflict, wire.CodeConflict, "an object with this ID exists elsewhere")
	}
	if kind != object.KindChunk && !bytes.Equal(data, c.body) {
		return fail(http.StatusConflict, wire.CodeConflict, "an object with this ID exists with other content")
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// authoriseWrite checks the caller may write to a folder space; the first
// keyring of an unknown folder makes its space, owned by the caller's user.
func (s *Server) authoriseWrite(ctx context.Context, c *caller, kind object.Kind, space object.ID) error {
	ok, err := s.mayRead(ctx, c, space)
	if err != nil || ok {
		return err
	}
	if _, err := s.store.SpaceMembers(ctx, space); err == nil {
		return fail(http.StatusForbidden, wire.CodeUnauthorized, "you are not a member of this folder")
	}
	if kind != object.KindKeyring {
		return fail(http.StatusConflict, wire.CodeNotFound, "unknown folder: push its keyring first")
	}
	if err := s.store.CreateSpace(ctx, space, c.device.Email); err != nil && !errors.Is(err, store.ErrExists) {
		return err
	}
	if ok, err := s.mayRead(ctx, c, space); err != nil || !ok {
		return fail(http.StatusForbidden, wire.CodeUnauthorized, "you are not a member of this folder")
	}
	return nil
}

func hexHeader(r *http.Request, name string) (object.ID, error) {
	id, err := object.ParseID(r.Header.Get(name))
	if err != nil {
		return id, fail(http.StatusBadRequest, wire.CodeBadRequest, "bad or missing %s", name)
	}
	return id, nil
}

func (s *Server) getObject(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	kind, err := objectKind(r.PathValue("kind"))
	if err != nil {
		return err
	}
	id, err := object.ParseID(r.PathValue("id"))
	if err != nil {
		return fail(http.StatusNotFound, wire.CodeNotFound, "no such object")
	}
	m, data, err := s.store.GetObject(ctx, kind, id)
	if errors.Is(err, store.ErrNotFound) {
		return fail(http.StatusNotFound, wire.CodeNotFound, "no such object")
	}
	if err != nil {
		return err
	}
	if ok, err := s.mayRead(ctx, c, m.Space); err != nil || !ok {
		if err != nil {
			return err
		}
		return fail(http.StatusNotFound, wire.CodeNotFound, "no such object")
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set(wire.HeaderFolder, m.Space.String())
	_, _ = w.Write(data)
	return nil
}
