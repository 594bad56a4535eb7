package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/signalscrape/signalscrape/http/client"
	"github.com/signalscrape/signalscrape/profile/fixtures"
)

// uiChromium is where Debian installs Chromium.
const uiChromium = "/usr/bin/chromium"

// uiToken is the admin token of the node the web UI test drives.
const uiToken = "ui-test-token"

// uiWait bounds each wait for a page to reach a state.
const uiWait = 30 * time.Second

// TestWebUI drives the web UI of a running node, fetching from a running
// mock-signal, in headless Chromium: it uploads a fixture through the file
// input, follows the bar to 100%, downloads the matrix through the page and
// compares it with the fixtures, cancels another work with the keyboard,
// and changes the limits on the admin page. Screenshots go next to the
// process logs ($SIGNALSCRAPE_ARTIFACTS or a temporary directory).
func TestWebUI(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	needUIChromium(t)
	m := startMock(t, "--latency", "1ms")
	n := launchNode(t, m, nodeSpec{name: "webui", dataDir: t.TempDir(), extra: []string{"--admin-token", uiToken}})
	base := "http://" + n.http
	ui := newUIBrowser(t)
	input := fixtures.Path(t, "small_4_ids.csv")

	work := ui.uploadFile(t, base, input)
	ui.followToEnd(t, base, work)
	ui.downloadMatrix(t, input)
	ui.cancelOther(t, n)
	ui.changeLimits(t, base, n)
	t.Logf("screenshots in %s", ui.shots)
}

// needUIChromium fails without Chromium, unless SIGNALSCRAPE_SKIP_BROWSER=1
// asks to skip.
func needUIChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(uiChromium); err == nil {
		return
	}
	if os.Getenv("SIGNALSCRAPE_SKIP_BROWSER") == "1" {
		t.Skipf("%s is missing and SIGNALSCRAPE_SKIP_BROWSER=1", uiChromium)
	}
	t.Fatalf("the web UI test needs Chromium at %s (Debian package chromium); set SIGNALSCRAPE_SKIP_BROWSER=1 to skip it", uiChromium)
}

// uiBrowser is a headless Chromium tab that saves downloads in downloads
// and screenshots in shots.
type uiBrowser struct {
	ctx       context.Context
	downloads string
	shots     string
}

func newUIBrowser(t *testing.T) *uiBrowser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(uiChromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}

	shots := filepath.Join(artifactDir(t), "webui-screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &uiBrowser{ctx: ctx, downloads: t.TempDir(), shots: shots}
	_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior:     cdpbrowser.SetDownloadBehaviorBehaviorAllow,
		DownloadPath: b.downloads,
	})
	if err != nil {
		t.Fatalf("allowing downloads: %v", err)
	}
	return b
}

// do runs actions, failing the test with what was being done.
func (b *uiBrowser) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// until polls a JavaScript condition until it holds.
func (b *uiBrowser) until(t *testing.T, what, condition string) {
	t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](condition,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(uiWait)))
	if err != nil {
		b.shot(t, "failed-"+strings.ReplaceAll(what, " ", "-")+".png")
		t.Fatalf("waiting until %s: %v", what, err)
	}
}

func (b *uiBrowser) text(t *testing.T, id string) string {
	t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.ID(id)))
	if err != nil {
		t.Fatalf("reading #%s: %v", id, err)
	}
	return strings.TrimSpace(s)
}

// shot saves a screenshot of the whole page; a failure to take it is only
// logged, as it must not hide the test's own failure.
func (b *uiBrowser) shot(t *testing.T, name string) {
	t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(filepath.Join(b.shots, name), png, 0o644)
	}
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}

// uploadFile picks input in the upload page's file input, submits it and
// returns the work id the page shows.
func (b *uiBrowser) uploadFile(t *testing.T, base, input string) string {
	b.do(t, "choosing the file",
		chromedp.Navigate(base+"/"),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{input}),
		chromedp.WaitVisible(chromedp.ID("preview")),
	)
	b.shot(t, "upload-preview.png")
	b.do(t, "uploading", chromedp.Click(chromedp.ID("submit")), chromedp.WaitVisible(chromedp.ID("result")))
	work := b.text(t, "result-link")
	if got := b.text(t, "result-tasks"); got != "4" {
		t.Errorf("distinct ids shown %q, want 4", got)
	}
	b.shot(t, "upload-answer.png")
	return work
}

