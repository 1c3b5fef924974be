package app

import (
	"context"
	"fmt"
	"os"

	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/preview/office"
	"github.com/coffer-vault/coffer/vault"
)

// Office documents (Word, PowerPoint, OpenDocument, RTF) are previewed by
// converting them to PDF with an installed LibreOffice, in the sandbox
// package preview/office owns, and rendering that PDF like any other. The
// converter keeps converted PDFs in memory; Lock and Close drop them.
// Where the sandbox cannot keep its folder in RAM (Windows, macOS), a
// document of a no-export class is not converted: its plaintext would
// touch the disk.

// officeEnv names the LibreOffice program to use instead of the one
// found installed (soffice, soffice.bin or soffice.com).
const officeEnv = "COFFER_LIBREOFFICE"

// officeOptions are the converter's options: defaults, and the program
// officeEnv names.
func officeOptions() office.Options { return office.Options{Program: os.Getenv(officeEnv)} }

// officeConverter returns the App's converter, made the first time an
// Office document is previewed; without LibreOffice it fails with
// office.ErrNotInstalled (and looks again next time, so that installing
// LibreOffice needs no restart).
func (a *App) officeConverter() (*office.Converter, error) {
	a.officeMu.Lock()
	defer a.officeMu.Unlock()
	if a.officeClosed {
		return nil, ErrClosed
	}
	if a.office == nil {
		c, err := office.New(officeOptions())
		if err != nil {
			return nil, err
		}
		a.office = c
	}
	return a.office, nil
}

// officeFor returns the converter for a document of folder f, refusing
// when its sandbox would put the plaintext of a no-export document on
// disk.
func (a *App) officeFor(ctx context.Context, f vault.Folder, ver vault.Version) (*office.Converter, error) {
	c, err := a.officeConverter()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", display.Name(ver.Name), err)
	}
	iso, err := c.Isolation(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", display.Name(ver.Name), err)
	}
	if !iso.RAMBacked() && f.Class.NoExport() {
		return nil, fmt.Errorf("%s is in a %s folder, and on this system LibreOffice could only convert it through a folder on disk (%s), where its plaintext must never be; export is blocked too, so view it on a Linux device",
			display.Name(ver.Name), f.Class, iso)
	}
	return c, nil
}

// closeOffice stops conversions and drops the converted PDFs.
func (a *App) closeOffice() {
	a.officeMu.Lock()
	defer a.officeMu.Unlock()
	a.officeClosed = true
	if a.office != nil {
		_ = a.office.Close()
		a.office = nil
	}
}

// OfficeStatus is what the About box says of Office previews.
type OfficeStatus struct {
	// Product names the LibreOffice found: "LibreOffice 7.4.7.2
	// (/usr/lib/libreoffice/program/soffice.bin)"; "" when none was.
	Product string
	// Sandbox says how conversions are confined.
	Sandbox string
	// Err says why Office documents cannot be previewed, or is nil.
	Err error
}

// Office reports which LibreOffice Office previews use, and how it is
// sandboxed (probing takes a few milliseconds). It needs no vault.
func Office(ctx context.Context) OfficeStatus {
	c, err := office.New(officeOptions())
	if err != nil {
		return OfficeStatus{Err: err}
	}
	defer c.Close()
	st := OfficeStatus{Product: c.Product().String()}
	iso, err := c.Isolation(ctx)
	if err != nil {
		st.Err = err
		return st
	}
	st.Sandbox = iso.String()
	return st
}
