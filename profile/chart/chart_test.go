package chart

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/signalscrape/signalscrape/profile"
	"github.com/signalscrape/signalscrape/profile/fixtures"
)

// filledPath is a filled path of the SVG: the box around its points and its
// fill colour.
type filledPath struct {
	minX, maxX, minY, maxY float64
	fill                   string
}

var (
	pathRE  = regexp.MustCompile(`<path d="([^"]*)" style="fill:(#[0-9A-F]{6})"`)
	pointRE = regexp.MustCompile(`[ML](-?[0-9.e+-]+),(-?[0-9.e+-]+)`)
	textRE  = regexp.MustCompile(`(?s)<text [^>]*>([^<]*)</text>`)
)

// filledPaths reads every filled path of an SVG written by Write.
func filledPaths(t *testing.T, svg string) []filledPath {
	t.Helper()
	var out []filledPath
	for _, m := range pathRE.FindAllStringSubmatch(svg, -1) {
		p := filledPath{minX: math.Inf(1), maxX: math.Inf(-1), minY: math.Inf(1), maxY: math.Inf(-1), fill: m[2]}
		for _, pt := range pointRE.FindAllStringSubmatch(m[1], -1) {
			x, errX := strconv.ParseFloat(pt[1], 64)
			y, errY := strconv.ParseFloat(pt[2], 64)
			if errX != nil || errY != nil {
				t.Fatalf("point %q", pt[0])
			}
			p.minX, p.maxX = math.Min(p.minX, x), math.Max(p.maxX, x)
			p.minY, p.maxY = math.Min(p.minY, y), math.Max(p.maxY, y)
		}
		out = append(out, p)
	}
	return out
}

func hexColour(k int) string {
	c := Palette[k]
	return fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B)
}

// barsOf returns the bars of an SVG from left to right: the paths in a class
// colour that stand on the lowest base line. The class strips are the other
// paths in those colours.
func barsOf(t *testing.T, svg string) []filledPath {
	t.Helper()
	colours := map[string]bool{}
	for k := range Palette {
		colours[hexColour(k)] = true
	}
	var coloured []filledPath
	base := math.Inf(1)
	for _, p := range filledPaths(t, svg) {
		if colours[p.fill] {
			coloured = append(coloured, p)
			base = math.Min(base, p.minY)
		}
	}
	var bars []filledPath
	for _, p := range coloured {
		if p.minY == base {
			bars = append(bars, p)
		}
	}
	sort.Slice(bars, func(i, j int) bool { return bars[i].minX < bars[j].minX })
	return bars
}

func texts(svg string) []string {
	var out []string
	for _, m := range textRE.FindAllStringSubmatch(svg, -1) {
		out = append(out, m[1])
	}
	return out
}

func render(t *testing.T, c Chart, format string, size Size) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Write(&buf, format, size); err != nil {
		t.Fatalf("Write %s: %v", format, err)
	}
	keepArtefact(t, c, format, buf.Bytes())
	return buf.Bytes()
}

// keepArtefact saves a drawn chart under $SIGNALSCRAPE_ARTIFACTS/charts.
func keepArtefact(t *testing.T, c Chart, format string, data []byte) {
	dir := os.Getenv("SIGNALSCRAPE_ARTIFACTS")
	if dir == "" {
		return
	}
	dir = filepath.Join(dir, "charts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artefacts: %v", err)
	}
	name := strings.Map(func(r rune) rune {
		if r < 'A' || r > 'z' {
			return '_'
		}
		return r
	}, t.Name())
	if err := os.WriteFile(filepath.Join(dir, name+"."+format), data, 0o644); err != nil {
		t.Fatalf("artefacts: %v", err)
	}
}

// The bars of a real profile come in channel order: bar i has the colour of
// channel i's class, and its height is proportional to count i.
func TestProfileBars(t *testing.T) {
	for _, donor := range fixtures.IDs(t, 3) {
		p, err := profile.Parse(fixtures.Profile(t, donor), donor)
		if err != nil {
			t.Fatal(err)
		}
		for _, scale := range []Scale{Counts, Proportions} {
			svg := string(render(t, ForProfile("SP-"+donor, donor, p.Counts, scale), "svg", Full))
			checkBars(t, svg, p.Counts)
			title := texts(svg)
			if !strings.Contains(strings.Join(title, "\n"), "SP-"+donor+" · donor "+donor+" · ") {
				t.Errorf("%s: no title naming the specimen and the donor among %q", donor, title)
			}
		}
	}
}

func checkBars(t *testing.T, svg string, counts [96]int64) {
	t.Helper()
	bars := barsOf(t, svg)
	if len(bars) != len(profile.Channels) {
		t.Fatalf("%d bars, want %d", len(bars), len(profile.Channels))
	}
	top, highest := int64(0), 0
	for i, n := range counts {
		if n > top {
			top, highest = n, i
		}
	}
	unit := (bars[highest].maxY - bars[highest].minY) / float64(top)
	for i, b := range bars {
		if want := hexColour(i / 16); b.fill != want {
			t.Errorf("bar %d (%s): colour %s, want %s", i, profile.Channels[i], b.fill, want)
		}
		if got := (b.maxY - b.minY) / unit; math.Abs(got-float64(counts[i])) > 0.02*float64(top) {
			t.Errorf("bar %d (%s): height %.1f, want %d", i, profile.Channels[i], got, counts[i])
		}
	}
}

