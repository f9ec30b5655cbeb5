package chart

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/report.png")

func TestNiceStep(t *testing.T) {
	tests := []struct {
		max   float64
		g     int
		least float64
		want  float64
	}{
		{0, 4, 1, 1},
		{0, 4, 0, 1},
		{3, 4, 1, 1},
		{4, 4, 1, 1},
		{5, 4, 1, 2},
		{8, 4, 1, 2},
		{9, 4, 1, 5},
		{21, 4, 1, 10},
		{1000, 4, 1, 500},
		{0.3, 4, 0, 0.1},
		{0.3, 4, 1, 1},
		{36, 4, 0, 10},
		{1e-9, 4, 0, 0}, // tiny: only checked to fit
	}
	for _, tc := range tests {
		got := niceStep(tc.max, tc.g, tc.least)
		if got*float64(tc.g) < tc.max {
			t.Errorf("niceStep(%v, %d, %v) = %v: %d gridlines do not reach the maximum", tc.max, tc.g, tc.least, got, tc.g)
		}
		if tc.max >= 1e-6 && math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("niceStep(%v, %d, %v) = %v, want %v", tc.max, tc.g, tc.least, got, tc.want)
		}
	}
}

// reportLike is a month of a report's series: a quiet day, gaps in the
// line, one slow day.
func reportLike() Chart {
	c := Chart{BarStepMin: 1, Start: time.Date(2025, 2, 5, 0, 0, 0, 0, time.UTC),
		BarTitle: "Submissions a day", LineTitle: "Median time from submission to decision"}
	for i := range 30 {
		c.Bars = append(c.Bars, float64((i*7)%13))
		v := float64((i*5)%9) / 2
		if i%6 == 3 {
			v = math.NaN()
		}
		c.Line = append(c.Line, v)
	}
	return c
}

func TestDrawSizeAndPNG(t *testing.T) {
	for _, c := range []Chart{
		{},
		{Bars: []float64{1, 2, 3}},
		{Width: 300, Height: 120, Bars: []float64{5}, Line: []float64{math.NaN()}},
		{Width: 5, Height: 5, Bars: []float64{5}}, // too small for a plot: still an image
		reportLike(),
	} {
		b, _, err := c.PNG()
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("PNG does not decode: %v", err)
		}
		w, h := c.Width, c.Height
		if w == 0 {
			w, h = DefaultWidth, DefaultHeight
		}
		if got := img.Bounds(); got != image.Rect(0, 0, w, h) {
			t.Errorf("size %v, want %d×%d", got, w, h)
		}
		if w >= 300 && count(img, func(c color.Color) bool { return !same(c, color.White) }) < w {
			t.Errorf("%d×%d chart is blank", w, h)
		}
		again, _, _ := c.PNG()
		if !bytes.Equal(b, again) {
			t.Error("PNG is not the same for the same chart")
		}
	}
}

// TestDrawSeries: the bars and the line are drawn in their colours, and
// a line with no value draws nothing in the line's colour.
func TestDrawSeries(t *testing.T) {
	c := reportLike()
	img, sc, err := c.Draw()
	if err != nil {
		t.Fatal(err)
	}
	if sc.Gridlines != 4 || sc.BarStep != 5 || sc.LineStep != 1 {
		t.Errorf("scale %+v, want 4 gridlines of 5 (bars) and 1 (line)", sc)
	}
	if n := count(img, func(c color.Color) bool { return same(c, BarColor) }); n < 2000 {
		t.Errorf("%d pixels in the bars' colour", n)
	}
	if n := count(img, func(c color.Color) bool { return same(c, LineColor) }); n < 300 {
		t.Errorf("%d pixels in the line's colour", n)
	}
	c.Line = []float64{math.NaN(), math.NaN()}
	img, _, err = c.Draw()
	if err != nil {
		t.Fatal(err)
	}
	if n := count(img, func(c color.Color) bool { return same(c, LineColor) }); n != 0 {
		t.Errorf("a line without values: %d pixels in the line's colour", n)
	}
}

// TestGolden compares the report-like chart with testdata/report.png,
// allowing a few pixels to differ: the glyphs' antialiasing may round
// otherwise on another processor. -update rewrites it; look at it then.
func TestGolden(t *testing.T) {
	b, _, err := reportLike().PNG()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "report.png")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	wimg, err := png.Decode(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	gimg, _ := png.Decode(bytes.NewReader(b))
	if wimg.Bounds() != gimg.Bounds() {
		t.Fatalf("size %v, golden %v", gimg.Bounds(), wimg.Bounds())
	}
	diff := 0
	for y := range gimg.Bounds().Dy() {
		for x := range gimg.Bounds().Dx() {
			if !near(gimg.At(x, y), wimg.At(x, y)) {
				diff++
			}
		}
	}
	if diff > gimg.Bounds().Dx()*gimg.Bounds().Dy()/200 {
		t.Errorf("%d pixels differ from %s (run with -update and look at it)", diff, path)
	}
}

func TestHoursLabel(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 0.25: "15m", 0.5: "30m", 1: "1h", 1.5: "1.5h", 24: "24h", 48: "2d", 50: "50h", 96: "4d"} {
		if got := hoursLabel(v); got != want {
			t.Errorf("hoursLabel(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestDayTicks: every day has a tick; every seventh, counted back from
// the last, has its date.
func TestDayTicks(t *testing.T) {
	ts := dayTicks{n: 10, start: time.Date(2025, 2, 26, 0, 0, 0, 0, time.UTC), labels: true}.Ticks(0, 0)
	var labels []string
	for _, tk := range ts {
		if !tk.IsMinor() {
			labels = append(labels, tk.Label)
		}
	}
	if len(ts) != 10 || len(labels) != 2 || labels[0] != "28 Feb" || labels[1] != "7 Mar" {
		t.Errorf("%d ticks, labelled %q; want 10, [28 Feb 7 Mar]", len(ts), labels)
	}
}

func count(img image.Image, match func(color.Color) bool) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if match(img.At(x, y)) {
				n++
			}
		}
	}
	return n
}

func same(a, b color.Color) bool {
	r1, g1, b1, _ := a.RGBA()
	r2, g2, b2, _ := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2
}

// near: no channel differs by more than a few steps of 255.
func near(a, b color.Color) bool {
	r1, g1, b1, _ := a.RGBA()
	r2, g2, b2, _ := b.RGBA()
	d := func(x, y uint32) bool { return max(x, y)-min(x, y) <= 8*257 }
	return d(r1, r2) && d(g1, g2) && d(b1, b2)
}
