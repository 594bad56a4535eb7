package mocksignal

import (
	"hash/fnv"
	"math/rand/v2"

	"github.com/signalscrape/signalscrape/profile"
)

// synthMaxCount bounds the counts of a synthesised profile.
const synthMaxCount = 1000

// isDonorID reports whether id looks like a PCAWG donor id: DO and digits.
func isDonorID(id string) bool {
	if len(id) < 3 || id[:2] != "DO" {
		return false
	}
	for i := 2; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

// synthProfile makes a valid profile for id whose counts depend on id alone,
// so that every request for one donor gets the same bytes.
func synthProfile(id string) []byte {
	h := fnv.New64a()
	h.Write([]byte(id))
	rng := rand.New(rand.NewPCG(h.Sum64(), 0))
	p := profile.Profile{DonorID: id}
	for i := range p.Counts {
		p.Counts[i] = rng.Int64N(synthMaxCount)
	}
	return p.Bytes()
}