func TestClassesAndContexts(t *testing.T) {
	var counts [96]int64
	for i := range counts {
		counts[i] = int64(i + 1)
	}
	svg := string(render(t, ForProfile("D", "D", counts, Counts), "svg", Full))
	all := "\n" + strings.Join(texts(svg), "\n") + "\n"
	for k := range Palette {
		class := profile.Channels[16*k][2:5]
		if !strings.Contains(all, "\n"+strings.ReplaceAll(class, ">", "&gt;")+"\n") {
			t.Errorf("no class label %s", class)
		}
	}
	for _, ctx := range []string{"ACA", "TCT", "ATA", "TTT"} {
		if !strings.Contains(all, "\n"+ctx+"\n") {
			t.Errorf("no context label %s", ctx)
		}
	}
	if !strings.Contains(all, "Donor D · 4,656 mutations") {
		t.Errorf("title of a specimen named as its donor: %q", texts(svg))
	}
}

func TestZeroProfile(t *testing.T) {
	svg := string(render(t, ForProfile("SP1", "DO1", [96]int64{}, Proportions), "svg", Full))
	if bars := barsOf(t, svg); len(bars) != 6 {
		t.Errorf("%d paths in class colours, want only the 6 class strips", len(bars))
	}
	if !strings.Contains(strings.Join(texts(svg), "\n"), "No mutations in this profile") {
		t.Errorf("no message among %q", texts(svg))
	}
	mean := string(render(t, Mean("Work w", [][96]int64{{}, {}}), "svg", Thumbnail))
	if !strings.Contains(mean, "No profile with mutations") || !strings.Contains(mean, "Work w · 0 profiles") {
		t.Errorf("mean of empty profiles: %q", texts(mean))
	}
}

// The mean weighs every profile the same and leaves empty ones out.
func TestMean(t *testing.T) {
	var a, b [96]int64
	a[0], a[1] = 1, 3
	b[95] = 1000
	m := Mean("Work w", [][96]int64{a, b, {}})
	if m.Values[0] != 0.125 || m.Values[1] != 0.375 || m.Values[95] != 0.5 || m.Scale != Proportions {
		t.Errorf("mean %v", m.Values)
	}
	if m.Title != "Work w · 2 profiles" {
		t.Errorf("title %q", m.Title)
	}
	if one := Mean("Work w", [][96]int64{a}); one.Title != "Work w · 1 profile" {
		t.Errorf("title of the mean of one profile %q", one.Title)
	}
}

func TestPNGSizes(t *testing.T) {
	var counts [96]int64
	counts[40] = 7
	for _, size := range []Size{Full, Thumbnail} {
		img, err := png.Decode(bytes.NewReader(render(t, ForProfile("S", "D", counts, Counts), "png", size)))
		if err != nil {
			t.Fatalf("decoding png: %v", err)
		}
		w, h := size.Pixels()
		if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
			t.Errorf("size %d: png %v, want %dx%d", size, b, w, h)
		}
	}
	pdf := render(t, ForProfile("S", "D", counts, Counts), "pdf", Full)
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Errorf("pdf starts %q", pdf[:min(len(pdf), 10)])
	}
	if err := ForProfile("S", "D", counts, Counts).Write(&bytes.Buffer{}, "gif", Full); err == nil {
		t.Error("gif accepted")
	}
}

func TestParseScale(t *testing.T) {
	for in, want := range map[string]Scale{"": Proportions, "counts": Counts, "proportions": Proportions} {
		if got, err := ParseScale(in, Proportions); err != nil || got != want {
			t.Errorf("ParseScale(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseScale("Counts", Counts); err == nil {
		t.Error("Counts accepted")
	}
}

// BenchmarkWrite draws a real profile in each format at each size.
func BenchmarkWrite(b *testing.B) {
	donor := fixtures.IDs(b, 1)[0]
	p, err := profile.Parse(fixtures.Profile(b, donor), donor)
	if err != nil {
		b.Fatal(err)
	}
	c := ForProfile("SP-"+donor, donor, p.Counts, Counts)
	sizes := map[string]Size{"full": Full, "thumbnail": Thumbnail}
	for _, format := range Formats() {
		for name, size := range sizes {
			b.Run(format+"/"+name, func(b *testing.B) {
				var buf bytes.Buffer
				for b.Loop() {
					buf.Reset()
					if err := c.Write(&buf, format, size); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(buf.Len()), "bytes/image")
			})
		}
	}
}

// A label is text in the SVG, never markup.
func TestTitleEscaped(t *testing.T) {
	var counts [96]int64
	counts[3] = 5
	svg := string(render(t, ForProfile(`<script>x</script>&"`, "D", counts, Counts), "svg", Full))
	if strings.Contains(svg, "<script>") || !strings.Contains(svg, "&lt;script&gt;x&lt;/script&gt;&amp;") {
		t.Errorf("label not escaped: %q", texts(svg))
	}
}
