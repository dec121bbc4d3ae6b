package dataset

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/tfops"
)

// sameInMemory checks that DecodeImage on the file's bytes, and FromImage
// on a PNG decoded by image/png, give what ReadImage gave for the file
// (want, or an error wrapping wantErr).
func sameInMemory(t *testing.T, path string, opts ImageOptions, want *Image, wantErr error) {
	t.Helper()
	sameFromMemory(t, path, want, wantErr,
		func(r io.Reader) (*Image, error) { return DecodeImage(r, opts) },
		func(m image.Image) (*Image, error) { return FromImage(m, opts) })
}

// sameMaskInMemory is sameInMemory for masks (DecodeMask, MaskFromImage).
func sameMaskInMemory(t *testing.T, path string, opts MaskOptions, want *Mask, wantErr error) {
	t.Helper()
	sameFromMemory(t, path, want, wantErr,
		func(r io.Reader) (*Mask, error) { return DecodeMask(r, opts) },
		func(m image.Image) (*Mask, error) { return MaskFromImage(m, opts) })
}

func sameFromMemory[T any](t *testing.T, path string, want T, wantErr error, decode func(io.Reader) (T, error), from func(image.Image) (T, error)) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		return // a missing file has no bytes to decode
	}
	check := func(what string, got T, err error) {
		if wantErr != nil {
			require.ErrorIs(t, err, wantErr, what)
			return
		}
		require.NoError(t, err, what)
		assert.Equal(t, want, got, what+" = the file reader")
	}
	got, err := decode(bytes.NewReader(data))
	check("decode from io.Reader", got, err)
	if !strings.HasSuffix(path, ".png") {
		return
	}
	if m, err := png.Decode(bytes.NewReader(data)); err == nil {
		got, err := from(m)
		check("from image.Image", got, err)
	}
}

func TestImageRoundTrip(t *testing.T) {
	rgb := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := range rgb.Pix {
		rgb.Pix[i] = uint8(37 * i)
		if i%4 == 3 {
			rgb.Pix[i] = 255
		}
	}
	g := grey(4, 3, func(x, y int) uint8 { return uint8(20*x + 60*y) })
	for _, m := range []image.Image{rgb, g} {
		for _, scale := range []Scale{ScaleUnit, ScaleRaw} {
			im, err := FromImage(m, ImageOptions{Scale: scale})
			require.NoError(t, err)
			back, err := im.ToImage(scale)
			require.NoError(t, err)
			assert.Equal(t, m, back, "%T scale %d", m, scale)
		}
	}
	// A batch: NHWC tensor and back.
	a, _ := FromImage(g, ImageOptions{})
	b, _ := FromImage(grey(4, 3, func(x, y int) uint8 { return 255 }), ImageOptions{})
	x, err := ImagesTensor(a, b)
	require.NoError(t, err)
	require.Equal(t, []int{2, 3, 4, 1}, x.Shape())
	assert.InDelta(t, float64(20*3+60*2)/255, x.At(0, 2, 3, 0), 1e-7)
	assert.Equal(t, 1.0, x.At(1, 0, 0, 0))
	a2, err := ImageFromTensor(x, 0)
	require.NoError(t, err)
	assert.Equal(t, a, a2)
	_, err = ImagesTensor(a, &Image{Height: 1, Width: 1, Channels: 1, Pix: []float32{0}})
	assert.ErrorIs(t, err, ErrImage)
	assert.ErrorContains(t, err, "image 1 is 1x1x1, image 0 is 3x4x1")
	_, err = ImageFromTensor(x, 2)
	assert.ErrorIs(t, err, ErrImage)
	_, err = ImageFromTensor(tfops.MustFromSlice([]float32{1, 2}, 2), 0)
	assert.ErrorIs(t, err, ErrImage)
	_, err = (&Image{Height: 1, Width: 1, Channels: 2, Pix: []float32{0, 0}}).ToImage(ScaleUnit)
	assert.ErrorIs(t, err, ErrImage)
}

func TestMaskRoundTrip(t *testing.T) {
	bin := &Mask{Height: 2, Width: 3, Labels: []int32{0, 1, 1, 0, 0, 1}}
	idx := &Mask{Height: 2, Width: 2, Labels: []int32{0, 3, 255, 1}}
	big := &Mask{Height: 1, Width: 2, Labels: []int32{300, 2}}
	for _, c := range []struct {
		m   *Mask
		enc MaskEncoding
	}{{bin, MaskAuto}, {bin, MaskBinary}, {bin, MaskIndex}, {idx, MaskIndex}, {idx, MaskAuto}, {big, MaskIndex}} {
		img, err := c.m.ToImage(c.enc)
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, png.Encode(&buf, img))
		back, err := DecodeMask(&buf, MaskOptions{Encoding: c.enc})
		require.NoError(t, err)
		assert.Equal(t, c.m, back, "%v %v", c.m.Labels, c.enc)
	}
	x, err := MasksTensor(bin, bin)
	require.NoError(t, err)
	assert.Equal(t, []int{2, 2, 3, 1}, x.Shape())
	assert.Equal(t, 1.0, x.At(1, 1, 2, 0))
	assert.Equal(t, []int{1, 2, 3, 1}, bin.Tensor().Shape())
	_, err = MasksTensor(bin, idx)
	assert.ErrorIs(t, err, ErrMask)
	_, err = (&Mask{Height: 1, Width: 1, Labels: []int32{-1}}).ToImage(MaskIndex)
	assert.ErrorIs(t, err, ErrMask)
}

func TestMaskFromOutput(t *testing.T) {
	// One channel: class 1 where the value is > threshold (0.5 itself is
	// background, as Keras' BinaryIoU and tfseg eval count it).
	p := tfops.MustFromSlice([]float32{0.2, 0.5, 0.51, 0.9, 0, 1}, 2, 1, 3, 1)
	ms, err := MasksFromOutput(p, 0.5)
	require.NoError(t, err)
	assert.Equal(t, []int32{0, 0, 1}, ms[0].Labels)
	assert.Equal(t, []int32{1, 0, 1}, ms[1].Labels)
	// Logits: threshold 0.
	l := tfops.MustFromSlice([]float64{-1, 0, 2}, 1, 1, 3, 1)
	m, err := MaskFromOutput(l, 0, 0)
	require.NoError(t, err)
	assert.Equal(t, []int32{0, 0, 1}, m.Labels)
	// Three channels: argmax, the first of equal maxima.
	s := tfops.MustFromSlice([]float32{0.1, 0.7, 0.2, 0.4, 0.4, 0.2, 0, 0, 1}, 1, 1, 3, 3)
	m, err = MaskFromOutput(s, 0, 0.5)
	require.NoError(t, err)
	assert.Equal(t, []int32{1, 0, 2}, m.Labels)
	img, err := m.ToImage(MaskIndex)
	require.NoError(t, err)
	assert.Equal(t, color.Gray{Y: 2}, img.At(2, 0))

	for _, bad := range []*tfops.Tensor{nil, tfops.MustFromSlice([]float32{1}, 1), tfops.MustFromSlice([]int32{1}, 1, 1, 1, 1)} {
		_, err := MaskFromOutput(bad, 0, 0.5)
		assert.ErrorIs(t, err, ErrMask)
	}
	_, err = MaskFromOutput(p, 2, 0.5)
	assert.ErrorIs(t, err, ErrMask)
	assert.ErrorContains(t, err, "image 2 of a model output of shape [2 1 3 1]")
}
