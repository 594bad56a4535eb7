package mocksignal

import (
	"net/http"
)

// routes returns the mux of the site's pages, everything but /sample/.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	site := newSite(s)
	mux.HandleFunc("GET /{$}", site.serveHome)
	mux.HandleFunc("GET /api/search", site.serveSearch)
	mux.HandleFunc("GET /explore/cancerSample/{id}", site.serveCancerSample)
	return mux
}
