package vault

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/coffer-vault/coffer/vault/index"
	"github.com/coffer-vault/coffer/vault/object"
)

// Lines (docs/sync-protocol.md, "Conflicts"): the versions of one signed
// file form a tree by their parents. Every device lays it out the same way
// from the signed manifests alone: children of a version are ordered by
// their signed time, then ID; the first continues its line, each other
// starts a conflict line named "<name> (conflict <device> <time>)<ext>".
// Nothing is dropped and nothing is last-writer-wins.

// lineNode is one version in a layout.
type lineNode struct {
	id, parent object.ID
	seq        int
	time       time.Time
	name       string
	device     object.ID
	added      *Manifest // not in the index yet
}

// layout lays out the lines of the signed file origin of folder, with
// added (verified manifests not yet in the index), and writes them. With
// yield, the main line gives its name up to an earlier file that has come
// to hold it.
func (v *Vault) layout(ctx context.Context, folder, origin object.ID, added []*Manifest, yield bool) error {
	rows, _, err := v.idx.OriginVersions(ctx, origin)
	if err != nil {
		return err
	}
	nodes := map[object.ID]*lineNode{}
	for _, r := range rows {
		s, err := v.openVersion(r)
		if err != nil {
			return err
		}
		nodes[r.ID] = &lineNode{id: r.ID, parent: r.Parent, seq: r.Seq, time: r.Created, name: s.Name, device: s.AuthorDevice}
	}
	for _, m := range added {
		if nodes[m.ID] == nil {
			nodes[m.ID] = &lineNode{id: m.ID, parent: m.Parent, seq: m.Seq, time: m.Time, name: m.Name, device: m.AuthorDevice, added: m}
		}
	}
	lines := planLines(origin, nodes)
	for try := 0; ; try++ {
		out, later, err := v.nameLines(ctx, folder, origin, lines, yield, try)
		if err != nil {
			return err
		}
		if !later.IsZero() {
			// A later file holds this file's name: it yields first.
			if err := v.layout(ctx, folder, later, nil, true); err != nil {
				return err
			}
		}
		err = v.idx.LayoutFile(ctx, folder, origin, out)
		if !errors.Is(err, index.ErrExists) || try >= 8 {
			return err
		}
	}
}

// plannedLine is a line before it is named.
type plannedLine struct {
	id      object.ID
	members []*lineNode // in history order
}

// planLines walks the tree: the main line from the earliest root, each
// other child of a version and each other root a conflict line.
func planLines(origin object.ID, nodes map[object.ID]*lineNode) []plannedLine {
	children := map[object.ID][]*lineNode{}
	var roots []*lineNode
	for _, n := range nodes {
		if n.parent.IsZero() || nodes[n.parent] == nil {
			roots = append(roots, n) // the first version, or one whose parent retention removed
			continue
		}
		children[n.parent] = append(children[n.parent], n)
	}
	order := func(ns []*lineNode) {
		sort.Slice(ns, func(i, j int) bool {
			a, b := ns[i], ns[j]
			if a.seq != b.seq {
				return a.seq < b.seq
			}
			if !a.time.Equal(b.time) {
				return a.time.Before(b.time)
			}
			return a.id.String() < b.id.String()
		})
	}
	order(roots)
	var lines []plannedLine
	var walk func(id object.ID, start *lineNode)
	walk = func(id object.ID, start *lineNode) {
		i := len(lines)
		lines = append(lines, plannedLine{id: id})
		for n := start; n != nil; {
			lines[i].members = append(lines[i].members, n)
			kids := children[n.id]
			order(kids)
			if len(kids) == 0 {
				break
			}
			for _, k := range kids[1:] {
				walk(k.id, k)
			}
			n = kids[0]
		}
	}
	for i, r := range roots {
		id := r.id
		if i == 0 {
			id = origin
		}
		walk(id, r)
	}
	return lines
}

