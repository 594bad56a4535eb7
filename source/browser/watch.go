package browser

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"

	"github.com/signalscrape/signalscrape/source"
)

const (
	// defaultRetryAfter is the wait after a 429 or 503 without a readable
	// Retry-After.
	defaultRetryAfter = 30 * time.Second
	// maxRetryAfter caps the wait the site may ask for.
	maxRetryAfter = time.Hour
)

// watcher follows the events of one fetch: the download its tab starts, and
// any answer of the site that asks to slow down. Its callbacks run in
// chromedp's event loops and only record; wait reads.
type watcher struct {
	frame cdp.FrameID // the tab's main frame, whose downloads are ours
	host  string      // the site's host

	mu        sync.Mutex
	guid      string
	state     cdpbrowser.DownloadProgressState
	throttled *source.ThrottledError
	// changed has a value when something was recorded since the last
	// wait.
	changed chan struct{}
}

func newWatcher(frame cdp.FrameID, host string) *watcher {
	return &watcher{frame: frame, host: host, changed: make(chan struct{}, 1)}
}

// onBrowserEvent records the first download of the tab's frame and its
// progress.
func (w *watcher) onBrowserEvent(ev any) {
	switch ev := ev.(type) {
	case *cdpbrowser.EventDownloadWillBegin:
		w.record(func() {
			if ev.FrameID == w.frame && w.guid == "" {
				w.guid = ev.GUID
			}
		})
	case *cdpbrowser.EventDownloadProgress:
		w.record(func() {
			if w.guid != "" && ev.GUID == w.guid {
				w.state = ev.State
			}
		})
	}
}

// onTabEvent records the first 429 or 503 from the site.
func (w *watcher) onTabEvent(ev any) {
	resp, ok := ev.(*network.EventResponseReceived)
	if !ok || resp.Response == nil {
		return
	}
	status := int(resp.Response.Status)
	if status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable {
		return
	}
	if u, err := url.Parse(resp.Response.URL); err != nil || u.Host != w.host {
		return
	}
	until := retryAt(headerValue(resp.Response.Headers, "Retry-After"), time.Now())
	w.record(func() {
		if w.throttled == nil {
			w.throttled = &source.ThrottledError{Status: status, Until: until}
		}
	})
}

func (w *watcher) record(change func()) {
	w.mu.Lock()
	change()
	w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// throttle returns the site's request to slow down, or nil.
func (w *watcher) throttle() *source.ThrottledError {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.throttled
}

// wait returns the GUID of the tab's download once it has completed.
func (w *watcher) wait(ctx context.Context) (string, error) {
	for {
		w.mu.Lock()
		guid, state, throttled := w.guid, w.state, w.throttled
		w.mu.Unlock()
		switch {
		case throttled != nil:
			return "", throttled
		case state == cdpbrowser.DownloadProgressStateCompleted:
			return guid, nil
		case state == cdpbrowser.DownloadProgressStateCanceled:
			return "", errors.New("the browser canceled the download")
		}
		select {
		case <-w.changed:
		case <-ctx.Done():
			if guid == "" {
				return "", fmt.Errorf("no download began: %w", ctx.Err())
			}
			return "", fmt.Errorf("download %s did not complete: %w", guid, ctx.Err())
		}
	}
}

// headerValue finds a header whatever the case of its name.
func headerValue(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// retryAt reads a Retry-After header, delta seconds or an HTTP date, into
// the time the site may be asked again: defaultRetryAfter from now when it
// is missing or unreadable, never later than maxRetryAfter from now.
func retryAt(header string, now time.Time) time.Time {
	wait := defaultRetryAfter
	header = strings.TrimSpace(header)
	if secs, err := strconv.ParseUint(header, 10, 63); err == nil {
		wait = time.Duration(min(secs, uint64(maxRetryAfter/time.Second))) * time.Second
	} else if at, err := http.ParseTime(header); err == nil {
		wait = max(at.Sub(now), 0)
	}
	return now.Add(min(wait, maxRetryAfter))
}
