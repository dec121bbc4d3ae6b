package dataset

import (
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/npy"
	"github.com/tfseg/tfseg/tfops"
)

func writePNG(t *testing.T, path string, m image.Image) string {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, png.Encode(f, m))
	require.NoError(t, f.Close())
	return path
}

func writeJPEG(t *testing.T, path string, m image.Image) string {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, jpeg.Encode(f, m, &jpeg.Options{Quality: 100}))
	require.NoError(t, f.Close())
	return path
}

func writeNpy(t *testing.T, path string, x *tfops.Tensor) string {
	t.Helper()
	require.NoError(t, npy.WriteFile(path, x))
	return path
}

func writeRaw(t *testing.T, path, data string) string {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(data), 0o644))
	return path
}

// grey returns a w x h grey image whose pixel (x, y) is f(x, y).
func grey(w, h int, f func(x, y int) uint8) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetGray(x, y, color.Gray{f(x, y)})
		}
	}
	return m
}

func TestReadImage(t *testing.T) {
	dir := t.TempDir()
	g16 := image.NewGray16(image.Rect(0, 0, 2, 1))
	g16.SetGray16(0, 0, color.Gray16{0})
	g16.SetGray16(1, 0, color.Gray16{65535})
	rgba := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	rgba.SetNRGBA(0, 0, color.NRGBA{255, 0, 51, 255})
	rgba.SetNRGBA(1, 0, color.NRGBA{0, 102, 0, 128}) // alpha is dropped
	pal := image.NewPaletted(image.Rect(0, 0, 1, 1), color.Palette{color.NRGBA{10, 20, 30, 255}})
	tests := []struct {
		name    string
		path    string
		opts    ImageOptions
		h, w, c int
		want    []float32
		err     error
	}{
		{"grey png scaled", writePNG(t, filepath.Join(dir, "g.png"), grey(3, 2, func(x, y int) uint8 { return uint8(51 * (x + 3*y)) })),
			ImageOptions{}, 2, 3, 1, []float32{0, 0.2, 0.4, 0.6, 0.8, 1}, nil},
		{"grey png raw", filepath.Join(dir, "g.png"), ImageOptions{Scale: ScaleRaw}, 2, 3, 1, []float32{0, 51, 102, 153, 204, 255}, nil},
		{"grey png to rgb", filepath.Join(dir, "g.png"), ImageOptions{Scale: ScaleRaw, Channels: 3}, 2, 3, 3,
			[]float32{0, 0, 0, 51, 51, 51, 102, 102, 102, 153, 153, 153, 204, 204, 204, 255, 255, 255}, nil},
		{"16-bit png", writePNG(t, filepath.Join(dir, "g16.png"), g16), ImageOptions{}, 1, 2, 1, []float32{0, 1}, nil},
		{"rgba png drops alpha", writePNG(t, filepath.Join(dir, "c.png"), rgba), ImageOptions{Scale: ScaleRaw}, 1, 2, 3,
			[]float32{255, 0, 51, 0, 102, 0}, nil},
		{"rgb png to grey", filepath.Join(dir, "c.png"), ImageOptions{Scale: ScaleRaw, Channels: 1}, 1, 2, 1,
			[]float32{255*0.299 + 51*0.114, 102 * 0.587}, nil},
		{"paletted png", writePNG(t, filepath.Join(dir, "p.png"), pal), ImageOptions{Scale: ScaleRaw}, 1, 1, 3, []float32{10, 20, 30}, nil},
		{"npy HW", writeNpy(t, filepath.Join(dir, "a.npy"), tfops.MustFromSlice([]float64{1.5, -2}, 1, 2)), ImageOptions{}, 1, 2, 1, []float32{1.5, -2}, nil},
		{"npy HWC uint8 kept raw", writeNpy(t, filepath.Join(dir, "b.npy"), tfops.MustFromSlice([]uint8{1, 2, 3, 4, 5, 6}, 1, 2, 3)), ImageOptions{}, 1, 2, 3, []float32{1, 2, 3, 4, 5, 6}, nil},
		{"npy NHWC", writeNpy(t, filepath.Join(dir, "c.npy"), tfops.MustFromSlice([]float32{7, 8}, 1, 2, 1, 1)), ImageOptions{}, 2, 1, 1, []float32{7, 8}, nil},
		{"npy rank 1", writeNpy(t, filepath.Join(dir, "d.npy"), tfops.MustFromSlice([]float32{7, 8}, 2)), ImageOptions{}, 0, 0, 0, nil, ErrImage},
		{"npy five channels", writeNpy(t, filepath.Join(dir, "e.npy"), tfops.MustFromSlice(make([]float32, 5), 1, 1, 5)), ImageOptions{}, 0, 0, 0, nil, ErrImage},
		{"truncated png", writeRaw(t, filepath.Join(dir, "bad.png"), "\x89PNG\r\n\x1a\nxx"), ImageOptions{}, 0, 0, 0, nil, ErrFormat},
		{"text named png", writeRaw(t, filepath.Join(dir, "txt.png"), "hello"), ImageOptions{}, 0, 0, 0, nil, ErrFormat},
		{"bad npy", writeRaw(t, filepath.Join(dir, "bad.npy"), "\x93NUMPYxx"), ImageOptions{}, 0, 0, 0, nil, ErrFormat},
		{"missing file", filepath.Join(dir, "nope.png"), ImageOptions{}, 0, 0, 0, nil, ErrFormat},
		{"unknown extension", writeRaw(t, filepath.Join(dir, "x.tif"), "II*"), ImageOptions{}, 0, 0, 0, nil, ErrFormat},
		{"too many pixels", filepath.Join(dir, "g.png"), ImageOptions{MaxPixels: 5}, 0, 0, 0, nil, ErrImage},
		{"bad channels option", filepath.Join(dir, "g.png"), ImageOptions{Channels: 2}, 0, 0, 0, nil, ErrImage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			im, err := ReadImage(tc.path, tc.opts)
			sameInMemory(t, tc.path, tc.opts, im, tc.err)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				assert.Contains(t, err.Error(), tc.path, "the message names the file")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []int{tc.h, tc.w, tc.c}, []int{im.Height, im.Width, im.Channels})
			require.Len(t, im.Pix, len(tc.want))
			for i := range tc.want {
				assert.InDelta(t, tc.want[i], im.Pix[i], 1e-5, "sample %d", i)
			}
		})
	}
}

