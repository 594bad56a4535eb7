package browser

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/signalscrape/signalscrape/source"
)

// Fetch downloads donorID's profile through the site's pages, in a fresh
// browser context of the Source's browser. The body is the downloaded file,
// unvalidated. Errors:
//   - source.ErrUnavailable when Chromium is missing or cannot run;
//   - source.ErrNotFound when the search preview shows no result for the
//     donor, inside a *source.FetchError with a screenshot;
//   - *source.ThrottledError when the site answered 429 or 503 during a
//     fetch that failed;
//   - anything else is worth a retry; when a step of the page failed it
//     comes as a *source.FetchError whose evidence is a PNG screenshot of
//     the page and whose chain holds a *StepError with the page's HTML.
func (s *Source) Fetch(ctx context.Context, donorID string) (source.Result, error) {
	if donorID == "" {
		return source.Result{}, errors.New("fetching profile: empty donor id")
	}
	if s.missing != nil {
		return source.Result{}, s.missing
	}
	select {
	case s.tabs <- struct{}{}:
	case <-ctx.Done():
		return source.Result{}, fmt.Errorf("waiting for a browser tab: %w", ctx.Err())
	}
	defer func() { <-s.tabs }()

	inst, err := s.lease(ctx)
	if err != nil {
		return source.Result{}, fmt.Errorf("fetching %s in the browser: %w", donorID, err)
	}
	defer func() { s.release(inst, s.overMemory(inst)) }()
	return s.fetchIn(ctx, inst, donorID)
}

// fetch is one donor's visit to the site, in a tab of its own. Its steps run
// one after the other.
type fetch struct {
	s     *Source
	id    string
	tab   context.Context
	watch *watcher
	// browserContext is the incognito-like context of the tab.
	browserContext cdp.BrowserContextID
	dir            string
	pageURL        string
}

// fetchIn runs a fetch in inst. The tab closes, and its browser context is
// disposed of, when fetchIn returns or ctx ends.
func (s *Source) fetchIn(ctx context.Context, inst *instance, id string) (source.Result, error) {
	parent, cancel := context.WithCancel(inst.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	tab, closeTab := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	defer closeTab()

	f := &fetch{s: s, id: id, tab: tab}
	body, err := f.run(cancel)
	if err != nil {
		if ctx.Err() != nil {
			return source.Result{}, fmt.Errorf("fetching %s in the browser: %w", id, ctx.Err())
		}
		return source.Result{}, f.fail(err)
	}
	s.logger.Debug("profile downloaded", "donor_id", id, "url", f.pageURL, "bytes", len(body))
	return source.Result{Body: body, URL: f.pageURL}, nil
}

// step is one step of a fetch, bounded by Config.StepTimeout.
type step struct {
	name string
	do   func(ctx context.Context) error
}

func (f *fetch) run(cancelTab context.CancelFunc) ([]byte, error) {
	if err := f.open(cancelTab); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(f.s.downloads, "fetch-")
	if err != nil {
		return nil, fmt.Errorf("making download directory: %w", err)
	}
	defer f.removeDir(dir)
	f.dir = dir

	var body []byte
	steps := []step{
		{"allow downloads", f.allowDownloads},
		{"open home page", f.openHome},
		{"open search", f.openSearch},
		{"type donor id", f.typeID},
		{"follow preview link", f.followPreview},
		{"wait for download button", f.waitSamplePage},
		{"download", func(ctx context.Context) (err error) {
			body, err = f.download(ctx)
			return err
		}},
	}
	for _, st := range steps {
		ctx, cancel := context.WithTimeout(f.tab, f.s.cfg.StepTimeout)
		err := st.do(ctx)
		cancel()
		if err != nil {
			return nil, &StepError{Step: st.name, Err: err}
		}
	}
	return body, nil
}

// open creates the tab and its browser context. The first run of a chromedp
// context must not carry a deadline, as the tab lives on it, so a timer
// cancels the tab instead.
func (f *fetch) open(cancelTab context.CancelFunc) error {
	timer := time.AfterFunc(f.s.cfg.StepTimeout, cancelTab)
	err := chromedp.Do(f.tab)
	timer.Stop()
	if err != nil {
		return fmt.Errorf("opening a tab: %w", err)
	}
	c := chromedp.FromContext(f.tab)
	f.browserContext = c.BrowserContextID
	f.watch = newWatcher(cdp.FrameID(c.Target.TargetID), f.s.host)
	if err := chromedp.ListenBrowser(f.tab, f.watch.onBrowserEvent); err != nil {
		return fmt.Errorf("listening to the browser: %w", err)
	}
	if err := chromedp.Listen(f.tab, f.watch.onTabEvent); err != nil {
		return fmt.Errorf("listening to the tab: %w", err)
	}
	return nil
}

func (f *fetch) removeDir(dir string) {
	if err := os.RemoveAll(dir); err != nil {
		f.s.logger.Warn("removing download directory", "donor_id", f.id, "err", err)
	}
}

// allowDownloads saves the downloads of the tab's browser context in the
// fetch's own directory, each named by its GUID, and reports them.
func (f *fetch) allowDownloads(ctx context.Context) error {
	_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior:         cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName,
		BrowserContextID: f.browserContext,
		DownloadPath:     f.dir,
		EventsEnabled:    new(true),
	})
	return err
}

func (f *fetch) openHome(ctx context.Context) error {
	return chromedp.Do(ctx, chromedp.Navigate(f.s.cfg.BaseURL))
}

func (f *fetch) openSearch(ctx context.Context) error {
	return chromedp.Do(ctx, chromedp.Click(chromedp.CSS(f.s.cfg.Selectors.SearchContainer)))
}

func (f *fetch) typeID(ctx context.Context) error {
	return chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(f.s.cfg.Selectors.SearchInput), f.id))
}

// waitSamplePage waits for the download button and checks that the page is
// the donor's.
func (f *fetch) waitSamplePage(ctx context.Context) error {
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(f.s.cfg.Selectors.DownloadButton))); err != nil {
		return err
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return err
	}
	if !namesDonor(loc, f.id) {
		return fmt.Errorf("the page %s is not the donor's", loc)
	}
	f.pageURL = loc
	return nil
}

// download presses the button, waits for the browser to finish the
// download, and reads the file.
func (f *fetch) download(ctx context.Context) ([]byte, error) {
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(f.s.cfg.Selectors.DownloadButton))); err != nil {
		return nil, err
	}
	guid, err := f.watch.wait(ctx)
	if err != nil {
		return nil, err
	}
	return readDownload(f.dir, guid)
}

// readDownload reads the file the browser saved as dir/guid.
func readDownload(dir, guid string) ([]byte, error) {
	if !safeName(guid) {
		return nil, fmt.Errorf("download guid %q is not a plain file name", guid)
	}
	name := filepath.Join(dir, guid)
	info, err := os.Stat(name)
	if err != nil {
		return nil, fmt.Errorf("finding the download: %w", err)
	}
	if info.Size() > MaxBody {
		return nil, fmt.Errorf("download of %d bytes, more than %d", info.Size(), MaxBody)
	}
	body, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading the download: %w", err)
	}
	return body, nil
}

// safeName reports whether s is a GUID-like file name: letters, digits and
// '-' only.
func safeName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// namesDonor reports whether the last segment of rawURL's path is id.
func namesDonor(rawURL, id string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && u.Path != "" && path.Base(u.Path) == id
}
