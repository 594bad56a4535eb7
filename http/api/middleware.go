package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// maxRequestBody bounds the body of every request but uploads.
const maxRequestBody = 64 << 10

// limitBody caps the request body at n bytes.
func limitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

// longWrite is how long /upload and /download may take to answer, against
// the server's shorter write timeout: an upload is read for up to the
// server's read timeout before its answer is written, and a matrix of a
// million columns takes minutes to reach a slow client.
const longWrite = 30 * time.Minute

// writeWithin moves the connection's write deadline to d from now.
func writeWithin(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
			next.ServeHTTP(w, r)
		})
	}
}

// recoverPanics turns a handler's panic into a logged 500 answer.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v)
			writeJSON(w, http.StatusInternalServerError, errorBody{Error: "internal error"})
		}()
		next.ServeHTTP(w, r)
	})
}

// logRequests logs every request at debug level with its status.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status)
	})
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(status int) {
	if !s.wrote {
		s.status, s.wrote = status, true
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// adminOnly guards /admin/*: with a token, the request must carry it as a
// bearer token (401 without one, 403 with another); without a token, only
// loopback clients pass.
func (s *server) adminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.adminDenied(r); err != nil {
			if err.status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="signalscrape admin"`)
			}
			s.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *server) adminDenied(r *http.Request) *apiError {
	if s.adminToken == "" {
		if loopback(r.RemoteAddr) {
			return nil
		}
		return errorf(http.StatusForbidden, "admin calls are allowed only from this machine, since the node has no admin token")
	}
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		return errorf(http.StatusUnauthorized, "admin calls need an Authorization: Bearer <token> header")
	}
	if !sameToken(token, s.adminToken) {
		return errorf(http.StatusForbidden, "wrong admin token")
	}
	return nil
}

// bearer returns the token of an "Authorization: Bearer <token>" value.
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}

// sameToken compares in time independent of where the tokens differ and of
// their lengths.
func sameToken(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// loopback reports whether a request's remote address is 127.0.0.0/8 or ::1.
func loopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}