func TestReadImageJPEG(t *testing.T) {
	dir := t.TempDir()
	path := writeJPEG(t, filepath.Join(dir, "g.jpg"), grey(8, 8, func(x, y int) uint8 { return 200 }))
	im, err := ReadImage(path, ImageOptions{Scale: ScaleRaw})
	require.NoError(t, err)
	assert.Equal(t, 1, im.Channels)
	for i, v := range im.Pix {
		assert.InDelta(t, 200, v, 1, "pixel %d", i)
	}
}

func TestReadMask(t *testing.T) {
	dir := t.TempDir()
	pal := image.NewPaletted(image.Rect(0, 0, 3, 1), color.Palette{color.Black, color.White, color.NRGBA{255, 0, 0, 255}})
	pal.Pix = []uint8{0, 2, 1}
	colour := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	colour.SetNRGBA(0, 0, color.NRGBA{1, 1, 1, 255})
	colour.SetNRGBA(1, 0, color.NRGBA{255, 0, 0, 255})
	greyRGB := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	greyRGB.SetNRGBA(0, 0, color.NRGBA{0, 0, 0, 255})
	greyRGB.SetNRGBA(1, 0, color.NRGBA{255, 255, 255, 255})
	bin255 := writePNG(t, filepath.Join(dir, "b255.png"), grey(3, 1, func(x, y int) uint8 { return []uint8{0, 255, 255}[x] }))
	index := writePNG(t, filepath.Join(dir, "idx.png"), grey(3, 1, func(x, y int) uint8 { return []uint8{0, 3, 1}[x] }))
	tests := []struct {
		name string
		path string
		enc  MaskEncoding
		h, w int
		want []int32
		err  error
	}{
		{"0/255 auto is binary", bin255, MaskAuto, 1, 3, []int32{0, 1, 1}, nil},
		{"0/255 as index", bin255, MaskIndex, 1, 3, []int32{0, 255, 255}, nil},
		{"0/1", writePNG(t, filepath.Join(dir, "b1.png"), grey(2, 2, func(x, y int) uint8 { return uint8(x) })), MaskAuto, 2, 2, []int32{0, 1, 0, 1}, nil},
		{"class indices", index, MaskAuto, 1, 3, []int32{0, 3, 1}, nil},
		{"class indices forced binary", index, MaskBinary, 1, 3, []int32{0, 1, 1}, nil},
		{"paletted", writePNG(t, filepath.Join(dir, "pal.png"), pal), MaskAuto, 1, 3, []int32{0, 2, 1}, nil},
		{"grey stored as rgb", writePNG(t, filepath.Join(dir, "gr.png"), greyRGB), MaskAuto, 1, 2, []int32{0, 1}, nil},
		{"colour", writePNG(t, filepath.Join(dir, "col.png"), colour), MaskAuto, 0, 0, nil, ErrMask},
		{"jpeg binarised at half", writeJPEG(t, filepath.Join(dir, "m.jpg"), grey(16, 8, func(x, y int) uint8 { return uint8(255 * (x / 8)) })), MaskAuto, 8, 16,
			func() []int32 {
				v := make([]int32, 128)
				for i := range v {
					v[i] = int32(i % 16 / 8)
				}
				return v
			}(), nil},
		{"npy bool", writeNpy(t, filepath.Join(dir, "b.npy"), tfops.MustFromSlice([]bool{true, false}, 1, 2)), MaskAuto, 1, 2, []int32{1, 0}, nil},
		{"npy int HW1", writeNpy(t, filepath.Join(dir, "i.npy"), tfops.MustFromSlice([]int64{0, 2, 5, 1}, 2, 2, 1)), MaskAuto, 2, 2, []int32{0, 2, 5, 1}, nil},
		{"npy uint8 0/255", writeNpy(t, filepath.Join(dir, "u.npy"), tfops.MustFromSlice([]uint8{0, 255}, 1, 2)), MaskAuto, 1, 2, []int32{0, 1}, nil},
		{"npy float whole", writeNpy(t, filepath.Join(dir, "f.npy"), tfops.MustFromSlice([]float32{0, 1}, 1, 1, 2)), MaskAuto, 1, 2, []int32{0, 1}, nil},
		{"npy float fraction", writeNpy(t, filepath.Join(dir, "ff.npy"), tfops.MustFromSlice([]float32{0, 0.5}, 1, 2)), MaskAuto, 0, 0, nil, ErrMask},
		{"npy negative", writeNpy(t, filepath.Join(dir, "n.npy"), tfops.MustFromSlice([]int32{0, -1}, 1, 2)), MaskAuto, 0, 0, nil, ErrMask},
		{"npy two channels", writeNpy(t, filepath.Join(dir, "c2.npy"), tfops.MustFromSlice([]int32{0, 1, 0, 1, 0, 1, 0, 1}, 2, 2, 2)), MaskAuto, 0, 0, nil, ErrMask},
		{"unreadable", writeRaw(t, filepath.Join(dir, "bad.png"), "junk"), MaskAuto, 0, 0, nil, ErrFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ReadMask(tc.path, MaskOptions{Encoding: tc.enc})
			sameMaskInMemory(t, tc.path, MaskOptions{Encoding: tc.enc}, m, tc.err)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				assert.Contains(t, err.Error(), tc.path)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []int{tc.h, tc.w}, []int{m.Height, m.Width})
			assert.Equal(t, tc.want, m.Labels)
		})
	}
}

