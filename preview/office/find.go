package office

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
)

// Product is the LibreOffice a Converter runs.
type Product struct {
	Name    string // "LibreOffice", or a rebranding such as "Collabora Office"
	Version string // "7.4.7.2"; "" when it could not be read
	Program string // the executable run: soffice.bin on Linux, soffice.com on Windows, soffice on macOS
}

// String names the product as the About box shows it: "LibreOffice
// 7.4.7.2 (/usr/lib/libreoffice/program/soffice.bin)".
func (p Product) String() string {
	name := strings.TrimSpace(p.Name + " " + p.Version)
	return fmt.Sprintf("%s (%s)", name, p.Program)
}

// Find returns the LibreOffice to run: program when it is not "" (a path,
// or a name looked up in PATH), else the first installed one of
// candidates() and soffice in PATH. Without one it returns
// ErrNotInstalled. It starts nothing: the version comes from the
// installation's registry file.
func Find(program string) (Product, error) {
	var tried []string
	if program != "" {
		tried = []string{program}
	} else {
		tried = candidates()
		if p, err := exec.LookPath("soffice"); err == nil {
			tried = append(tried, p)
		}
	}
	for _, t := range tried {
		if p, ok := resolve(t); ok {
			return describe(p), nil
		}
	}
	if program != "" {
		return Product{}, fmt.Errorf("%w: %s is not a LibreOffice program", ErrNotInstalled, program)
	}
	return Product{}, ErrNotInstalled
}

// candidates are where LibreOffice installs itself, the most likely first.
func candidates() []string {
	switch runtime.GOOS {
	case "windows":
		var out []string
		for _, env := range []string{"ProgramFiles", "ProgramW6432", "ProgramFiles(x86)", "LOCALAPPDATA"} {
			if d := os.Getenv(env); d != "" {
				out = append(out, filepath.Join(d, "LibreOffice", "program", "soffice.com"))
				if env == "LOCALAPPDATA" {
					out = append(out, filepath.Join(d, "Programs", "LibreOffice", "program", "soffice.com"))
				}
			}
		}
		return out
	case "darwin":
		out := []string{"/Applications/LibreOffice.app/Contents/MacOS/soffice"}
		if home, err := os.UserHomeDir(); err == nil {
			out = append(out, filepath.Join(home, "Applications", "LibreOffice.app", "Contents", "MacOS", "soffice"))
		}
		return out
	}
	out := []string{"/usr/lib/libreoffice/program/soffice.bin", "/usr/lib64/libreoffice/program/soffice.bin",
		"/usr/local/lib/libreoffice/program/soffice.bin"}
	// The Document Foundation's own packages: /opt/libreoffice25.2/…,
	// the newest first.
	opt, _ := filepath.Glob("/opt/libreoffice*/program/soffice.bin")
	slices.SortFunc(opt, func(a, b string) int { return strings.Compare(b, a) })
	return append(out, opt...)
}

// resolve turns a candidate into the executable to run: links followed,
// and on Linux the wrapper script (soffice, which starts oosplash, which
// starts soffice.bin) replaced by soffice.bin beside it, so that the
// process the sandbox starts is LibreOffice itself.
func resolve(path string) (string, bool) {
	if !filepath.IsAbs(path) {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", false
		}
		path = p
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", false
	}
	if runtime.GOOS == "linux" && filepath.Base(real) != "soffice.bin" {
		bin := filepath.Join(filepath.Dir(real), "soffice.bin")
		if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() {
			real = bin
		}
	}
	if runtime.GOOS == "windows" && strings.EqualFold(filepath.Base(real), "soffice.exe") {
		// soffice.exe returns at once; soffice.com waits for the conversion.
		if com := strings.TrimSuffix(real, filepath.Ext(real)) + ".com"; isFile(com) {
			real = com
		}
	}
	if !isFile(real) {
		return "", false
	}
	return real, true
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// describe reads the product's name and version from its registry file,
// main.xcd (share/registry beside program/ on Linux and Windows,
// Contents/Resources/registry on macOS).
func describe(program string) Product {
	p := Product{Name: "LibreOffice", Program: program}
	dir := filepath.Dir(program)
	for _, xcd := range []string{
		filepath.Join(dir, "..", "share", "registry", "main.xcd"),
		filepath.Join(dir, "..", "Resources", "registry", "main.xcd"),
	} {
		name, version, err := readXCD(xcd)
		if err != nil {
			continue
		}
		if name != "" {
			p.Name = name
		}
		p.Version = version
		break
	}
	return p
}

// xcdProp matches a product property of main.xcd:
// <prop oor:name="ooSetupVersionAboutBox"><value>7.4.7.2</value>.
var xcdProp = regexp.MustCompile(`<prop oor:name="(ooName|ooSetupVersionAboutBox)">\s*<value>([^<]{1,64})</value>`)

// maxXCD bounds the registry file read (Debian's main.xcd is 2.3 MB).
const maxXCD = 32 << 20

func readXCD(path string) (name, version string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxXCD))
	if err != nil {
		return "", "", err
	}
	for _, m := range xcdProp.FindAllSubmatch(data, -1) {
		switch string(m[1]) {
		case "ooName":
			if name == "" {
				name = string(m[2])
			}
		case "ooSetupVersionAboutBox":
			if version == "" {
				version = string(m[2])
			}
		}
	}
	if name == "" && version == "" {
		return "", "", errors.New("no product name or version")
	}
	return name, version, nil
}
