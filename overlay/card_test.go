package overlay

import (
	"image"
	"image/color"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/dataset"
)

func TestScale(t *testing.T) {
	for _, tc := range []struct{ h, w, k int }{
		{60, 60, 5}, {128, 128, 2}, {100, 60, 3}, {256, 10, 1}, {1000, 800, 1}, {1, 1, 256},
	} {
		k := Scale(tc.h, tc.w)
		assert.Equal(t, tc.k, k, "%dx%d", tc.h, tc.w)
		assert.GreaterOrEqual(t, k*max(tc.h, tc.w), MinCardSide)
		if k > 1 {
			assert.Less(t, (k-1)*max(tc.h, tc.w), MinCardSide, "smallest factor")
		}
	}
}

// TestRenderCard: the overlay is enlarged by whole blocks (every card
// pixel of the image area is the overlay pixel it covers), the card is at
// least MinCardSide wide, and the caption and the legend's colours are drawn.
func TestRenderCard(t *testing.T) {
	const h, w = 12, 20
	im := &dataset.Image{Height: h, Width: w, Channels: 1, Pix: make([]float32, h*w)}
	truth := &dataset.Mask{Height: h, Width: w, Labels: make([]int32, h*w)}
	pred := &dataset.Mask{Height: h, Width: w, Labels: make([]int32, h*w)}
	for i := range im.Pix {
		im.Pix[i] = float32(i % 7)
		if i%w > 5 && i%w < 12 && i/w > 2 && i/w < 9 {
			truth.Labels[i] = 1
		}
		if i%w > 8 && i/w > 4 {
			pred.Labels[i] = 1
		}
	}
	small, err := Render(im, truth, pred)
	require.NoError(t, err)
	card, err := RenderCard(im, truth, pred, "a_long_image_name_that_wraps_past_the_card_width_surely", []string{"dice_coef=0.1234 iou=0.0658"})
	require.NoError(t, err)
	k := Scale(h, w)
	require.Equal(t, 13, k)
	b := card.Bounds()
	assert.Equal(t, k*w, b.Dx())
	// Find the image area: the first row whose first pixel of the image matches.
	top := -1
	for y := 0; y < b.Dy()-k*h; y++ {
		if card.NRGBAAt(0, y) == small.NRGBAAt(0, 0) && card.NRGBAAt(k*w-1, y+k*h-1) == small.NRGBAAt(w-1, h-1) && card.NRGBAAt(0, y-1) == cardBackground {
			top = y
			break
		}
	}
	require.GreaterOrEqual(t, top, 3*lineH, "title wrapped on two lines and the scores above the image")
	for y := range k * h {
		for x := range k * w {
			if card.NRGBAAt(x, top+y) != small.NRGBAAt(x/k, y/k) {
				t.Fatalf("card (%d, %d) = %v, overlay (%d, %d) = %v", x, top+y, card.NRGBAAt(x, top+y), x/k, y/k, small.NRGBAAt(x/k, y/k))
			}
		}
	}
	count := func(r image.Rectangle, c color.NRGBA) int {
		n := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if card.NRGBAAt(x, y) == c {
					n++
				}
			}
		}
		return n
	}
	assert.Greater(t, count(image.Rect(0, 0, b.Dx(), top), cardText), 100, "caption text")
	legend := image.Rect(0, top+k*h, b.Dx(), b.Dy())
	for _, l := range Legend {
		assert.GreaterOrEqual(t, count(legend, l.Colour), swatch*swatch, "legend swatch %s", l.Label)
	}
	assert.Greater(t, count(legend, cardText), 100, "legend labels")
}

func TestWrap(t *testing.T) {
	assert.Equal(t, []string{"ab cd", "ef"}, wrap("ab cd ef", 5))
	assert.Equal(t, []string{"abcde", "fg h"}, wrap("abcdefg h", 5))
	assert.Equal(t, []string{"abcde", "fgh", "ij"}, wrap("abcdefgh ij", 5))
	assert.Equal(t, []string{""}, wrap("", 5))
}
