package api

import (
	_ "embed"
	"net/http"
)

// openAPIDocument is the OpenAPI 3 description of every route of this
// package, written by hand; a test walks the router to keep the two in step.
//
//go:embed openapi.yaml
var openAPIDocument []byte

// openAPI serves the OpenAPI description.
func (s *server) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(openAPIDocument)
}
