package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"go.yaml.in/yaml/v3"
)

// openAPIDoc is the part of the OpenAPI document the tests read.
type openAPIDoc struct {
	OpenAPI string                    `yaml:"openapi"`
	Paths   map[string]map[string]any `yaml:"paths"`
}

func readOpenAPI(t *testing.T, data []byte) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parsing openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi: %q, want 3.x", doc.OpenAPI)
	}
	return doc
}

// TestOpenAPIMatchesRouter walks the real router: every route must be
// described with its method, and every described operation must be routed.
func TestOpenAPIMatchesRouter(t *testing.T) {
	rec := send(newHandler(newFakeBackend(), Config{}), http.MethodGet, "/openapi.yaml", nil, "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Type"), "yaml") {
		t.Fatalf("GET /openapi.yaml: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	doc := readOpenAPI(t, rec.Body.Bytes())

	var described []string
	for path, ops := range doc.Paths {
		for method := range ops {
			described = append(described, strings.ToUpper(method)+" "+path)
		}
	}
	var routed []string
	s := &server{backend: newFakeBackend(), metrics: http.NotFoundHandler()}
	err := chi.Walk(s.routes().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		// A catch-all (the plot routes, whose labels may hold '/') is
		// described as one {file} parameter.
		if base, ok := strings.CutSuffix(route, "/*"); ok {
			route = base + "/{file}"
		}
		routed = append(routed, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatalf("walking the router: %v", err)
	}
	slices.Sort(described)
	slices.Sort(routed)
	if len(routed) < 10 {
		t.Fatalf("the walk found only %v", routed)
	}
	for _, r := range routed {
		if !slices.Contains(described, r) {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for _, d := range described {
		if !slices.Contains(routed, d) {
			t.Errorf("openapi.yaml describes %s, which the router does not serve", d)
		}
	}
}

// TestOpenAPIRefsResolve checks that every $ref names a component that
// exists.
func TestOpenAPIRefsResolve(t *testing.T) {
	var root map[string]any
	if err := yaml.Unmarshal(openAPIDocument, &root); err != nil {
		t.Fatalf("parsing openapi.yaml: %v", err)
	}
	refs := 0
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if ref, ok := x.(string); ok && k == "$ref" {
					refs++
					if !resolves(root, ref) {
						t.Errorf("$ref %s does not resolve", ref)
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(root)
	if refs == 0 {
		t.Fatal("no $ref found: the walk is broken")
	}
}

func resolves(root map[string]any, ref string) bool {
	var node any = root
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := node.(map[string]any)
		if !ok {
			return false
		}
		if node, ok = m[part]; !ok {
			return false
		}
	}
	return true
}
