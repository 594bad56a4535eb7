package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/signalscrape/signalscrape/http/api"

	"github.com/signalscrape/signalscrape/profile"
	"github.com/signalscrape/signalscrape/profile/fixtures"
)

// chromiumPath is where Debian installs Chromium.
const chromiumPath = "/usr/bin/chromium"

// adminToken is the admin token of the node the browser test serves.
const adminToken = "s3cret-token"

// pollTimeout bounds each wait for the page to reach a state.
const pollTimeout = 15 * time.Second

// TestBrowser drives the pages in headless Chromium against the real JSON
// API on a fake backend: the checks of a file before upload, an upload that
// runs to completion, one with rejected rows, a running and a cancelled
// work, a profile without mutations, the pages of the works list, the admin
// limits, the contrast of the text, and the layout on a phone.
// Screenshots go to $SIGNALSCRAPE_ARTIFACTS, or a temporary directory.
func TestBrowser(t *testing.T) {
	needChromium(t)
	fixture := fixtures.Path(t, "small_4_ids.csv")
	artifacts := artifactsDir(t)

	b := newFakeBackend(400 * time.Millisecond)
	b.failing["DO48578"] = "the SIGNAL site does not know DO48578 (404)"
	b.profiles["DO36062"] = fixtureCounts(t, "DO36062")
	slow := b.addWork(12, time.Hour)
	ts := httptest.NewServer(nodeHandler(b))
	t.Cleanup(ts.Close)

	ctx := browserContext(t)
	shots := &screenshots{dir: artifacts}
	problems := watchConsole(t, ctx)

	dropFiles(t, ctx, ts.URL, shots)
	refuseLargeFile(t, ctx, ts.URL, b, shots)
	work := uploadFixture(t, ctx, ts.URL, fixture, b, shots)
	watchWorkFinish(t, ctx, ts.URL, work, shots)
	viewPlots(t, ctx, shots)
	cancelFromPage(t, ctx, ts.URL, slow, b, shots)
	browseRecent(t, ctx, ts.URL, work, shots)
	changeLimits(t, ctx, ts.URL, b, shots)
	checkSourceBanner(t, ctx, ts.URL, b, shots)
	// browseRecent above expects the two works made so far; the steps
	// below add more.
	uploadRejects(t, ctx, ts.URL, shots)
	running := watchRunningWork(t, ctx, ts.URL, b, shots)
	empty := checkNoMutations(t, ctx, ts.URL, b, shots)
	browsePages(t, ctx, ts.URL, b, shots)
	checkPageContrast(t, ctx, ts.URL, running, empty)
	checkColumnRules(t, ctx)
	checkPhoneLayout(t, ctx, ts.URL, work, shots)

	if p := problems(); len(p) > 0 {
		t.Errorf("the pages reported problems:\n%s", strings.Join(p, "\n"))
	}
	t.Logf("screenshots in %s: %s", artifacts, strings.Join(shots.names, ", "))
}

// needChromium fails the test without Chromium, unless
// SIGNALSCRAPE_SKIP_BROWSER=1 asks to skip it.
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return
	}
	if os.Getenv("SIGNALSCRAPE_SKIP_BROWSER") == "1" {
		t.Skipf("%s is missing and SIGNALSCRAPE_SKIP_BROWSER=1", chromiumPath)
	}
	t.Fatalf("the browser test needs Chromium at %s (Debian package chromium); "+
		"set SIGNALSCRAPE_SKIP_BROWSER=1 to skip it", chromiumPath)
}

func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SIGNALSCRAPE_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("creating the artifacts directory: %v", err)
	}
	return dir
}

// nodeHandler routes as a node does: the web paths to the web UI, the rest
// (a work's plots among them) to the JSON API.
func nodeHandler(b *fakeBackend) http.Handler {
	web := New(Config{Backend: b, Version: "test"})
	apiHandler := api.New(api.Config{Backend: b, AdminToken: adminToken})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		workPage := strings.HasPrefix(p, "/works/") && strings.Count(p, "/") == 2 || strings.HasSuffix(p, "/events")
		if p == "/" || p == "/recent" || p == "/admin" || strings.HasPrefix(p, "/static/") || workPage {
			web.ServeHTTP(w, r)
			return
		}
		apiHandler.ServeHTTP(w, r)
	})
}

