package web

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/signalscrape/signalscrape/http/api"
	"github.com/signalscrape/signalscrape/http/upload"
)

// recentPageSize is how many works a page of /recent lists (pageSize in
// recent.js).
const recentPageSize = 20

// writeTemp writes a file into a temporary directory and returns its path.
func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatalf("writing %s: %v", name, err)
	}
	return path
}

// sparseFile creates a file of size bytes that holds no data on disk.
func sparseFile(t *testing.T, name string, size int64) string {
	t.Helper()
	path := writeTemp(t, name, "")
	if err := os.Truncate(path, size); err != nil {
		t.Fatalf("growing %s to %d bytes: %v", name, size, err)
	}
	return path
}

// tableRows reads the text of every cell of a table body, row by row.
func tableRows(t *testing.T, ctx context.Context, tbodyID string) [][]string {
	t.Helper()
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](`[...document.getElementById('`+tbodyID+`').rows]
		.map((tr) => [...tr.cells].map((td) => td.textContent.trim()))`))
	if err != nil {
		t.Fatalf("reading the rows of #%s: %v", tbodyID, err)
	}
	return rows
}

// visible reports whether the element with the id is shown.
func visible(t *testing.T, ctx context.Context, id string) bool {
	t.Helper()
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('`+id+`').checkVisibility()`))
	if err != nil {
		t.Fatalf("checking whether #%s shows: %v", id, err)
	}
	return shown
}

// refuseLargeFile chooses a file one byte over the server's upload limit:
// the page must refuse it before reading or sending it, and a click on the
// submit button must not upload anything.
func refuseLargeFile(t *testing.T, ctx context.Context, base string, b *fakeBackend, shots *screenshots) {
	big := sparseFile(t, "big.csv", api.DefaultMaxUploadBytes+1)
	works := len(b.newestFirst())
	do(t, ctx, "choosing a file over the limit",
		chromedp.Navigate(base+"/"),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{big}),
	)
	waitFor(t, ctx, "the page refuses the large file",
		`document.getElementById('upload-error').textContent.includes('at most 50 MB')`)
	if msg := text(t, ctx, "upload-error"); !strings.Contains(msg, "“big.csv” has 52,428,801 bytes") {
		t.Errorf("refusal %q does not name the file and its size", msg)
	}
	if visible(t, ctx, "preview") {
		t.Error("the preview shows for a file the page refused")
	}
	shots.take(t, ctx, "upload-too-large.png")

	do(t, ctx, "submitting anyway", chromedp.Click(chromedp.ID("submit")))
	waitFor(t, ctx, "the page asks for a file",
		`document.getElementById('upload-error').textContent === 'Choose a CSV file first.'`)
	if n := len(b.newestFirst()); n != works {
		t.Errorf("the backend has %d works after the refused file, want %d: it was uploaded", n, works)
	}
}

// uploadRejects uploads a file with repeated ids and invalid ids: the
// answer must count the duplicates and list the rejected rows, numbered as
// lines of the file, with the server's reasons.
func uploadRejects(t *testing.T, ctx context.Context, base string, shots *screenshots) {
	file := writeTemp(t, "rejects.csv", "Donor_ID,_PATIENT\n"+
		"SP301,DO301\n"+
		"SP301,DO301\n"+ // the same row again
		"SP302,DO301\n"+ // the same id under another label
		"SP303,DO 303\n"+
		"SP304,../etc/passwd\n"+
		"SP305,DO305\n")
	do(t, ctx, "uploading a file with duplicates and rejected rows",
		chromedp.Navigate(base+"/"),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}),
		chromedp.WaitVisible(chromedp.ID("preview")),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.ID("rejected-section")),
	)
	for id, want := range map[string]string{
		"result-tasks": "2", "result-rows": "6", "result-duplicates": "2", "result-rejected": "2", "rejected-note": "",
	} {
		if got := text(t, ctx, id); got != want {
			t.Errorf("#%s shows %q, want %q", id, got, want)
		}
	}
	want := [][]string{
		{"5", upload.IDProblem("DO 303")},
		{"6", upload.IDProblem("../etc/passwd")},
	}
	if got := tableRows(t, ctx, "rejected-rows"); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("rejected rows %q, want %q", got, want)
	}
	shots.take(t, ctx, "upload-rejected-rows.png")
}

// watchRunningWork opens a work with 3 of its 10 ids settled, one every 5
// minutes, one of them failed after 3 attempts: the page must show the
// rate, the time left and the failed id while the work runs. It returns
// the work's id.
func watchRunningWork(t *testing.T, ctx context.Context, base string, b *fakeBackend, shots *screenshots) string {
	const reason = "the SIGNAL site timed out on DO402"
	b.fail("DO402", reason, 3)
	ids := make([]string, 10)
	for i := range ids {
		ids[i] = "DO" + strconv.Itoa(401+i)
	}
	work := b.addIDs(5*time.Minute, ids...)
	b.settleNow(work, 3)

	do(t, ctx, "opening the running work", chromedp.Navigate(base+"/works/"+work))
	waitFor(t, ctx, "the work shows running with progress",
		`document.getElementById('status-word').dataset.status === 'running' && document.getElementById('progress').value === 30`)
	for id, want := range map[string]string{
		"rate":      "0.2 ids per minute", // 3 ids in 15 minutes
		"eta":       "about 35 min 0 s",   // 7 ids at 5 minutes each
		"percent":   "30.0%",
		"done-line": "3 of 10 ids done",
	} {
		if got := text(t, ctx, id); got != want {
			t.Errorf("#%s shows %q while the work runs, want %q", id, got, want)
		}
	}
	rows := tableRows(t, ctx, "failure-rows")
	want := []string{"DO402", "SP402", reason, "3"}
	if len(rows) != 1 || len(rows[0]) < len(want) || !slices.Equal(rows[0][:len(want)], want) {
		t.Errorf("failed ids %q, want one row starting %q (id, label, reason, attempts)", rows, want)
	}
	shots.take(t, ctx, "work-running.png")
	return work
}

// checkNoMutations opens a finished work whose first donor has a profile
// of zeros: its row must say so instead of showing a thumbnail. It returns
// the work's id.
func checkNoMutations(t *testing.T, ctx context.Context, base string, b *fakeBackend, shots *screenshots) string {
	b.setProfile("DO501", [96]int64{})
	work := b.addIDs(time.Hour, "DO501", "DO502")
	b.finishNow(work)

	do(t, ctx, "opening the work with an empty profile", chromedp.Navigate(base+"/works/"+work))
	waitFor(t, ctx, "the profiles are listed", `document.querySelectorAll('#plot-rows tr').length === 2`)
	// Two ids in two hours is too slow to show per minute.
	if got := text(t, ctx, "rate"); got != "1.0 ids per hour" {
		t.Errorf("#rate shows %q for a work of two ids in two hours, want %q", got, "1.0 ids per hour")
	}
	rows := tableRows(t, ctx, "plot-rows")
	if want := []string{"SP501", "DO501", "0", "No mutations in this profile"}; !slices.Equal(rows[0], want) {
		t.Errorf("row of the empty profile %q, want %q", rows[0], want)
	}
	imgs, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](
		`[...document.querySelectorAll('#plot-rows tr')].map((tr) => tr.querySelectorAll('img').length)`))
	if err != nil || !slices.Equal(imgs, []int{0, 1}) {
		t.Errorf("thumbnails per row %v (err %v), want none for the empty profile and one for the other", imgs, err)
	}
	do(t, ctx, "scrolling to the profiles", chromedp.ScrollIntoView(chromedp.ID("plots")))
	waitFor(t, ctx, "the other thumbnail loads", imagesLoadedJS+`('#plot-rows img', 1, 320, 120)`)
	shots.take(t, ctx, "work-no-mutations.png")
	return work
}

// browsePages adds works until there are more than a page holds, then
// follows the Older and Newer links of /recent: each page must list its
// share of the works, newest first.
func browsePages(t *testing.T, ctx context.Context, base string, b *fakeBackend, shots *screenshots) {
	for len(b.newestFirst()) < recentPageSize+3 {
		b.addWork(1, time.Hour)
	}
	ids := b.newestFirst()
	first, second := ids[:recentPageSize], ids[recentPageSize:]

	do(t, ctx, "opening recent works", chromedp.Navigate(base+"/recent"))
	checkRecentPage(t, ctx, "the first page", 1, first, false, true)
	shots.take(t, ctx, "recent-first-page.png")

	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("next-page"))); err != nil {
		t.Fatalf("following the Older works link: %v", err)
	}
	checkRecentPage(t, ctx, "the second page", recentPageSize+1, second, true, false)
	if loc := location(t, ctx); !strings.HasSuffix(loc, "/recent?offset="+strconv.Itoa(recentPageSize)) {
		t.Errorf("the Older works link leads to %s", loc)
	}
	shots.take(t, ctx, "recent-second-page.png")

	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("prev-page"))); err != nil {
		t.Fatalf("following the Newer works link: %v", err)
	}
	checkRecentPage(t, ctx, "the first page again", 1, first, false, true)
	if loc := location(t, ctx); !strings.HasSuffix(loc, "/recent") {
		t.Errorf("the Newer works link leads to %s, want /recent", loc)
	}
}

// checkRecentPage waits for a page of /recent that starts at the
// from-th work, then checks the works it lists and its links.
func checkRecentPage(t *testing.T, ctx context.Context, what string, from int, want []string, newer, older bool) {
	t.Helper()
	status := "Works " + strconv.Itoa(from) + " to " + strconv.Itoa(from+len(want)-1) + ", newest first."
	waitFor(t, ctx, what+" is listed", `document.getElementById('recent-status').textContent === '`+status+`'`)
	listed, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('#works-rows tr a')].map((a) => a.textContent)`))
	if err != nil || !slices.Equal(listed, want) {
		t.Errorf("%s lists %q (err %v), want %q", what, listed, err, want)
	}
	if got := visible(t, ctx, "prev-page"); got != newer {
		t.Errorf("%s: Newer works link shown %t, want %t", what, got, newer)
	}
	if got := visible(t, ctx, "next-page"); got != older {
		t.Errorf("%s: Older works link shown %t, want %t", what, got, older)
	}
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("reading the page's address: %v", err)
	}
	return loc
}
