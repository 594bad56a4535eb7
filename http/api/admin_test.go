package api

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/persistence"
)

// adminRequest sends a request from remote with an optional Authorization.
func adminRequest(h http.Handler, method, target, body, remote, auth string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.RemoteAddr = remote
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

const local = "127.0.0.1:40000"

func TestAdminAuth(t *testing.T) {
	cases := []struct {
		name, token, remote, auth string
		status                    int
	}{
		{"no token, IPv4 loopback", "", "127.0.0.1:5000", "", 200},
		{"no token, other loopback", "", "127.8.9.1:5000", "", 200},
		{"no token, IPv6 loopback", "", "[::1]:5000", "", 200},
		{"no token, mapped loopback", "", "[::ffff:127.0.0.1]:5000", "", 200},
		{"no token, remote", "", "192.0.2.7:5000", "", 403},
		{"no token, remote IPv6", "", "[2001:db8::1]:5000", "", 403},
		{"no token, garbage address", "", "nonsense", "", 403},
		{"token, none given", "s3cret", local, "", 401},
		{"token, other scheme", "s3cret", local, "Basic czNjcmV0", 401},
		{"token, empty bearer", "s3cret", local, "Bearer ", 401},
		{"token, wrong", "s3cret", local, "Bearer s3cre", 403},
		{"token, right from remote", "s3cret", "192.0.2.7:5000", "Bearer s3cret", 200},
		{"token, scheme in lowercase", "s3cret", local, "bearer s3cret", 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHandler(newFakeBackend(), Config{AdminToken: c.token})
			for _, target := range []string{"/admin/limits", "/admin/cluster"} {
				rec := adminRequest(h, http.MethodGet, target, "", c.remote, c.auth)
				if rec.Code != c.status {
					t.Fatalf("%s: status %d; want %d; %s", target, rec.Code, c.status, rec.Body)
				}
				if c.status == 401 && rec.Header().Get("WWW-Authenticate") == "" {
					t.Fatal("401 without WWW-Authenticate")
				}
			}
			put := adminRequest(h, http.MethodPut, "/admin/limits", `{"max_concurrency":3}`, c.remote, c.auth)
			if put.Code != c.status {
				t.Fatalf("PUT: status %d; want %d", put.Code, c.status)
			}
		})
	}
}

func TestAdminLimits(t *testing.T) {
	fb := newFakeBackend()
	h := newHandler(fb, Config{})
	got := decode[limitsJSON](t, adminRequest(h, http.MethodGet, "/admin/limits", "", local, ""), http.StatusOK)
	if got != (limitsJSON{MinIntervalMS: 1000, MaxIntervalMS: 3000, MaxConcurrency: 2}) {
		t.Fatalf("limits %+v", got)
	}

	rec := adminRequest(h, http.MethodPut, "/admin/limits", `{"min_interval_ms":200,"max_interval_ms":500,"max_concurrency":4}`, local, "")
	if got := decode[limitsJSON](t, rec, http.StatusOK); got != (limitsJSON{200, 500, 4}) {
		t.Fatalf("answer %+v", got)
	}
	want := persistence.Limits{MinInterval: 200 * time.Millisecond, MaxInterval: 500 * time.Millisecond, MaxConcurrency: 4}
	if fb.limits != want {
		t.Fatalf("backend limits %+v", fb.limits)
	}

	rec = adminRequest(h, http.MethodPut, "/admin/limits", `{"max_concurrency":1}`, local, "")
	if got := decode[limitsJSON](t, rec, http.StatusOK); got != (limitsJSON{200, 500, 1}) {
		t.Fatalf("a partial PUT must keep the other limits: %+v", got)
	}
}

