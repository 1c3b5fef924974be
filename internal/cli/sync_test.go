package cli

import "testing"

// TestApprovedAnswers: only y or yes (any case, spaces around) approves a
// device on the terminal; an empty line, the end of input, or anything
// longer is no.
func TestApprovedAnswers(t *testing.T) {
	for line, want := range map[string]bool{
		"y\n": true, "yes\n": true, " Y \n": true, "YES": true, "y": true,
		"": false, "\n": false, "n\n": false, "no\n": false, "yes please\n": false, "yy\n": false, "ja\n": false,
	} {
		if got := approved(line); got != want {
			t.Errorf("approved(%q) = %v, want %v", line, got, want)
		}
	}
}
