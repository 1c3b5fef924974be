package office

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/richardlehane/mscfb"
)

// checkEncrypted returns an error wrapping ErrPassword when data is a
// password-protected document, judged from its structure alone (nothing is
// decrypted, no password is tried):
//
//   - Word, Excel or PowerPoint 2007 and later, encrypted: an OLE compound
//     file holding the EncryptionInfo and EncryptedPackage streams
//     (MS-OFFCRYPTO 2.3.4);
//   - Word 97-2003: the fEncrypted bit of the WordDocument stream's file
//     information block (MS-DOC 2.5.2);
//   - PowerPoint 97-2003: the encrypted header token of the Current User
//     stream (MS-PPT 2.3.2);
//   - Excel 97-2003: a FILEPASS record in the workbook's globals
//     (MS-XLS 2.4.117);
//   - OpenDocument: encryption-data in META-INF/manifest.xml (ODF 1.3,
//     part 2, 4.8).
//
// LibreOffice itself, asked to convert such a file without a password,
// prints "source file could not be loaded" and exits with success, so it
// cannot tell the two apart.
func checkEncrypted(data []byte) error {
	switch {
	case bytes.HasPrefix(data, []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")):
		return checkCompound(data)
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return checkODF(data)
	}
	return nil
}

// Header words that mark encryption.
const (
	fibEncrypted          = 0x0100     // FibBase flags, bit F
	pptEncryptedToken     = 0xF3D1C4DF // CurrentUserAtom.headerToken
	xlsFilePass           = 0x002F     // record type
	xlsEOF                = 0x000A     // record type
	maxCompoundStreamRead = 1 << 20    // bytes read of a stream to judge it
)

func checkCompound(data []byte) error {
	r, err := mscfb.New(bytes.NewReader(data))
	if err != nil {
		return nil // LibreOffice will judge it
	}
	for f, err := r.Next(); err == nil; f, err = r.Next() {
		if len(f.Path) > 0 {
			continue // streams at the root only
		}
		switch f.Name {
		case "EncryptionInfo", "EncryptedPackage":
			return fmt.Errorf("%w (an encrypted Office file): ask its author for a copy without a password", ErrPassword)
		case "WordDocument":
			head := readHead(f, 12)
			if len(head) == 12 && binary.LittleEndian.Uint16(head[10:])&fibEncrypted != 0 {
				return fmt.Errorf("%w (a Word 97-2003 document with a password): ask its author for a copy without one", ErrPassword)
			}
		case "Current User":
			head := readHead(f, 16)
			if len(head) == 16 && binary.LittleEndian.Uint32(head[12:]) == pptEncryptedToken {
				return fmt.Errorf("%w (a PowerPoint 97-2003 presentation with a password): ask its author for a copy without one", ErrPassword)
			}
		case "Workbook", "Book":
			if xlsHasFilePass(readHead(f, maxCompoundStreamRead)) {
				return fmt.Errorf("%w (an Excel 97-2003 workbook with a password): ask its author for a copy without one", ErrPassword)
			}
		}
	}
	return nil
}

// readHead reads at most n bytes from the start of a stream.
func readHead(r io.Reader, n int) []byte {
	b, _ := io.ReadAll(io.LimitReader(r, int64(n)))
	return b
}

// xlsHasFilePass walks the records of a BIFF8 workbook stream until the
// end of its globals substream, looking for FILEPASS.
func xlsHasFilePass(b []byte) bool {
	for len(b) >= 4 {
		typ, size := binary.LittleEndian.Uint16(b), int(binary.LittleEndian.Uint16(b[2:]))
		switch typ {
		case xlsFilePass:
			return true
		case xlsEOF:
			return false
		}
		if len(b) < 4+size {
			return false
		}
		b = b[4+size:]
	}
	return false
}

// maxManifest bounds the ODF manifest read.
const maxManifest = 4 << 20

func checkODF(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil
	}
	for _, f := range zr.File {
		if f.Name != "META-INF/manifest.xml" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil
		}
		m, _ := io.ReadAll(io.LimitReader(rc, maxManifest))
		rc.Close()
		if strings.Contains(string(m), "encryption-data") {
			return fmt.Errorf("%w (an encrypted OpenDocument file): ask its author for a copy without a password", ErrPassword)
		}
		return nil
	}
	return nil
}
