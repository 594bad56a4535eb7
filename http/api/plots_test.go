package api

import (
	"archive/zip"
	"bytes"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/profile"
	"github.com/signalscrape/signalscrape/profile/chart"
	"github.com/signalscrape/signalscrape/profile/fixtures"
)

// slashLabel is a label that would climb directories if it were a path.
const slashLabel = "../../etc/passwd x"

// plotsBackend has the finished work doneID whose result has the columns
// L1 (donor D1, a real profile), =L2 (D2, no mutations) and slashLabel (D1
// again); D3 failed. It returns D1's counts.
func plotsBackend(t *testing.T) (*fakeBackend, [96]int64) {
	t.Helper()
	donor := fixtures.IDs(t, 1)[0]
	p, err := profile.Parse(fixtures.Profile(t, donor), donor)
	if err != nil {
		t.Fatal(err)
	}
	fb := worksBackend()
	fb.store.events[doneID] = []*messages.Event{
		{Seq: 1, Kind: &messages.Event_Created{Created: &messages.WorkCreated{Entries: []*messages.Entry{
			{Label: "L1", Id: "D1"}, {Label: "=L2", Id: "D2"}, {Label: "L4", Id: "D3"}, {Label: slashLabel, Id: "D1"},
		}}}},
		{Seq: 2, Kind: &messages.Event_Completed{Completed: &messages.TaskCompleted{Id: "D1"}}},
		{Seq: 3, Kind: &messages.Event_Completed{Completed: &messages.TaskCompleted{Id: "D2"}}},
		{Seq: 4, Kind: &messages.Event_Failed{Failed: &messages.TaskFailed{Id: "D3"}}},
	}
	var buf bytes.Buffer
	cols := []profile.Column{{Label: "L1", Counts: p.Counts}, {Label: "=L2"}, {Label: slashLabel, Counts: p.Counts}}
	if err := profile.WriteMatrix(&buf, "csv", cols); err != nil {
		t.Fatal(err)
	}
	fb.store.blobs["results/"+doneID+".csv"] = blob{data: buf.Bytes(), contentType: "text/csv"}
	return fb, p.Counts
}

func total(counts [96]int64) int64 {
	var n int64
	for _, k := range counts {
		n += k
	}
	return n
}

func TestPlotList(t *testing.T) {
	fb, counts := plotsBackend(t)
	got := decode[plotListJSON](t, get(newHandler(fb, Config{}), "/works/"+doneID+"/plots"), http.StatusOK)
	base := "/works/" + doneID + "/plots/"
	if got.IDWork != doneID || got.Mean.SVGURL != base+"mean.svg" || got.Mean.PNGURL != base+"mean.png" {
		t.Errorf("list %+v", got)
	}
	want := []plotItemJSON{
		{Label: "L1", DonorID: "D1", Mutations: total(counts), plotLinksJSON: plotLinks(doneID, "L1")},
		{Label: "=L2", DonorID: "D2", Mutations: 0, plotLinksJSON: plotLinks(doneID, "=L2")},
		{Label: slashLabel, DonorID: "D1", Mutations: total(counts), plotLinksJSON: plotLinks(doneID, slashLabel)},
	}
	if len(got.Plots) != len(want) {
		t.Fatalf("plots %+v", got.Plots)
	}
	for i := range want {
		if got.Plots[i] != want[i] {
			t.Errorf("plot %d: %+v, want %+v", i, got.Plots[i], want[i])
		}
	}
	if u := got.Plots[2].SVGURL; u != base+"..%2F..%2Fetc%2Fpasswd%20x.svg" {
		t.Errorf("slash label's url %s", u)
	}
}

