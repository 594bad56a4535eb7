package mocksignal

import (
	"bytes"
	"encoding/json"
	"html/template"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
)

// maxPreview is the most donors the search preview lists.
const maxPreview = 5

// site serves the pages a person uses to download a profile, as the real
// site lays them out: a search box on the home page whose preview lags
// behind the typed text, and a cancer-sample page per donor whose "Download
// as CSV" button fetches /sample/{id}.csv and saves it. It is safe for
// concurrent use.
type site struct {
	srv *Server

	// mu guards the generator of broken pages and the last preview.
	mu  sync.Mutex
	rng *rand.Rand
	// previous is what the last search found; the home page shows it until
	// a search of its own replaces it, as the real site shows the previous
	// search.
	previous []string
}

func newSite(s *Server) *site {
	return &site{srv: s, rng: rand.New(rand.NewPCG(s.cfg.Seed, 1))}
}

// homeData fills homeTemplate.
type homeData struct {
	Profiles       int
	PreviewDelayMS int64
	Previous       []string
}

// serveHome answers the home page with the search box.
func (st *site) serveHome(w http.ResponseWriter, r *http.Request) {
	if !sleep(r.Context(), st.srv.cfg.PageDelay) {
		return
	}
	st.mu.Lock()
	data := homeData{
		Profiles:       len(st.srv.index.ids),
		PreviewDelayMS: st.srv.cfg.PreviewDelay.Milliseconds(),
		Previous:       st.previous,
	}
	st.mu.Unlock()
	st.render(w, http.StatusOK, homeTemplate, data)
}

// serveSearch answers the preview's query q with up to maxPreview donors
// whose ids start with it, ignoring case, as JSON {"ids": [...]}.
func (st *site) serveSearch(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	ids := []string{}
	if q != "" && len(q) <= maxIDLen {
		for _, id := range st.srv.index.ids {
			if len(id) >= len(q) && strings.EqualFold(id[:len(q)], q) {
				ids = append(ids, id)
			}
			if len(ids) == maxPreview {
				break
			}
		}
	}
	if len(ids) > 0 {
		st.mu.Lock()
		st.previous = ids
		st.mu.Unlock()
	}
	body, err := json.Marshal(map[string][]string{"ids": ids})
	if err != nil {
		st.srv.logger.Warn("encoding search answer", "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	writeBody(w, "application/json", body)
}

// sampleData fills sampleTemplate.
type sampleData struct {
	ID     string
	Button bool
}

// serveCancerSample answers the page of one donor; a fraction BrokenPages
// of them come without the download button.
func (st *site) serveCancerSample(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !validID(id) {
		http.NotFound(w, r)
		return
	}
	if !sleep(r.Context(), st.srv.cfg.PageDelay) {
		return
	}
	if _, known := st.srv.index.path(id); !known {
		st.render(w, http.StatusNotFound, unknownSampleTemplate, sampleData{ID: id})
		return
	}
	st.render(w, http.StatusOK, sampleTemplate, sampleData{ID: id, Button: !st.drawBroken()})
}

func (st *site) drawBroken() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.rng.Float64() < st.srv.cfg.BrokenPages
}

// render executes t into a buffer first, so that a failure still gets a
// clean 500.
func (st *site) render(w http.ResponseWriter, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		st.srv.logger.Warn("rendering page", "page", t.Name(), "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// The class names carry generated-looking suffixes, as the styled
// components of the real site do; a client must match their prefixes.
var homeTemplate = template.Must(template.New("home").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Signal</title>
<style>
.Search__Container-sc-1x2y3z { border: 1px solid #888; padding: 8px; width: 320px; cursor: text; }
.Preview__Pane-sc-4d5e6f a { display: block; }
</style></head>
<body><h1>SIGNAL stand-in</h1>
<p>{{.Profiles}} profiles, each at /sample/{id}.csv.</p>
<div class="Search__Container-sc-1x2y3z kQpWvX"><span>Search samples</span>
<input class="Search__Input-sc-7g8h9i" type="text" autocomplete="off" hidden></div>
<div class="Preview__Pane-sc-4d5e6f" id="preview">{{range .Previous}}<a href="/explore/cancerSample/{{.}}">{{.}}</a>{{end}}</div>
<script>
(() => {
  const delay = {{.PreviewDelayMS}};
  const box = document.querySelector('[class^="Search__Container"]');
  const input = box.querySelector('input');
  const pane = document.getElementById('preview');
  let timer = 0, issued = 0, shown = 0;
  box.addEventListener('click', () => { input.hidden = false; input.focus(); });
  input.addEventListener('input', () => {
    clearTimeout(timer);
    const q = input.value.trim();
    timer = setTimeout(() => search(q), delay);
  });
  async function search(q) {
    const n = ++issued;
    let ids = null;
    try {
      const resp = await fetch('/api/search?q=' + encodeURIComponent(q));
      if (resp.ok) ids = (await resp.json()).ids;
    } catch (e) {}
    if (n < shown) return;
    shown = n;
    show(ids);
  }
  function show(ids) {
    pane.replaceChildren();
    if (ids === null) { pane.textContent = 'Search failed'; return; }
    if (ids.length === 0) { pane.textContent = 'No results'; return; }
    for (const id of ids) {
      const a = document.createElement('a');
      a.href = '/explore/cancerSample/' + encodeURIComponent(id);
      a.textContent = id;
      pane.append(a);
    }
  }
})();
</script></body></html>
`))

var sampleTemplate = template.Must(template.New("sample").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.ID}} - Signal</title></head>
<body><h1 class="Sample__Title-sc-8j9k0l">Cancer sample {{.ID}}</h1>
{{if .Button}}<button class="Button__Base-sc-2m3n4o" label="Download as CSV">Download as CSV</button>{{end}}
<p id="status"></p>
<script>
(() => {
  const id = {{.ID}};
  const button = document.querySelector('button[label="Download as CSV"]');
  if (!button) return;
  button.addEventListener('click', async () => {
    const status = document.getElementById('status');
    const resp = await fetch('/sample/' + encodeURIComponent(id) + '.csv');
    if (!resp.ok) { status.textContent = 'Download failed: ' + resp.status; return; }
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await resp.blob());
    a.download = id + '.csv';
    document.body.append(a);
    a.click();
    a.remove();
  });
})();
</script></body></html>
`))

var unknownSampleTemplate = template.Must(template.New("unknown sample").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Signal</title></head>
<body><h1>No cancer sample {{.ID}}</h1></body></html>
`))
