package vault_test

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

// Regenerate the vectors with
//
//	go test -run TestVectors -update-vectors ./vault/
//
// The keys below are fixed; only age's randomness differs between runs.
var updateVectors = flag.Bool("update-vectors", false, "rewrite testdata/vectors")

const vectorsDir = "testdata/vectors"

// Vector outcomes, as written in the "expect:" header.
const (
	expectOK          = "ok"
	expectBadSig      = "bad signature"
	expectTruncated   = "truncated"
	expectWrongKey    = "wrong key"
	expectUntrusted   = "untrusted signer"
	expectMismatch    = "mismatch"
	expectMalformed   = "malformed"
	vectorHeaderOrder = "expect kind id signer identity comment"
)

// Fixed keys of the vectors.
const (
	vecFolderIdentity = "AGE-SECRET-KEY-PQ-1L8TV2H88LC9V09KX3SYUVX759TWCXPH25TP4QHVPF0VXHNF2FVSSM7A5PG"
	vecOtherIdentity  = "AGE-SECRET-KEY-PQ-1CL7J7Y7CJ4E45Y6TVPLX52YSWA7VAQ7YSWS4T2EREE6FAUNQ4HDSKSRDG2"
)

var (
	vecSigner    = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x11}, ed25519.SeedSize))
	vecUntrusted = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x22}, ed25519.SeedSize))
)

// classify maps an OpenManifest error to the vector outcomes it matches.
func classify(err error) []string {
	if err == nil {
		return []string{expectOK}
	}
	var out []string
	var noMatch *age.NoIdentityMatchError
	for _, c := range []struct {
		name  string
		match bool
	}{
		{expectBadSig, errors.Is(err, object.ErrBadSignature)},
		{expectTruncated, errors.Is(err, object.ErrTruncated)},
		{expectWrongKey, errors.Is(err, age.ErrIncorrectIdentity) || errors.As(err, &noMatch)},
		{expectUntrusted, errors.Is(err, vault.ErrUntrustedSigner)},
		{expectMismatch, errors.Is(err, object.ErrMismatch)},
		{expectMalformed, errors.Is(err, vault.ErrMalformed)},
	} {
		if c.match {
			out = append(out, c.name)
		}
	}
	return out
}

type vector struct {
	file    string
	headers map[string]string
	data    []byte
}

func parseVector(path string) (*vector, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	head, body, ok := strings.Cut(string(raw), "\n\n")
	if !ok {
		return nil, errors.New("no blank line after the headers")
	}
	v := &vector{file: filepath.Base(path), headers: map[string]string{}}
	for _, line := range strings.Split(head, "\n") {
		k, val, ok := strings.Cut(line, ": ")
		if !ok {
			return nil, fmt.Errorf("header line %q is not \"key: value\"", line)
		}
		if _, dup := v.headers[k]; dup {
			return nil, fmt.Errorf("header %q repeated", k)
		}
		v.headers[k] = val
	}
	for _, k := range strings.Fields(vectorHeaderOrder) {
		if _, ok := v.headers[k]; !ok {
			return nil, fmt.Errorf("no %q header", k)
		}
	}
	v.data, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
	if err != nil {
		return nil, fmt.Errorf("body: %v", err)
	}
	return v, nil
}

func TestVectors(t *testing.T) {
	if *updateVectors {
		writeVectors(t)
	}
	files, err := filepath.Glob(filepath.Join(vectorsDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 8 {
		t.Fatalf("found %d vectors in %s, want at least 8", len(files), vectorsDir)
	}
	seen := map[string]bool{}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			v, err := parseVector(file)
			if err != nil {
				t.Fatal(err)
			}
			h := v.headers
			if h["kind"] != "manifest" {
				t.Fatalf("kind %q: only manifest vectors are supported", h["kind"])
			}
			id, err := object.ParseID(h["id"])
			if err != nil {
				t.Fatal(err)
			}
			signer, err := base64.StdEncoding.DecodeString(h["signer"])
			if err != nil || len(signer) != ed25519.PublicKeySize {
				t.Fatalf("signer %q is not a base64 ed25519 public key", h["signer"])
			}
			idn, err := age.ParseHybridIdentity(h["identity"])
			if err != nil {
				t.Fatalf("identity: %v", err)
			}
			m, err := vault.OpenManifest(v.data, id, ed25519.PublicKey(signer), idn)
			got := classify(err)
			if len(got) != 1 || got[0] != h["expect"] {
				t.Fatalf("expect %q, OpenManifest returned %v (matches %q)", h["expect"], err, got)
			}
			if err == nil && m.ID != id {
				t.Fatalf("opened manifest names %s, stored as %s", m.ID, id)
			}
			seen[h["expect"]] = true
		})
	}
	for _, want := range []string{expectOK, expectBadSig, expectTruncated, expectWrongKey, expectUntrusted, expectMismatch, expectMalformed} {
		if !seen[want] {
			t.Errorf("no vector expects %q", want)
		}
	}
}

