package weightmap

import (
	"bytes"
	"errors"
	"image/color"
	"image/png"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWritePNG(t *testing.T) {
	// 2×3 map: min 1 at (0, 0), max 5 at (1, 2).
	m := []float64{1, 2, 3, 3, 4, 5}
	var buf bytes.Buffer
	require.NoError(t, WritePNG(&buf, m, 2, 3))
	img, err := png.Decode(&buf)
	require.NoError(t, err)
	scale := pngMinSide / 3 // the longer side (3) is scaled up to >= 256
	b := img.Bounds()
	assert.Equal(t, 2*scale, b.Dy(), "height is the scaled map")
	assert.Greater(t, b.Dx(), 3*scale+pngGap+pngBarWidth, "legend to the right")
	rgba := func(x, y int) color.RGBA {
		r, g, b, a := img.At(x, y).RGBA()
		return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
	}
	first, last := viridis[0], viridis[len(viridis)-1]
	assert.Equal(t, color.RGBA{first[0], first[1], first[2], 255}, rgba(0, 0), "min is the first colour")
	assert.Equal(t, color.RGBA{last[0], last[1], last[2], 255}, rgba(3*scale-1, 2*scale-1), "max is the last colour")
	assert.Equal(t, rgba(scale, 0), rgba(2*scale-1, scale-1), "nearest-neighbour scaling keeps a pixel's block uniform")
	assert.Equal(t, rgba(0, 0), rgba(scale-1, scale-1))
	// The legend bar runs from max (top) to min (bottom); labels are drawn in black.
	bx := 3*scale + pngGap
	assert.Equal(t, color.RGBA{last[0], last[1], last[2], 255}, rgba(bx, 0))
	assert.Equal(t, color.RGBA{first[0], first[1], first[2], 255}, rgba(bx, b.Dy()-1))
	dark := 0
	for y := 0; y < b.Dy(); y++ {
		for x := bx + pngBarWidth; x < b.Dx(); x++ {
			if c := rgba(x, y); c.R < 64 && c.G < 64 && c.B < 64 {
				dark++
			}
		}
	}
	assert.Greater(t, dark, 30, "legend text drawn")
}

func TestWritePNGConstant(t *testing.T) {
	var buf bytes.Buffer
	flat := make([]float64, 300) // long enough not to be scaled up
	for i := range flat {
		flat[i] = 2
	}
	require.NoError(t, WritePNG(&buf, flat, 1, 300))
	img, err := png.Decode(&buf)
	require.NoError(t, err)
	r, g, b, _ := img.At(0, 0).RGBA()
	assert.Equal(t, [3]uint8{viridis[0][0], viridis[0][1], viridis[0][2]}, [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)})
	assert.Equal(t, pngMinHeight, img.Bounds().Dy(), "a flat map still leaves room for the legend")
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWritePNGErrors(t *testing.T) {
	var buf bytes.Buffer
	err := WritePNG(&buf, []float64{1, 2, 3}, 2, 2)
	assert.ErrorIs(t, err, ErrShape)
	assert.ErrorContains(t, err, "2×2 needs 4 values, got 3")
	assert.ErrorIs(t, WritePNG(&buf, nil, 0, 0), ErrShape)
	err = WritePNG(&buf, []float64{1, math.NaN()}, 1, 2)
	assert.ErrorIs(t, err, ErrValue)
	assert.ErrorContains(t, err, "NaN at index 1 (row 0, col 1)")
	assert.ErrorIs(t, WritePNG(&buf, []float64{math.Inf(-1)}, 1, 1), ErrValue)
	assert.ErrorContains(t, WritePNG(failWriter{}, []float64{1}, 1, 1), "disk full")
}

func TestColormap(t *testing.T) {
	assert.Equal(t, color.RGBA{68, 1, 84, 255}, colormap(-1))
	assert.Equal(t, color.RGBA{253, 231, 37, 255}, colormap(2))
	assert.Equal(t, color.RGBA{33, 145, 140, 255}, colormap(0.5))
	mid := colormap(1.0 / 32) // halfway between the first two samples
	assert.Equal(t, color.RGBA{70, 13, 95, 255}, mid)
}
