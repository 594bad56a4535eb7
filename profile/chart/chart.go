// Package chart draws the SBS96 bar chart of a mutation profile, as SIGNAL
// and COSMIC show it: the 96 channels of package profile in their fixed
// order, grouped in the six substitution classes, each class in its usual
// colour, with the class names above the bars and the trinucleotide contexts
// on the x axis. It draws with gonum.org/v1/plot and writes SVG, PNG or PDF.
//
// Drawing takes a few milliseconds of CPU; callers draw on request and keep
// the bytes, never while fetching.
package chart

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/signalscrape/signalscrape/profile"
)

// Scale is what the y axis of a chart shows.
type Scale int

const (
	// Counts shows the number of mutations in each channel.
	Counts Scale = iota
	// Proportions shows each channel's share of the profile's mutations.
	Proportions
)

// ParseScale reads "counts" or "proportions"; the empty string is def.
func ParseScale(s string, def Scale) (Scale, error) {
	switch s {
	case "":
		return def, nil
	case "counts":
		return Counts, nil
	case "proportions":
		return Proportions, nil
	}
	return def, fmt.Errorf("unknown scale %q, want counts or proportions", s)
}

// String names the scale as ParseScale reads it.
func (s Scale) String() string {
	if s == Proportions {
		return "proportions"
	}
	return "counts"
}

// Size is one of the fixed sizes a chart is drawn at.
type Size int

const (
	// Full is the readable chart: 720 by 270 points, every context on the
	// x axis.
	Full Size = iota
	// Thumbnail is a preview for a table: 240 by 90 points, the bars, the
	// class strips and the title only.
	Thumbnail
)

// dims returns the size's width and height.
func (s Size) dims() (w, h vg.Length) {
	if s == Thumbnail {
		return 240, 90
	}
	return 720, 270
}

// Pixels returns the size in CSS pixels (96 per inch): the size of the PNG,
// and the natural size a browser gives the SVG.
func (s Size) Pixels() (w, h int) {
	pw, ph := s.dims()
	return int(pw.Dots(pngDPI) + 0.5), int(ph.Dots(pngDPI) + 0.5)
}

// pngDPI is the resolution of PNG output: one CSS pixel per dot.
const pngDPI = 96

// Formats lists the file formats Write supports.
func Formats() []string { return []string{"svg", "png", "pdf"} }

// ContentType returns the media type of a format of Formats, or "".
func ContentType(format string) string {
	switch format {
	case "svg":
		return "image/svg+xml"
	case "png":
		return "image/png"
	case "pdf":
		return "application/pdf"
	}
	return ""
}

// Chart is one SBS96 bar chart: a title and the 96 values in the order of
// profile.Channels.
type Chart struct {
	Title  string
	Values [96]float64
	Scale  Scale
	// Empty is the message drawn instead of bars when every value is zero.
	Empty string
}

// ForProfile returns the chart of one specimen's profile: the title names the
// specimen, the donor and the number of mutations, and the values are the
// counts or, with Proportions, their shares of the total.
func ForProfile(specimen, donor string, counts [96]int64, scale Scale) Chart {
	total := sum(counts)
	c := Chart{Scale: scale, Empty: "No mutations in this profile"}
	c.Title = fmt.Sprintf("%s · donor %s · %s mutations", specimen, donor, thousands(total))
	if specimen == donor {
		c.Title = fmt.Sprintf("Donor %s · %s mutations", donor, thousands(total))
	}
	for i, n := range counts {
		c.Values[i] = float64(n)
		if scale == Proportions && total > 0 {
			c.Values[i] /= float64(total)
		}
	}
	return c
}

// Mean returns the chart of the mean profile of profiles, titled title and
// the number of profiles averaged: the mean of their proportions, so that
// every profile weighs the same whatever its number of mutations. Profiles
// without mutations are left out of the mean.
func Mean(title string, profiles [][96]int64) Chart {
	c := Chart{Scale: Proportions, Empty: "No profile with mutations"}
	n := 0
	for _, counts := range profiles {
		total := sum(counts)
		if total == 0 {
			continue
		}
		n++
		for i, k := range counts {
			c.Values[i] += float64(k) / float64(total)
		}
	}
	for i := range c.Values {
		if n > 0 {
			c.Values[i] /= float64(n)
		}
	}
	c.Title = fmt.Sprintf("%s · %d profiles", title, n)
	if n == 1 {
		c.Title = title + " · 1 profile"
	}
	return c
}

// Write draws the chart at size and writes it to w in format, one of
// Formats.
func (c Chart) Write(w io.Writer, format string, size Size) error {
	width, height := size.dims()
	var canvas vg.CanvasWriterTo
	switch format {
	case "svg":
		canvas = vgsvg.New(width, height)
	case "png":
		canvas = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(pngDPI))}
	case "pdf":
		canvas = vgpdf.New(width, height)
	default:
		return fmt.Errorf("drawing chart: unknown format %q", format)
	}
	p, err := c.plot(size)
	if err != nil {
		return fmt.Errorf("drawing chart: %w", err)
	}
	p.Draw(draw.New(canvas))
	if _, err := canvas.WriteTo(w); err != nil {
		return fmt.Errorf("writing %s chart: %w", format, err)
	}
	return nil
}

// empty reports whether every value is zero.
func (c Chart) empty() bool {
	for _, v := range c.Values {
		if v != 0 {
			return false
		}
	}
	return true
}

func sum(counts [96]int64) int64 {
	var total int64
	for _, n := range counts {
		total += n
	}
	return total
}

// thousands writes n with commas between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// errChannels guards against a change of profile.Channels that the class
// layout here would silently get wrong.
var errChannels = errors.New("profile.Channels is not 6 classes of 16 contexts")

// context returns the trinucleotide of channel i, such as "ACA" for A[C>A]A.
func context(i int) (string, error) {
	ch := profile.Channels[i]
	if len(ch) != 7 || ch[1] != '[' || ch[5] != ']' {
		return "", errChannels
	}
	return string([]byte{ch[0], ch[2], ch[6]}), nil
}
