package mocksignal

import (
	"fmt"
	"net/http"
)

// routes returns the mux of the site's pages, everything but /sample/.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveHome)
	return mux
}

// serveHome answers the home page.
func (s *Server) serveHome(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, homePage, len(s.index.ids))
}

const homePage = `<!DOCTYPE html>
<html><head><title>SIGNAL stand-in</title></head>
<body><h1>SIGNAL stand-in</h1>
<p>%d profiles, each at /sample/{id}.csv.</p></body></html>
`
