// Package chart draws small charts as PNG images for mail: a bar series
// and a line series over the same days, each in its own panel with its
// own scale, dates under both and the values on the axes, drawn with
// gonum.org/v1/plot in the Go fonts (golang.org/x/image/font/gofont),
// which are compiled in, so the image is the same on every machine. The
// words on it (the panels' titles) are the caller's, from its
// templates; the caller may also say in words what a gridline is worth,
// from the Scale that PNG returns.
package chart

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strconv"
	"sync"
	"time"

	xfont "golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The default size: wide enough to read 30 daily bars and their dates,
// small enough for a phone's mail client to show at full width without
// scaling much; tall enough for two panels with their titles.
const (
	DefaultWidth  = 600
	DefaultHeight = 320
)

// Chart is a bar series and a line series over the same slots (days),
// left to right.
type Chart struct {
	Width, Height int // pixels; DefaultWidth × DefaultHeight when zero

	// Bars has one value a slot, drawn against the gridlines' bar scale.
	// Negative values are drawn as 0.
	Bars []float64
	// Line has one value a slot, in hours, drawn against the line's own
	// scale; NaN where the slot has no value, which leaves a gap.
	Line []float64
	// Start is the day of the first slot; the slots are the days after
	// it. Zero: the slots are not dated.
	Start time.Time
	// BarTitle and LineTitle name the two series above their panels
	// ("Submissions a day").
	BarTitle, LineTitle string

	// Gridlines is how many horizontal gridlines there are above the
	// baseline in each panel; the top one is the top of the panel. 4
	// when zero.
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

// BarColor and LineColor are the colours of the two series, for a
// caption or legend that names them.
var (
	BarColor  color.Color = color.RGBA{0x8f, 0xb3, 0xde, 0xff}
	LineColor color.Color = color.RGBA{0xc8, 0x50, 0x1e, 0xff}

	gridColor = color.RGBA{0xe3, 0xe3, 0xe3, 0xff}
	axisColor = color.RGBA{0x6b, 0x6b, 0x6b, 0xff}
	textColor = color.RGBA{0x33, 0x33, 0x33, 0xff}
)

// dpi is the resolution the image is drawn at: with it one point of
// gonum's lengths is 4/3 pixels, as on a screen.
const dpi = 96

// px is a length of n pixels.
func px(n float64) vg.Length { return vg.Length(n) * vg.Inch / dpi }

// PNG draws c and encodes it as PNG. The bytes are the same for the same
// chart.
func (c Chart) PNG() ([]byte, Scale, error) {
	img, sc, err := c.Draw()
	if err != nil {
		return nil, sc, err
	}
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, img); err != nil {
		return nil, sc, fmt.Errorf("chart: encode png: %w", err)
	}
	return b.Bytes(), sc, nil
}

// Draw draws c and returns the image and its scale.
func (c Chart) Draw() (image.Image, Scale, error) {
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
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	if w < 200 || h < 120 {
		return img, sc, nil // too small for text: a blank image
	}

	n := max(len(c.Bars), len(c.Line))
	bars, err := c.barPanel(n, sc)
	if err != nil {
		return nil, sc, err
	}
	line, err := c.linePanel(n, sc)
	if err != nil {
		return nil, sc, err
	}
	// The canvas draws on a copy of img (gg.NewContextForImage).
	cv := vgimg.NewWith(vgimg.UseImage(img), vgimg.UseDPI(dpi))
	dc := vgdraw.New(cv)
	tiles := vgdraw.Tiles{Rows: 2, Cols: 1, PadTop: px(4), PadBottom: px(2), PadLeft: px(4), PadRight: px(10), PadY: px(6)}
	panels := plot.Align([][]*plot.Plot{{bars}, {line}}, tiles, dc)
	bars.Draw(panels[0][0])
	line.Draw(panels[1][0])
	return cv.Image(), sc, nil
}

// barPanel is the upper panel: the bars, counts on the axis, the dates'
// ticks without their labels (the lower panel has them).
func (c Chart) barPanel(n int, sc Scale) (*plot.Plot, error) {
	p := c.panel(c.BarTitle, n, sc.Gridlines, sc.BarStep, countLabel)
	hist := &plotter.Histogram{FillColor: BarColor}
	for i, v := range c.Bars {
		if v > 0 {
			hist.Bins = append(hist.Bins, plotter.HistogramBin{Min: float64(i) - 0.35, Max: float64(i) + 0.35, Weight: v})
		}
	}
	p.Add(hist)
	p.X.Tick.Marker = dayTicks{n: n}
	return p, nil
}

