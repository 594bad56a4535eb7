package web

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// minContrast is the WCAG AA contrast ratio for normal text.
const minContrast = 4.5

// rgba is a colour as the browser computes it: red, green and blue from 0
// to 255, alpha from 0 to 1.
type rgba [4]float64

func (c rgba) String() string {
	if c[3] == 1 {
		return fmt.Sprintf("#%02x%02x%02x", int(c[0]), int(c[1]), int(c[2]))
	}
	return fmt.Sprintf("rgba(%g, %g, %g, %g)", c[0], c[1], c[2], c[3])
}

// over paints c over the opaque colour below.
func (c rgba) over(below rgba) rgba {
	a := c[3]
	return rgba{c[0]*a + below[0]*(1-a), c[1]*a + below[1]*(1-a), c[2]*a + below[2]*(1-a), 1}
}

// luminance is the WCAG relative luminance of an opaque colour.
func (c rgba) luminance() float64 {
	linear := func(v float64) float64 {
		v /= 255
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*linear(c[0]) + 0.7152*linear(c[1]) + 0.0722*linear(c[2])
}

// contrastRatio is the WCAG contrast ratio of two opaque colours, from 1
// to 21.
func contrastRatio(a, b rgba) float64 {
	la, lb := a.luminance(), b.luminance()
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

func TestContrastRatio(t *testing.T) {
	black, white := rgba{0, 0, 0, 1}, rgba{255, 255, 255, 1}
	for _, c := range []struct {
		a, b rgba
		want float64
	}{
		{black, white, 21},
		{white, white, 1},
		{rgba{0x77, 0x77, 0x77, 1}, white, 4.48},
		{rgba{0x0b, 0x57, 0xd0, 1}, white, 6.39},
		{rgba{0, 0, 0, 0.5}.over(white), white, 3.98},
	} {
		if got := contrastRatio(c.a, c.b); math.Abs(got-c.want) > 0.01 {
			t.Errorf("contrast of %v on %v is %.3f, want %.2f", c.a, c.b, got, c.want)
		}
	}
}

// coloursJS reads the text colour of the first element the selector
// matches, whether it shows, and the background colours of the element and
// its ancestors, innermost first.
const coloursJS = `((selector) => {
	const el = document.querySelector(selector);
	if (!el) {
		return null;
	}
	const rgba = (css) => {
		const n = css.match(/[0-9.]+/g).map(Number);
		return [n[0], n[1], n[2], n.length > 3 ? n[3] : 1];
	};
	const backgrounds = [];
	for (let e = el; e; e = e.parentElement) {
		backgrounds.push(rgba(getComputedStyle(e).backgroundColor));
	}
	return {text: rgba(getComputedStyle(el).color), backgrounds, visible: el.checkVisibility()};
})`

// colours is what coloursJS returns.
type colours struct {
	Text        rgba   `json:"text"`
	Backgrounds []rgba `json:"backgrounds"`
	Visible     bool   `json:"visible"`
}

// background paints the backgrounds from the page's white canvas up to
// the element, and returns the colour behind the element's text.
func (c colours) background() rgba {
	bg := rgba{255, 255, 255, 1}
	for i := len(c.Backgrounds) - 1; i >= 0; i-- {
		bg = c.Backgrounds[i].over(bg)
	}
	return bg
}

// contrastCheck names an element whose text must stand out.
type contrastCheck struct {
	what, selector string
}

// checkContrast checks that the text of each element shows against the
// colour behind it with at least the WCAG AA ratio. Each element is given a
// few seconds to appear, since parts of a page are filled in as their data
// arrives.
func checkContrast(t *testing.T, ctx context.Context, page string, checks []contrastCheck) {
	t.Helper()
	for _, c := range checks {
		waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = chromedp.Do(waitCtx, chromedp.WaitVisible(chromedp.CSS(c.selector)))
		cancel()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[*colours](coloursJS+"("+jsString(c.selector)+")"))
		switch {
		case err != nil:
			t.Fatalf("%s: reading the colours of %s: %v", page, c.selector, err)
		case got == nil || !got.Visible:
			t.Errorf("%s: no %s (%s) shows to check its contrast", page, c.what, c.selector)
		default:
			bg := got.background()
			if r := contrastRatio(got.Text.over(bg), bg); r < minContrast {
				t.Errorf("%s: %s (%s) has text %v on %v, a contrast of %.2f:1; WCAG AA wants %.1f:1",
					page, c.what, c.selector, got.Text, bg, r, minContrast)
			}
		}
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return fmt.Sprintf("%q", s)
}

// checkPageContrast checks the main kinds of text on the pages: body text,
// muted text, links, buttons, badges and the error alert.
func checkPageContrast(t *testing.T, ctx context.Context, base, running, finished string) {
	do(t, ctx, "showing an error on the upload page",
		chromedp.Navigate(base+"/"),
		chromedp.Evaluate[chromedp.Void](dropJS+`('profiles.pdf', '%PDF-1.4')`),
	)
	waitFor(t, ctx, "the error shows", `document.getElementById('upload-error').textContent !== ''`)
	checkContrast(t, ctx, "upload page", []contrastCheck{
		{"heading", "main h1"},
		{"lead text", "main .lead"},
		{"help text", "#file-help"},
		{"primary button", "#submit"},
		{"error text", "#upload-error"},
		{"header link", ".site-header a[aria-current]"},
		{"footer text", ".site-footer p"},
	})

	do(t, ctx, "opening the running work", chromedp.Navigate(base+"/works/"+running))
	waitFor(t, ctx, "the work shows running", `document.getElementById('status-word').dataset.status === 'running'`)
	checkContrast(t, ctx, "running work", []contrastCheck{
		{"status badge", "#status-word"},
		{"count label", ".counts dt"},
		{"count", "#count-completed"},
		{"danger button", "#cancel"},
		{"evidence link", "#failure-rows a"},
	})

	do(t, ctx, "opening the finished work", chromedp.Navigate(base+"/works/"+finished))
	do(t, ctx, "waiting for the downloads", chromedp.WaitVisible(chromedp.CSS("#download-list a")))
	checkContrast(t, ctx, "finished work", []contrastCheck{
		{"status badge", "#status-word"},
		{"download button", "#download-list a"},
		{"table caption", "#plots caption"},
	})

	do(t, ctx, "opening recent works", chromedp.Navigate(base+"/recent"),
		chromedp.WaitVisible(chromedp.CSS("#works-rows a")))
	checkContrast(t, ctx, "recent works", []contrastCheck{
		{"work link", "#works-rows a"},
		{"table cell", "#works-rows td"},
		{"status badge", "#works-rows .badge"},
		{"pager button", "#next-page"},
	})
}