func TestParseMaskEncoding(t *testing.T) {
	for _, e := range []MaskEncoding{MaskAuto, MaskBinary, MaskIndex} {
		got, err := ParseMaskEncoding(e.String())
		require.NoError(t, err)
		assert.Equal(t, e, got)
	}
	_, err := ParseMaskEncoding("rgb")
	assert.Error(t, err)
}

func TestCenterCropAndFit(t *testing.T) {
	m := &Mask{Height: 4, Width: 5, Labels: make([]int32, 20)}
	for i := range m.Labels {
		m.Labels[i] = int32(i)
	}
	c, err := m.CenterCrop(2, 2)
	require.NoError(t, err)
	// top = (4-2)/2 = 1, left = (5-2)/2 = 1
	assert.Equal(t, []int32{6, 7, 11, 12}, c.Labels)

	im := &Image{Height: 4, Width: 5, Channels: 1, Pix: make([]float32, 20)}
	for i := range im.Pix {
		im.Pix[i] = float32(i)
	}
	ci, err := im.CenterCrop(3, 3)
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 2, 3, 6, 7, 8, 11, 12, 13}, ci.Pix)
	_, err = im.CenterCrop(5, 5)
	assert.ErrorIs(t, err, ErrImage)

	f, cropped, err := m.Fit(4, 5, 4, 5)
	require.NoError(t, err)
	assert.False(t, cropped)
	assert.Same(t, m, f)
	f, cropped, err = m.Fit(4, 5, 2, 2)
	require.NoError(t, err)
	assert.True(t, cropped)
	assert.Equal(t, c.Labels, f.Labels)
	small := &Mask{Height: 2, Width: 2, Labels: make([]int32, 4)}
	_, cropped, err = small.Fit(4, 5, 2, 2)
	require.NoError(t, err)
	assert.False(t, cropped)
	_, _, err = m.Fit(6, 6, 3, 3)
	require.ErrorIs(t, err, ErrMask)
	assert.Contains(t, err.Error(), "4x5")
	assert.Equal(t, int32(19), m.MaxLabel())
}

