package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/signalscrape/signalscrape/messages"
)

// status answers a work's status.
func (s *server) status(w http.ResponseWriter, r *http.Request) {
	st, err := s.findWork(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.statusBody(st))
}

// statusBody is the status JSON with the answering node's source.
func (s *server) statusBody(st *messages.WorkStatus) StatusJSON {
	body := StatusBody(st)
	body.Source = SourceBody(s.backend)
	return body
}

// cancel stops a work; cancelling a finished work is a conflict.
func (s *server) cancel(w http.ResponseWriter, r *http.Request) {
	id, err := workID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.backend.Cancel(r.Context(), id)
	switch {
	case err != nil:
		s.fail(w, r, fmt.Errorf("cancelling work %s: %w", id, err))
	case !st.GetFound():
		s.fail(w, r, errorf(http.StatusNotFound, "no work %s", id))
	case st.GetRetry():
		w.Header().Set("Retry-After", "5")
		s.fail(w, r, errorf(http.StatusServiceUnavailable, "%s", st.GetError()))
	case st.GetError() != "":
		s.fail(w, r, errorf(http.StatusConflict, "%s", st.GetError()))
	default:
		writeJSON(w, http.StatusOK, s.statusBody(st))
	}
}

// attachment sets the headers of a file download. name is generated, never
// taken from the client.
func attachment(w http.ResponseWriter, contentType, name string, size int) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Content-Length", strconv.Itoa(size))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}

// evidence serves the file kept for the n-th failed id of a status's errors.
func (s *server) evidence(w http.ResponseWriter, r *http.Request) {
	s.serveEvidence(w, r, (*messages.TaskError).GetEvidenceBlob)
}

// evidenceHTML serves the HTML of the page the n-th failed id failed on.
func (s *server) evidenceHTML(w http.ResponseWriter, r *http.Request) {
	s.serveEvidence(w, r, (*messages.TaskError).GetEvidenceHtmlBlob)
}

// serveEvidence serves the blob that key picks from the n-th failed id, as
// a sandboxed attachment, so that a kept page never runs in the UI's origin.
func (s *server) serveEvidence(w http.ResponseWriter, r *http.Request, key func(*messages.TaskError) string) {
	st, err := s.findWork(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	param := chi.URLParam(r, "n")
	n, err := strconv.Atoi(param)
	if err != nil || n < 0 || n >= len(st.GetErrors()) || key(st.GetErrors()[n]) == "" {
		s.fail(w, r, errorf(http.StatusNotFound, "no evidence %s for work %s", shown(param), st.GetIdwork()))
		return
	}
	data, contentType, err := s.backend.Store().Blob(r.Context(), key(st.GetErrors()[n]))
	if err != nil {
		s.fail(w, r, fmt.Errorf("reading evidence of work %s: %w", st.GetIdwork(), err))
		return
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	name := fmt.Sprintf("evidence-%s-%d%s", st.GetIdwork(), n, extension(contentType))
	attachment(w, contentType, name, len(data))
	w.Header().Set("Content-Security-Policy", "sandbox")
	_, _ = w.Write(data)
}

// extension names the file type of an evidence file.
func extension(contentType string) string {
	switch {
	case strings.HasPrefix(contentType, "image/png"):
		return ".png"
	case strings.HasPrefix(contentType, "text/html"):
		return ".html"
	case strings.HasPrefix(contentType, "text/"):
		return ".txt"
	}
	return ".bin"
}

// Bounds of GET /works.
const (
	defaultWorksLimit = 50
	maxWorksLimit     = 500
)

type workSummaryJSON struct {
	IDWork    string `json:"idwork"`
	Status    string `json:"status"`
	Total     int64  `json:"total"`
	Filename  string `json:"filename"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

type worksJSON struct {
	Works []workSummaryJSON `json:"works"`
}

// works lists works, newest first.
func (s *server) works(w http.ResponseWriter, r *http.Request) {
	limit, offset, err := pageParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.backend.Store().ListWorks(r.Context(), limit, offset)
	if err != nil {
		s.fail(w, r, fmt.Errorf("listing works: %w", err))
		return
	}
	body := worksJSON{Works: make([]workSummaryJSON, len(list))}
	for i, ws := range list {
		body.Works[i] = workSummaryJSON{
			IDWork: ws.ID, Status: ws.Status, Total: ws.Total, Filename: ws.Filename,
			CreatedAt: ws.CreatedAt.UTC().Format(timeFormat), UpdatedAt: ws.UpdatedAt.UTC().Format(timeFormat),
		}
	}
	writeJSON(w, http.StatusOK, body)
}

func pageParams(r *http.Request) (limit, offset int, err error) {
	limit, err = intParam(r, "limit", defaultWorksLimit, 1, maxWorksLimit)
	if err != nil {
		return 0, 0, err
	}
	offset, err = intParam(r, "offset", 0, 0, 1<<30)
	return limit, offset, err
}

// intParam reads a query parameter that must be an integer in [lo, hi].
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, errorf(http.StatusBadRequest, "%s must be a whole number from %d to %d, not %s", name, lo, hi, shown(v))
	}
	return n, nil
}
