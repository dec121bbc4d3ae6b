package overlay

import (
	"image"
	"image/color"
	"image/draw"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/tfseg/tfseg/dataset"
)

// MinCardSide is the least size, in pixels, of a card's long side: small
// images are enlarged by the smallest integer factor that reaches it.
const MinCardSide = 256

// Card layout: basicfont.Face7x13 text on a dark band above (title and
// lines) and below (legend) the enlarged overlay.
const (
	charW, lineH = 7, 13
	pad          = 4
	swatch       = 10
)

var (
	cardBackground = color.NRGBA{34, 34, 34, 255}
	cardText       = color.NRGBA{240, 240, 240, 255}
)

// LegendItem is one colour of the legend and what it marks.
type LegendItem struct {
	// Colour is drawn as a swatch beside Label.
	Colour color.NRGBA
	Label  string
}

// Legend is the card's legend, in order.
var Legend = []LegendItem{
	{Outline, "mask outline"},
	{FalsePositive, "false positive"},
	{FalseNegative, "false negative"},
}

// Scale returns the nearest-neighbour enlargement factor of a card for an
// h x w image: the smallest integer k with k*max(h, w) >= MinCardSide (1
// for images already that large).
func Scale(h, w int) int {
	side := max(h, w, 1)
	return max(1, (MinCardSide+side-1)/side)
}

// RenderCard draws the overlay of Render enlarged by Scale with
// nearest-neighbour sampling (every pixel becomes a k x k block, so the
// errors stay exact), under a band holding title (the image's name) and
// lines (its scores), above a legend of the three colours. Text wraps at
// the card's width, which is at least MinCardSide.
func RenderCard(im *dataset.Image, truth, pred *dataset.Mask, title string, lines []string) (*image.NRGBA, error) {
	small, err := Render(im, truth, pred)
	if err != nil {
		return nil, err
	}
	k := Scale(im.Height, im.Width)
	w, h := k*im.Width, k*im.Height
	cw := max(w, MinCardSide)
	cols := (cw - 2*pad) / charW
	var head []string
	for _, l := range append([]string{title}, lines...) {
		head = append(head, wrap(l, cols)...)
	}
	legend := legendRows(cw - 2*pad)
	top := len(head)*lineH + 2*pad
	ch := top + h + pad + len(legend)*lineH + pad
	out := image.NewNRGBA(image.Rect(0, 0, cw, ch))
	draw.Draw(out, out.Bounds(), image.NewUniform(cardBackground), image.Point{}, draw.Src)
	x0 := (cw - w) / 2
	for y := range h {
		sr := small.Pix[(y/k)*small.Stride:]
		dr := out.Pix[(top+y)*out.Stride+4*x0:]
		for x := range w {
			copy(dr[4*x:4*x+4], sr[4*(x/k):4*(x/k)+4])
		}
	}
	d := &font.Drawer{Dst: out, Src: image.NewUniform(cardText), Face: basicfont.Face7x13}
	for i, l := range head {
		d.Dot = fixed.P(pad, pad+(i+1)*lineH-3)
		d.DrawString(l)
	}
	y := top + h + pad
	for _, row := range legend {
		x := pad
		for _, it := range row {
			draw.Draw(out, image.Rect(x, y+1, x+swatch, y+1+swatch), image.NewUniform(it.Colour), image.Point{}, draw.Src)
			d.Dot = fixed.P(x+swatch+3, y+lineH-3)
			d.DrawString(it.Label)
			x += swatch + 3 + len(it.Label)*charW + 2*charW
		}
		y += lineH
	}
	return out, nil
}

// legendRows lays the legend's items out left to right in rows of width px.
func legendRows(width int) [][]LegendItem {
	var rows [][]LegendItem
	var row []LegendItem
	x := 0
	for _, it := range Legend {
		iw := swatch + 3 + len(it.Label)*charW
		if len(row) > 0 && x+iw > width {
			rows, row, x = append(rows, row), nil, 0
		}
		row = append(row, it)
		x += iw + 2*charW
	}
	return append(rows, row)
}

// wrap splits s into lines of at most cols characters, at spaces when it
// can (a longer word is cut).
func wrap(s string, cols int) []string {
	cols = max(cols, 1)
	var out []string
	line := ""
	for _, word := range strings.Fields(s) {
		for len(word) > cols {
			if line != "" {
				out, line = append(out, line), ""
			}
			out, word = append(out, word[:cols]), word[cols:]
		}
		switch {
		case line == "":
			line = word
		case len(line)+1+len(word) <= cols:
			line += " " + word
		default:
			out, line = append(out, line), word
		}
	}
	if line != "" || len(out) == 0 {
		out = append(out, line)
	}
	return out
}
