package vault

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/coffer-vault/coffer/vault/object"
)

// MaxNameBytes bounds a file or folder name.
const MaxNameBytes = 1024

// Manifest is one version of one file: the plaintext of a KindManifest
// object.
type Manifest struct {
	V            int           `json:"v"`
	ID           object.ID     `json:"id"`     // this manifest's object ID
	Folder       object.ID     `json:"folder"` // folder it belongs to
	Epoch        int           `json:"epoch"`  // folder key epoch of its chunks
	File         object.ID     `json:"file"`   // stable across versions
	Seq          int           `json:"seq"`    // 1 for the first version
	Parent       object.ID     `json:"parent"` // previous version, zero for the first
	Name         string        `json:"name"`
	Size         int64         `json:"size"`
	Type         string        `json:"type"` // media type
	AuthorDevice object.ID     `json:"author_device"`
	AuthorUser   string        `json:"author_user"` // e-mail
	Time         time.Time     `json:"time"`
	RestoredFrom int           `json:"restored_from,omitempty"` // seq this version restores
	Chunks       []ManifestRef `json:"chunks"`
}

// ManifestRef is one entry of a manifest's ordered chunk list.
type ManifestRef struct {
	ID   object.ID `json:"id"`
	Size int64     `json:"size"`
}

// ErrMalformed is wrapped by every error that says decoded bytes are not a
// valid manifest (or other object body).
var ErrMalformed = errors.New("malformed object")

// ParseManifest decodes and validates the plaintext of a manifest.
func ParseManifest(plain []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(plain, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrMalformed, err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrMalformed, err)
	}
	return &m, nil
}

func (m *Manifest) validate() error {
	if m.V != 1 {
		return fmt.Errorf("version %d is not supported", m.V)
	}
	if err := ValidateName(m.Name); err != nil {
		return err
	}
	if m.Seq < 1 {
		return fmt.Errorf("sequence %d", m.Seq)
	}
	if (m.Seq == 1) != m.Parent.IsZero() {
		return errors.New("only the first version has no parent")
	}
	if m.Epoch < 1 {
		return fmt.Errorf("epoch %d", m.Epoch)
	}
	if m.RestoredFrom < 0 || m.RestoredFrom >= m.Seq {
		return fmt.Errorf("restores version %d from version %d", m.RestoredFrom, m.Seq)
	}
	var total int64
	for i, c := range m.Chunks {
		if c.Size <= 0 || c.Size > MaxChunkSize {
			return fmt.Errorf("chunk %d has size %d", i, c.Size)
		}
		total += c.Size
	}
	if total != m.Size {
		return fmt.Errorf("chunks add up to %d bytes, manifest says %d", total, m.Size)
	}
	return nil
}

// ValidateName checks a file or folder name. Names are stored as given —
// "../x", leading "/", control characters, reserved Windows names are all
// just names, never paths — but must be valid UTF-8, non-empty and at most
// MaxNameBytes long.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("name is empty")
	case len(name) > MaxNameBytes:
		return fmt.Errorf("name is %d bytes, over the %d-byte limit", len(name), MaxNameBytes)
	case !utf8.ValidString(name):
		return errors.New("name is not valid UTF-8")
	}
	return nil
}
