package preview

import (
	"encoding/xml"
	"fmt"
	"path"
	"strings"

	"github.com/xuri/excelize/v2"
)

// bookSheet is a sheet as the workbook lists it.
type bookSheet struct {
	name   string
	part   string // its XML part in the package: xl/worksheets/sheet1.xml
	hidden bool   // state="hidden" or "veryHidden"
}

// The parts of a workbook's package, in excelize's unpacked copy.
type xmlRels struct {
	Rels []struct {
		ID     string `xml:"Id,attr"`
		Type   string `xml:"Type,attr"`
		Target string `xml:"Target,attr"`
	} `xml:"Relationship"`
}

type xmlBook struct {
	Sheets []struct {
		Name  string `xml:"name,attr"`
		State string `xml:"state,attr"`
		// r:id; the relationships namespace's prefix may be any.
		Attrs []xml.Attr `xml:",any,attr"`
	} `xml:"sheets>sheet"`
}

// pkgPart returns a part of the unpacked package, or nil.
func pkgPart(f *excelize.File, name string) []byte {
	v, ok := f.Pkg.Load(name)
	if !ok {
		return nil
	}
	b, _ := v.([]byte)
	return b
}

// workbookPart is the workbook's main part, as the package's relations
// name it (xl/workbook.xml in every file Excel writes).
func workbookPart(f *excelize.File) string {
	var rels xmlRels
	if xml.Unmarshal(pkgPart(f, "_rels/.rels"), &rels) == nil {
		for _, r := range rels.Rels {
			if strings.HasSuffix(r.Type, "/officeDocument") {
				return strings.TrimPrefix(path.Clean("/"+r.Target), "/")
			}
		}
	}
	return "xl/workbook.xml"
}

// bookRels maps the workbook's relation IDs to parts, and returns the
// shared-strings part.
func bookRels(f *excelize.File) (map[string]string, string) {
	wb := workbookPart(f)
	dir := path.Dir(wb)
	var rels xmlRels
	_ = xml.Unmarshal(pkgPart(f, path.Join(dir, "_rels", path.Base(wb)+".rels")), &rels)
	byID := map[string]string{}
	sst := dir + "/sharedStrings.xml"
	for _, r := range rels.Rels {
		target := r.Target
		if strings.HasPrefix(target, "/") {
			target = strings.TrimPrefix(path.Clean(target), "/")
		} else {
			target = path.Clean(path.Join(dir, target))
		}
		byID[r.ID] = target
		if strings.HasSuffix(r.Type, "/sharedStrings") {
			sst = target
		}
	}
	return byID, sst
}

// bookSheets lists the workbook's sheets in its order, with their parts
// and whether Excel hides them.
func bookSheets(f *excelize.File) ([]bookSheet, error) {
	var wb xmlBook
	if err := xml.Unmarshal(pkgPart(f, workbookPart(f)), &wb); err != nil {
		return nil, fmt.Errorf("%w: workbook: %v", ErrCorrupt, err)
	}
	byID, _ := bookRels(f)
	var out []bookSheet
	for _, s := range wb.Sheets {
		id := ""
		for _, a := range s.Attrs {
			if a.Name.Local == "id" {
				id = a.Value
			}
		}
		part, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("%w: sheet %q has no part", ErrCorrupt, s.Name)
		}
		out = append(out, bookSheet{name: s.Name, part: part, hidden: s.State == "hidden" || s.State == "veryHidden"})
	}
	return out, nil
}

// sharedStringsPart is the workbook's shared-strings part.
func sharedStringsPart(f *excelize.File) string {
	_, sst := bookRels(f)
	return sst
}
