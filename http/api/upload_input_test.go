package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestUploadAwkwardFiles sends files as spreadsheets write them through the
// whole handler: each is accepted with the right ids and labels, a bad row
// is rejected with its row number while the others are kept, and the
// original is stored byte for byte.
func TestUploadAwkwardFiles(t *testing.T) {
	cases := []struct {
		name, in string
		entries  string
		rejected []string // "row: words of the reason"
	}{
		{"Latin-1", "label;id\nTumeur \xe9t\xe9;DO1\n", "[Tumeur été DO1]", nil},
		{"UTF-8 with BOM", "\xef\xbb\xbfDonor_ID,_PATIENT\nSP1,DO1\n", "[SP1 DO1]", nil},
		{"CRLF", "Donor_ID,_PATIENT\r\nSP1,DO1\r\nSP2,DO2\r\n", "[SP1 DO1] [SP2 DO2]", nil},
		{"semicolons", "Donor_ID;_PATIENT\nSP1;DO1\n", "[SP1 DO1]", nil},
		{"tabs", "Donor_ID\t_PATIENT\nSP1\tDO1\n", "[SP1 DO1]", nil},
		{"quoted commas and newlines", "label,id\n\"left, upper\",DO1\n\"two\nlines\",DO2\nB,DO3\n",
			"[left, upper DO1] [B DO3]", []string{"3: control character U+000A"}},
		{"uneven rows", "label,id,note\nA,DO1\nB\nC,DO3,x,y\n", "[A DO1] [C DO3]", []string{"3: row has 1 cells"}},
		{"hostile ids", "label,id\nA,DO1\nB,DO 2\nC,\"DO\"\"3\"\nD,../x\nE,%2F\nF,DO\u04306\nG,=SUM(A1)\nH," + strings.Repeat("9", 10240) + "\n",
			"[A DO1]", []string{"3: contains ' '", "4: contains '\"'", "5: starts with '.'", "6: contains '%'", "7: U+0430", "8: contains '='", "9: 10240 characters"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fb := newFakeBackend()
			got := decode[uploadAnswer](t, postForm(t, newHandler(fb, Config{}), "/upload", part{"file", "a.csv", c.in}), http.StatusAccepted)
			var entries []string
			for _, e := range fb.created[0].Entries {
				entries = append(entries, fmt.Sprintf("[%s %s]", e.Label, e.Id))
			}
			if strings.Join(entries, " ") != c.entries {
				t.Errorf("entries %s; want %s", strings.Join(entries, " "), c.entries)
			}
			if len(got.Rejected) != len(c.rejected) {
				t.Fatalf("rejected %+v; want %d rows", got.Rejected, len(c.rejected))
			}
			for i, want := range c.rejected {
				row, words, _ := strings.Cut(want, ": ")
				if fmt.Sprint(got.Rejected[i].Row) != row || !strings.Contains(got.Rejected[i].Error, words) {
					t.Errorf("rejection %d: %+v; want row %s and %q", i, got.Rejected[i], row, words)
				}
			}
			if string(fb.originals[0]) != c.in {
				t.Error("the stored original differs from the upload")
			}
		})
	}
}
