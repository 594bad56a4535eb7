package profile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signalscrape/signalscrape/profile/fixtures"
)

func TestChannels(t *testing.T) {
	seen := map[string]bool{}
	for _, ch := range Channels {
		if seen[ch] {
			t.Fatalf("channel %s listed twice", ch)
		}
		seen[ch] = true
	}
	checks := map[int]string{0: "A[C>A]A", 1: "A[C>A]C", 4: "C[C>A]A", 15: "T[C>A]T", 16: "A[C>G]A", 95: "T[T>G]T"}
	for i, want := range checks {
		if Channels[i] != want {
			t.Errorf("Channels[%d] = %s, want %s", i, Channels[i], want)
		}
	}
}

func TestParseEveryFixture(t *testing.T) {
	dir := fixtures.ProfilesDir(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 708 {
		t.Fatalf("found %d fixture profiles, want 708", len(entries))
	}
	for _, e := range entries {
		body, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		id := strings.TrimSuffix(e.Name(), ".csv")
		p, err := Parse(body, id)
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		if !bytes.Equal(p.Bytes(), body) {
			t.Errorf("%s: Bytes() differs from the file", e.Name())
		}
	}
}

func TestParseStaleFixtures(t *testing.T) {
	dir := fixtures.Path(t, "stale")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("no stale fixtures")
	}
	for _, e := range entries {
		body, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		id := strings.TrimSuffix(e.Name(), ".csv")
		_, err = Parse(body, id)
		if !errors.Is(err, ErrWrongDonor) {
			t.Errorf("%s: err = %v, want ErrWrongDonor", e.Name(), err)
			continue
		}
		want := "header names donor DO1000, not " + id
		if err.Error() != want {
			t.Errorf("%s: err = %q, want %q", e.Name(), err, want)
		}
		var wrong *WrongDonorError
		if !errors.As(err, &wrong) || wrong.Got != "DO1000" || wrong.Want != id {
			t.Errorf("%s: err = %#v, want WrongDonorError{DO1000, %s}", e.Name(), err, id)
		}
	}
}

// validBody is a well-formed profile of DO1 with count i on channel i.
func validBody() string {
	p := Profile{DonorID: "DO1"}
	for i := range p.Counts {
		p.Counts[i] = int64(i)
	}
	return string(p.Bytes())
}

func TestParseTolerates(t *testing.T) {
	body := validBody()
	cases := map[string]string{
		"as is":            body,
		"trailing newline": body + "\n",
		"CRLF":             strings.ReplaceAll(body, "\n", "\r\n"),
		"CRLF trailing":    strings.ReplaceAll(body, "\n", "\r\n") + "\r\n",
		"BOM":              bom + body,
		"BOM CRLF":         bom + strings.ReplaceAll(body, "\n", "\r\n") + "\r\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := Parse([]byte(in), "DO1")
			if err != nil {
				t.Fatal(err)
			}
			if p.DonorID != "DO1" || p.Counts[0] != 0 || p.Counts[95] != 95 || p.Counts[42] != 42 {
				t.Fatalf("parsed %+v", p)
			}
		})
	}
}

func replaceLine(body string, n int, with string) string {
	lines := strings.Split(body, "\n")
	lines[n-1] = with
	return strings.Join(lines, "\n")
}

func TestParseRejects(t *testing.T) {
	body := validBody()
	lines := strings.Split(body, "\n")
	cases := []struct {
		name, body, want string
	}{
		{"empty", "", "empty body"},
		{"blank", " \n\r\n", "empty body"},
		{"only BOM", bom, "empty body"},
		{"HTML", "<!DOCTYPE html><html><body>Loading</body></html>", "looks like HTML, not a profile"},
		{"HTML after space", "\n  <html></html>", "looks like HTML, not a profile"},
		{"other donor", strings.Replace(body, "DO1_", "DO2_", 1), "header names donor DO2, not DO1"},
		{"header unquoted", replaceLine(body, 1, "substitution,DO1_Single-base Substitution"),
			`line 1: header "substitution,DO1_Single-base Substitution" is not substitution,"<donor id>_Single-base Substitution"`},
		{"header only", lines[0], "missing channels: got 0 of 96"},
		{"truncated", strings.Join(lines[:91], "\n"), "missing channels: got 90 of 96"},
		{"truncated trailing newline", strings.Join(lines[:91], "\n") + "\n", "missing channels: got 90 of 96"},
		{"cut in a channel", strings.Join(lines[:96], "\n") + "\nT[T>", `line 97: "T[T>" is not <channel>,<count>`},
		{"cut after comma", strings.Join(lines[:96], "\n") + "\nT[T>G]T,", `line 97: count "" is not a non-negative integer`},
		{"duplicated channel", replaceLine(body, 4, "A[C>A]A,2"), "line 4: channel A[C>A]A duplicated"},
		{"out of order", replaceLine(body, 4, "A[C>A]T,2"), "line 4: channel A[C>A]T out of order, expected A[C>A]G"},
		{"unknown channel", replaceLine(body, 4, "A[C>C]G,2"), `line 4: unknown channel "A[C>C]G"`},
		{"negative", replaceLine(body, 7, "C[C>A]C,-5"), `line 7: count "-5" is not a non-negative integer`},
		{"plus sign", replaceLine(body, 7, "C[C>A]C,+5"), `line 7: count "+5" is not a non-negative integer`},
		{"letters", replaceLine(body, 7, "C[C>A]C,x"), `line 7: count "x" is not a non-negative integer`},
		{"decimal", replaceLine(body, 7, "C[C>A]C,5.0"), `line 7: count "5.0" is not a non-negative integer`},
		{"space", replaceLine(body, 7, "C[C>A]C, 5"), `line 7: count " 5" is not a non-negative integer`},
		{"extra column", replaceLine(body, 7, "C[C>A]C,5,6"), `line 7: count "5,6" is not a non-negative integer`},
		{"overflow", replaceLine(body, 7, "C[C>A]C,99999999999999999999"), `line 7: count "99999999999999999999" is too large`},
		{"empty line", replaceLine(body, 7, ""), "line 7: empty line"},
		{"extra line", body + "\nX,1", `line 98: unexpected "X,1" after the 96 channels`},
		{"two trailing newlines", body + "\n\n", `line 98: unexpected "" after the 96 channels`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse([]byte(c.body), "DO1")
			if err == nil {
				t.Fatalf("accepted %+v", p)
			}
			if err.Error() != c.want {
				t.Fatalf("err = %q, want %q", err, c.want)
			}
			if wrong := errors.Is(err, ErrWrongDonor); wrong != (c.name == "other donor") {
				t.Fatalf("errors.Is(err, ErrWrongDonor) = %v", wrong)
			}
		})
	}
}

func TestParseEmptyDonorID(t *testing.T) {
	body := strings.Replace(validBody(), "DO1_", "_", 1)
	if _, err := Parse([]byte(body), ""); err == nil {
		t.Fatal("accepted an empty donor id")
	}
}

func BenchmarkParse(b *testing.B) {
	body := fixtures.Profile(b, "DO1000")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(body, "DO1000"); err != nil {
			b.Fatal(err)
		}
	}
}
