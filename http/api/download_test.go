package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/profile"
)

// wideMatrix writes, by hand, a wide matrix of two columns whose counts are
// i+1 and 10*(i+1) on channel i.
func wideMatrix(sep, corner, first, second string) string {
	var b strings.Builder
	b.WriteString(corner + sep + first + sep + second + "\n")
	for i, ch := range profile.Channels {
		fmt.Fprintf(&b, "%s%s%d%s%d\n", ch, sep, i+1, sep, 10*(i+1))
	}
	return b.String()
}

// The stored result's labels were neutralised (and one quoted) when the work
// wrote it; converting must keep them exactly, with no second "'".
func TestDownloadMatrixFormats(t *testing.T) {
	fb := worksBackend()
	stored := wideMatrix(",", "Type", "'=cmd", `"'-x, y"`)
	fb.store.blobs["results/"+doneID+".csv"] = blob{data: []byte(stored), contentType: "text/csv"}
	var long strings.Builder
	long.WriteString("label,channel,count\n")
	for col, label := range []string{"'=cmd", `"'-x, y"`} {
		for i, ch := range profile.Channels {
			fmt.Fprintf(&long, "%s,%s,%d\n", label, ch, (i+1)*[]int{1, 10}[col])
		}
	}
	tests := []struct {
		format, want, contentType, file string
	}{
		{"csv", stored, "text/csv; charset=utf-8", ".csv"},
		{"tsv", wideMatrix("\t", "Type", "'=cmd", "'-x, y"), "text/tab-separated-values; charset=utf-8", ".tsv"},
		{"sigprofiler", wideMatrix("\t", "MutationType", "'=cmd", "'-x, y"), "text/tab-separated-values; charset=utf-8", ".txt"},
		{"long", long.String(), "text/csv; charset=utf-8", ".long.csv"},
	}
	h := newHandler(fb, Config{})
	for _, tc := range tests {
		rec := get(h, "/download/"+doneID+"?format="+tc.format)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.format, rec.Code, rec.Body)
		}
		if got := rec.Body.String(); got != tc.want {
			t.Errorf("%s: got\n%.200s\nwant\n%.200s", tc.format, got, tc.want)
		}
		if strings.Contains(rec.Body.String(), "''") {
			t.Errorf("%s: a label was neutralised twice", tc.format)
		}
		wantDisposition := `attachment; filename="signalscrape-` + doneID + tc.file + `"`
		if rec.Header().Get("Content-Type") != tc.contentType || rec.Header().Get("Content-Disposition") != wantDisposition {
			t.Errorf("%s: headers %v", tc.format, rec.Header())
		}
	}
}

func TestDownloadBadQuery(t *testing.T) {
	h := newHandler(worksBackend(), Config{})
	wantError(t, get(h, "/download/"+doneID+"?format=xlsx"), http.StatusBadRequest,
		`unknown format "xlsx": use one of csv, tsv, sigprofiler, long, errors, manifest, plots`)
	wantError(t, get(h, "/download/"+doneID+"?format=CSV"), http.StatusBadRequest, "unknown format")
	wantError(t, get(h, "/download/"+doneID+"?partial=2"), http.StatusBadRequest, "partial must be 1 or 0")
	wantError(t, get(h, "/download/"+doneID+"?format=tsv"), http.StatusInternalServerError, "internal error")
}

// Times of the events of the works in eventsBackend.
var (
	createdAt  = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	fetchedAt  = createdAt.Add(30 * time.Second)
	finishedAt = createdAt.Add(90 * time.Second)
)

// workEventsFor returns a work's events: D1 under two labels completed,
// D2 failed then completed, D3 completed then failed, D4 never ran.
func workEventsFor(finished bool) []*messages.Event {
	events := []*messages.Event{
		{Seq: 1, AtUnixMs: createdAt.UnixMilli(), Kind: &messages.Event_Created{Created: &messages.WorkCreated{
			Source: "http:work",
			Entries: []*messages.Entry{
				{Label: "L1", Id: "D1"}, {Label: "=L2", Id: "D2"}, {Label: "L3", Id: "D1"},
				{Label: "L4", Id: "D3"}, {Label: "L5", Id: "D4"},
			},
		}}},
		{Seq: 2, Kind: &messages.Event_AttemptFailed{AttemptFailed: &messages.TaskAttemptFailed{Id: "D2", Attempt: 1}}},
		{Seq: 3, Kind: &messages.Event_Failed{Failed: &messages.TaskFailed{Id: "D2", Error: "gone", Attempts: 2}}},
		{Seq: 4, Kind: &messages.Event_Completed{Completed: &messages.TaskCompleted{
			Id: "D2", Attempts: 3, Sha256: "abc", SourceUrl: "http://x/D2.csv", FetchedAtUnixMs: fetchedAt.UnixMilli(),
		}}},
		{Seq: 5, Kind: &messages.Event_Completed{Completed: &messages.TaskCompleted{Id: "D1", FromCache: true, Attempts: 1}}},
		{Seq: 6, Kind: &messages.Event_Completed{Completed: &messages.TaskCompleted{Id: "D3", Attempts: 1}}},
		{Seq: 7, Kind: &messages.Event_Failed{Failed: &messages.TaskFailed{Id: "D3", Error: "not a profile", Attempts: 5}}},
	}
	if finished {
		events = append(events, &messages.Event{Seq: 8, AtUnixMs: finishedAt.UnixMilli(),
			Kind: &messages.Event_Finished{Finished: &messages.WorkFinished{Status: persistence.StatusCompletedWithErrors}}})
	}
	return events
}