// followToEnd opens the work's page from the upload answer and waits for
// the bar to reach 100% and the downloads to show.
func (b *uiBrowser) followToEnd(t *testing.T, base, work string) {
	if _, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.ID("result-link"))); err != nil {
		t.Fatalf("opening the work page from the upload answer: %v", err)
	}
	b.until(t, "the bar reaches 100%", `document.getElementById('progress').value === 100 &&
		!document.getElementById('downloads').hidden`)
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil || loc != base+"/works/"+work {
		t.Errorf("work page at %s (err %v), want %s/works/%s", loc, err, base, work)
	}
	if st := b.text(t, "status-word"); st != "completed with errors" {
		t.Errorf("status shown %q, want completed with errors (DO48578 is unknown to the site)", st)
	}
	if failed := b.text(t, "failure-rows"); !strings.Contains(failed, "DO48578") {
		t.Errorf("failed ids table %q lacks DO48578", failed)
	}
	b.shot(t, "work-finished.png")
}

// downloadMatrix clicks the page's CSV download and compares the file the
// browser saved with the matrix built from the fixtures.
func (b *uiBrowser) downloadMatrix(t *testing.T, input string) {
	b.do(t, "downloading the matrix", chromedp.Click(chromedp.CSS(`#download-list a[href$="format=csv"]`)))
	got := b.waitDownload(t)
	if want := expectedMatrix(t, input); got != want {
		t.Errorf("downloaded matrix differs from the fixtures:\n%s", firstDiff(got, want))
	}
}

// waitDownload waits for the browser to finish saving one file and returns
// its content.
func (b *uiBrowser) waitDownload(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(uiWait)
	for time.Now().Before(deadline) {
		entries, err := os.ReadDir(b.downloads)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 1 && !strings.HasSuffix(entries[0].Name(), ".crdownload") {
			data, err := os.ReadFile(filepath.Join(b.downloads, entries[0].Name()))
			if err != nil {
				t.Fatal(err)
			}
			if len(data) > 0 {
				return string(data)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no finished download in %s within %s", b.downloads, uiWait)
	return ""
}

// cancelOther uploads a large work through the API and cancels it on its
// page with the keyboard alone.
func (b *uiBrowser) cancelOther(t *testing.T, n *node) {
	up := upload(t, n.client, fixtures.Path(t, "pcawg_ids_matched_DonorID.csv"), client.UploadOptions{})
	b.do(t, "opening the large work", chromedp.Navigate("http://"+n.http+"/works/"+up.IDWork))
	b.until(t, "the cancel button is enabled", `!document.getElementById('cancel').disabled`)
	b.do(t, "cancelling with the keyboard",
		chromedp.Focus(chromedp.ID("cancel")),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.ID("cancel-confirm")),
	)
	focused, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.activeElement.id`))
	if err != nil || focused != "cancel-confirm" {
		t.Errorf("focus on %q after asking to cancel (err %v), want the confirm button", focused, err)
	}
	b.do(t, "confirming with the keyboard", chromedp.KeyEvent(kb.Enter))
	b.until(t, "the work shows cancelled", `document.getElementById('status-word').dataset.status === 'cancelled'`)
	b.shot(t, "work-cancelled.png")

	st := waitStatus(t, n.client, up.IDWork, uiWait, finished)
	if st.Status != client.StatusCancelled || st.Counts.Cancelled == 0 {
		t.Errorf("the node has work %s %s with %d cancelled ids, want it cancelled", up.IDWork, st.Status, st.Counts.Cancelled)
	}
}

// changeLimits gives the admin token on the admin page, checks the cluster
// facts it shows and saves new limits, which the node then applies.
func (b *uiBrowser) changeLimits(t *testing.T, base string, n *node) {
	b.do(t, "opening admin", chromedp.Navigate(base+"/admin"), chromedp.WaitVisible(chromedp.ID("token")))
	b.do(t, "giving the token",
		chromedp.SendKeys(chromedp.ID("token"), uiToken),
		chromedp.Click(chromedp.CSS(`#token-form button[type="submit"]`)),
	)
	b.until(t, "the limits and the member show", `document.getElementById('min-interval').value === '30' &&
		document.getElementById('member-rows').textContent.includes('webui') &&
		document.getElementById('bucket-member').textContent === 'webui'`)
	if inFlight := b.text(t, "bucket-in-flight"); inFlight == "–" || inFlight == "" {
		t.Errorf("in-flight permits shown %q, want a number", inFlight)
	}
	b.do(t, "changing the limits",
		chromedp.SetValue(chromedp.ID("min-interval"), "40"),
		chromedp.SetValue(chromedp.ID("max-interval"), "90"),
		chromedp.SetValue(chromedp.ID("max-concurrency"), "1"),
		chromedp.Click(chromedp.ID("save-limits")),
	)
	b.until(t, "the limits are saved", `document.getElementById('limits-status').textContent.startsWith('Saved')`)
	b.shot(t, "admin.png")

	admin, err := client.New("http://"+n.http, client.WithAdminToken(uiToken))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := admin.Limits(ctx)
	if err != nil || l.MinIntervalMS != 40 || l.MaxIntervalMS != 90 || l.MaxConcurrency != 1 {
		t.Errorf("node limits %+v (err %v) after saving 40, 90, 1 on the page", l, err)
	}
}