// vecManifest is a first version of a three-chunk file.
func vecManifest(id object.ID) *vault.Manifest {
	return &vault.Manifest{
		V: 1, ID: id, Folder: vecID(0xf0), Epoch: 1, File: vecID(0xf1), Seq: 1,
		Name: "Invoices/2024 Q4 – Müller GmbH.pdf", Size: 4<<20 + 4<<20 + 123_457, Type: "application/pdf",
		AuthorDevice: vecID(0xde), AuthorUser: "ann@example.com",
		Time: time.Date(2024, 12, 31, 23, 59, 58, 0, time.UTC),
		Chunks: []vault.ManifestRef{
			{ID: vecID(0xc1), Size: 4 << 20},
			{ID: vecID(0xc2), Size: 4 << 20},
			{ID: vecID(0xc3), Size: 123_457},
		},
	}
}

// vecID returns a fixed ID that starts with b.
func vecID(b byte) object.ID {
	var id object.ID
	for i := range id {
		id[i] = b ^ byte(i*7)
	}
	return id
}

func writeVectors(t *testing.T) {
	t.Helper()
	folder, err := age.ParseHybridIdentity(vecFolderIdentity)
	if err != nil {
		t.Fatal(err)
	}
	other, err := age.ParseHybridIdentity(vecOtherIdentity)
	if err != nil {
		t.Fatal(err)
	}
	// sealRaw builds a manifest object by hand, bypassing SealManifest's
	// validation.
	sealRaw := func(kind object.Kind, id object.ID, plain []byte, key ed25519.PrivateKey, r age.Recipient) []byte {
		var buf bytes.Buffer
		w, err := age.Encrypt(&buf, r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(plain); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		data, err := object.Seal(kind, id, buf.Bytes(), key)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	sealJSON := func(m *vault.Manifest, key ed25519.PrivateKey, r age.Recipient) []byte {
		plain, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return sealRaw(object.KindManifest, m.ID, plain, key, r)
	}
	seal := func(m *vault.Manifest) []byte {
		data, err := vault.SealManifest(m, vecSigner, folder.Recipient())
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	flip := func(data []byte, at int) []byte {
		d := bytes.Clone(data)
		d[at] ^= 0x01
		return d
	}

	type vec struct {
		name, expect, comment string
		id                    object.ID
		data                  []byte
	}
	var vecs []vec
	add := func(name, expect string, id object.ID, data []byte, comment string) {
		vecs = append(vecs, vec{name, expect, comment, id, data})
	}

	okID := vecID(0x01)
	ok := seal(vecManifest(okID))
	add("ok_three_chunks", expectOK, okID, ok,
		"first version of a 3-chunk file, sealed with SealManifest")

	m2 := vecManifest(vecID(0x02))
	m2.Seq, m2.Parent, m2.RestoredFrom = 3, okID, 1
	m2.Chunks, m2.Size = m2.Chunks[:2], 8<<20
	add("ok_two_chunks_restored", expectOK, m2.ID, seal(m2),
		"third version of a 2-chunk file, restoring version 1")

	m3 := vecManifest(vecID(0x03))
	m3.Chunks, m3.Size = nil, 0
	m3.Name = "../../etc/passwd"
	add("ok_empty_file_path_like_name", expectOK, m3.ID, seal(m3),
		"empty file (no chunks); names are names, never paths")

	add("bad_signature_signature_byte", expectBadSig, okID, flip(ok, len(ok)-ed25519.SignatureSize+5),
		"ok_three_chunks with one bit of the signature flipped")
	add("bad_signature_body_byte", expectBadSig, okID, flip(ok, object.HeaderSize+100),
		"ok_three_chunks with one bit of the age body flipped")
	add("bad_signature_signer_byte", expectBadSig, okID, flip(ok, object.HeaderSize-1),
		"ok_three_chunks with one bit of the signer key in the header flipped: the reader trusts the original signer, but the signature check comes first")
	add("bad_signature_truncated_mid_body", expectBadSig, okID, ok[:len(ok)/2],
		"ok_three_chunks cut in the middle of the body: the envelope has no length field, so the last 64 bytes are taken as the signature and do not verify")

	add("truncated_in_body", expectTruncated, okID, ok[:object.HeaderSize+ed25519.SignatureSize-1],
		"ok_three_chunks cut inside the body, leaving no room for a signature")
	add("truncated_in_header", expectTruncated, okID, ok[:object.HeaderSize-10],
		"ok_three_chunks cut inside the header, in the signer key")
	add("truncated_after_magic", expectTruncated, okID, ok[:5],
		"ok_three_chunks cut right after the magic and the version byte")
	add("truncated_empty", expectTruncated, okID, nil,
		"zero bytes")

	wkID := vecID(0x04)
	wk, err := vault.SealManifest(vecManifest(wkID), vecSigner, other.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	add("wrong_key", expectWrongKey, wkID, wk,
		"valid manifest signed by the trusted key but encrypted to another hybrid identity than the folder key")

	usID := vecID(0x05)
	us, err := vault.SealManifest(vecManifest(usID), vecUntrusted, folder.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	add("untrusted_signer", expectUntrusted, usID, us,
		"valid manifest encrypted to the folder key, validly signed by an ed25519 key the reader does not trust")

	add("mismatch_id", expectMismatch, vecID(0x06), ok,
		"ok_three_chunks stored under another ID")
	foPlain, err := json.Marshal(vecManifest(vecID(0x07)))
	if err != nil {
		t.Fatal(err)
	}
	fo := sealRaw(object.KindFolder, vecID(0x07), foPlain, vecSigner, folder.Recipient())
	add("mismatch_kind", expectMismatch, vecID(0x07), fo,
		"a validly signed folder object (holding manifest JSON) read as a manifest under its own ID")

	bad := func(name string, edit func(m *vault.Manifest), comment string) {
		m := vecManifest(vecID(0x08 + byte(len(vecs))))
		edit(m)
		add(name, expectMalformed, m.ID, sealJSON(m, vecSigner, folder.Recipient()), comment)
	}
	bad("malformed_size_mismatch", func(m *vault.Manifest) { m.Size++ },
		"validly signed and encrypted, but the chunk sizes add up to one byte less than the size")
	bad("malformed_seq1_with_parent", func(m *vault.Manifest) { m.Parent = vecID(0x0e) },
		"validly signed and encrypted, but a first version (seq 1) names a parent")
	bad("malformed_seq0", func(m *vault.Manifest) { m.Seq = 0 },
		"validly signed and encrypted, but seq is 0")
	bad("malformed_empty_name", func(m *vault.Manifest) { m.Name = "" },
		"validly signed and encrypted, but the name is empty")
	njID := vecID(0x0f)
	add("malformed_not_json", expectMalformed, njID,
		sealRaw(object.KindManifest, njID, []byte("manifest v1\nname: x\n"), vecSigner, folder.Recipient()),
		"validly signed and encrypted, but the plaintext is not JSON")

	if err := os.RemoveAll(vectorsDir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(vectorsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	signer := base64.StdEncoding.EncodeToString(vecSigner.Public().(ed25519.PublicKey))
	names := map[string]bool{}
	for _, v := range vecs {
		if names[v.name] {
			t.Fatalf("vector %s twice", v.name)
		}
		names[v.name] = true
		var b bytes.Buffer
		fmt.Fprintf(&b, "expect: %s\nkind: manifest\nid: %s\nsigner: %s\nidentity: %s\ncomment: %s\n\n",
			v.expect, v.id, signer, vecFolderIdentity, v.comment)
		enc := base64.StdEncoding.EncodeToString(v.data)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\n")
		if err := os.WriteFile(filepath.Join(vectorsDir, v.name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestVectorsAreWellFormed keeps the vector files readable by other
// implementations: headers in a fixed order, base64 lines of at most 76
// columns.
func TestVectorsAreWellFormed(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(vectorsDir, "*"))
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(raw))
		var keys []string
		for sc.Scan() && sc.Text() != "" {
			k, _, _ := strings.Cut(sc.Text(), ":")
			keys = append(keys, k)
		}
		if !slices.Equal(keys, strings.Fields(vectorHeaderOrder)) {
			t.Errorf("%s: headers %q, want %q", filepath.Base(file), keys, vectorHeaderOrder)
		}
		for sc.Scan() {
			if len(sc.Text()) > 76 {
				t.Errorf("%s: body line of %d columns", filepath.Base(file), len(sc.Text()))
			}
		}
	}
}
