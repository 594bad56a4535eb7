package chart

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/signalscrape/signalscrape/profile"
)

// Palette holds the colours of the six substitution classes, in the order of
// profile.Channels: C>A blue, C>G black, C>T red, T>A grey, T>C green and
// T>G pink, the colours SIGNAL and COSMIC use.
var Palette = [6]color.RGBA{
	{R: 0x03, G: 0xbd, B: 0xef, A: 0xff},
	{R: 0x01, G: 0x01, B: 0x01, A: 0xff},
	{R: 0xe4, G: 0x29, B: 0x26, A: 0xff},
	{R: 0xcb, G: 0xca, B: 0xcb, A: 0xff},
	{R: 0xa2, G: 0xcf, B: 0x63, A: 0xff},
	{R: 0xec, G: 0xc7, B: 0xc5, A: 0xff},
}

// contextsPerClass is the number of channels of each substitution class.
const contextsPerClass = 16

// style is what changes with the size of a chart.
type style struct {
	title, tick, label, class vg.Length // font sizes
	strip                     vg.Length // height of a class strip
	contexts                  bool      // whether the x axis names the contexts
}

func styleFor(size Size) style {
	if size == Thumbnail {
		return style{title: 6.5, tick: 5, class: 5.5, strip: 3}
	}
	return style{title: 11, tick: 5.5, label: 9, class: 9, strip: 6, contexts: true}
}

// plot lays the chart out: bars, class strips, axes and title.
func (c Chart) plot(size Size) (*plot.Plot, error) {
	st := styleFor(size)
	p := plot.New()
	p.Title.Text = c.Title
	p.Title.TextStyle.Font = sans(st.title)
	p.Title.Padding = st.strip / 2

	if err := c.xAxis(p, st); err != nil {
		return nil, err
	}
	c.yAxis(p, st)

	p.Add(classStrips{style: st})
	if c.empty() {
		p.Add(message{text: c.Empty, size: st.title})
	} else {
		p.Add(bars{values: c.Values})
	}
	return p, nil
}

// xAxis places channel i at x = i; the contexts below the bars are drawn by
// contextLabels, since the axis does not make room for rotated tick labels.
func (c Chart) xAxis(p *plot.Plot, st style) error {
	p.X.Min, p.X.Max = -0.5, float64(len(profile.Channels))-0.5
	p.X.Padding = 0
	p.X.Width = 0
	p.X.Tick.Marker = plot.ConstantTicks{}
	if !st.contexts {
		return nil
	}
	labels := contextLabels{size: st.tick}
	for i := range profile.Channels {
		name, err := context(i)
		if err != nil {
			return err
		}
		labels.names[i] = name
	}
	p.Add(labels)
	return nil
}

// yAxis starts at zero and names what the bars show.
func (c Chart) yAxis(p *plot.Plot, st style) {
	p.Y.Min, p.Y.Max = 0, 0
	for _, v := range c.Values {
		p.Y.Max = math.Max(p.Y.Max, v)
	}
	if p.Y.Max == 0 {
		p.Y.Max = 1
	}
	p.Y.Max *= 1.05
	p.Y.Padding = 0
	p.Y.Tick.Label.Font = sans(st.tick + 1.5)
	if st.label == 0 {
		p.Y.Tick.Marker = plot.ConstantTicks{}
		return
	}
	p.Y.Label.TextStyle.Font = sans(st.label)
	p.Y.Label.Text = "Mutations"
	if c.Scale == Proportions {
		p.Y.Label.Text = "Proportion of mutations"
	}
	if c.empty() {
		p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}}
	}
}

// bars draws one bar per channel, coloured by its class. Bars are 70% of a
// channel's width, so that neighbours stay apart at every size.
type bars struct {
	values [96]float64
}

func (b bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	half := (trX(1) - trX(0)) * 0.35
	for i, v := range b.values {
		x := trX(float64(i))
		bottom, top := trY(0), trY(v)
		c.FillPolygon(Palette[i/contextsPerClass], []vg.Point{
			{X: x - half, Y: bottom}, {X: x - half, Y: top}, {X: x + half, Y: top}, {X: x + half, Y: bottom},
		})
	}
}

func (b bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymax = 0
	for _, v := range b.values {
		ymax = math.Max(ymax, v)
	}
	return -0.5, float64(len(b.values)) - 0.5, 0, ymax
}

// classStrips draws above the bars a strip in each class's colour spanning
// its 16 channels, with the class name above the strip.
type classStrips struct {
	style style
}

// gap is the space between the data area and a strip, and a strip and its
// name.
const gap vg.Length = 1.5

func (s classStrips) textStyle() draw.TextStyle {
	return textStyle(sans(s.style.class), draw.YBottom)
}

func (s classStrips) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	ts := s.textStyle()
	y0 := c.Max.Y + gap
	for k := range Palette {
		first := float64(k * contextsPerClass)
		x0, x1 := trX(first-0.45), trX(first+contextsPerClass-0.55)
		rect := vg.Rectangle{Min: vg.Point{X: x0, Y: y0}, Max: vg.Point{X: x1, Y: y0 + s.style.strip}}
		c.SetColor(Palette[k])
		c.Fill(rect.Path())
		name := profile.Channels[k*contextsPerClass][2:5]
		c.FillText(ts, vg.Point{X: (x0 + x1) / 2, Y: y0 + s.style.strip + gap}, name)
	}
}

// GlyphBoxes reserves the room of the strips and names above the data area.
func (s classStrips) GlyphBoxes(*plot.Plot) []plot.GlyphBox {
	h := gap + s.style.strip + gap + s.textStyle().Height("C>A")
	return []plot.GlyphBox{{X: 0.5, Y: 1, Rectangle: vg.Rectangle{Max: vg.Point{Y: h}}}}
}

// message writes a line of text in the middle of the data area, in place of
// the bars of a profile without mutations.
type message struct {
	text string
	size vg.Length
}

func (m message) Plot(c draw.Canvas, _ *plot.Plot) {
	c.FillText(textStyle(sans(m.size), draw.YCenter), c.Center(), m.text)
}

// contextLabels writes the trinucleotide context of each channel below its
// bar, turned a quarter counterclockwise, in a monospaced font.
type contextLabels struct {
	names [96]string
	size  vg.Length
}

func (l contextLabels) textStyle() draw.TextStyle {
	t := textStyle(font.Font{Typeface: "Liberation", Variant: "Mono", Size: l.size}, draw.YCenter)
	t.XAlign = draw.XRight
	t.Rotation = math.Pi / 2
	return t
}

func (l contextLabels) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	ts := l.textStyle()
	for i, name := range l.names {
		c.FillText(ts, vg.Point{X: trX(float64(i)), Y: c.Min.Y - gap}, name)
	}
}

// GlyphBoxes reserves the room of the labels below the data area.
func (l contextLabels) GlyphBoxes(*plot.Plot) []plot.GlyphBox {
	ts := l.textStyle()
	ts.Rotation = 0
	h := gap + ts.Width("ACA")
	return []plot.GlyphBox{{X: 0.5, Y: 0, Rectangle: vg.Rectangle{Min: vg.Point{Y: -h}}}}
}

// sans is the plain sans-serif font at size.
func sans(size vg.Length) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
}

// textStyle is black text in f, centred horizontally, aligned vertically by
// y.
func textStyle(f font.Font, y draw.YAlignment) draw.TextStyle {
	return draw.TextStyle{Color: color.Black, Font: f, XAlign: draw.XCenter, YAlign: y, Handler: plot.DefaultTextHandler}
}
