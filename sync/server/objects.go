package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault/object"
)

// mayRead reports whether the caller's user may read objects of space:
// its own user space, or a folder the org log says it may read at the
// server's clock.
func (s *Server) mayRead(c *caller, space object.ID) bool {
	return space == UserSpace(c.device.Email) || c.state.FolderRole(c.device.Email, space, s.now()) != ""
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
	if folder := object.ID(h.Folder); s.mayRead(c, folder) {
		for i, ref := range h.Refs {
			_, err := s.statIn(ctx, ref.Kind, folder, object.ID(ref.ID))
			out.Have[i] = err == nil
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
		if err := s.authoriseWrite(c, kind, m.Space); err != nil {
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
	if kind == object.KindChunk {
		m.ID = storageID(kind, m.Space, id)
		if held, err := s.statIn(ctx, kind, m.Space, id); err == nil {
			// Held already in this folder, maybe under its ID alone
			// (before storageID); its bytes lost, an upload by the device
			// that stored it repairs them (another writer's bytes would
			// keep the true ones out for good).
			if held.Device == c.device.ID {
				if _, err := s.store.RepairLost(ctx, kind, held.ID, c.body); err != nil {
					return err
				}
			}
			writeJSON(w, http.StatusOK, struct{}{})
			return nil
		}
	}
	stored, err := s.store.PutObject(ctx, m, c.body)
	if err != nil {
		return err
	}
	if stored {
		s.metrics.storedObject(kind, len(c.body))
		s.feed.notify()
		writeJSON(w, http.StatusCreated, struct{}{})
		return nil
	}
	// Create-if-absent: the same bytes again are fine; so is another
	// encryption of a chunk (its ID is a keyed hash of the plaintext).
	held, data, err := s.store.GetObject(ctx, kind, m.ID)
	if errors.Is(err, store.ErrLost) && held.Space == m.Space && held.Device == c.device.ID {
		// Its bytes lost, an upload by the device that stored it repairs
		// them (it verified as this object above). Another is told
		// nothing more than "exists elsewhere" or that it is lost.
		if _, err := s.store.RepairLost(ctx, kind, m.ID, c.body); err != nil {
			return err
		}
		held, data, err = s.store.GetObject(ctx, kind, m.ID)
	}
	if err != nil && !errors.Is(err, store.ErrLost) {
		return err
	}
	if held.Space != m.Space {
		return fail(http.StatusConflict, wire.CodeConflict, "an object with this ID exists elsewhere")
	}
	if err != nil {
		return fail(http.StatusInternalServerError, wire.CodeLost, "the server has lost this object's bytes: only the device that stored it can upload it again")
	}
	if kind != object.KindChunk && !bytes.Equal(data, c.body) {
		return fail(http.StatusConflict, wire.CodeConflict, "an object with this ID exists with other content")
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// authoriseWrite checks the caller may write objects of kind to a folder
// space, by the org log: keyrings and folder objects only from those who
// may share it (its owner, managers among its members) — what every
// client trusts them from, so nobody else can squat a wrap's ID or block a
// member with an object their client refuses; versions and chunks from its
// owner and editors; nothing from viewers and guests.
func (s *Server) authoriseWrite(c *caller, kind object.Kind, space object.ID) error {
	st := c.state
	if st.Folders[space] == nil {
		return fail(http.StatusConflict, wire.CodeNotFound, "unknown folder: append its folder entry to the log first")
	}
	email := c.device.Email
	role := st.FolderRole(email, space, s.now())
	switch {
	case role == "":
		return fail(http.StatusForbidden, wire.CodeUnauthorized, "you are not a member of this folder")
	case role == "guest":
		return fail(http.StatusForbidden, wire.CodeUnauthorized, "guests read folders, they do not write to them")
	case kind == object.KindKeyring || kind == object.KindFolder:
		if !st.MayShare(email, space) {
			return fail(http.StatusForbidden, wire.CodeUnauthorized, "only the folder's owner, or a manager among its members, writes its keys and class")
		}
	case role == orglog.Viewer:
		return fail(http.StatusForbidden, wire.CodeUnauthorized, "you may read this folder, not write to it")
	}
	return nil
}

// storageID is the ID the store keeps an object of kind, uploaded to
// space as id, under. A chunk's ID is a keyed hash of its plaintext, and
// every reader of a folder holds the key: one who could guess a chunk's
// content could upload a chunk of that ID to a space of his own first,
// and every later upload of it to the folder failed ("exists
// elsewhere"), which stalled the writer's sync. So chunks are kept by
// space and ID: SHA-256 of a label, the space and the ID. Other objects
// are signed by their writer's device and named by their content: no one
// else can make them first.
func storageID(kind object.Kind, space, id object.ID) object.ID {
	if kind != object.KindChunk {
		return id
	}
	h := sha256.New()
	h.Write([]byte("coffer chunk in space v1\x00"))
	h.Write(space[:])
	h.Write(id[:])
	return object.ID(h.Sum(nil))
}

// statIn returns the metadata of the object of kind and id held in space:
// under its storageID, or (a chunk stored before storageID) under id.
func (s *Server) statIn(ctx context.Context, kind object.Kind, space, id object.ID) (store.ObjectMeta, error) {
	m, err := s.store.StatObject(ctx, kind, storageID(kind, space, id))
	if err == nil || kind != object.KindChunk || !errors.Is(err, store.ErrNotFound) {
		if err == nil && m.Space != space {
			return m, fmt.Errorf("%v %s: %w", kind, id.String()[:12], store.ErrNotFound)
		}
		return m, err
	}
	if m, err = s.store.StatObject(ctx, kind, id); err == nil && m.Space != space {
		return m, fmt.Errorf("%v %s: %w", kind, id.String()[:12], store.ErrNotFound)
	}
	return m, err
}

// chunkAnywhere finds chunk id for a GET that names no folder (a client
// from before chunks were kept by folder): stored under its ID in a space
// the caller may read, or under its storage ID in one of them.
func (s *Server) chunkAnywhere(ctx context.Context, c *caller, id object.ID) (store.ObjectMeta, error) {
	if m, err := s.store.StatObject(ctx, object.KindChunk, id); err == nil && s.mayRead(c, m.Space) {
		return m, nil
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return m, err
	}
	email := c.device.Email
	for _, sp := range append(c.state.FoldersOf(email, s.now()), UserSpace(email)) {
		m, err := s.store.StatObject(ctx, object.KindChunk, storageID(object.KindChunk, sp, id))
		if err == nil && m.Space == sp {
			return m, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return m, err
		}
	}
	return store.ObjectMeta{}, fmt.Errorf("chunk %s: %w", id.String()[:12], store.ErrNotFound)
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
	var m store.ObjectMeta
	var data []byte
	if kind == object.KindChunk {
		if r.Header.Get(wire.HeaderFolder) == "" {
			// A client from before chunks were kept by folder.
			m, err = s.chunkAnywhere(ctx, c, id)
		} else {
			var folder object.ID
			if folder, err = hexHeader(r, wire.HeaderFolder); err != nil {
				return err
			}
			if !s.mayRead(c, folder) {
				return fail(http.StatusNotFound, wire.CodeNotFound, "no such object")
			}
			m, err = s.statIn(ctx, kind, folder, id)
		}
		if err == nil {
			m, data, err = s.store.GetObject(ctx, kind, m.ID)
		}
		if errors.Is(err, store.ErrNotFound) {
			return fail(http.StatusNotFound, wire.CodeNotFound, "no such object")
		}
	} else {
		m, data, err = s.store.GetObject(ctx, kind, id)
		if errors.Is(err, store.ErrNotFound) {
			return fail(http.StatusNotFound, wire.CodeNotFound, "no such object")
		}
		if (err == nil || errors.Is(err, store.ErrLost)) && !s.mayRead(c, m.Space) {
			return fail(http.StatusNotFound, wire.CodeNotFound, "no such object")
		}
	}
	if errors.Is(err, store.ErrLost) {
		s.metrics.lost.Inc()
		// Said to the reader, who goes on with the rest of the feed, and
		// to IT: one lost blob stopped every reader's sync for good.
		s.log.Error("an object's bytes are lost from the server's storage: restore the blob folder from a backup, or have a device that holds the object upload it again",
			"kind", kind.String(), "id", id.String(), "space", m.Space.String(), "err", err)
		return fail(http.StatusInternalServerError, wire.CodeLost, "the server has lost this object's bytes (a damaged disk or a partial restore): tell IT; the rest syncs on, and this is fetched again later")
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set(wire.HeaderFolder, m.Space.String())
	_, _ = w.Write(data)
	return nil
}
