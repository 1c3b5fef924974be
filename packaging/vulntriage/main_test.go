package main

import (
	"strings"
	"testing"
)

// A stream shaped like govulncheck -format json: one vulnerability called,
// one only imported.
const stream = `{"config":{"protocol_version":"v1.0.0","scanner_name":"govulncheck","db":"file:///db","db_last_modified":"2026-11-05T00:00:00Z","go_version":"go1.26.8","scan_level":"symbol"}}
{"progress":{"message":"Scanning your code..."}}
{"osv":{"id":"GO-2026-0001","summary":"HTTP/2 crash in net/http"}}
{"osv":{"id":"GO-2026-0002","summary":"panic in some/module"}}
{"finding":{"osv":"GO-2026-0001","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http","function":"http2serverConn.serve"},{"module":"github.com/coffer-vault/coffer","package":"github.com/coffer-vault/coffer/sync/server","function":"Serve"}]}}
{"finding":{"osv":"GO-2026-0001","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http"}]}}
{"finding":{"osv":"GO-2026-0002","fixed_version":"v1.2.0","trace":[{"module":"some/module","version":"v1.1.0","package":"some/module/pkg"}]}}
`

func TestCalledMustBeTriaged(t *testing.T) {
	res, err := parse(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Vulns["GO-2026-0001"].Called || res.Vulns["GO-2026-0002"].Called {
		t.Fatalf("called: %+v %+v", res.Vulns["GO-2026-0001"], res.Vulns["GO-2026-0002"])
	}
	var out strings.Builder
	if report(&out, res, nil) {
		t.Errorf("passed with a called vulnerability untriaged:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "UNTRIAGED GO-2026-0001") || strings.Contains(out.String(), "GO-2026-0002") {
		t.Errorf("report:\n%s", out.String())
	}
	out.Reset()
	if !report(&out, res, map[string]string{"GO-2026-0001": "fixed in go1.26.9; waiting for the toolchain"}) {
		t.Errorf("failed with every called vulnerability triaged:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "triaged   GO-2026-0001 HTTP/2 crash in net/http (stdlib@v1.26.8, fixed in v1.26.9)") {
		t.Errorf("report:\n%s", out.String())
	}
}

func TestStaleTriageIsReported(t *testing.T) {
	res, err := parse(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	report(&out, res, map[string]string{"GO-2026-0001": "x", "GO-2026-0002": "y", "GO-2025-9999": "z"})
	for _, id := range []string{"GO-2026-0002", "GO-2025-9999"} {
		if !strings.Contains(out.String(), "gone      "+id) {
			t.Errorf("%s not reported as gone:\n%s", id, out.String())
		}
	}
}

func TestEmptyInputIsAnError(t *testing.T) {
	if _, err := parse(strings.NewReader("")); err == nil {
		t.Error("no error for empty input: a govulncheck that did not run would pass")
	}
}
