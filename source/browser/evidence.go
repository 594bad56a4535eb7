package browser

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/signalscrape/signalscrape/source"
)

const (
	// evidenceTimeout bounds taking the screenshot and the HTML of a page.
	evidenceTimeout = 5 * time.Second
	// MaxHTML is the most of a page's HTML a StepError keeps.
	MaxHTML = 256 << 10
)

// StepError is a failed step of a fetch, with the page it failed on. Fetch
// returns it inside a *source.FetchError whose evidence is the page's
// screenshot and whose Page is its HTML; errors.As finds it there. Its
// message leaves the HTML out.
type StepError struct {
	// Step names the step: "open home page", "follow preview link",
	// "wait for download button", "download" and so on.
	Step string
	// URL is the page's address when the step failed, if it could be read.
	URL string
	// HTML is the page's HTML when the step failed, cut to MaxHTML bytes;
	// empty if it could not be read.
	HTML string
	Err  error
}

func (e *StepError) Error() string {
	if e.URL == "" {
		return fmt.Sprintf("browser step %q: %v", e.Step, e.Err)
	}
	return fmt.Sprintf("browser step %q at %s: %v", e.Step, e.URL, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// fail turns the error of a fetch into the error Fetch returns: the site's
// request to slow down if it made one, else the error with the page's
// screenshot and HTML as evidence, and its URL and HTML in the StepError.
func (f *fetch) fail(err error) error {
	if t := f.watch.throttle(); t != nil {
		return t
	}
	var throttled *source.ThrottledError
	if errors.As(err, &throttled) {
		return throttled
	}
	wrapped := fmt.Errorf("fetching %s in the browser: %w", f.id, err)
	var se *StepError
	if !errors.As(err, &se) {
		return wrapped
	}
	png := f.capture(se)
	fe := &source.FetchError{Err: wrapped}
	if png != nil {
		fe.Evidence = &source.Evidence{ContentType: "image/png", Data: png}
	}
	if se.HTML != "" {
		fe.Page = &source.Evidence{ContentType: "text/html; charset=utf-8", Data: []byte(se.HTML)}
	}
	if fe.Evidence == nil && fe.Page == nil {
		return wrapped
	}
	return fe
}

// capture takes a screenshot of the tab and fills in the URL and HTML of se.
// It returns nil when the tab cannot be captured any more.
func (f *fetch) capture(se *StepError) []byte {
	ctx, cancel := context.WithTimeout(f.tab, evidenceTimeout)
	defer cancel()
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		se.URL = loc
	}
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`document.documentElement ? document.documentElement.outerHTML : ""`))
	if err == nil {
		se.HTML = html[:min(len(html), MaxHTML)]
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		f.s.logger.Debug("taking a screenshot", "donor_id", f.id, "err", err)
		return nil
	}
	return png
}
