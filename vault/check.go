package vault

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/coffer-vault/coffer/vault/index"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// Problem is one piece of damage found by Check.
type Problem struct {
	Object  string   `json:"object"`            // what is damaged, e.g. "chunk/3fa2…" or "index"
	What    string   `json:"what"`              // how
	Affects []string `json:"affects,omitempty"` // versions that cannot be read because of it
}

// Report is the result of Check.
type Report struct {
	Checked  map[string]int `json:"checked"`  // objects verified, by kind
	Problems []Problem      `json:"problems"` // damage; empty when the vault is intact
	// Leftovers are objects no version refers to, left by an interrupted
	// import. They are not damage.
	Leftovers []string `json:"leftovers,omitempty"`
	Intact    int      `json:"intact_versions"`
	Damaged   []string `json:"damaged_versions,omitempty"`
}

// OK reports whether nothing is damaged.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) add(obj, what string, affects ...string) {
	r.Problems = append(r.Problems, Problem{Object: obj, What: what, Affects: affects})
}

// CheckProgress is called with the number of objects verified so far.
type CheckProgress func(done, total int)

// Check verifies every key, device certificate, keyring, folder, manifest
// and chunk, and that the index agrees with them. Damage is reported, not
// returned as an error; an error means the check itself could not run.
func (v *Vault) Check(ctx context.Context, progress CheckProgress) (*Report, error) {
	r := &Report{Checked: map[string]int{}}
	if err := v.idx.IntegrityCheck(ctx); err != nil {
		r.add("index", err.Error())
	}
	v.checkDevices(ctx, r)
	v.checkPolicies(ctx, r)
	folders := v.checkFolders(ctx, r)
	chunkErr, err := v.checkChunks(ctx, r, progress)
	if err != nil {
		return nil, err
	}
	if err := v.checkVersions(ctx, r, folders, chunkErr); err != nil {
		return nil, err
	}
	if err := v.checkUnlisted(ctx, r, object.KindKeyring, func(id object.ID) error {
		_, err := v.loadKeyring(ctx, id)
		return err
	}); err != nil {
		return nil, err
	}
	keys := v.knownKeys()
	if err := v.checkUnlisted(ctx, r, object.KindFolder, func(id object.ID) error {
		var err error = ErrNotFound
		for _, fks := range keys {
			if _, err = v.readFolderBody(ctx, id, fks[0].identity); err == nil || errors.Is(err, ErrNotAllowedSigner) {
				return err
			}
		}
		return err
	}); err != nil {
		return nil, err
	}
	if err := v.checkUnlisted(ctx, r, object.KindManifest, func(id object.ID) error {
		_, err := v.findManifest(ctx, id, keys)
		if errors.Is(err, ErrNotFound) {
			// No key opens it, so the signer was never looked at: the
			// envelope alone says whether someone signed it on purpose.
			data, gerr := v.objects.Get(ctx, store.Handle{Kind: object.KindManifest, ID: id})
			if gerr == nil {
				if o, oerr := object.Open(data, object.KindManifest, id); oerr == nil {
					return v.checkSigner(object.KindManifest, o.Signer)
				}
			}
		}
		return err
	}); err != nil {
		return nil, err
	}
	sort.Strings(r.Leftovers)
	return r, nil
}

// checkDevices verifies every device certificate: each must be signed by
// the user key, and one must certify this device's key.
func (v *Vault) checkDevices(ctx context.Context, r *Report) {
	self := false
	_ = v.objects.List(ctx, object.KindDevice, func(id object.ID, _ int64) error {
		cert, err := v.readDeviceCert(ctx, id)
		if err != nil {
			r.add("device/"+id.String(), "device certificate: "+err.Error())
			return nil
		}
		self = self || (cert.Device == v.device.Device && ed25519.PublicKey(cert.Key).Equal(v.devKey.Public()))
		r.Checked["device"]++
		return nil
	})
	if !self {
		r.add("device/"+v.device.Device.String(), "this device has no valid certificate (its key is proven by your passphrase, but other devices could not trust it)")
	}
}

// checkUnlisted looks at stored objects of kind that the index does not
// name. A partial write left by a crash does not verify and is a leftover;
// an object that verifies, or is validly signed by a key that may not sign
// it, is a problem: either a plant, or something Open could not put back.
func (v *Vault) checkUnlisted(ctx context.Context, r *Report, kind object.Kind, read func(object.ID) error) error {
	ids, err := v.unknownObjects(ctx, kind)
	if err != nil {
		return err
	}
	for _, id := range ids {
		err := read(id)
		switch {
		case err == nil:
			r.add(kind.String()+"/"+id.String(), "a signed object the index does not list (run 'coffer check --rebuild')")
		case errors.Is(err, ErrNotAllowedSigner):
			r.add(kind.String()+"/"+id.String(), err.Error())
		default:
			r.Leftovers = append(r.Leftovers, kind.String()+"/"+id.String())
		}
	}
	return nil
}