// linePanel is the lower panel: the line, hours on the axis, dates
// under it. A slot without a value breaks the line; every value has a
// point, so one between two gaps still shows.
func (c Chart) linePanel(n int, sc Scale) (*plot.Plot, error) {
	p := c.panel(c.LineTitle, n, sc.Gridlines, sc.LineStep, hoursLabel)
	var run, all plotter.XYs
	flush := func() error {
		if len(run) > 1 {
			l, err := plotter.NewLine(run)
			if err != nil {
				return fmt.Errorf("chart: line: %w", err)
			}
			l.Color, l.Width = LineColor, px(2)
			p.Add(l)
		}
		run = nil
		return nil
	}
	for i, v := range c.Line {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		pt := plotter.XY{X: float64(i), Y: math.Min(math.Max(v, 0), sc.LineStep*float64(sc.Gridlines))}
		run, all = append(run, pt), append(all, pt)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(all) > 0 {
		s, err := plotter.NewScatter(all)
		if err != nil {
			return nil, fmt.Errorf("chart: points: %w", err)
		}
		s.Shape = vgdraw.CircleGlyph{}
		s.Color, s.Radius = LineColor, px(2.5)
		p.Add(s)
	}
	p.X.Tick.Marker = dayTicks{n: n, start: c.Start, labels: true}
	return p, nil
}

// panel is a plot with the chart's fonts and colours, slots 0..n-1 on
// the X axis and g gridlines of step on the Y axis, labelled by label.
func (c Chart) panel(title string, n, g int, step float64, label func(float64) string) *plot.Plot {
	p := plot.New()
	hdlr := text.Plain{Fonts: fonts()}
	p.TextHandler = hdlr
	set := func(s *text.Style, size float64, bold bool) {
		s.Handler, s.Color = hdlr, textColor
		s.Font = font.Font{Typeface: "Go", Size: px(size)}
		if bold {
			s.Font.Weight = xfont.WeightBold
		}
	}
	p.Title.Text = title
	set(&p.Title.TextStyle, 13, true)
	p.Title.Padding = px(3)
	set(&p.X.Tick.Label, 11, false)
	set(&p.Y.Tick.Label, 11, false)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Padding = 0
		a.LineStyle.Color = axisColor
		a.Tick.LineStyle.Color = axisColor
		a.Tick.Length = px(5)
	}
	p.X.Min, p.X.Max = -0.5, math.Max(float64(n)-0.5, 0.5)
	p.Y.Min, p.Y.Max = 0, step*float64(g)
	p.Y.Tick.Marker = stepTicks{g: g, step: step, label: label}
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	grid.Horizontal.Color, grid.Horizontal.Width = gridColor, px(1)
	p.Add(grid)
	return p
}

// stepTicks marks 0 and the g gridlines of step.
type stepTicks struct {
	g     int
	step  float64
	label func(float64) string
}

func (t stepTicks) Ticks(_, _ float64) []plot.Tick {
	ts := make([]plot.Tick, 0, t.g+1)
	for i := 0; i <= t.g; i++ {
		v := float64(i) * t.step
		ts = append(ts, plot.Tick{Value: v, Label: t.label(v)})
	}
	return ts
}

// dayTicks marks every slot, and every seventh, counted back from the
// last (the report's day), with its date when labels.
type dayTicks struct {
	n      int
	start  time.Time
	labels bool
}

func (t dayTicks) Ticks(_, _ float64) []plot.Tick {
	ts := make([]plot.Tick, 0, t.n)
	for i := 0; i < t.n; i++ {
		tk := plot.Tick{Value: float64(i)}
		if (t.n-1-i)%7 == 0 {
			// A major tick needs a label; a blank one keeps the mark.
			tk.Label = " "
			if t.labels && !t.start.IsZero() {
				tk.Label = t.start.AddDate(0, 0, i).Format("2 Jan")
			}
		}
		ts = append(ts, tk)
	}
	return ts
}

func countLabel(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// hoursLabel says v hours as the report's text does: minutes under an
// hour, hours up to two days, days after.
func hoursLabel(v float64) string {
	d := time.Duration(math.Round(v * float64(time.Hour)))
	switch {
	case d == 0:
		return "0"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Round(time.Minute)/time.Minute))
	case d < 48*time.Hour || d%(24*time.Hour) != 0:
		return strconv.FormatFloat(d.Hours(), 'f', -1, 64) + "h"
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

// fonts is the Go fonts, parsed once.
var fonts = sync.OnceValue(func() *font.Cache {
	var coll font.Collection
	for _, f := range []struct {
		ttf    []byte
		weight xfont.Weight
	}{{goregular.TTF, xfont.WeightNormal}, {gobold.TTF, xfont.WeightBold}} {
		face, err := opentype.Parse(f.ttf)
		if err != nil {
			panic("chart: the Go fonts do not parse: " + err.Error()) // compiled in: cannot happen
		}
		coll = append(coll, font.Face{Font: font.Font{Typeface: "Go", Weight: f.weight}, Face: face})
	}
	return font.NewCache(coll)
})

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
