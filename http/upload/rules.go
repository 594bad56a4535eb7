package upload

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the id and label rules.
const (
	MaxIDLen    = 64
	MaxLabelLen = 256
)

// IDProblem says why id is not a plausible donor id, or returns "" if it is.
// A donor id has 1 to MaxIDLen characters, only ASCII letters, digits, '_',
// '-' and '.', and does not start with '.' or '-'. The rule keeps anything
// that could change the meaning of an upstream URL or a file name (spaces,
// quotes, '/', '%', look-alike letters, formulas) out of the fetchers.
func IDProblem(id string) string {
	if id == "" {
		return "empty id"
	}
	if n := utf8.RuneCountInString(id); n > MaxIDLen {
		return fmt.Sprintf("id is %d characters long; a donor id has at most %d", n, MaxIDLen)
	}
	if id[0] == '.' || id[0] == '-' {
		return fmt.Sprintf("id %s starts with %q; a donor id starts with a letter, digit or _", show(id), id[0])
	}
	for _, r := range id {
		if !idRune(r) {
			return fmt.Sprintf("id %s contains %s; a donor id has only letters, digits, _, - and .", show(id), showRune(r))
		}
	}
	return ""
}

func idRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '_' || r == '-' || r == '.'
}

// labelProblem says why label cannot name a result column, or returns "".
func labelProblem(label string) string {
	if n := utf8.RuneCountInString(label); n > MaxLabelLen {
		return fmt.Sprintf("label is %d characters long; at most %d are allowed", n, MaxLabelLen)
	}
	for _, r := range label {
		if unicode.IsControl(r) {
			return fmt.Sprintf("label %s contains the control character %U", show(label), r)
		}
	}
	return ""
}

// showLen is how many characters of a cell an error message quotes.
const showLen = 40

// show quotes s for an error message, cut to showLen characters.
func show(s string) string {
	if utf8.RuneCountInString(s) <= showLen {
		return fmt.Sprintf("%q", s)
	}
	cut := []rune(s)[:showLen]
	return fmt.Sprintf("%q…", string(cut))
}

func showRune(r rune) string {
	if r < utf8.RuneSelf && unicode.IsPrint(r) {
		return fmt.Sprintf("%q", r)
	}
	return fmt.Sprintf("%q (%U)", r, r)
}

// hasDigit reports whether s contains an ASCII digit.
func hasDigit(s string) bool {
	return strings.ContainsAny(s, "0123456789")
}