func TestMatch(t *testing.T) {
	root := t.TempDir()
	imgs, masks := filepath.Join(root, "images"), filepath.Join(root, "masks")
	require.NoError(t, os.Mkdir(imgs, 0o755))
	require.NoError(t, os.Mkdir(masks, 0o755))
	for _, n := range []string{"b.png", "a.jpg", "c.npy", "notes.txt", ".hidden.png"} {
		writeRaw(t, filepath.Join(imgs, n), "x")
	}
	require.NoError(t, os.Mkdir(filepath.Join(imgs, "sub.png"), 0o755))
	for _, n := range []string{"a.png", "b.npy", "z.png"} {
		writeRaw(t, filepath.Join(masks, n), "x")
	}
	l, err := Match(imgs, masks, MatchOptions{})
	require.NoError(t, err)
	assert.Equal(t, []Pair{
		{"a", filepath.Join(imgs, "a.jpg"), filepath.Join(masks, "a.png")},
		{"b", filepath.Join(imgs, "b.png"), filepath.Join(masks, "b.npy")},
		{"c", filepath.Join(imgs, "c.npy"), ""},
	}, l.Pairs)
	assert.Equal(t, []Pair{{"c", filepath.Join(imgs, "c.npy"), ""}}, l.Unpaired())
	assert.Equal(t, []string{filepath.Join(masks, "z.png")}, l.MasksWithoutImage)
	assert.Equal(t, []string{filepath.Join(imgs, "notes.txt")}, l.Ignored)

	t.Run("ambiguous", func(t *testing.T) {
		writeRaw(t, filepath.Join(masks, "a.npy"), "x")
		defer os.Remove(filepath.Join(masks, "a.npy"))
		_, err := Match(imgs, masks, MatchOptions{})
		require.ErrorIs(t, err, ErrAmbiguous)
		assert.Contains(t, err.Error(), filepath.Join(masks, "a.npy"))
	})
	t.Run("one directory with a suffix", func(t *testing.T) {
		d := t.TempDir()
		for _, n := range []string{"x.png", "x_mask.png", "y.png", "readme.md"} {
			writeRaw(t, filepath.Join(d, n), "x")
		}
		l, err := Match(d, d, MatchOptions{MaskSuffix: "_mask"})
		require.NoError(t, err)
		assert.Equal(t, []Pair{{"x", filepath.Join(d, "x.png"), filepath.Join(d, "x_mask.png")}, {"y", filepath.Join(d, "y.png"), ""}}, l.Pairs)
		assert.Empty(t, l.MasksWithoutImage)
		assert.Equal(t, []string{filepath.Join(d, "readme.md")}, l.Ignored)
		_, err = Match(d, d, MatchOptions{})
		assert.ErrorIs(t, err, ErrAmbiguous)
	})
	t.Run("missing directory", func(t *testing.T) {
		_, err := Match(filepath.Join(root, "nope"), masks, MatchOptions{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "nope")
	})
}

func TestBatches(t *testing.T) {
	dir := t.TempDir()
	var pairs []Pair
	add := func(name string, w, h int, withMask bool) {
		p := Pair{Name: name, Image: writePNG(t, filepath.Join(dir, name+".png"), grey(w, h, func(x, y int) uint8 { return 1 }))}
		if withMask {
			p.Mask = writePNG(t, filepath.Join(dir, name+"_m.png"), grey(w, h, func(x, y int) uint8 { return 0 }))
		}
		pairs = append(pairs, p)
	}
	add("a", 4, 4, true)
	add("b", 4, 4, true)
	add("c", 4, 4, true)
	add("d", 5, 4, true) // a new size starts a new batch
	add("e", 5, 4, false)
	add("f", 5, 4, true)
	pairs = append(pairs, Pair{Name: "g", Image: writeRaw(t, filepath.Join(dir, "g.png"), "junk"), Mask: pairs[0].Mask})

	var got [][]string
	var failed []string
	var maxLen int
	for b := range Batches(pairs, BatchOptions{Size: 2}) {
		var names []string
		for _, s := range b.Samples {
			names = append(names, s.Name)
			assert.Equal(t, s.Name, pairs[s.Index].Name)
		}
		if names != nil {
			got = append(got, names)
		}
		for _, s := range b.Failed {
			failed = append(failed, s.Name)
			require.Error(t, s.Err)
		}
		if len(b.Samples) > 0 {
			x := b.Tensor()
			assert.Equal(t, b.Shape(), x.Shape())
			maxLen = max(maxLen, x.Shape()[0])
		}
	}
	assert.Equal(t, [][]string{{"a", "b"}, {"c"}, {"d", "f"}}, got)
	assert.Equal(t, []string{"e", "g"}, failed)
	assert.Equal(t, 2, maxLen)

	s := Read(pairs[4], ImageOptions{}, MaskOptions{})
	require.ErrorIs(t, s.Err, ErrUnpaired)
	assert.Contains(t, s.Err.Error(), pairs[4].Image)

	n := 0
	for range Batches(pairs, BatchOptions{Size: 1}) {
		n++
		if n == 2 {
			break
		}
	}
	assert.Equal(t, 2, n, "breaking out stops the reader")
}

func TestErrorsDistinct(t *testing.T) {
	all := []error{ErrFormat, ErrImage, ErrMask, ErrUnpaired, ErrAmbiguous}
	for i, a := range all {
		for j, b := range all {
			assert.Equal(t, i == j, errors.Is(a, b))
		}
	}
}
