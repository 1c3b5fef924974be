package vault_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// attacker is a thief or an evil maid with write access to the vault folder
// and no passphrase. It knows what is public: coffer.json (the user's
// recipient, the device ID) and the object envelopes. It has keys of its
// own and our packages to build objects with.
type attacker struct {
	t      *testing.T
	dir    string
	cfg    publicConfig
	key    ed25519.PrivateKey
	folder *age.HybridIdentity // a folder key the attacker knows
}

type publicConfig struct {
	Vault         object.ID `json:"vault"`
	Device        object.ID `json:"device"`
	UserRecipient string    `json:"user_recipient"`
}

func newAttacker(t *testing.T, dir string) *attacker {
	t.Helper()
	var cfg publicConfig
	b, err := os.ReadFile(filepath.Join(dir, "coffer.json"))
	if err == nil {
		err = json.Unmarshal(b, &cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	folder, _ := age.GenerateHybridIdentity()
	return &attacker{t: t, dir: dir, cfg: cfg, key: key, folder: folder}
}

func (a *attacker) userRecipient() age.Recipient {
	r, err := age.ParseHybridRecipient(a.cfg.UserRecipient)
	if err != nil {
		a.t.Fatal(err)
	}
	return r
}

func (a *attacker) encrypt(plain []byte, to age.Recipient) []byte {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, to)
	if err == nil {
		_, err = w.Write(plain)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		a.t.Fatal(err)
	}
	return buf.Bytes()
}

// plantDeviceKey writes keys/device.age holding the attacker's own key for
// the vault's device: it is encrypted to the user's public recipient, which
// anyone can do.
func (a *attacker) plantDeviceKey() {
	body, _ := json.Marshal(map[string]any{"v": 1, "device": a.cfg.Device, "seed": a.key.Seed(), "name": "evil maid"})
	if err := os.WriteFile(filepath.Join(a.dir, "keys", "device.age"), a.encrypt(body, a.userRecipient()), 0o600); err != nil {
		a.t.Fatal(err)
	}
}

// put stores an object signed with the attacker's key.
func (a *attacker) put(kind object.Kind, id object.ID, body any, to age.Recipient) string {
	plain, _ := json.Marshal(body)
	data, err := object.Seal(kind, id, a.encrypt(plain, to), a.key)
	if err != nil {
		a.t.Fatal(err)
	}
	d, err := store.OpenDir(filepath.Join(a.dir, "objects"))
	if err != nil {
		a.t.Fatal(err)
	}
	h := store.Handle{Kind: kind, ID: id}
	if err := d.Put(context.Background(), h, data); err != nil {
		a.t.Fatal(err)
	}
	return d.Path(h)
}

func copyVault(t *testing.T, dir string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), "v")
	testenv.CopyDir(t, dir, to)
	return to
}

// TestPlantedDeviceKeyIsRefused: a device key is trusted only when the
// passphrase proves it (the pin in keys/user.age) or, in a vault made
// before the pin, a certificate signed by the user key certifies it. The
// frozen vault is such an older vault.
func TestPlantedDeviceKeyIsRefused(t *testing.T) {
	ctx := context.Background()
	v, dir := newVault(t)
	mustFolder(t, v, "Deals", policy.Confidential)
	v.Close()
	for name, src := range map[string]string{"new vault": dir, "vault made before the pin": frozenDir} {
		t.Run(name, func(t *testing.T) {
			copyTo := copyVault(t, src)
			pass := testPass
			if src == frozenDir {
				pass = frozenPass
			}
			newAttacker(t, copyTo).plantDeviceKey()
			v, err := vault.Open(ctx, copyTo, pass)
			if err == nil {
				v.Close()
				t.Fatal("a planted device key was accepted")
			}
			if !errors.Is(err, vault.ErrTampered) || !strings.Contains(err.Error(), "device.age") {
				t.Fatalf("error does not say the device key was planted: %v", err)
			}
		})
	}
}