func eventsBackend() *fakeBackend {
	fb := worksBackend()
	fb.statuses[doneID].CreatedAtUnixMs = createdAt.UnixMilli()
	fb.statuses[doneID].UpdatedAtUnixMs = finishedAt.UnixMilli()
	fb.store.events[doneID] = workEventsFor(true)
	fb.store.events[runningID] = workEventsFor(false)
	return fb
}

func TestDownloadManifest(t *testing.T) {
	h := newHandler(eventsBackend(), Config{Version: "v1.2.3"})
	rec := get(h, "/download/"+doneID+"?format=manifest")
	if rec.Header().Get("Content-Disposition") != `attachment; filename="signalscrape-`+doneID+`.manifest.json"` {
		t.Errorf("headers %v", rec.Header())
	}
	got := decode[manifestJSON](t, rec, http.StatusOK)
	if got.IDWork != doneID || got.Status != persistence.StatusCompletedWithErrors || got.Version != "v1.2.3" ||
		got.Source != "http:work" || got.CreatedAt != "2025-03-01T10:00:00Z" ||
		got.UpdatedAt != "2025-03-01T10:01:30Z" || got.FinishedAt != "2025-03-01T10:01:30Z" {
		t.Errorf("manifest %+v", got)
	}
	if got.Limits != (limitsJSON{MinIntervalMS: 1000, MaxIntervalMS: 3000, MaxConcurrency: 2}) {
		t.Errorf("limits %+v", got.Limits)
	}
	want := []manifestDonorJSON{
		{ID: "D1", Labels: []string{"L1", "L3"}, Outcome: "completed", Attempts: 1, FromCache: true},
		{ID: "D2", Labels: []string{"=L2"}, Outcome: "completed", Attempts: 3, SHA256: "abc",
			SourceURL: "http://x/D2.csv", FetchedAt: "2025-03-01T10:00:30Z"},
		{ID: "D3", Labels: []string{"L4"}, Outcome: "failed", Error: "not a profile", Attempts: 5},
		{ID: "D4", Labels: []string{"L5"}, Outcome: "not_run"},
	}
	gotJSON, _ := json.Marshal(got.Donors)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("donors\n%s\nwant\n%s", gotJSON, wantJSON)
	}

	wantError(t, get(h, "/download/"+runningID+"?format=manifest"), http.StatusConflict, "not finished yet")
	running := decode[manifestJSON](t, get(h, "/download/"+runningID+"?format=manifest&partial=1"), http.StatusOK)
	if running.FinishedAt != "" || running.Donors[3].Outcome != "pending" {
		t.Errorf("running manifest %+v", running)
	}
}

func TestDownloadManifestWithoutEvents(t *testing.T) {
	rec := get(newHandler(worksBackend(), Config{}), "/download/"+doneID+"?format=manifest")
	wantError(t, rec, http.StatusInternalServerError, "internal error")
}

// cachedBody is the SIGNAL profile of donor with count k*(i+1) on channel i.
func cachedBody(donor string, k int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "substitution,\"%s_Single-base Substitution\"\n", donor)
	for i, ch := range profile.Channels {
		fmt.Fprintf(&b, "%s,%d\n", ch, k*(i+1))
	}
	return []byte(b.String())
}

func TestDownloadPartial(t *testing.T) {
	fb := eventsBackend()
	for donor, k := range map[string]int{"D1": 1, "D2": 10} {
		fb.store.cache["http:work "+donor] = persistence.CacheEntry{Outcome: persistence.OutcomeFound, Body: cachedBody(donor, k)}
	}
	h := newHandler(fb, Config{})
	wantError(t, get(h, "/download/"+runningID), http.StatusConflict, "add partial=1")

	rec := get(h, "/download/"+runningID+"?format=tsv&partial=1")
	var want strings.Builder
	want.WriteString("Type\tL1\t'=L2\tL3\n")
	for i, ch := range profile.Channels {
		fmt.Fprintf(&want, "%s\t%d\t%d\t%d\n", ch, i+1, 10*(i+1), i+1)
	}
	if rec.Code != http.StatusOK || rec.Body.String() != want.String() {
		t.Fatalf("%d\n%.200s\nwant\n%.200s", rec.Code, rec.Body, want.String())
	}
	if rec.Header().Get("Content-Disposition") != `attachment; filename="signalscrape-`+runningID+`-partial.tsv"` {
		t.Errorf("headers %v", rec.Header())
	}

	// A finished work's stored result wins over partial.
	rec = get(h, "/download/"+doneID+"?partial=1")
	if rec.Code != http.StatusOK || rec.Body.String() != "Type,SP1\nA[C>A]A,3\n" {
		t.Errorf("finished work with partial: %d %q", rec.Code, rec.Body)
	}

	delete(fb.store.cache, "http:work D2")
	wantError(t, get(h, "/download/"+runningID+"?partial=1"), http.StatusInternalServerError, "internal error")
}
