package vault_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

func countObjects(t *testing.T, dir string, kind object.Kind) int {
	t.Helper()
	n := 0
	for range allObjects(t, dir, kind) {
		n++
	}
	return n
}

func TestRetentionKeepsCurrentAndNewest(t *testing.T) {
	ctx := context.Background()
	v, dir := newVault(t)
	f := mustFolder(t, v, "Research", policy.Internal)
	pub := mustFolder(t, v, "Lobby", policy.Public)
	for i := 1; i <= 5; i++ {
		put(t, v, f, "model.csv", []byte(fmt.Sprintf("version %d of the model\n", i)))
		put(t, v, pub, "note.txt", []byte(fmt.Sprintf("note %d", i)))
	}
	keep := map[policy.Class]policy.Keep{policy.Internal: {Days: 1, Last: 2}}
	if plan, err := v.PlanRetention(ctx, keep, time.Now()); err != nil || len(plan) != 0 {
		t.Fatalf("nothing is a day old yet: %v %v", plan, err)
	}
	plan, err := v.PlanRetention(ctx, keep, time.Now().Add(72*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 3 {
		t.Fatalf("plan: %+v", plan)
	}
	for _, e := range plan {
		if e.Folder != "Research" || e.Seq > 3 {
			t.Errorf("planned %+v", e)
		}
	}
	before := countObjects(t, dir, object.KindChunk)
	removed, err := v.ApplyRetention(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if removed != 3 || countObjects(t, dir, object.KindChunk) != before-3 {
		t.Errorf("removed %d chunks; %d → %d objects", removed, before, countObjects(t, dir, object.KindChunk))
	}
	vers, err := v.Versions(ctx, f, "model.csv")
	if err != nil || len(vers) != 2 || vers[0].Seq != 4 || vers[1].Seq != 5 {
		t.Fatalf("versions left: %+v %v", vers, err)
	}
	if got := read(t, v, f, "model.csv", 4); string(got) != "version 4 of the model\n" {
		t.Errorf("version 4: %q", got)
	}
	if _, err := v.Restore(ctx, f, "model.csv", 2); err == nil {
		t.Error("restored a removed version")
	}
	if vers, _ := v.Versions(ctx, pub, "note.txt"); len(vers) != 5 {
		t.Errorf("public folder lost versions: %d", len(vers))
	}
	r, err := v.Check(ctx, nil)
	if err != nil || !r.OK() || len(r.Leftovers) != 0 {
		t.Fatalf("check after retention: %+v %v", r, err)
	}
}

func allObjects(t *testing.T, dir string, kind object.Kind) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(filepath.Join(dir, "objects", kind.String()), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestRetentionIgnoresBackdatedIndex: an attacker who backdates versions in
// index.db must not make retention remove what the policy keeps; the age of
// a version is the time its signed manifest gives.
func TestRetentionIgnoresBackdatedIndex(t *testing.T) {
	ctx := context.Background()
	v, dir := newVault(t)
	f := mustFolder(t, v, "Research", policy.Internal)
	for i := 1; i <= 4; i++ {
		put(t, v, f, "model.csv", []byte(fmt.Sprintf("version %d\n", i)))
	}
	v.Close()
	exec(t, rawIndex(t, dir), "UPDATE versions SET created_at = 1000000000") // 1970
	v2, err := vault.Open(ctx, dir, testPass)
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	keep := map[policy.Class]policy.Keep{policy.Internal: {Days: 365, Last: 1}}
	plan, err := v2.PlanRetention(ctx, keep, time.Now())
	if err != nil || len(plan) != 0 {
		t.Fatalf("retention planned %d versions a year's policy keeps: %+v, %v", len(plan), plan, err)
	}
	if r, err := v2.Check(ctx, nil); err != nil || r.OK() {
		t.Fatalf("check does not report the backdated index: %v", err)
	}
}
