package chart

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"testing"
)

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

func TestDrawSizeAndPNG(t *testing.T) {
	for _, c := range []Chart{
		{},
		{Bars: []float64{1, 2, 3}},
		{Width: 300, Height: 120, Bars: []float64{5}, Line: []float64{math.NaN()}},
		{Width: 5, Height: 5, Bars: []float64{5}}, // too small for a plot: still an image
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
		again, _, _ := c.PNG()
		if !bytes.Equal(b, again) {
			t.Error("PNG is not the same for the same chart")
		}
	}
}

// TestDrawPlacesSeries looks at the pixels: bar heights follow the
// values on the bar scale, the line has points where it has values and a
// gap where it has none.
func TestDrawPlacesSeries(t *testing.T) {
	c := Chart{
		Bars:       []float64{0, 8, 4, 2},
		Line:       []float64{1, math.NaN(), 3, 3},
		BarStepMin: 1,
	}
	img, sc := c.Draw()
	if sc.Gridlines != 4 || sc.BarStep != 2 || sc.LineStep != 1 {
		t.Fatalf("scale %+v, want 4 gridlines of 2 (bars) and 1 (line)", sc)
	}
	left, right := marginX, DefaultWidth-1-marginX
	top, bottom := marginTop, DefaultHeight-1-marginBottom
	slot := float64(right-left) / 4
	colAt := func(i int, frac float64) int { return left + int((float64(i)+frac)*slot) }
	rowAt := func(frac float64) int { return bottom - int(frac*float64(bottom-top)) }
	is := func(x, y int, want color.Color) bool {
		r1, g1, b1, _ := img.At(x, y).RGBA()
		r2, g2, b2, _ := want.RGBA()
		return r1 == r2 && g1 == g2 && b1 == b2
	}
	// Bar edges are checked away from the line's points, at a quarter
	// of the slot.
	for _, tc := range []struct {
		slot int
		frac float64 // height as a fraction of the plot
		bar  bool
	}{
		{0, 0.05, false},
		{1, 0.98, true}, // 8 of 8: the whole height
		{2, 0.45, true}, // 4 of 8
		{2, 0.55, false},
		{3, 0.20, true}, // 2 of 8
		{3, 0.30, false},
	} {
		x, y := colAt(tc.slot, 0.25), rowAt(tc.frac)
		if got := is(x, y, BarColor); got != tc.bar {
			t.Errorf("slot %d at %.0f%% of the height: bar colour %v, want %v", tc.slot, tc.frac*100, got, tc.bar)
		}
	}
	// The line: 1 of 4 in slot 0, nothing in slot 1, 3 of 4 in slots 2
	// and 3, at the slots' centres.
	for _, tc := range []struct {
		slot int
		frac float64
	}{{0, 0.25}, {2, 0.75}, {3, 0.75}} {
		if x, y := colAt(tc.slot, 0.5), rowAt(tc.frac); !is(x, y, LineColor) {
			t.Errorf("no line point in slot %d at %.0f%% of the height", tc.slot, tc.frac*100)
		}
	}
	x := colAt(1, 0.5)
	for y := top; y < bottom; y++ {
		if is(x, y, LineColor) {
			t.Errorf("line drawn at (%d, %d), in the slot without a value", x, y)
			break
		}
	}
	// Gridlines across the plot, left of the first bar.
	for i := 1; i <= 4; i++ {
		y := bottom - (bottom-top)*i/4
		if !is(left+2, y, palette[gridColour]) {
			t.Errorf("gridline %d missing at row %d", i, y)
		}
	}
	if !is(left, (top+bottom)/2, palette[axisColour]) || !is((left+right)/2, bottom, palette[axisColour]) {
		t.Error("axes missing")
	}
}