func (v *Vault) checkPolicies(ctx context.Context, r *Report) {
	listed := 0
	_ = v.objects.List(ctx, object.KindPolicy, func(id object.ID, _ int64) error {
		listed++
		if _, err := v.readPolicy(ctx, id); err != nil {
			r.add("policy/"+id.String(), err.Error())
		} else {
			r.Checked["policy"]++
		}
		return nil
	})
	if listed == 0 {
		r.add("policy", "no policy document: it was removed")
	} else if _, err := v.Policy(ctx); err != nil && r.Checked["policy"] == listed {
		r.add("policy", err.Error())
	}
}

// folderNames maps folder IDs to display names, for damage reports.
type folderNames map[object.ID]string

func (v *Vault) checkFolders(ctx context.Context, r *Report) folderNames {
	names := folderNames{}
	rows, err := v.idx.Folders(ctx)
	if err != nil {
		r.add("index", "folders: "+err.Error())
		return names
	}
	rings, err := v.idx.Keyrings(ctx)
	if err != nil {
		r.add("index", "keyrings: "+err.Error())
	}
	// Every wrap of an epoch's key is verified: the index's first, and
	// the copies other members made (keyring_copies). A damaged wrap
	// costs nothing while another of the same key opens.
	for _, k := range rings {
		copies, err := v.idx.KeyringCopies(ctx, k.FolderID, k.Epoch)
		if err != nil {
			r.add("index", "keyring copies: "+err.Error())
		}
		var bad []Problem
		for _, id := range append([]object.ID{k.ObjectID}, copies...) {
			if _, err := v.epochKeyring(ctx, k.FolderID, k.Epoch, id); err != nil {
				bad = append(bad, Problem{Object: "keyring/" + id.String(), What: err.Error()})
				continue
			}
			r.Checked["keyring"]++
		}
		for _, p := range bad {
			if len(bad) == 1+len(copies) {
				p.Affects = []string{"every file of folder " + k.FolderID.String()[:12]}
			} else {
				p.What += " (another wrap of the same key opens: nothing is lost)"
			}
			r.Problems = append(r.Problems, p)
		}
	}
	for _, row := range rows {
		label := row.ID.String()[:12]
		var s folderSealed
		if err := v.seal.openJSON("folder:"+row.ID.String(), row.Sealed, &s); err == nil {
			label = s.Name
		}
		names[row.ID] = label
		body, err := v.readFolderObject(ctx, row)
		if err != nil {
			r.add("folder/"+row.ObjectID.String(), err.Error(), "folder "+label)
			continue
		}
		if body.Name != s.Name || body.Class != s.Class {
			r.add("index", fmt.Sprintf("folder %q: index says %q (%s), signed object says %q (%s)", label, s.Name, s.Class, body.Name, body.Class))
		}
		if !hmacEqual(row.NameMAC, v.seal.nameMAC(foldersScope, body.Name)) {
			r.add("index", fmt.Sprintf("folder %q: its name lookup key is another folder's", body.Name))
		}
		r.Checked["folder"]++
	}
	return names
}