// browserContext starts headless Chromium with its own profile directory;
// the test's cleanup stops it.
func browserContext(t *testing.T) context.Context {
	t.Helper()
	profile, err := os.MkdirTemp("", "signalscrape-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeProfile(profile) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// removeProfile removes Chromium's profile directory, retrying while the
// browser's helper processes still write into it as they exit.
func removeProfile(dir string) {
	for range 50 {
		if err := os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// watchConsole collects uncaught exceptions, console errors and security
// messages (such as refusals by the content security policy). Failed
// network answers are not problems: the admin page meets 401 on purpose.
func watchConsole(t *testing.T, ctx context.Context) func() []string {
	t.Helper()
	var mu sync.Mutex
	var problems []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Source == "security" || (m.Type == chromedp.ConsoleError && m.Source == "") {
				mu.Lock()
				problems = append(problems, m.String()+" at "+m.URL)
				mu.Unlock()
			}
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(problems)
	}
}

// screenshots saves full-page screenshots into dir.
type screenshots struct {
	dir   string
	names []string
}

func (s *screenshots) take(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("taking screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, name), png, 0o644); err != nil {
		t.Fatalf("saving screenshot %s: %v", name, err)
	}
	s.names = append(s.names, name)
}

// do runs actions, failing the test with what was being done.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitFor polls a JavaScript condition until it holds.
func waitFor(t *testing.T, ctx context.Context, what, condition string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](condition,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(pollTimeout))); err != nil {
		t.Fatalf("waiting until %s: %v", what, err)
	}
}

func text(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID(id)))
	if err != nil {
		t.Fatalf("reading #%s: %v", id, err)
	}
	return strings.TrimSpace(s)
}

// dropJS drops a file made of a name and a text on the drop zone.
const dropJS = `((name, text) => {
	const dt = new DataTransfer();
	dt.items.add(new File([text], name, {type: 'text/csv'}));
	document.getElementById('drop-zone').dispatchEvent(
		new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
})`

// dropFiles drops files on the upload page: one the page refuses by its
// name, then one the API refuses, whose reason must show in the alert.
func dropFiles(t *testing.T, ctx context.Context, base string, shots *screenshots) {
	do(t, ctx, "dropping a PDF",
		chromedp.Navigate(base+"/"),
		chromedp.Evaluate[chromedp.Void](dropJS+`('profiles.pdf', '%PDF-1.4')`),
	)
	waitFor(t, ctx, "the page refuses the PDF",
		`document.getElementById('upload-error').textContent.includes('is not a .csv, .tsv or .txt file')`)

	do(t, ctx, "dropping a header without rows",
		chromedp.Evaluate[chromedp.Void](dropJS+`('header.csv', 'Donor_ID,_PATIENT\n')`),
		chromedp.WaitVisible(chromedp.ID("preview")),
		chromedp.Click(chromedp.ID("submit")),
	)
	waitFor(t, ctx, "the API's refusal shows",
		`document.getElementById('upload-error').textContent.includes('no data rows')`)
	shots.take(t, ctx, "upload-refused.png")
}

func uploadFixture(t *testing.T, ctx context.Context, base, fixture string, b *fakeBackend, shots *screenshots) string {
	do(t, ctx, "choosing the file",
		chromedp.Navigate(base+"/"),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{fixture}),
		chromedp.WaitVisible(chromedp.ID("preview")),
	)
	if cols := text(t, ctx, "columns"); !strings.Contains(cols, "Ids from _PATIENT, labels from Donor_ID") {
		t.Errorf("detected columns %q: want ids from _PATIENT, labels from Donor_ID", cols)
	}
	shots.take(t, ctx, "upload-preview.png")

	do(t, ctx, "uploading", chromedp.Click(chromedp.ID("submit")), chromedp.WaitVisible(chromedp.ID("result")))
	work := text(t, ctx, "result-link")
	if st, err := b.Status(ctx, work); err != nil || !st.GetFound() {
		t.Fatalf("the answer shows work %q, which the backend does not know", work)
	}
	if n := text(t, ctx, "result-tasks"); n != "4" {
		t.Errorf("distinct ids shown %q, want 4", n)
	}
	shots.take(t, ctx, "upload-answer.png")
	return work
}

