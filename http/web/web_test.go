package web

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// get serves one GET request with h.
func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func newTestHandler(t *testing.T) (http.Handler, *fakeBackend) {
	t.Helper()
	b := newFakeBackend(time.Hour)
	return New(Config{Backend: b, Version: "v1.2.3"}), b
}

func TestPagesAnswerWithTheirTitle(t *testing.T) {
	h, b := newTestHandler(t)
	work := b.addWork(3, time.Hour)
	for _, tc := range []struct {
		path, title, script string
	}{
		{"/", "Upload donors · signalscrape", "/static/upload.js"},
		{"/works/" + work, "Work " + work + " · signalscrape", "/static/work.js"},
		{"/recent", "Recent works · signalscrape", "/static/recent.js"},
		{"/admin", "Admin · signalscrape", "/static/admin.js"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := get(t, h, tc.path)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, want 200", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			body := rec.Body.String()
			for _, want := range []string{
				"<title>" + tc.title + "</title>",
				`<html lang="en">`,
				`<meta name="viewport" content="width=device-width, initial-scale=1">`,
				`<script type="module" src="` + tc.script + `"></script>`,
				"v1.2.3",
			} {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %s", want)
				}
			}
		})
	}
}

func TestWorkPageCarriesTheWorkID(t *testing.T) {
	h, b := newTestHandler(t)
	work := b.addWork(2, time.Hour)
	body := get(t, h, "/works/"+work).Body.String()
	if !strings.Contains(body, `data-idwork="`+work+`"`) {
		t.Errorf("work page lacks data-idwork=%q", work)
	}
}

func TestWorkPageUnknownOrMalformed(t *testing.T) {
	h, _ := newTestHandler(t)
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/works/123e4567-e89b-42d3-a456-426614174000", http.StatusNotFound, "There is no work 123e4567-e89b-42d3-a456-426614174000"},
		{"/works/123E4567-E89B-42D3-A456-426614174000", http.StatusBadRequest, "is not a work id"},
		{"/works/%3Cscript%3Ealert(1)%3C%2Fscript%3E", http.StatusBadRequest, "is not a work id"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := get(t, h, tc.path)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			body := rec.Body.String()
			if !strings.Contains(body, tc.want) {
				t.Errorf("body lacks %q:\n%s", tc.want, body)
			}
			if strings.Contains(body, "<script>") {
				t.Errorf("body holds an unescaped <script>:\n%s", body)
			}
		})
	}
}

func TestWorkPageWhenStatusFails(t *testing.T) {
	h, b := newTestHandler(t)
	work := b.addWork(2, time.Hour)
	b.statusErr = errors.New("actor timed out")
	rec := get(t, h, "/works/"+work)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), "could not be read") {
		t.Errorf("body does not say the status could not be read:\n%s", rec.Body.String())
	}
}

func TestUnknownPathIsAnHTMLPage(t *testing.T) {
	h, _ := newTestHandler(t)
	rec := get(t, h, "/nowhere")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d, want 404", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), "<title>Page not found · signalscrape</title>") {
		t.Errorf("404 page lacks its title:\n%s", rec.Body.String())
	}
}

func TestContentSecurityPolicyOnEveryAnswer(t *testing.T) {
	h, b := newTestHandler(t)
	work := b.addWork(1, time.Hour)
	b.finishNow(work)
	for _, path := range []string{
		"/", "/recent", "/admin", "/works/" + work, "/works/" + work + "/events",
		"/works/not-a-uuid", "/static/style.css", "/static/missing.css", "/nowhere",
	} {
		rec := get(t, h, path)
		csp := rec.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s: Content-Security-Policy %q lacks default-src 'self'", path, csp)
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "http") {
			t.Errorf("%s: Content-Security-Policy %q allows more than the origin", path, csp)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no X-Content-Type-Options: nosniff", path)
		}
	}
}

// inlineCode finds what the policy would block: inline scripts, style
// attributes, <style> elements and event handler attributes.
var inlineCode = regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]|<script>|\sstyle=|<style|\son[a-z]+=`)

func TestPagesHoldNoInlineCode(t *testing.T) {
	h, b := newTestHandler(t)
	work := b.addWork(1, time.Hour)
	for _, path := range []string{"/", "/recent", "/admin", "/works/" + work, "/nowhere"} {
		if m := inlineCode.FindString(get(t, h, path).Body.String()); m != "" {
			t.Errorf("%s holds inline code the policy would block: %q", path, m)
		}
	}
}

func TestStaticAssets(t *testing.T) {
	h, _ := newTestHandler(t)
	for _, tc := range []struct{ path, contentType, want string }{
		{"/static/style.css", "text/css; charset=utf-8", ":focus-visible"},
		{"/static/common.js", "text/javascript; charset=utf-8", "export function"},
		{"/static/upload.js", "text/javascript; charset=utf-8", "/upload"},
		{"/static/work.js", "text/javascript; charset=utf-8", "EventSource"},
		{"/static/favicon.svg", "image/svg+xml", "<svg"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := get(t, h, tc.path)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, want 200", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != tc.contentType {
				t.Errorf("Content-Type %q, want %q", ct, tc.contentType)
			}
			if !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("body lacks %q", tc.want)
			}
			etag := rec.Header().Get("ETag")
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			req.Header.Set("If-None-Match", etag)
			again := httptest.NewRecorder()
			h.ServeHTTP(again, req)
			if etag == "" || again.Code != http.StatusNotModified {
				t.Errorf("revalidating with ETag %q gave %d, want 304", etag, again.Code)
			}
		})
	}
}

func TestStaticRefusesUnknownNames(t *testing.T) {
	h, _ := newTestHandler(t)
	for _, path := range []string{"/static/missing.js", "/static/../web.go", "/static/", "/static/static/style.css"} {
		if rec := get(t, h, path); rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, rec.Code)
		}
	}
}

// moduleImport finds the modules a script imports.
var moduleImport = regexp.MustCompile(`from '\./([a-z]+\.js)'`)

func TestScriptsFindTheirModules(t *testing.T) {
	h, _ := newTestHandler(t)
	for name := range newServer(Config{Backend: newFakeBackend(time.Hour)}).assets {
		if !strings.HasSuffix(name, ".js") {
			continue
		}
		body := get(t, h, "/static/"+name).Body.String()
		for _, m := range moduleImport.FindAllStringSubmatch(body, -1) {
			if rec := get(t, h, "/static/"+m[1]); rec.Code != http.StatusOK {
				t.Errorf("%s imports %s, which answers %d", name, m[1], rec.Code)
			}
		}
	}
}

func TestNewPanicsWithoutBackend(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New with a nil Backend did not panic")
		}
	}()
	New(Config{})
}
