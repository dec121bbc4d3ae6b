package weightmap

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// ErrValue reports a map value that cannot be drawn (NaN or ±Inf).
var ErrValue = errors.New("weightmap: non-finite value")

// viridis holds matplotlib's viridis colormap sampled at 17 evenly spaced
// points (matplotlib.cm.viridis(np.linspace(0, 1, 17)), rounded to 8 bits);
// colours in between are interpolated linearly.
var viridis = [17][3]uint8{
	{68, 1, 84}, {72, 24, 106}, {71, 45, 123}, {66, 64, 134}, {59, 82, 139},
	{51, 99, 141}, {44, 114, 142}, {38, 130, 142}, {33, 145, 140}, {31, 160, 136},
	{40, 174, 128}, {63, 188, 115}, {94, 201, 98}, {132, 212, 75}, {173, 220, 48},
	{216, 226, 25}, {253, 231, 37},
}

// colormap maps t in [0, 1] to a viridis colour.
func colormap(t float64) color.RGBA {
	t = min(max(t, 0), 1) * float64(len(viridis)-1)
	i := min(int(t), len(viridis)-2)
	f := t - float64(i)
	a, b := viridis[i], viridis[i+1]
	var c [3]uint8
	for k := range c {
		c[k] = uint8(math.Round(float64(a[k])*(1-f) + float64(b[k])*f))
	}
	return color.RGBA{c[0], c[1], c[2], 255}
}

// Layout of the rendering, in output pixels.
const (
	pngMinSide   = 256 // small maps are scaled up to at least this long side
	pngGap       = 8   // between the map and the legend bar
	pngBarWidth  = 16
	pngTextGap   = 4
	pngMinHeight = 3 * 13 // three legend labels of basicfont.Face7x13
)

// WritePNG renders the h×wd map m (row-major, as returned by [UNet],
// [Nearest] or [EDT]) as a PNG: each value v is coloured by a viridis-like
// colormap at (v - min) / (max - min) (the lowest colour when all values are
// equal), and a legend to the right shows the colour bar with the min, middle
// and max values printed beside it. Maps whose longer side is under 256
// pixels are scaled up by an integer factor (nearest neighbour) so the
// picture stays legible.
//
// A length that is not h*wd, or a non-positive dimension, gives an error
// wrapping [ErrShape]; a NaN or infinite value one wrapping [ErrValue].
func WritePNG(w io.Writer, m []float64, h, wd int) error {
	if h <= 0 || wd <= 0 || len(m) != h*wd {
		return fmt.Errorf("%w: png of %d×%d needs %d values, got %d (and positive dimensions)", ErrShape, h, wd, max(h*wd, 0), len(m))
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: %v at index %d (row %d, col %d)", ErrValue, v, i, i/wd, i%wd)
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	scale := max(1, pngMinSide/max(h, wd))
	ih, iw := h*scale, wd*scale
	labels := []string{fmtLegend(hi), fmtLegend((lo + hi) / 2), fmtLegend(lo)}
	face := basicfont.Face7x13
	tw := 0
	for _, s := range labels {
		tw = max(tw, font.MeasureString(face, s).Ceil())
	}
	ch := max(ih, pngMinHeight)
	img := image.NewRGBA(image.Rect(0, 0, iw+pngGap+pngBarWidth+pngTextGap+tw+2, ch))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)

	t := func(v float64) float64 {
		if hi == lo {
			return 0
		}
		return (v - lo) / (hi - lo)
	}
	for y := 0; y < ih; y++ {
		row := m[(y/scale)*wd:]
		for x := 0; x < iw; x++ {
			img.SetRGBA(x, y, colormap(t(row[x/scale])))
		}
	}
	// The colour bar: max at the top, min at the bottom.
	bx := iw + pngGap
	for y := 0; y < ch; y++ {
		c := colormap(1 - float64(y)/float64(max(ch-1, 1)))
		for x := bx; x < bx+pngBarWidth; x++ {
			img.SetRGBA(x, y, c)
		}
	}
	d := font.Drawer{Dst: img, Src: image.Black, Face: face}
	tx := bx + pngBarWidth + pngTextGap
	asc := face.Metrics().Ascent.Ceil()
	for i, s := range labels {
		// Top label hangs from the top, bottom label sits on the bottom, the
		// middle one is centred.
		var base int
		switch i {
		case 0:
			base = asc
		case 1:
			base = ch/2 + asc/2
		default:
			base = ch - face.Metrics().Descent.Ceil()
		}
		d.Dot = fixed.P(tx, base)
		d.DrawString(s)
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("weightmap: write png: %w", err)
	}
	return nil
}

// fmtLegend formats a legend value with 4 significant digits.
func fmtLegend(v float64) string {
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