func watchWorkFinish(t *testing.T, ctx context.Context, base, work string, shots *screenshots) {
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("result-link"))); err != nil {
		t.Fatalf("opening the work page from the answer: %v", err)
	}
	waitFor(t, ctx, "the progress bar reaches 100%",
		`document.getElementById('progress').value === 100 && document.getElementById('status-word').dataset.status !== 'running'`)
	do(t, ctx, "waiting for the csv link", chromedp.WaitVisible(chromedp.CSS(`#download-list a[href$="format=csv"]`)))
	if st := text(t, ctx, "status-word"); st != "completed with errors" {
		t.Errorf("status shown %q, want completed with errors", st)
	}
	if failed := text(t, ctx, "failure-rows"); !strings.Contains(failed, "DO48578") ||
		!strings.Contains(failed, "screenshot") || !strings.Contains(failed, "page HTML") {
		t.Errorf("failed ids table %q lacks DO48578 and its evidence", failed)
	}
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`document.querySelector('#failure-rows a[href$="/html"]').getAttribute('href')`))
	if err != nil || !strings.HasPrefix(fetch(t, base+html), "<html>") {
		t.Errorf("the page HTML link %q (err %v) does not serve the kept page", html, err)
	}
	shots.take(t, ctx, "work-finished.png")

	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`document.querySelector('#download-list a[href$="format=csv"]').href`))
	if err != nil {
		t.Fatal(err)
	}
	body := fetch(t, href)
	if !strings.HasPrefix(body, "Type,SP101724,SP79365,SP98853\n") {
		t.Errorf("csv download %q does not start with the labels of the completed ids", body)
	}
	if !strings.HasSuffix(href, "/download/"+work+"?format=csv") {
		t.Errorf("csv link %s is not the download of work %s", href, work)
	}
}

// fixtureCounts reads the counts of a fixture profile.
func fixtureCounts(t *testing.T, id string) [96]int64 {
	t.Helper()
	p, err := profile.Parse(fixtures.Profile(t, id), id)
	if err != nil {
		t.Fatal(err)
	}
	return p.Counts
}

// imagesLoadedJS is true once every image matched by the selector has
// loaded and decoded at the given natural size.
const imagesLoadedJS = `((selector, n, w, h) => {
	const imgs = [...document.querySelectorAll(selector)];
	return imgs.length === n && imgs.every((img) => img.complete && img.naturalWidth === w && img.naturalHeight === h);
})`

