package mocksignal

import (
	"net/http"
	"strings"
	"testing"

	"github.com/signalscrape/signalscrape/profile/fixtures"
)

// TestMissingDonors checks that the site does not know the donors of
// Missing although a file exists: the search leaves them out, their page and
// their profile answer 404, Synthesize makes none up, and the other donors
// are served as before.
func TestMissingDonors(t *testing.T) {
	s := newServer(t, Config{Missing: []string{"DO1005", "DO9999999"}, Synthesize: true})
	h := s.Handler()
	if ids := search(t, h, "DO1005"); len(ids) != 0 {
		t.Errorf("search DO1005 = %v, want none", ids)
	}
	for _, target := range []string{"/explore/cancerSample/DO1005", "/sample/DO1005.csv", "/sample/DO9999999.csv"} {
		if got := get(t, h, target); got.status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", target, got.status)
		}
	}

	if ids := search(t, h, "DO1000"); len(ids) != 1 || ids[0] != "DO1000" {
		t.Errorf("search DO1000 = %v", ids)
	}
	if got := get(t, h, "/explore/cancerSample/DO1000"); got.status != http.StatusOK || !strings.Contains(got.body, "Download as CSV") {
		t.Errorf("page of DO1000: status %d", got.status)
	}
	want := readProfile(t, fixtures.ProfilesDir(t), "DO1000")
	if got := get(t, h, "/sample/DO1000.csv"); got.status != http.StatusOK || got.body != want {
		t.Errorf("profile of DO1000: status %d, %d bytes", got.status, len(got.body))
	}
	if got := get(t, h, "/sample/DO9999998.csv"); got.status != http.StatusOK {
		t.Errorf("a synthesized donor not in Missing: status %d", got.status)
	}
}

func TestMissingRejectsBadIDs(t *testing.T) {
	for _, id := range []string{"", "../DO1000", ".hidden", "DO 1"} {
		cfg := Config{ProfilesDir: "profiles", Missing: []string{"DO1000", id}}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "missing donor") {
			t.Errorf("missing %q: Validate said %v", id, err)
		}
	}
}
