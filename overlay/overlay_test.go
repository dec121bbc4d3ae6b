package overlay

import (
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/dataset"
)

func mask(w, h int, labels ...int32) *dataset.Mask {
	return &dataset.Mask{Height: h, Width: w, Labels: labels}
}

func TestRender(t *testing.T) {
	// 4x3 image with values 0..11, so the stretch maps 0 -> 0 and 11 -> 255.
	im := &dataset.Image{Height: 3, Width: 4, Channels: 1, Pix: make([]float32, 12)}
	for i := range im.Pix {
		im.Pix[i] = float32(i)
	}
	truth := mask(4, 3,
		0, 0, 0, 0,
		0, 1, 1, 0,
		0, 1, 1, 0)
	pred := mask(4, 3,
		1, 0, 0, 0,
		0, 1, 0, 0,
		0, 1, 1, 0)
	out, err := Render(im, truth, pred)
	require.NoError(t, err)
	grey := func(i int) uint8 { return uint8(float32(i)*255/11 + 0.5) }
	blend := func(v uint8, c uint8) uint8 { return uint8(0.4*float32(v) + 0.6*float32(c) + 0.5) }
	tests := []struct {
		name string
		x, y int
		want color.NRGBA
	}{
		{"background kept grey", 3, 0, color.NRGBA{grey(3), grey(3), grey(3), 255}},
		{"last pixel is white", 3, 2, color.NRGBA{255, 255, 255, 255}},
		{"false positive", 0, 0, color.NRGBA{blend(0, 213), blend(0, 94), blend(0, 0), 255}},
		// (2,1) is a false negative but on the truth's boundary: the outline wins.
		{"outline over false negative", 2, 1, Outline},
		{"outline", 1, 2, Outline},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, out.NRGBAAt(tc.x, tc.y))
		})
	}

	// An interior false negative (3x3 object, centre pixel missed).
	truth = mask(3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1)
	pred = mask(3, 3, 1, 1, 1, 1, 0, 1, 1, 1, 1)
	im = &dataset.Image{Height: 3, Width: 3, Channels: 3, Pix: make([]float32, 27)} // constant: black
	out, err = Render(im, truth, pred)
	require.NoError(t, err)
	assert.Equal(t, color.NRGBA{0, blend(0, 114), blend(0, 178), 255}, out.NRGBAAt(1, 1))
	assert.Equal(t, color.NRGBA{0, 0, 0, 255}, out.NRGBAAt(0, 0), "an object filling the image has no outline")
}

func TestRenderSizeMismatch(t *testing.T) {
	im := &dataset.Image{Height: 2, Width: 2, Channels: 1, Pix: make([]float32, 4)}
	_, err := Render(im, mask(2, 2, 0, 0, 0, 0), mask(1, 2, 0, 0))
	require.ErrorIs(t, err, ErrSize)
	assert.Contains(t, err.Error(), "2x1")
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	im := &dataset.Image{Height: 2, Width: 2, Channels: 1, Pix: []float32{0, 1, 2, 3}}
	path := filepath.Join(dir, "o.png")
	require.NoError(t, WriteFile(path, im, mask(2, 2, 0, 0, 0, 1), mask(2, 2, 0, 0, 0, 1)))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	m, err := png.Decode(f)
	require.NoError(t, err)
	assert.Equal(t, 2, m.Bounds().Dx())

	err = WriteFile(filepath.Join(dir, "missing", "o.png"), im, mask(2, 2, 0, 0, 0, 1), mask(2, 2, 0, 0, 0, 1))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing")
	err = WriteFile(filepath.Join(dir, "bad.png"), im, mask(1, 1, 0), mask(2, 2, 0, 0, 0, 1))
	require.ErrorIs(t, err, ErrSize)
	_, statErr := os.Stat(filepath.Join(dir, "bad.png"))
	assert.True(t, os.IsNotExist(statErr), "no file is left behind")
}
