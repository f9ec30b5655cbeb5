// Package chart draws small charts as PNG images for mail: one series as
// bars and a second as a line, each on its own scale, over gridlines and
// axes. It draws no text, so it needs no fonts; the caller says in words
// what a gridline is worth, from the Scale that Draw returns.
package chart

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
)

// The default size: wide enough to read 30 daily bars, small enough for a
// phone's mail client to show at full width without scaling much.
const (
	DefaultWidth  = 600
	DefaultHeight = 240
)

// Chart is a bar series and a line series over the same slots (days),
// left to right.
type Chart struct {
	Width, Height int // pixels; DefaultWidth × DefaultHeight when zero

	// Bars has one value a slot, drawn against the gridlines' bar scale.
	// Negative values are drawn as 0.
	Bars []float64
	// Line has one value a slot, drawn against the line's own scale;
	// NaN where the slot has no value, which leaves a gap.
	Line []float64

	// Gridlines is how many horizontal gridlines there are above the
	// baseline; the top one is the top of the plot. 4 when zero.
	Gridlines int
	// BarStepMin and LineStepMin are the smallest value a gridline may
	// be worth (1 for counts, so that no gridline is half a comment);
	// 0 allows any.
	BarStepMin, LineStepMin float64
}

// Scale says what the gridlines of a drawn chart are worth: gridline i
// (1 at the bottom) stands for i×BarStep on the bar scale and i×LineStep
// on the line scale.
type Scale struct {
	Gridlines         int
	BarStep, LineStep float64
}

// Colours, as palette indexes; white first, so a new image is white.
const (
	bgColour = iota
	gridColour
	axisColour
	barColour
	lineColour
)

var palette = color.Palette{
	bgColour:   color.RGBA{0xff, 0xff, 0xff, 0xff},
	gridColour: color.RGBA{0xe3, 0xe3, 0xe3, 0xff},
	axisColour: color.RGBA{0x6b, 0x6b, 0x6b, 0xff},
	barColour:  color.RGBA{0x8f, 0xb3, 0xde, 0xff},
	lineColour: color.RGBA{0xc8, 0x50, 0x1e, 0xff},
}

// BarColor and LineColor are the colours of the two series, for a
// caption or legend that names them.
var (
	BarColor  = palette[barColour]
	LineColor = palette[lineColour]
)

// margins around the plot, in pixels; the bottom one holds the slot ticks.
const (
	marginX      = 8
	marginTop    = 8
	marginBottom = 10
)

// Draw draws c and returns the image and its scale.
func (c Chart) Draw() (*image.Paletted, Scale) {
	w, h := c.Width, c.Height
	if w <= 0 {
		w = DefaultWidth
	}
	if h <= 0 {
		h = DefaultHeight
	}
	g := c.Gridlines
	if g <= 0 {
		g = 4
	}
	sc := Scale{Gridlines: g, BarStep: niceStep(maxOf(c.Bars), g, c.BarStepMin), LineStep: niceStep(maxOf(c.Line), g, c.LineStepMin)}
	img := image.NewPaletted(image.Rect(0, 0, w, h), palette)
	p := plot{img: img, left: marginX, right: w - 1 - marginX, top: marginTop, bottom: h - 1 - marginBottom}
	if p.right-p.left < 10 || p.bottom-p.top < 10 {
		return img, sc // too small to draw anything readable
	}

	for i := 1; i <= g; i++ {
		p.hline(p.left, p.right, p.bottom-(p.bottom-p.top)*i/g, gridColour)
	}
	n := max(len(c.Bars), len(c.Line))
	slot := float64(p.right-p.left) / float64(max(n, 1))
	for i, v := range c.Bars {
		x0 := p.left + int(math.Round(float64(i)*slot+slot*0.15))
		x1 := p.left + int(math.Round(float64(i+1)*slot-slot*0.15))
		y := p.y(v, sc.BarStep*float64(g))
		if y < p.bottom {
			p.rect(max(x0, p.left+1), y, max(x1, x0+1), p.bottom, barColour)
		}
	}
	// Axes over the bars; the right one, in the line's colour, says that
	// the line has a scale of its own.
	p.vline(p.left, p.top, p.bottom, axisColour)
	p.vline(p.right, p.top, p.bottom, lineColour)
	p.hline(p.left, p.right, p.bottom, axisColour)
	for i := 0; i <= n && n > 0; i++ {
		x := p.left + int(math.Round(float64(i)*slot))
		tick := 3
		if (n-i)%7 == 0 {
			tick = 6 // weeks, counted back from the last slot
		}
		p.vline(x, p.bottom, min(p.bottom+tick, h-1), axisColour)
	}

	top := sc.LineStep * float64(g)
	prev := -1
	for i, v := range c.Line {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			prev = -1
			continue
		}
		x := p.left + int(math.Round((float64(i)+0.5)*slot))
		y := p.y(v, top)
		if prev >= 0 {
			px := p.left + int(math.Round((float64(prev)+0.5)*slot))
			py := p.y(c.Line[prev], top)
			// Two pixels thick, so it stands out against the bars.
			p.line(px, py, x, y, lineColour)
			p.line(px, py-1, x, y-1, lineColour)
		}
		p.rect(x-2, y-2, x+3, y+3, lineColour)
		prev = i
	}
	return img, sc
}

// PNG draws c and encodes it as PNG. The bytes are the same for the same
// chart.
func (c Chart) PNG() ([]byte, Scale, error) {
	img, sc := c.Draw()
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, img); err != nil {
		return nil, sc, fmt.Errorf("chart: encode png: %w", err)
	}
	return b.Bytes(), sc, nil
}

// niceStep is the smallest of 1, 2, 5 × 10ⁿ (and at least least) that
// fits m in g gridlines.
func niceStep(m float64, g int, least float64) float64 {
	step := 1.0
	if m > 0 {
		raw := m / float64(g)
		e := math.Pow(10, math.Floor(math.Log10(raw)))
		switch f := raw / e; {
		case f <= 1:
			step = e
		case f <= 2:
			step = 2 * e
		case f <= 5:
			step = 5 * e
		default:
			step = 10 * e
		}
		if step*float64(g) < m {
			step *= 2 // rounding in Log10 left it a hair short
		}
	} else if least > 0 {
		step = least
	}
	return math.Max(step, least)
}

func maxOf(vs []float64) float64 {
	m := 0.0
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) && v > m {
			m = v
		}
	}
	return m
}

// plot draws in the rectangle between the axes of img.
type plot struct {
	img                      *image.Paletted
	left, right, top, bottom int
}

// y is the row of value v on a scale whose top is top.
func (p plot) y(v, top float64) int {
	if v <= 0 || top <= 0 {
		return p.bottom
	}
	return p.bottom - int(math.Round(math.Min(v/top, 1)*float64(p.bottom-p.top)))
}

func (p plot) set(x, y int, c uint8) {
	if image.Pt(x, y).In(p.img.Rect) {
		p.img.SetColorIndex(x, y, c)
	}
}

func (p plot) hline(x0, x1, y int, c uint8) {
	for x := x0; x <= x1; x++ {
		p.set(x, y, c)
	}
}

func (p plot) vline(x, y0, y1 int, c uint8) {
	for y := y0; y <= y1; y++ {
		p.set(x, y, c)
	}
}

// rect fills [x0, x1) × [y0, y1).
func (p plot) rect(x0, y0, x1, y1 int, c uint8) {
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			p.set(x, y, c)
		}
	}
}

// line draws from (x0, y0) to (x1, y1) with Bresenham's algorithm.
func (p plot) line(x0, y0, x1, y1 int, c uint8) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		p.set(x0, y0, c)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}