// viewPlots checks the profiles of the finished work: the mean plot and a
// thumbnail per completed id load at their sizes, a thumbnail opens the
// larger plot, the scale switch redraws the thumbnails, and the plots zip
// is offered.
func viewPlots(t *testing.T, ctx context.Context, shots *screenshots) {
	waitFor(t, ctx, "the profiles are listed", `document.querySelectorAll('#plot-rows tr').length === 3`)
	do(t, ctx, "scrolling to the profiles", chromedp.ScrollIntoView(chromedp.ID("plots")))
	waitFor(t, ctx, "the thumbnails load", imagesLoadedJS+`('#plot-rows img', 3, 320, 120)`)
	waitFor(t, ctx, "the mean plot loads", imagesLoadedJS+`('#mean-plot', 1, 960, 360)`)
	if rows := text(t, ctx, "plot-rows"); !strings.Contains(rows, "SP79365") || !strings.Contains(rows, "DO36062") {
		t.Errorf("profiles table %q lacks SP79365 of DO36062", rows)
	}
	shots.take(t, ctx, "work-plots.png")

	do(t, ctx, "opening a plot", chromedp.Click(chromedp.CSS(`#plot-rows tr:nth-child(2) button.thumb`)))
	waitFor(t, ctx, "the larger plot loads", imagesLoadedJS+`('#plot-dialog[open] #plot-view', 1, 960, 360)`)
	if title := text(t, ctx, "plot-dialog-title"); title != "SP79365 · donor DO36062" {
		t.Errorf("dialog title %q", title)
	}
	shots.take(t, ctx, "plot-dialog.png")
	do(t, ctx, "closing the plot", chromedp.Click(chromedp.ID("plot-close")))
	waitFor(t, ctx, "the dialog closes", `!document.getElementById('plot-dialog').open`)

	do(t, ctx, "switching to proportions", chromedp.SetValue(chromedp.ID("plot-scale"), "proportions"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('plot-scale').dispatchEvent(new Event('change'))`))
	waitFor(t, ctx, "the thumbnails show proportions", imagesLoadedJS+`('#plot-rows img[src*="scale=proportions"]', 3, 320, 120)`)

	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`document.querySelector('#download-list a[href$="format=plots"]').href`))
	if err != nil {
		t.Fatalf("finding the plots download: %v", err)
	}
	if zip := fetch(t, href); !strings.HasPrefix(zip, "PK\x03\x04") {
		t.Errorf("plots download starts %q, not as a zip", zip[:min(len(zip), 8)])
	}
}

func fetch(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(data)
}

func cancelFromPage(t *testing.T, ctx context.Context, base, work string, b *fakeBackend, shots *screenshots) {
	do(t, ctx, "opening the running work", chromedp.Navigate(base+"/works/"+work))
	waitFor(t, ctx, "the work shows running", `document.getElementById('status-word').dataset.status === 'running'`)
	do(t, ctx, "cancelling",
		chromedp.Click(chromedp.ID("cancel")),
		chromedp.WaitVisible(chromedp.ID("cancel-confirm")),
		chromedp.Click(chromedp.ID("cancel-confirm")),
	)
	waitFor(t, ctx, "the work shows cancelled", `document.getElementById('status-word').dataset.status === 'cancelled'`)
	if st, _ := b.Status(ctx, work); st.GetStatus() != "cancelled" {
		t.Errorf("backend status of the cancelled work is %q", st.GetStatus())
	}
	disabled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('cancel').disabled`))
	if err != nil || !disabled {
		t.Errorf("the cancel button is still enabled after cancelling (err %v)", err)
	}
	shots.take(t, ctx, "work-cancelled.png")
}

// checkSourceBanner shows the banner of a node whose source cannot fetch on
// the upload page and on a running work's page, and its absence otherwise.
func checkSourceBanner(t *testing.T, ctx context.Context, base string, b *fakeBackend, shots *screenshots) {
	const problem = "source unavailable: no Chromium found; install it with 'apt-get install chromium'"
	hidden := `document.getElementById('source-banner').hidden`
	do(t, ctx, "opening the upload page", chromedp.Navigate(base+"/"))
	if shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](hidden)); err != nil || !shown {
		t.Errorf("the source banner shows while the source works (err %v)", err)
	}

	b.setSourceErr(errors.New(problem))
	defer b.setSourceErr(nil)
	do(t, ctx, "reopening the upload page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("source-banner")))
	if got := text(t, ctx, "source-problem"); got != problem {
		t.Errorf("banner says %q, want %q", got, problem)
	}
	shots.take(t, ctx, "upload-source-unavailable.png")

	work := b.addWork(3, time.Hour)
	do(t, ctx, "opening a running work", chromedp.Navigate(base+"/works/"+work))
	waitFor(t, ctx, "the work shows running", `document.getElementById('status-word').dataset.status === 'running'`)
	b.setSourceErr(nil)
	waitFor(t, ctx, "the banner goes once the source works", hidden)
}

func browseRecent(t *testing.T, ctx context.Context, base, newest string, shots *screenshots) {
	do(t, ctx, "opening recent works", chromedp.Navigate(base+"/recent"))
	waitFor(t, ctx, "two works are listed", `document.querySelectorAll('#works-rows tr').length === 2`)
	first, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#works-rows tr a').textContent`))
	if err != nil || first != newest {
		t.Errorf("first listed work %q (err %v), want the newest %s", first, err, newest)
	}
	shots.take(t, ctx, "recent.png")
}

