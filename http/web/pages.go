package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
)

//go:embed templates/*.html
var templateFS embed.FS

// page is one parsed page template with what its layout needs to know.
type page struct {
	tmpl   *template.Template
	title  string
	nav    string
	script string
}

// pageData is what a page template is executed with.
type pageData struct {
	Title   string
	Nav     string
	Script  string
	Version string
	WorkID  string
	Message string
	// SourceProblem is why this node cannot fetch, shown in a banner.
	SourceProblem string
}

// Names of the pages, each the name of its template file without ".html".
const (
	pageUpload  = "upload"
	pageWork    = "work"
	pageRecent  = "recent"
	pageAdmin   = "admin"
	pageMessage = "message"
)

// parsePages parses every page with the layout. The templates are embedded,
// so a parse error is a programmer's mistake and panics.
func parsePages() map[string]*page {
	pages := map[string]*page{
		pageUpload:  {title: "Upload donors", nav: pageUpload, script: "upload.js"},
		pageWork:    {title: "Work", script: "work.js"},
		pageRecent:  {title: "Recent works", nav: pageRecent, script: "recent.js"},
		pageAdmin:   {title: "Admin", nav: pageAdmin, script: "admin.js"},
		pageMessage: {},
	}
	for name, p := range pages {
		p.tmpl = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return pages
}

// render writes the page name with status.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, data pageData) {
	p := s.pages[name]
	if data.Title == "" {
		data.Title = p.title
	}
	data.Nav, data.Script, data.Version = p.nav, p.script, s.version
	if err := s.backend.SourceProblem(); err != nil {
		data.SourceProblem = err.Error()
	}
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error("rendering page failed", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// message renders a page that only says something, such as an error.
func (s *server) message(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	s.render(w, r, status, pageMessage, pageData{Title: title, Message: msg})
}

func (s *server) uploadPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, pageUpload, pageData{})
}

func (s *server) recentPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, pageRecent, pageData{})
}

func (s *server) adminPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, pageAdmin, pageData{})
}

// workPage renders a work's page once the work is known to exist, so that a
// mistyped or foreign link gets a clear answer instead of an empty page.
func (s *server) workPage(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "idwork")
	if !validWorkID(id) {
		s.message(w, r, http.StatusBadRequest, "Malformed work id", fmt.Sprintf(
			"%s is not a work id. A work id is a lowercase UUID such as 123e4567-e89b-42d3-a456-426614174000.",
			shown(id)))
		return
	}
	st, err := s.backend.Status(r.Context(), id)
	if err != nil {
		s.log.Warn("reading work status failed", "work_id", id, "err", err)
		s.message(w, r, http.StatusServiceUnavailable, "Status unavailable",
			"The status of work "+id+" could not be read just now. Please reload the page in a moment.")
		return
	}
	if !st.GetFound() {
		s.message(w, r, http.StatusNotFound, "Unknown work",
			"There is no work "+id+". Check the link, or find the work among the recent works.")
		return
	}
	s.render(w, r, http.StatusOK, pageWork, pageData{Title: "Work " + id, WorkID: id})
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.message(w, r, http.StatusNotFound, "Page not found", "There is no page at "+shown(r.URL.Path)+".")
}

func (s *server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	s.message(w, r, http.StatusMethodNotAllowed, "Method not allowed",
		"The page "+shown(r.URL.Path)+" cannot answer a "+shown(r.Method)+" request.")
}

// validWorkID reports whether id is a UUID in its lowercase canonical form,
// the only form the API gives out.
func validWorkID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}

// shownLen is how many bytes of a client's value a message repeats.
const shownLen = 64

// shown quotes a client's value for a message, cut to shownLen bytes.
func shown(v string) string {
	if len(v) > shownLen {
		return fmt.Sprintf("%q…", v[:shownLen])
	}
	return fmt.Sprintf("%q", v)
}