// TestObjectsOfAnUncertifiedKeyAreRefused plants, signed by the attacker's
// own key, what that key would let it do if it were trusted: the
// confidential folder re-signed as public, a keyring of a folder key the
// attacker knows, a device certificate for itself, and audit entries
// re-signed after deleting some. Each is refused or reported.
func TestObjectsOfAnUncertifiedKeyAreRefused(t *testing.T) {
	ctx := context.Background()
	v, dir := newVault(t)
	deals := mustFolder(t, v, "Deals", policy.Confidential)
	put(t, v, deals, "terms.txt", []byte("price: 42\n"))
	v.Close()

	t.Run("folder re-signed as public", func(t *testing.T) {
		copyTo := copyVault(t, dir)
		a := newAttacker(t, copyTo)
		// A keyring of the attacker's folder key for the real folder,
		// and a folder object saying "public" encrypted to it.
		ringID, folderObj := object.NewRandomID(), object.NewRandomID()
		a.put(object.KindKeyring, ringID, map[string]any{"v": 1, "folder": deals.ID, "epoch": 1,
			"identity": a.folder.String(), "chunk_key": make([]byte, 32)}, a.userRecipient())
		a.put(object.KindFolder, folderObj, map[string]any{"v": 1, "folder": deals.ID, "name": "Deals",
			"class": "public", "created": time.Now().UnixNano()}, a.folder.Recipient())
		db := rawIndex(t, copyTo)
		exec(t, db, "UPDATE keyrings SET object_id = x'"+hexID(ringID)+"'")
		exec(t, db, "UPDATE folders SET object_id = x'"+hexID(folderObj)+"'")
		db.Close()
		v, err := vault.Open(ctx, copyTo, testPass)
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		f, err := v.Folder(ctx, "Deals")
		if err == nil {
			t.Fatalf("the planted folder object was read: class %s", f.Class)
		}
		if !errors.Is(err, vault.ErrTampered) || !strings.Contains(err.Error(), "may not sign") {
			t.Fatalf("error does not say the signer is not allowed: %v", err)
		}
	})

	t.Run("keyring and device certificate planted beside the real ones", func(t *testing.T) {
		copyTo := copyVault(t, dir)
		a := newAttacker(t, copyTo)
		ring := a.put(object.KindKeyring, object.NewRandomID(), map[string]any{"v": 1, "folder": object.NewRandomID(), "epoch": 1,
			"identity": a.folder.String(), "chunk_key": make([]byte, 32)}, a.userRecipient())
		devID := object.NewRandomID()
		cert := a.put(object.KindDevice, devID, map[string]any{"v": 1, "device": devID,
			"key": a.key.Public().(ed25519.PublicKey), "name": "evil", "email": "ann@example.com"}, a.userRecipient())
		v, err := vault.Open(ctx, copyTo, testPass)
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		folders, err := v.Folders(ctx)
		if err != nil || len(folders) != 1 {
			t.Fatalf("folders after the plant: %v, %v", folders, err)
		}
		r, err := v.Check(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, planted := range []string{ring, cert} {
			if !reportedAsProblem(r, filepath.Base(planted)) {
				t.Errorf("check does not report %s as a problem: %+v", filepath.Base(planted), r.Problems)
			}
		}
	})

	// The attacker rewrites the audit trail with its own key: once with a
	// blocked export removed from the middle (the trail then ends before
	// the signed checkpoint: refused at unlock), once keeping every entry
	// (the chain reports the foreign signatures).
	for _, drop := range []bool{true, false} {
		t.Run(fmt.Sprintf("audit trail re-signed, entry removed %v", drop), func(t *testing.T) {
			copyTo := copyVault(t, dir)
			v, err := vault.Open(ctx, copyTo, testPass)
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if _, err := v.AppendAudit(ctx, audit.Event{Action: audit.Export, Outcome: audit.Blocked, Folder: deals.ID.String()}); err != nil {
					t.Fatal(err)
				}
			}
			v.Close()
			resignTrail(t, copyTo, newAttacker(t, copyTo).key, drop)
			v, err = vault.Open(ctx, copyTo, testPass)
			if drop {
				if !errors.Is(err, vault.ErrNeedsRebuild) {
					t.Fatalf("a trail cut short was opened: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			log, err := v.AuditEvents(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(log.Breaks) == 0 || log.Breaks[0].Kind != audit.BadSignature {
				t.Fatalf("a re-signed trail verified: %v", log.Breaks)
			}
		})
	}
}

// resignTrail relinks and re-signs the audit trail with key, dropping the
// second-to-last entry if drop.
func resignTrail(t *testing.T, dir string, key ed25519.PrivateKey, drop bool) {
	t.Helper()
	db := rawIndex(t, dir)
	defer db.Close()
	rows, err := db.Query("SELECT seq, at, action, outcome, sealed FROM audit ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	var entries []audit.Entry
	for rows.Next() {
		var e audit.Entry
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.Action, &e.Outcome, &e.Sealed); err != nil {
			t.Fatal(err)
		}
		e.Time = time.Unix(0, at)
		entries = append(entries, e)
	}
	rows.Close()
	exec(t, db, "DELETE FROM audit")
	var prev *audit.Entry
	for i, e := range entries {
		if drop && i == len(entries)-2 {
			continue
		}
		e.Link(prev, key)
		if _, err := db.Exec("INSERT INTO audit VALUES(?,?,?,?,?,?,?,?,?)", e.Seq, e.Time.UnixNano(), e.Action, e.Outcome,
			e.Sealed, e.Prev[:], e.Hash[:], []byte(e.Signer), e.Sig); err != nil {
			t.Fatal(err)
		}
		prev = &e
	}
}

func hexID(id object.ID) string { return id.String() }

func reportedAsProblem(r *vault.Report, name string) bool {
	for _, p := range r.Problems {
		if strings.Contains(p.Object, name) {
			return true
		}
	}
	return false
}