// nameLines gives each line its name and name MAC. The main line takes
// its head's name unless it yields it or an earlier file of the folder
// holds it (then it is a conflict name); if a later file holds it, that
// file's origin is returned, to yield first. Conflict lines take conflict
// names; on a clash with another file (try > 0) a number is added, and
// conflict lines of this file that would share a name (one device, one
// minute) are numbered in their planned order, which every device
// computes alike.
func (v *Vault) nameLines(ctx context.Context, folder, origin object.ID, planned []plannedLine, yield bool, try int) ([]index.Line, object.ID, error) {
	var out []index.Line
	var later object.ID
	taken := map[string]bool{}
	for _, p := range planned {
		head := p.members[len(p.members)-1]
		first := p.members[0]
		name := head.name
		conflict := p.id != origin || yield
		if !conflict {
			holder, earlier, err := v.nameHolder(ctx, folder, origin, name, first.time)
			if err != nil {
				return nil, later, err
			}
			conflict = earlier
			if !holder.IsZero() && !earlier {
				later = holder
			}
		}
		if conflict {
			// A conflict line is named after its own first version.
			base := conflictName(first.name, v.deviceNameOf(first.device), first.time)
			ext := extOf(base)
			numbered := func(n int) string { return fmt.Sprintf("%s %d%s", strings.TrimSuffix(base, ext), n, ext) }
			name = base
			if try > 0 {
				name = numbered(try + 1)
			}
			for n := try + 2; taken[name]; n++ {
				name = numbered(n)
			}
		}
		taken[name] = true
		l := index.Line{ID: p.id, Head: head.id, NameMAC: v.seal.nameMAC(folder.String(), name)}
		if name != head.name {
			sealed, err := v.seal.sealJSON("file:"+p.id.String(), lineSealed{Name: name})
			if err != nil {
				return nil, later, err
			}
			l.Sealed = sealed
		}
		for _, n := range p.members {
			if n.added != nil {
				l.Added = append(l.Added, v.newVersion(n.added, p.id))
			} else {
				l.Members = append(l.Members, n.id)
			}
		}
		out = append(out, l)
	}
	return out, later, nil
}

// lineSealed is the sealed column of a line whose display name is not its
// head's manifest name.
type lineSealed struct {
	Name string `json:"name"`
}

// nameHolder returns the signed file (origin) other than origin that holds
// name in the folder, if any, and whether its first version is earlier
// than since (ties: lower file ID).
func (v *Vault) nameHolder(ctx context.Context, folder, origin object.ID, name string, since time.Time) (object.ID, bool, error) {
	other, err := v.idx.FileByMAC(ctx, folder, v.seal.nameMAC(folder.String(), name))
	if errors.Is(err, index.ErrNotFound) || (err == nil && other.Origin == origin) {
		return object.ID{}, false, nil
	}
	if err != nil {
		return object.ID{}, false, err
	}
	rows, _, err := v.idx.OriginVersions(ctx, other.Origin)
	if err != nil || len(rows) == 0 {
		return object.ID{}, false, err
	}
	first := rows[0]
	for _, r := range rows {
		if r.Seq < first.Seq || (r.Seq == first.Seq && r.Created.Before(first.Created)) {
			first = r
		}
	}
	if first.Created.Equal(since) {
		return other.Origin, other.Origin.String() < origin.String(), nil
	}
	return other.Origin, first.Created.Before(since), nil
}

// conflictName is "<base> (conflict <device> <YYYY-MM-DD HH-MM>)<ext>".
func conflictName(name, device string, t time.Time) string {
	if device == "" {
		device = "another device"
	}
	ext := extOf(name)
	return fmt.Sprintf("%s (conflict %s %s)%s", strings.TrimSuffix(name, ext), device, t.UTC().Format("2006-01-02 15-04"), ext)
}

// extOf is a name's extension, or "" for a name that is all extension.
func extOf(name string) string {
	ext := filepath.Ext(name)
	if ext == name || strings.ContainsAny(ext, " /") {
		return ""
	}
	return ext
}

// newVersion makes the index record of a verified manifest listed under a
// line.
func (v *Vault) newVersion(m *Manifest, line object.ID) index.NewVersion {
	sealed, _ := v.sealVersion(m) // sealing JSON of plain fields cannot fail
	refs := make([]index.ChunkRef, len(m.Chunks))
	for i, c := range m.Chunks {
		refs[i] = index.ChunkRef{ID: c.ID, Size: c.Size}
	}
	return index.NewVersion{Version: index.Version{ID: m.ID, FileID: line, Seq: m.Seq, Parent: m.Parent, Size: m.Size,
		Created: m.Time, Sealed: sealed}, Epoch: m.Epoch, Chunks: refs}
}

// displayName returns a line's name: its sealed display name, or its head
// version's manifest name.
func (v *Vault) displayName(f index.File, head index.Version) (string, error) {
	if f.Sealed != nil {
		var s lineSealed
		if err := v.seal.openJSON("file:"+f.ID.String(), f.Sealed, &s); err != nil {
			return "", err
		}
		return s.Name, nil
	}
	s, err := v.openVersion(head)
	return s.Name, err
}

// history returns a line's versions, oldest first: its own and, for a
// conflict line, the ancestors it shares with the line it left.
func (v *Vault) history(ctx context.Context, f index.File) ([]index.Version, error) {
	var out []index.Version
	seen := map[object.ID]bool{}
	for id := f.Head; !id.IsZero() && !seen[id]; {
		seen[id] = true
		r, err := v.idx.Version(ctx, id)
		if errors.Is(err, index.ErrNotFound) {
			break // removed by retention: history starts after it
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
		id = r.Parent
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("file %s: current version missing from the index: %w", f.ID.String()[:12], ErrDamaged)
	}
	return out, nil
}