// checkChunks verifies every stored chunk the index knows, on all cores,
// and returns what is wrong with each damaged one.
func (v *Vault) checkChunks(ctx context.Context, r *Report, progress CheckProgress) (map[object.ID]string, error) {
	known, err := v.idx.AllChunks(ctx)
	if err != nil {
		return nil, err
	}
	stored := map[object.ID]bool{}
	if err := v.objects.List(ctx, object.KindChunk, func(id object.ID, _ int64) error {
		stored[id] = true
		return nil
	}); err != nil {
		return nil, err
	}
	bad := map[object.ID]string{}
	for id := range stored {
		if _, ok := known[id]; !ok {
			r.Leftovers = append(r.Leftovers, "chunk/"+id.String())
		}
	}
	ids := make([]object.ID, 0, len(known))
	for id := range known {
		if !stored[id] {
			bad[id] = "missing"
			continue
		}
		ids = append(ids, id)
	}
	var mu sync.Mutex
	done := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, id := range ids {
		g.Go(func() error {
			row := known[id]
			fk, err := v.folderKey(gctx, row.FolderID, row.Epoch)
			if err == nil {
				_, err = v.readChunk(gctx, fk, ManifestRef{ID: id, Size: row.Size})
			}
			if gctx.Err() != nil {
				return gctx.Err()
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				bad[id] = err.Error()
			}
			done++
			if progress != nil {
				progress(done, len(ids))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	r.Checked["chunk"] = len(ids) - countIn(bad, ids)
	return bad, nil
}

func countIn(bad map[object.ID]string, ids []object.ID) int {
	n := 0
	for _, id := range ids {
		if _, ok := bad[id]; ok {
			n++
		}
	}
	return n
}

func (v *Vault) checkVersions(ctx context.Context, r *Report, folders folderNames, chunkErr map[object.ID]string) error {
	files, err := v.idx.AllFiles(ctx)
	if err != nil {
		return err
	}
	stale, err := v.idx.StaleHeads(ctx)
	if err != nil {
		return err
	}
	for _, h := range stale {
		r.add("index", fmt.Sprintf("file %s: the index points it at version %s, which version %s follows", h.File.String()[:12], h.Head.String()[:12], h.Child.String()[:12]))
	}
	reported := map[object.ID]int{} // chunk → index of its Problem
	for _, f := range files {
		rows, err := v.idx.Versions(ctx, f.ID)
		if err != nil {
			return err
		}
		headSeen := false
		for _, row := range rows {
			headSeen = headSeen || row.ID == f.Head
			label := fmt.Sprintf("%s/%s v%d", folders[f.FolderID], f.ID.String()[:12], row.Seq)
			s, sealedErr := v.openVersion(row)
			if sealedErr == nil {
				label = fmt.Sprintf("%s/%s v%d", folders[f.FolderID], s.Name, row.Seq)
			}
			m, err := v.manifest(ctx, f, row)
			if err != nil {
				r.add("manifest/"+row.ID.String(), err.Error(), label)
				r.Damaged = append(r.Damaged, label)
				continue
			}
			r.Checked["manifest"]++
			if what := indexDisagrees(s, sealedErr, row, m); what != "" {
				r.add("index", label+": "+what)
			}
			if row.ID == f.Head {
				shown, err := v.displayName(f, row)
				if err == nil && f.Sealed == nil && shown != m.Name {
					err = errors.New("the index names it otherwise than its signed manifest")
				}
				if err != nil || !hmacEqual(f.NameMAC, v.seal.nameMAC(f.FolderID.String(), shown)) {
					r.add("index", label+": its name lookup key is another file's")
				}
			}
			damaged := false
			listed, err := v.idx.VersionChunks(ctx, row.ID)
			if err != nil {
				return err
			}
			if !sameRefs(listed, m.Chunks) {
				r.add("index", "chunk list of "+label+" differs from its signed manifest", label)
				damaged = true
			}
			for _, c := range m.Chunks {
				what, bad := chunkErr[c.ID]
				if !bad {
					continue
				}
				damaged = true
				if i, ok := reported[c.ID]; ok {
					if p := &r.Problems[i]; p.Affects[len(p.Affects)-1] != label {
						p.Affects = append(p.Affects, label)
					}
					continue
				}
				reported[c.ID] = len(r.Problems)
				r.add("chunk/"+c.ID.String(), what, label)
			}
			if damaged {
				r.Damaged = append(r.Damaged, label)
			} else {
				r.Intact++
			}
		}
		if !headSeen {
			r.add("index", fmt.Sprintf("file %s: current version is not among its versions", f.ID.String()[:12]))
		}
	}
	// Chunks damaged but used by no version are still damage worth knowing.
	for id, what := range chunkErr {
		if _, ok := reported[id]; !ok {
			r.add("chunk/"+id.String(), what)
		}
	}
	return nil
}

func sameRefs(a []index.ChunkRef, b []ManifestRef) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Size != b[i].Size {
			return false
		}
	}
	return true
}

// indexDisagrees says how a version row's cached values differ from its
// signed manifest, or "" when they agree.
func indexDisagrees(s versionSealed, sealedErr error, row index.Version, m *Manifest) string {
	switch {
	case sealedErr != nil:
		return "its sealed values do not open: " + sealedErr.Error()
	case s.Name != m.Name:
		return fmt.Sprintf("the index names it %q, the signed manifest %q", s.Name, m.Name)
	case s.Type != m.Type || s.AuthorDevice != m.AuthorDevice || s.RestoredFrom != m.RestoredFrom ||
		s.AuthorUser != m.AuthorUser:
		return "the index's type, author or restore mark differs from the signed manifest"
	case !row.Created.Equal(m.Time):
		return fmt.Sprintf("the index dates it %s, the signed manifest %s", row.Created.Format(time.RFC3339), m.Time.Format(time.RFC3339))
	}
	return ""
}

func hmacEqual(a, b []byte) bool { return hmac.Equal(a, b) }
