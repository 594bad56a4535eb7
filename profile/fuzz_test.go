package profile

import (
	"bytes"
	"testing"
)

// FuzzParse checks that Parse never panics and that an accepted profile
// serialises to a body Parse accepts again as the same profile.
func FuzzParse(f *testing.F) {
	f.Add([]byte(validBody()), "DO1")
	f.Fuzz(func(t *testing.T, body []byte, donorID string) {
		p, err := Parse(body, donorID)
		if err != nil {
			if p != nil {
				t.Fatalf("returned a profile with error %v", err)
			}
			return
		}
		if p.DonorID != donorID {
			t.Fatalf("DonorID %q, want %q", p.DonorID, donorID)
		}
		out := p.Bytes()
		again, err := Parse(out, donorID)
		if err != nil {
			t.Fatalf("Parse rejects its own serialisation: %v", err)
		}
		if *again != *p {
			t.Fatalf("profile changed through Bytes: %+v != %+v", again, p)
		}
		if !bytes.Equal(again.Bytes(), out) {
			t.Fatal("Bytes is not stable")
		}
	})
}
