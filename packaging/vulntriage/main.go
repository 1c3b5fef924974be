// Command vulntriage reads govulncheck's JSON output (-format json) and
// fails unless every vulnerability the code calls is triaged: listed, with
// the reason it is accepted for now, in packaging/vulns-triaged.txt.
// Vulnerabilities in packages or modules the code does not call are
// counted, not failed on, as govulncheck itself does.
//
//	govulncheck -format json ./... | go run ./packaging/vulntriage -triaged packaging/vulns-triaged.txt
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

func main() {
	triaged := flag.String("triaged", "", "file of triaged vulnerability IDs (ID, then the reason, one a line)")
	flag.Parse()
	accepted, err := readTriaged(*triaged)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vulntriage: %v\n", err)
		os.Exit(1)
	}
	rep, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vulntriage: %v\n", err)
		os.Exit(1)
	}
	if !report(os.Stdout, rep, accepted) {
		os.Exit(1)
	}
}

// A vuln is one vulnerability govulncheck found, at the deepest level it
// reached: called (a vulnerable function is reachable), imported or only
// required.
type vuln struct {
	ID, Summary, Module, Found, Fixed string
	Called                            bool
}

type result struct {
	DB    string
	Vulns map[string]*vuln
}

// The parts of govulncheck's JSON messages read here
// (golang.org/x/vuln/internal/govulncheck).
type message struct {
	Config *struct {
		DB           string `json:"db"`
		DBLastMod    string `json:"db_last_modified"`
		ScannerName  string `json:"scanner_name"`
		ScannerVer   string `json:"scanner_version"`
		ScanLevel    string `json:"scan_level"`
		GoVersion    string `json:"go_version"`
		ScanMode     string `json:"scan_mode"`
		Protocol     string `json:"protocol_version"`
		Architecture string `json:"architecture"`
	} `json:"config"`
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

func parse(r io.Reader) (result, error) {
	res := result{Vulns: map[string]*vuln{}}
	summaries := map[string]string{}
	dec := json.NewDecoder(bufio.NewReader(r))
	sawConfig := false
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("reading govulncheck's output: %w", err)
		}
		switch {
		case m.Config != nil:
			sawConfig = true
			res.DB = m.Config.DB
			if m.Config.DBLastMod != "" && !strings.HasPrefix(m.Config.DBLastMod, "0001-") {
				res.DB += " (modified " + m.Config.DBLastMod + ")"
			}
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil && len(m.Finding.Trace) > 0:
			f := m.Finding
			v := res.Vulns[f.OSV]
			if v == nil {
				v = &vuln{ID: f.OSV, Module: f.Trace[0].Module, Found: f.Trace[0].Version, Fixed: f.FixedVersion}
				res.Vulns[f.OSV] = v
			}
			// The first frame is the vulnerable symbol; a function there
			// means govulncheck found a call path to it.
			if f.Trace[0].Function != "" {
				v.Called = true
			}
		}
	}
	if !sawConfig {
		return res, errors.New("no govulncheck output (no config message): did it run?")
	}
	for id, v := range res.Vulns {
		v.Summary = summaries[id]
	}
	return res, nil
}

// readTriaged reads "ID reason…" lines; # starts a comment.
func readTriaged(path string) (map[string]string, error) {
	accepted := map[string]string{}
	if path == "" {
		return accepted, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		reason = strings.TrimSpace(reason)
		if !strings.HasPrefix(id, "GO-") || reason == "" {
			return nil, fmt.Errorf("%s:%d: want a GO- ID and the reason it is accepted", path, n+1)
		}
		accepted[id] = reason
	}
	return accepted, nil
}

// report prints the findings and reports whether every called
// vulnerability is triaged.
func report(w io.Writer, res result, accepted map[string]string) bool {
	ids := make([]string, 0, len(res.Vulns))
	for id := range res.Vulns {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	fmt.Fprintf(w, "govulncheck database: %s\n", res.DB)
	ok := true
	notCalled := 0
	for _, id := range ids {
		v := res.Vulns[id]
		if !v.Called {
			notCalled++
			continue
		}
		where := fmt.Sprintf("%s@%s, fixed in %s", v.Module, v.Found, v.Fixed)
		if reason, hit := accepted[id]; hit {
			fmt.Fprintf(w, "triaged   %s %s (%s): %s\n", id, v.Summary, where, reason)
			continue
		}
		ok = false
		fmt.Fprintf(w, "UNTRIAGED %s %s (%s): upgrade, or add it to the triage file with the reason it is accepted\n", id, v.Summary, where)
	}
	for id := range accepted {
		if v := res.Vulns[id]; v == nil || !v.Called {
			fmt.Fprintf(w, "gone      %s is no longer called: remove it from the triage file\n", id)
		}
	}
	fmt.Fprintf(w, "%d more in imported packages or required modules whose vulnerable code is not called\n", notCalled)
	return ok
}
