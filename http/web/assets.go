package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"time"

	"github.com/go-chi/chi/v5"
)

//go:embed static
var staticFS embed.FS

// asset is one embedded file under /static/.
type asset struct {
	data        []byte
	contentType string
	etag        string
}

// contentTypes names the type of each kind of embedded file; the table is
// fixed here so that the system's MIME tables cannot change it.
var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

// loadAssets reads every embedded file once. The files are part of the
// binary, so failing to read one is a programmer's mistake and panics.
func loadAssets() map[string]asset {
	assets := map[string]asset{}
	err := fs.WalkDir(staticFS, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := staticFS.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			ct = "application/octet-stream"
		}
		assets[name[len("static/"):]] = asset{data: data, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic("web: reading embedded files: " + err.Error())
	}
	return assets
}

// static serves an embedded file by looking its name up among the embedded
// ones; the name never reaches a file system. The ETag lets browsers
// revalidate cheaply.
func (s *server) static(w http.ResponseWriter, r *http.Request) {
	a, ok := s.assets[chi.URLParam(r, "*")]
	if !ok {
		s.notFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.data))
}
