package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/signalscrape/signalscrape/profile/chart"
)

// plotQuery is what a request for one plot asks for.
type plotQuery struct {
	name   string
	format string
	scale  chart.Scale
	size   chart.Size
}

// parsePlotQuery reads the plot's name and format from the path, which is
// /works/<idwork>/plots/<name>.<format>, and the scale and size from the
// query. The name is only ever looked up among a work's labels.
func parsePlotQuery(r *http.Request) (plotQuery, error) {
	var q plotQuery
	parts := strings.SplitN(r.URL.Path, "/", 5)
	file := ""
	if len(parts) == 5 {
		file = parts[4]
	}
	dot := strings.LastIndexByte(file, '.')
	if dot <= 0 || chart.ContentType(file[dot+1:]) == "" {
		return q, errorf(http.StatusNotFound, "no plot %s: ask for <label>.svg, .png or .pdf", shown(file))
	}
	q.name, q.format = file[:dot], file[dot+1:]
	scale, err := plotScale(r)
	if err != nil {
		return q, err
	}
	q.scale = scale
	switch v := r.URL.Query().Get("size"); v {
	case "", "full":
		q.size = chart.Full
	case "thumbnail":
		q.size = chart.Thumbnail
	default:
		return q, errorf(http.StatusBadRequest, "size must be full or thumbnail, not %s", shown(v))
	}
	return q, nil
}

// plotScale reads ?scale=, counts by default.
func plotScale(r *http.Request) (chart.Scale, error) {
	v := r.URL.Query().Get("scale")
	scale, err := chart.ParseScale(v, chart.Counts)
	if err != nil {
		return scale, errorf(http.StatusBadRequest, "scale must be counts or proportions, not %s", shown(v))
	}
	return scale, nil
}

// key names the image of q in the cache; the mean has one scale only.
func (q plotQuery) key(workID string) string {
	scale := q.scale.String()
	if q.name == meanPlot {
		scale = chart.Proportions.String()
	}
	return strings.Join([]string{workID, q.name, q.format, scale, strconv.Itoa(int(q.size))}, "\x00")
}

// plot serves one plot of a finished work: GET
// /works/{idwork}/plots/<label>.<svg|png|pdf>, where the label is looked up
// among the work's specimens and never reaches a file system.
func (s *server) plot(w http.ResponseWriter, r *http.Request) {
	q, err := parsePlotQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	set, err := s.finishedPlotSet(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, ok := set.chart(q.name, q.scale)
	if !ok {
		s.fail(w, r, errorf(http.StatusNotFound, "work %s has no specimen %s", set.workID, shown(q.name)))
		return
	}
	data, err := s.cachedDraw(r.Context(), q.key(set.workID), c, q.format, q.size)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", chart.ContentType(q.format))
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Cache-Control", "private, max-age=86400")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	_, _ = w.Write(data)
}

// plotListJSON is the body of GET /works/{idwork}/plots.
type plotListJSON struct {
	IDWork string         `json:"idwork"`
	Mean   plotLinksJSON  `json:"mean"`
	Plots  []plotItemJSON `json:"plots"`
}

// plotItemJSON is one specimen of a work's plot list.
type plotItemJSON struct {
	Label     string `json:"label"`
	DonorID   string `json:"donor_id"`
	Mutations int64  `json:"mutations"`
	plotLinksJSON
}

// plotLinksJSON is where one plot is served.
type plotLinksJSON struct {
	SVGURL string `json:"svg_url"`
	PNGURL string `json:"png_url"`
	PDFURL string `json:"pdf_url"`
}

// plotList answers GET /works/{idwork}/plots: the plots a finished work
// has, one per specimen of its result in the result's order, and the mean.
func (s *server) plotList(w http.ResponseWriter, r *http.Request) {
	set, err := s.finishedPlotSet(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body := plotListJSON{IDWork: set.workID, Mean: plotLinks(set.workID, meanPlot), Plots: []plotItemJSON{}}
	for _, sp := range set.specimens {
		body.Plots = append(body.Plots, plotItemJSON{
			Label: sp.label, DonorID: sp.donorID, Mutations: sp.total(), plotLinksJSON: plotLinks(set.workID, sp.label),
		})
	}
	writeJSON(w, http.StatusOK, body)
}

func plotLinks(workID, name string) plotLinksJSON {
	base := "/works/" + workID + "/plots/" + url.PathEscape(name)
	return plotLinksJSON{SVGURL: base + ".svg", PNGURL: base + ".png", PDFURL: base + ".pdf"}
}
