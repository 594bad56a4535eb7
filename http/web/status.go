package web

import (
	"fmt"
	"math"
	"time"

	"github.com/signalscrape/signalscrape/messages"
)

// statusJSON is a work's status as the events stream pushes it: the same
// object as GET /status/{idwork} of the JSON API answers.
type statusJSON struct {
	IDWork           string          `json:"idwork"`
	Status           string          `json:"status"`
	Total            int64           `json:"total"`
	Counts           countsJSON      `json:"counts"`
	Percent          float64         `json:"percent"`
	FromCache        int64           `json:"from_cache"`
	Errors           []taskErrorJSON `json:"errors"`
	ETASeconds       float64         `json:"eta_seconds"`
	CreatedAt        string          `json:"created_at"`
	UpdatedAt        string          `json:"updated_at"`
	DownloadURL      string          `json:"download_url,omitempty"`
	Member           string          `json:"member,omitempty"`
	UpstreamRequests int64           `json:"upstream_requests"`
}

type countsJSON struct {
	Pending   int64 `json:"pending"`
	Running   int64 `json:"running"`
	Completed int64 `json:"completed"`
	Failed    int64 `json:"failed"`
	Cancelled int64 `json:"cancelled"`
}

type taskErrorJSON struct {
	ID          string `json:"id"`
	Label       string `json:"label"`
	Error       string `json:"error"`
	Attempts    int32  `json:"attempts"`
	EvidenceURL string `json:"evidence_url,omitempty"`
}

func statusBody(st *messages.WorkStatus) statusJSON {
	c := st.GetCounts()
	body := statusJSON{
		IDWork: st.GetIdwork(),
		Status: st.GetStatus(),
		Total:  st.GetTotal(),
		Counts: countsJSON{
			Pending: c.GetPending(), Running: c.GetRunning(), Completed: c.GetCompleted(),
			Failed: c.GetFailed(), Cancelled: c.GetCancelled(),
		},
		Percent:          finite(st.GetPercent()),
		FromCache:        st.GetFromCache(),
		Errors:           make([]taskErrorJSON, len(st.GetErrors())),
		ETASeconds:       finite(st.GetEtaSeconds()),
		CreatedAt:        timestamp(st.GetCreatedAtUnixMs()),
		UpdatedAt:        timestamp(st.GetUpdatedAtUnixMs()),
		Member:           st.GetMember(),
		UpstreamRequests: st.GetUpstreamRequests(),
	}
	if st.GetResultBlob() != "" {
		body.DownloadURL = "/download/" + st.GetIdwork()
	}
	for i, e := range st.GetErrors() {
		body.Errors[i] = taskErrorJSON{ID: e.GetId(), Label: e.GetLabel(), Error: e.GetError(), Attempts: e.GetAttempts()}
		if e.GetEvidenceBlob() != "" {
			body.Errors[i].EvidenceURL = fmt.Sprintf("/evidence/%s/%d", st.GetIdwork(), i)
		}
	}
	return body
}

// finite replaces NaN and infinities, which JSON cannot hold, by zero.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

func timestamp(unixMS int64) string {
	return time.UnixMilli(unixMS).UTC().Format(time.RFC3339)
}
