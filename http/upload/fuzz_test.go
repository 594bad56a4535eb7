package upload

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte("Donor_ID,_PATIENT\nSP1,DO1\nSP2,DO1\n"), 0)
	f.Add([]byte("DO1\r\nDO2\r\n"), 1)
	f.Add([]byte("label;id\n\"a;\nb\";DO1\n\xe9;DO2\n"), 0)
	f.Fuzz(func(t *testing.T, data []byte, maxTasks int) {
		res, err := Parse(bytes.NewReader(data), Options{MaxTasks: maxTasks, MaxBytes: 1 << 20})
		if err != nil {
			return
		}
		checkInvariants(t, res, maxTasks)
	})
}

func checkInvariants(t *testing.T, res *Result, maxTasks int) {
	if len(res.Entries) == 0 {
		t.Fatal("no entries without an error")
	}
	ids := map[string]bool{}
	for _, e := range res.Entries {
		if p := IDProblem(e.ID); p != "" {
			t.Fatalf("accepted id %q: %s", e.ID, p)
		}
		if !utf8.ValidString(e.Label) || labelProblem(e.Label) != "" {
			t.Fatalf("accepted label %q", e.Label)
		}
		ids[e.ID] = true
	}
	if len(ids) != res.Distinct || maxTasks > 0 && res.Distinct > maxTasks {
		t.Fatalf("distinct %d, entries name %d ids, max tasks %d", res.Distinct, len(ids), maxTasks)
	}
	counted := int64(res.Distinct) + res.Duplicates + res.RejectedTotal
	if counted > res.Rows || maxTasks <= 0 && counted != res.Rows {
		t.Fatalf("rows %d but distinct+duplicates+rejected %d", res.Rows, counted)
	}
}