// body asks for target and checks the answer's status and content type.
func body(t *testing.T, h http.Handler, target, contentType string) []byte {
	t.Helper()
	rec := get(h, target)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != contentType {
		t.Fatalf("GET %s: %d %s %.200s", target, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	return rec.Body.Bytes()
}

func TestPlotImages(t *testing.T) {
	fb, _ := plotsBackend(t)
	h := newHandler(fb, Config{})
	base := "/works/" + doneID + "/plots/"

	svg := string(body(t, h, base+"L1.svg", "image/svg+xml"))
	if !strings.Contains(svg, "L1 · donor D1 · ") || !strings.Contains(svg, ">Mutations<") {
		t.Errorf("L1.svg lacks its title or axis: %.300s", svg)
	}
	if svg := string(body(t, h, base+"L1.svg?scale=proportions", "image/svg+xml")); !strings.Contains(svg, "Proportion of mutations") {
		t.Error("scale=proportions did not change the axis")
	}
	if svg := string(body(t, h, base+url.PathEscape("=L2")+".svg", "image/svg+xml")); !strings.Contains(svg, "No mutations in this profile") {
		t.Error("the zero profile does not say so")
	}
	escaped := base + url.PathEscape(slashLabel) + ".svg"
	if svg := string(body(t, h, escaped, "image/svg+xml")); !strings.Contains(svg, "../../etc/passwd x · donor D1") {
		t.Error("the plot of the slash label is not its own")
	}
	mean := string(body(t, h, base+"mean.svg", "image/svg+xml"))
	if !strings.Contains(mean, "Mean profile of work "+doneID[:8]+" · 1 profile<") {
		t.Errorf("mean title: want one distinct donor with mutations: %.300s", mean)
	}

	for target, size := range map[string]chart.Size{base + "L1.png": chart.Full, base + "L1.png?size=thumbnail": chart.Thumbnail} {
		img, err := png.Decode(bytes.NewReader(body(t, h, target, "image/png")))
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if w, ht := size.Pixels(); img.Bounds().Dx() != w || img.Bounds().Dy() != ht {
			t.Errorf("%s: %v, want %dx%d", target, img.Bounds(), w, ht)
		}
	}
	if pdf := body(t, h, base+"L1.pdf", "application/pdf"); !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Error("L1.pdf is not a PDF")
	}
}

func TestPlotErrors(t *testing.T) {
	fb, _ := plotsBackend(t)
	h := newHandler(fb, Config{})
	base := "/works/" + doneID + "/plots/"
	wantError(t, get(h, base+"L9.svg"), http.StatusNotFound, `has no specimen "L9"`)
	wantError(t, get(h, base+"L4.svg"), http.StatusNotFound, `has no specimen "L4"`)
	wantError(t, get(h, base+"..%2F..%2Fgo.mod.svg"), http.StatusNotFound, "has no specimen")
	wantError(t, get(h, base+"L1.gif"), http.StatusNotFound, "ask for <label>.svg")
	wantError(t, get(h, base+"L1"), http.StatusNotFound, "ask for <label>.svg")
	wantError(t, get(h, base+".svg"), http.StatusNotFound, "ask for <label>.svg")
	wantError(t, get(h, base+"L1.svg?scale=log"), http.StatusBadRequest, "scale must be counts or proportions")
	wantError(t, get(h, base+"L1.svg?size=huge"), http.StatusBadRequest, "size must be full or thumbnail")
	wantError(t, get(h, "/works/"+runningID+"/plots"), http.StatusConflict, "has no result to plot (status running)")
	wantError(t, get(h, "/works/"+runningID+"/plots/L1.svg"), http.StatusConflict, "has no result to plot")
	wantError(t, get(h, "/works/"+unknownID+"/plots"), http.StatusNotFound, "no work")
	wantError(t, get(h, "/works/NOT-A-UUID/plots/L1.svg"), http.StatusBadRequest, "malformed work id")
}

// A result that does not match the work's events is a server error, not a
// plot of the wrong specimen.
func TestPlotMismatchedResult(t *testing.T) {
	fb, _ := plotsBackend(t)
	fb.store.blobs["results/"+doneID+".csv"] = blob{data: []byte(wideMatrix(",", "Type", "L1", "L3")), contentType: "text/csv"}
	wantError(t, get(newHandler(fb, Config{}), "/works/"+doneID+"/plots"), http.StatusInternalServerError, "internal error")
}

// Once drawn from the store, a finished work's plots need neither the store
// nor the work again.
func TestPlotsCached(t *testing.T) {
	fb, _ := plotsBackend(t)
	h := newHandler(fb, Config{})
	base := "/works/" + doneID + "/plots/"
	first := body(t, h, base+"L1.svg", "image/svg+xml")
	delete(fb.store.blobs, "results/"+doneID+".csv")
	delete(fb.store.events, doneID)
	delete(fb.statuses, doneID)
	if again := body(t, h, base+"L1.svg", "image/svg+xml"); !bytes.Equal(first, again) {
		t.Error("the cached plot differs")
	}
	body(t, h, base+"L1.png?size=thumbnail", "image/png")
	if rec := get(h, base+"L1.svg"); rec.Header().Get("Cache-Control") != "private, max-age=86400" {
		t.Errorf("headers %v", rec.Header())
	}
}

func TestDownloadPlots(t *testing.T) {
	fb, _ := plotsBackend(t)
	h := newHandler(fb, Config{})
	rec := get(h, "/download/"+doneID+"?format=plots")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/zip" ||
		rec.Header().Get("Content-Disposition") != `attachment; filename="signalscrape-`+doneID+`-plots.zip"` {
		t.Fatalf("%d %v %.200s", rec.Code, rec.Header(), rec.Body)
	}
	files := unzip(t, rec.Body.Bytes())
	names := []string{"mean.svg", "1-L1.svg", "2-_L2.svg", "3-.._.._etc_passwd_x.svg", "plots.csv"}
	if len(files) != len(names) {
		t.Fatalf("zip holds %d files, want %v", len(files), names)
	}
	for i, f := range files {
		if f.name != names[i] {
			t.Errorf("file %d is %q, want %q", i, f.name, names[i])
		}
	}
	titles := []string{"Mean profile of work", "L1 · donor D1", "=L2 · donor D2", "../../etc/passwd x · donor D1"}
	for i, title := range titles {
		if !strings.Contains(files[i].data, title) || !strings.HasPrefix(files[i].data, "<?xml") {
			t.Errorf("%s lacks %q", files[i].name, title)
		}
	}
	if !strings.Contains(files[2].data, "No mutations in this profile") {
		t.Error("the zero profile's SVG does not say so")
	}
	wantIndex := "file,label,donor_id,mutations\n1-L1.svg,L1,D1,"
	if idx := files[4].data; !strings.HasPrefix(idx, wantIndex) || !strings.Contains(idx, "\n2-_L2.svg,'=L2,D2,0\n") {
		t.Errorf("plots.csv:\n%s", idx)
	}
	if files := unzip(t, get(h, "/download/"+doneID+"?format=plots&scale=proportions").Body.Bytes()); !strings.Contains(files[1].data, "Proportion of mutations") {
		t.Error("scale=proportions did not reach the zip")
	}

	wantError(t, get(h, "/download/"+runningID+"?format=plots"), http.StatusConflict, "not finished yet")
	wantError(t, get(h, "/download/"+runningID+"?format=plots&partial=1"), http.StatusConflict, "has no result to plot")
	wantError(t, get(h, "/download/"+doneID+"?format=plots&scale=log"), http.StatusBadRequest, "scale must be")
}

type zipFile struct{ name, data string }

func unzip(t *testing.T, data []byte) []zipFile {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("reading zip: %v", err)
	}
	var out []zipFile
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, zipFile{f.Name, string(b)})
	}
	return out
}