func changeLimits(t *testing.T, ctx context.Context, base string, b *fakeBackend, shots *screenshots) {
	do(t, ctx, "opening admin", chromedp.Navigate(base+"/admin"), chromedp.WaitVisible(chromedp.ID("token")))
	shots.take(t, ctx, "admin-token.png")
	do(t, ctx, "giving the token",
		chromedp.SendKeys(chromedp.ID("token"), adminToken),
		chromedp.Click(chromedp.CSS(`#token-form button[type="submit"]`)),
	)
	waitFor(t, ctx, "the limits and members show",
		`document.getElementById('min-interval').value === '1000' && document.querySelectorAll('#member-rows tr').length === 2`)
	do(t, ctx, "changing the limits",
		chromedp.SetValue(chromedp.ID("min-interval"), "1500"),
		chromedp.SetValue(chromedp.ID("max-interval"), "4000"),
		chromedp.SetValue(chromedp.ID("max-concurrency"), "3"),
		chromedp.Click(chromedp.ID("save-limits")),
	)
	waitFor(t, ctx, "the limits are saved", `document.getElementById('limits-status').textContent.startsWith('Saved')`)
	l := b.currentLimits()
	if l.MinInterval != 1500*time.Millisecond || l.MaxInterval != 4*time.Second || l.MaxConcurrency != 3 {
		t.Errorf("backend limits %+v after saving 1500, 4000, 3", l)
	}
	kept, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem('signalscrape.adminToken')`))
	if err != nil || kept != adminToken {
		t.Errorf("sessionStorage holds token %q (err %v)", kept, err)
	}
	shots.take(t, ctx, "admin.png")
}

// columns is what the preview's detectColumns returns.
type columns struct {
	Header bool   `json:"header"`
	ID     *int   `json:"id"`
	Label  *int   `json:"label"`
	Error  string `json:"error"`
}

func (c columns) String() string {
	show := func(p *int) string {
		if p == nil {
			return "none"
		}
		return strconv.Itoa(*p)
	}
	return fmt.Sprintf("header %t, id %s, label %s, error %q", c.Header, show(c.ID), show(c.Label), c.Error)
}

// checkColumnRules checks that the preview's rules in columns.js find the
// columns that the server's rules (package http/upload) find.
func checkColumnRules(t *testing.T, ctx context.Context) {
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](`import('/static/columns.js').then((m) => [
		m.detectColumns(['Donor_ID', '_PATIENT']),
		m.detectColumns(['DO1000']),
		m.detectColumns(['donor']),
		m.detectColumns(['id', 'label']),
		m.detectColumns(['specimen', 'sample']),
		m.detectColumns(['a', 'b'], {idColumn: 'B'}),
	])`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluating the column rules: %v", err)
	}
	var got []columns
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	idx := func(i int) *int { return &i }
	want := []columns{
		{Header: true, ID: idx(1), Label: idx(0)},
		{Header: false, ID: idx(0), Label: idx(0)},
		{Header: true, ID: idx(0), Label: idx(0)},
		{Header: true, ID: idx(0), Label: idx(1)},
		{Header: true, Error: "No id column"},
		{Header: true, ID: idx(1), Label: idx(1)},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d results, want %d", len(got), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i].Error, want[i].Error) || (want[i].Error == "") != (got[i].Error == "") {
			t.Errorf("case %d: got %v, want %v", i, got[i], want[i])
			continue
		}
		got[i].Error = want[i].Error
		if got[i].String() != want[i].String() {
			t.Errorf("case %d: got %v, want %v", i, got[i], want[i])
		}
	}
	delim, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`import('/static/columns.js').then((m) => m.sniffDelimiter('a;b,c\n1;2,3\n4;5\n', true))`, chromedp.EvalAwaitPromise))
	if err != nil || delim != ";" {
		t.Errorf("delimiter of rows with steady ';' and varying ',' is %q (err %v), want ;", delim, err)
	}
}

func checkPhoneLayout(t *testing.T, ctx context.Context, base, work string, shots *screenshots) {
	do(t, ctx, "emulating a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	for _, p := range []struct{ path, shot string }{
		{"/", "phone-upload.png"},
		{"/works/" + work, "phone-work.png"},
		{"/recent", "phone-recent.png"},
		{"/admin", "phone-admin.png"},
	} {
		do(t, ctx, "opening "+p.path, chromedp.Navigate(base+p.path))
		waitFor(t, ctx, "the page is loaded", `document.readyState === 'complete'`)
		fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
			`document.documentElement.scrollWidth <= window.innerWidth`))
		if err != nil || !fits {
			t.Errorf("%s is wider than a phone's screen (err %v)", p.path, err)
		}
		shots.take(t, ctx, p.shot)
	}
	if err := chromedp.Do(ctx, chromedp.ResetViewport()); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("resetting the viewport: %v", err)
	}
}
