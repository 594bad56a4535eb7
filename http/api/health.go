package api

import (
	"net/http"
)

// healthz answers while the process serves HTTP.
func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// readyBody is the body of a 200 answer to GET /readyz.
type readyBody struct {
	Status  string `json:"status"`
	Version string `json:"version,omitempty"`
}

// readyz answers 200 when the node can take work, else 503 with the reason.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.backend.Ready(r.Context()); err != nil {
		s.log.Debug("not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "not ready: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, readyBody{Status: "ready", Version: s.version})
}
