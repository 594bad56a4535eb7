package api

import (
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/signalscrape/signalscrape/messages"
)

// StatusJSON is the body of GET /status/{idwork} and POST /cancel/{idwork},
// and of the web UI's status events.
type StatusJSON struct {
	IDWork           string          `json:"idwork"`
	Status           string          `json:"status"`
	Total            int64           `json:"total"`
	Counts           CountsJSON      `json:"counts"`
	Percent          float64         `json:"percent"`
	FromCache        int64           `json:"from_cache"`
	Errors           []TaskErrorJSON `json:"errors"`
	ETASeconds       float64         `json:"eta_seconds"`
	CreatedAt        string          `json:"created_at"`
	UpdatedAt        string          `json:"updated_at"`
	DownloadURL      string          `json:"download_url,omitempty"`
	Member           string          `json:"member,omitempty"`
	UpstreamRequests int64           `json:"upstream_requests"`
	Source           *SourceJSON     `json:"source,omitempty"`
	// Problem is a store failure that holds the work back until a retry
	// succeeds.
	Problem string `json:"problem,omitempty"`
}

// SourceJSON is the upstream source of the node that answered: whether it
// can fetch, and if not, why and what to do.
type SourceJSON struct {
	Name      string `json:"name"`
	Available bool   `json:"available"`
	Problem   string `json:"problem,omitempty"`
}

// SourceBody describes b's upstream source.
func SourceBody(b Backend) *SourceJSON {
	src := &SourceJSON{Name: b.SourceKey(), Available: true}
	if err := b.SourceProblem(); err != nil {
		src.Available, src.Problem = false, err.Error()
	}
	return src
}

// CountsJSON is a work's tasks by state.
type CountsJSON struct {
	Pending   int64 `json:"pending"`
	Running   int64 `json:"running"`
	Completed int64 `json:"completed"`
	Failed    int64 `json:"failed"`
	Cancelled int64 `json:"cancelled"`
}

// TaskErrorJSON is one failed id of a work.
type TaskErrorJSON struct {
	ID          string `json:"id"`
	Label       string `json:"label"`
	Error       string `json:"error"`
	Attempts    int32  `json:"attempts"`
	EvidenceURL string `json:"evidence_url,omitempty"`
	// EvidenceHTMLURL is the HTML of the page a browser step failed on.
	EvidenceHTMLURL string `json:"evidence_html_url,omitempty"`
}

// StatusBody converts a work's status message to its JSON body.
func StatusBody(st *messages.WorkStatus) StatusJSON {
	c := st.GetCounts()
	body := StatusJSON{
		IDWork: st.GetIdwork(),
		Status: st.GetStatus(),
		Total:  st.GetTotal(),
		Counts: CountsJSON{
			Pending: c.GetPending(), Running: c.GetRunning(), Completed: c.GetCompleted(),
			Failed: c.GetFailed(), Cancelled: c.GetCancelled(),
		},
		Percent:          finite(st.GetPercent()),
		FromCache:        st.GetFromCache(),
		Errors:           make([]TaskErrorJSON, len(st.GetErrors())),
		ETASeconds:       finite(st.GetEtaSeconds()),
		CreatedAt:        timestamp(st.GetCreatedAtUnixMs()),
		UpdatedAt:        timestamp(st.GetUpdatedAtUnixMs()),
		Member:           st.GetMember(),
		UpstreamRequests: st.GetUpstreamRequests(),
		Problem:          st.GetProblem(),
	}
	if st.GetResultBlob() != "" {
		body.DownloadURL = "/download/" + st.GetIdwork()
	}
	for i, e := range st.GetErrors() {
		body.Errors[i] = TaskErrorJSON{
			ID: e.GetId(), Label: e.GetLabel(), Error: e.GetError(), Attempts: e.GetAttempts(),
		}
		if e.GetEvidenceBlob() != "" {
			body.Errors[i].EvidenceURL = fmt.Sprintf("/evidence/%s/%d", st.GetIdwork(), i)
		}
		if e.GetEvidenceHtmlBlob() != "" {
			body.Errors[i].EvidenceHTMLURL = fmt.Sprintf("/evidence/%s/%d/html", st.GetIdwork(), i)
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

// timeFormat is how the API writes times.
const timeFormat = time.RFC3339

func timestamp(unixMS int64) string {
	return time.UnixMilli(unixMS).UTC().Format(timeFormat)
}

// workID returns the {idwork} of the path if it is a UUID in its lowercase
// canonical form.
func workID(r *http.Request) (string, error) {
	id := chi.URLParam(r, "idwork")
	if u, err := uuid.Parse(id); err != nil || u.String() != id {
		return "", errorf(http.StatusBadRequest,
			"malformed work id %s: expected a lowercase UUID like 123e4567-e89b-42d3-a456-426614174000", shown(id))
	}
	return id, nil
}

// shownLen is how many bytes of a client's value an error message repeats.
const shownLen = 64

// shown quotes a client's value for an error message, cut to shownLen bytes.
func shown(s string) string {
	if len(s) > shownLen {
		return fmt.Sprintf("%q…", s[:shownLen])
	}
	return fmt.Sprintf("%q", s)
}

// findWork validates the path's work id and asks for the work's status; an
// unknown work is a 404.
func (s *server) findWork(r *http.Request) (*messages.WorkStatus, error) {
	id, err := workID(r)
	if err != nil {
		return nil, err
	}
	st, err := s.backend.Status(r.Context(), id)
	if err != nil {
		return nil, fmt.Errorf("reading status of work %s: %w", id, err)
	}
	if !st.GetFound() {
		return nil, errorf(http.StatusNotFound, "no work %s", id)
	}
	return st, nil
}