func TestAdminLimitsNonsense(t *testing.T) {
	cases := []struct{ body, want string }{
		{`{"min_interval_ms":5000,"max_interval_ms":1000,"max_concurrency":2}`, "above max_interval_ms"},
		{`{"min_interval_ms":5000}`, "above max_interval_ms"},
		{`{"min_interval_ms":-1,"max_interval_ms":1000,"max_concurrency":2}`, "negative"},
		{`{"min_interval_ms":0,"max_interval_ms":3600001,"max_concurrency":2}`, "one hour"},
		{`{"max_concurrency":0}`, "max_concurrency"},
		{`{"max_concurrency":-3}`, "max_concurrency"},
		{`{"max_concurrency":1001}`, "max_concurrency"},
		{`{"max_concurrency":1.5}`, "reading limits"},
		{`{"max_concurrency":"2"}`, "reading limits"},
		{`{"max_concurency":2}`, "unknown field"},
		{`{"max_concurrency":2}{}`, "more than one"},
		{``, "reading limits"},
		{`[1,2]`, "reading limits"},
		{`{"min_interval_ms":99999999999999999999}`, "reading limits"},
	}
	for _, c := range cases {
		fb := newFakeBackend()
		before := fb.limits
		rec := adminRequest(newHandler(fb, Config{}), http.MethodPut, "/admin/limits", c.body, local, "")
		wantError(t, rec, http.StatusBadRequest, c.want)
		if fb.limits != before {
			t.Fatalf("%s: limits changed to %+v", c.body, fb.limits)
		}
	}
	huge := `{"max_concurrency":2` + strings.Repeat(" ", 100<<10) + `}`
	rec := adminRequest(newHandler(newFakeBackend(), Config{}), http.MethodPut, "/admin/limits", huge, local, "")
	wantError(t, rec, http.StatusRequestEntityTooLarge, "larger than")
}

func TestAdminCluster(t *testing.T) {
	fb := newFakeBackend()
	h := newHandler(fb, Config{})
	rec := adminRequest(h, http.MethodGet, "/admin/cluster", "", local, "")
	if !strings.Contains(rec.Body.String(), `"members":[]`) {
		t.Fatalf("no members must be an empty list: %s", rec.Body)
	}
	fb.info = ClusterInfo{
		Members:     []Member{{Name: "a", GossipAddr: "127.0.0.1:7946", ActorAddr: "127.0.0.1:8090", HTTPAddr: "127.0.0.1:8080", Status: "alive"}},
		TokenBucket: BucketInfo{Member: "a", InFlight: 1, GrantedTotal: 9},
	}
	got := decode[ClusterInfo](t, adminRequest(h, http.MethodGet, "/admin/cluster", "", local, ""), http.StatusOK)
	if len(got.Members) != 1 || got.Members[0] != fb.info.Members[0] || got.TokenBucket != fb.info.TokenBucket {
		t.Fatalf("cluster %+v", got)
	}
}

func TestHealth(t *testing.T) {
	fb := newFakeBackend()
	h := newHandler(fb, Config{Version: "v1.2.3"})
	if rec := get(h, "/healthz"); rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != "ok" {
		t.Fatalf("healthz %d %q", rec.Code, rec.Body)
	}
	if got := decode[readyBody](t, get(h, "/readyz"), http.StatusOK); got.Status != "ready" || got.Version != "v1.2.3" {
		t.Fatalf("readyz %+v", got)
	}
	fb.readyErr = errors.New("store unreachable")
	wantError(t, get(h, "/readyz"), http.StatusServiceUnavailable, "not ready: store unreachable")
}

func TestUnknownRoutes(t *testing.T) {
	h := newHandler(newFakeBackend(), Config{})
	wantError(t, get(h, "/nope"), http.StatusNotFound, "no such endpoint: GET /nope")
	wantError(t, send(h, http.MethodDelete, "/upload", nil, ""), http.StatusMethodNotAllowed, "not allowed")
	wantError(t, get(h, "/status/"), http.StatusNotFound, "no such endpoint")
}

func TestPanicAnswers500(t *testing.T) {
	fb := worksBackend()
	fb.panicky = true
	wantError(t, get(newHandler(fb, Config{}), "/status/"+doneID), http.StatusInternalServerError, "internal error")
}

func TestNewWithoutBackendPanics(t *testing.T) {
	defer func() {
		if v := recover(); v == nil || !strings.HasPrefix(v.(string), "api: ") {
			t.Fatalf("recovered %v", v)
		}
	}()
	New(Config{})
}

func TestLogging(t *testing.T) {
	var out strings.Builder
	logger := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	fb := worksBackend()
	h := newHandler(fb, Config{Logger: logger})
	get(h, "/healthz")
	get(h, "/status/"+doneID)
	get(h, "/status/"+unknownID)
	if out.Len() != 0 {
		t.Fatalf("healthy and client-error requests logged at info: %s", out.String())
	}
	fb.submitErr = errors.New("disk full")
	postForm(t, h, "/upload", part{"file", "a.csv", "DO1\n"})
	if !strings.Contains(out.String(), `"level":"ERROR"`) || !strings.Contains(out.String(), `"err":"submitting work`) {
		t.Fatalf("a 500 must be logged at error with err: %s", out.String())
	}
}
