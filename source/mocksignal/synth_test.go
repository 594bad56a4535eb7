package mocksignal

import (
	"net/http"
	"testing"

	"github.com/signalscrape/signalscrape/profile"
	"github.com/signalscrape/signalscrape/profile/fixtures"
)

func TestSynthesizeServesValidProfilesOfUnknownDonors(t *testing.T) {
	s := newServer(t, Config{Synthesize: true})
	first := get(t, s.Handler(), "/sample/DO9999999.csv")
	if first.status != http.StatusOK {
		t.Fatalf("status %d, want 200", first.status)
	}
	p, err := profile.Parse([]byte(first.body), "DO9999999")
	if err != nil {
		t.Fatalf("synthesised profile does not validate as DO9999999: %v", err)
	}
	if p.DonorID != "DO9999999" {
		t.Errorf("header names %q", p.DonorID)
	}
	if again := get(t, s.Handler(), "/sample/DO9999999.csv"); again.body != first.body {
		t.Error("two requests for one donor got different profiles")
	}
	if other := get(t, s.Handler(), "/sample/DO9999998.csv"); other.body == first.body {
		t.Error("two donors got the same bytes")
	}
}

func TestSynthesizeKeepsFilesAndRefusesOtherIDs(t *testing.T) {
	s := newServer(t, Config{Synthesize: true})
	if got := get(t, s.Handler(), "/sample/DO1000.csv"); got.body != readProfile(t, fixtures.ProfilesDir(t), "DO1000") {
		t.Error("DO1000: the fixture file was not served as it is")
	}
	for _, id := range []string{"SP1000", "DO", "DO12a", "do1000"} {
		if got := get(t, s.Handler(), "/sample/"+id+".csv"); got.status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", id, got.status)
		}
	}
}

func TestWithoutSynthesizeUnknownDonorsAreNotFound(t *testing.T) {
	s := newServer(t, Config{})
	if got := get(t, s.Handler(), "/sample/DO9999999.csv"); got.status != http.StatusNotFound {
		t.Errorf("status %d, want 404", got.status)
	}
}
