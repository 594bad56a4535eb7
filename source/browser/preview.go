package browser

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/signalscrape/signalscrape/source"
)

// previewPoll is how often the preview is looked at.
const previewPoll = 100 * time.Millisecond

// previewScript looks at the search preview. It returns {state: "found",
// index: i} when the i-th element that matches linkSel links to the donor,
// {state: "none"} once the page has shown noText, and no such link, for
// settleMS milliseconds, and null otherwise. The preview lags behind the
// typed text and shows the previous search meanwhile, so only a link that
// names the donor counts; memo keeps the time since when noText is shown
// from one call to the next.
const previewScript = `function (linkSel, id, noText, settleMS, memo) {
  const links = document.querySelectorAll(linkSel);
  for (let i = 0; i < links.length; i++) {
    try {
      const u = new URL(links[i].getAttribute('href') || '', location.href);
      const last = u.pathname.split('/').filter(Boolean).pop() || '';
      if (decodeURIComponent(last) === id) return {state: 'found', index: i};
    } catch (e) {}
  }
  const text = document.body ? document.body.innerText.toLowerCase() : '';
  if (!noText || !text.includes(noText.toLowerCase())) {
    memo.since = 0;
    return null;
  }
  if (!memo.since) memo.since = Date.now();
  return Date.now() - memo.since >= settleMS ? {state: 'none', index: -1} : null;
}`

// previewState is what previewScript found.
type previewState struct {
	State string `json:"state"`
	Index int    `json:"index"`
}

// followPreview waits until the preview links to the donor, then clicks that
// link. The preview can change between the look and the click; then it
// looks again.
func (f *fetch) followPreview(ctx context.Context) error {
	sel := f.s.cfg.Selectors.PreviewLink
	for {
		// The memo starts with a field: chromedp leaves out an argument that
		// encodes as an empty JSON object.
		st, err := chromedp.Run(ctx, chromedp.PollFunction[previewState](previewScript,
			chromedp.WithPollingInterval(previewPoll),
			chromedp.WithPollingTimeout(f.s.cfg.StepTimeout),
			chromedp.WithPollingArgs(sel, f.id, f.s.cfg.NoResultsText, f.s.cfg.NotFoundAfter.Milliseconds(), map[string]int64{"since": 0})))
		if errors.Is(err, chromedp.ErrPollingTimeout) || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("the preview never listed the donor: %w", err)
		}
		if err != nil {
			return err
		}
		if st.State == "none" {
			return fmt.Errorf("the preview shows %q and no link to the donor: %w", f.s.cfg.NoResultsText, source.ErrNotFound)
		}
		nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(sel)))
		if err != nil {
			return err
		}
		if st.Index < len(nodes) && namesDonor(nodes[st.Index].AttributeValue("href"), f.id) {
			return chromedp.Do(ctx, chromedp.MouseClickNode(nodes[st.Index]))
		}
		f.s.logger.Debug("preview changed before the click; looking again", "donor_id", f.id)
	}
}
