package dataset

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/npy"
	"github.com/tfseg/tfseg/tfops"
)

// fuzzMaxPixels keeps the fuzzed decodes small: headers claiming more are
// refused before decoding.
const fuzzMaxPixels = 1 << 14

// fuzzExts are the file kinds the fuzzers write their bytes as; the
// fuzzed kind byte picks one (mod 3).
var fuzzExts = []string{".png", ".jpg", ".npy"}

// fuzzFile writes data to a fresh file with the extension kind selects.
func fuzzFile(t *testing.T, data []byte, kind uint8) string {
	p := filepath.Join(t.TempDir(), "f"+fuzzExts[int(kind)%len(fuzzExts)])
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// FuzzReadMask reads arbitrary bytes as a PNG, JPEG or .npy mask with each
// encoding. A mask read has positive, bounded dimensions and one
// non-negative label per pixel (0 or 1 when binary); a failure is an error
// naming the file and wrapping ErrFormat or ErrMask, never a panic.
func FuzzReadMask(f *testing.F) {
	for _, s := range fuzzSeedFiles(f) {
		f.Add(s.data, s.kind, uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, kind, enc uint8) {
		path := fuzzFile(t, data, kind)
		e := MaskEncoding(int(enc) % 3)
		m, err := ReadMask(path, MaskOptions{Encoding: e, MaxPixels: fuzzMaxPixels})
		if err != nil {
			// ReadMask's errors wrap ErrFormat or ErrMask, the pixel limit
			// included (TestMaskPixelLimitIsErrMask).
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrMask) {
				t.Fatalf("error wraps neither ErrFormat nor ErrMask: %v", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		maxPixels := fuzzMaxPixels
		if strings.HasSuffix(path, ".npy") {
			maxPixels *= 8 // bounded by bytes: one-byte labels
		}
		if m.Height <= 0 || m.Width <= 0 || m.Height > maxPixels/m.Width {
			t.Fatalf("mask of %dx%d pixels (limit %d)", m.Height, m.Width, maxPixels)
		}
		if len(m.Labels) != m.Height*m.Width {
			t.Fatalf("%dx%d mask with %d labels", m.Height, m.Width, len(m.Labels))
		}
		// JPEG content is binarised (whatever the file's name) unless
		// the encoding is MaskIndex; a PNG named .jpg keeps its values.
		jpegContent := bytes.HasPrefix(data, []byte("\xff\xd8")) && !strings.HasSuffix(path, ".npy")
		binary := e == MaskBinary || (e != MaskIndex && jpegContent)
		for i, v := range m.Labels {
			if v < 0 || (binary && v > 1) {
				t.Fatalf("label %d at %d (encoding %v)", v, i, e)
			}
		}
	})
}

// FuzzReadImage reads arbitrary bytes as a PNG, JPEG or .npy image with
// each channel option and scale. An image read has positive, bounded
// dimensions, 1 to 4 channels (the asked number when one was asked) and
// H*W*C samples, scaled into [0, 1] for PNG and JPEG with ScaleUnit; a
// failure is an error naming the file and wrapping ErrFormat or ErrImage.
func FuzzReadImage(f *testing.F) {
	for _, s := range fuzzSeedFiles(f) {
		f.Add(s.data, s.kind, uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, kind, opt uint8) {
		path := fuzzFile(t, data, kind)
		opts := ImageOptions{Channels: []int{0, 1, 3}[int(opt)%3], Scale: Scale(int(opt/3) % 2), MaxPixels: fuzzMaxPixels}
		im, err := ReadImage(path, opts)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrImage) {
				t.Fatalf("error wraps neither ErrFormat nor ErrImage: %v", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		maxPixels := fuzzMaxPixels
		if strings.HasSuffix(path, ".npy") {
			maxPixels *= 32 // bounded by bytes: one-byte samples, up to 4 channels
		}
		if im.Height <= 0 || im.Width <= 0 || im.Height > maxPixels/im.Width {
			t.Fatalf("image of %dx%d pixels (limit %d)", im.Height, im.Width, maxPixels)
		}
		if im.Channels < 1 || im.Channels > 4 || (opts.Channels != 0 && im.Channels != opts.Channels) {
			t.Fatalf("%d channels (asked %d)", im.Channels, opts.Channels)
		}
		if len(im.Pix) != im.Height*im.Width*im.Channels {
			t.Fatalf("%dx%dx%d image with %d samples", im.Height, im.Width, im.Channels, len(im.Pix))
		}
		if !strings.HasSuffix(path, ".npy") && opts.Scale == ScaleUnit {
			for i, v := range im.Pix {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("sample %v at %d outside [0, 1]", v, i)
				}
			}
		}
		if im.Tensor().NumElements() != len(im.Pix) {
			t.Fatal("Tensor() does not hold the image")
		}
	})
}

// fuzzSeed is one seed file: its bytes and its kind (an index in fuzzExts).
type fuzzSeed struct {
	name string
	data []byte
	kind uint8
}

// fuzzSeedFiles encodes small images of every kind the readers handle:
// grey, 16-bit grey, paletted, RGBA and 16-bit RGBA PNGs, grey and colour
// JPEGs, and .npy arrays of several dtypes and layouts.
func fuzzSeedFiles(tb testing.TB) []fuzzSeed {
	const w, h = 6, 5
	disc := func(x, y int) bool { return (x-3)*(x-3)+(y-2)*(y-2) <= 4 }
	gray := image.NewGray(image.Rect(0, 0, w, h))
	gray16 := image.NewGray16(image.Rect(0, 0, w, h))
	pal := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Black, color.White, color.RGBA{200, 30, 30, 255}})
	rgba := image.NewNRGBA(image.Rect(0, 0, w, h))
	rgba64 := image.NewNRGBA64(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			on := disc(x, y)
			v := uint8(0)
			if on {
				v = 255
			}
			gray.SetGray(x, y, color.Gray{v})
			gray16.SetGray16(x, y, color.Gray16{uint16(v) * 257})
			pal.SetColorIndex(x, y, uint8((x+y)%3))
			rgba.SetNRGBA(x, y, color.NRGBA{uint8(40 * x), uint8(50 * y), v, 200})
			rgba64.SetNRGBA64(x, y, color.NRGBA64{uint16(9000 * x), uint16(v) * 257, uint16(7000 * y), 65535})
		}
	}
	var seeds []fuzzSeed
	enc := func(name string, kind uint8, write func(*bytes.Buffer) error) {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			tb.Fatalf("seed %s: %v", name, err)
		}
		seeds = append(seeds, fuzzSeed{name, b.Bytes(), kind})
	}
	for _, p := range []struct {
		name string
		m    image.Image
	}{{"png-gray", gray}, {"png-gray16", gray16}, {"png-paletted", pal}, {"png-rgba", rgba}, {"png-rgba64", rgba64}} {
		enc(p.name, 0, func(b *bytes.Buffer) error { return png.Encode(b, p.m) })
	}
	enc("jpeg-gray", 1, func(b *bytes.Buffer) error { return jpeg.Encode(b, gray, &jpeg.Options{Quality: 90}) })
	enc("jpeg-colour", 1, func(b *bytes.Buffer) error { return jpeg.Encode(b, rgba, &jpeg.Options{Quality: 75}) })
	labels := make([]uint8, w*h)
	for i := range labels {
		if disc(i%w, i/w) {
			labels[i] = 1
		}
	}
	for _, a := range []struct {
		name string
		t    *tfops.Tensor
	}{
		{"npy-u1-mask", tfops.MustFromSlice(labels, h, w)},
		{"npy-i4-classes", tfops.MustFromSlice([]int32{0, 1, 2, 3, 2, 1}, 1, 2, 3, 1)},
		{"npy-f4-image", tfops.MustFromSlice([]float32{0, 0.5, 1, 0.25, 0.75, 1, 0, 0.5, 1, 0.25, 0.75, 1}, 2, 2, 3)},
		{"npy-b1", tfops.MustFromSlice([]bool{true, false, false, true}, 2, 2)},
		{"npy-f8-batch1", tfops.MustFromSlice([]float64{0, 1, 255, 0}, 1, 2, 2, 1)},
	} {
		enc(a.name, 2, func(b *bytes.Buffer) error { return npy.Write(b, a.t) })
	}
	return seeds
}

// TestFuzzSeedsRead checks that every seed reads cleanly as an image, and
// as a mask where it is one, so that the fuzzers start from valid files.
func TestFuzzSeedsRead(t *testing.T) {
	notMasks := map[string]bool{"png-rgba": true, "png-rgba64": true, "jpeg-colour": true, "npy-f4-image": true}
	for _, s := range fuzzSeedFiles(t) {
		t.Run(s.name, func(t *testing.T) {
			path := fuzzFile(t, s.data, s.kind)
			_, err := ReadImage(path, ImageOptions{})
			require.NoError(t, err)
			_, err = ReadMask(path, MaskOptions{})
			if notMasks[s.name] {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
		})
	}
}

// TestWriteFuzzSeeds writes the seeds of FuzzReadMask and FuzzReadImage to
// testdata/fuzz. It runs only with TFSEG_WRITE_FUZZ_SEEDS=1:
// TFSEG_WRITE_FUZZ_SEEDS=1 go test -run TestWriteFuzzSeeds ./dataset
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("TFSEG_WRITE_FUZZ_SEEDS") != "1" {
		t.Skip("set TFSEG_WRITE_FUZZ_SEEDS=1 to regenerate testdata/fuzz")
	}
	for _, target := range []string{"FuzzReadMask", "FuzzReadImage"} {
		dir := filepath.Join("testdata", "fuzz", target)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for i, s := range fuzzSeedFiles(t) {
			// Vary the option byte over the seeds so that every encoding
			// and channel option starts with a valid file.
			body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(s.data)) + ")\nbyte(" +
				strconv.QuoteRune(rune(s.kind)) + ")\nbyte(" + strconv.QuoteRune(rune(i%6)) + ")\n"
			require.NoError(t, os.WriteFile(filepath.Join(dir, "seed-"+s.name), []byte(body), 0o644))
		}
	}
}

// TestMaskFormatByContent: a mask's decoder is chosen by its content, so
// whether it is lossy (JPEG: binarised at half scale) must be too. A JPEG
// named .png must not be read as a lossless mask whose JPEG noise becomes
// dozens of class indices.
func TestMaskFormatByContent(t *testing.T) {
	var jpegBytes []byte
	for _, s := range fuzzSeedFiles(t) {
		if s.name == "jpeg-gray" {
			jpegBytes = s.data
		}
	}
	require.NotNil(t, jpegBytes)
	for _, name := range []string{"m.png", "m.jpg"} {
		p := filepath.Join(t.TempDir(), name)
		require.NoError(t, os.WriteFile(p, jpegBytes, 0o644))
		m, err := ReadMask(p, MaskOptions{})
		require.NoError(t, err)
		require.LessOrEqual(t, m.MaxLabel(), int32(1), "JPEG content named %s", name)
	}
}

// TestMaskPixelLimitIsErrMask: ReadMask documents that its errors wrap
// ErrFormat or ErrMask, but a PNG or JPEG mask over MaxPixels gives
// ErrImage (decodeBoundedFormat's error, returned unchanged by readMask).
// Found by FuzzReadMask (testdata/fuzz/FuzzReadMask/regress-jpeg-mask-over-pixel-limit).
func TestMaskPixelLimitIsErrMask(t *testing.T) {
	var png []byte
	for _, s := range fuzzSeedFiles(t) {
		if s.name == "png-gray" {
			png = s.data
		}
	}
	p := filepath.Join(t.TempDir(), "m.png")
	require.NoError(t, os.WriteFile(p, png, 0o644))
	_, err := ReadMask(p, MaskOptions{MaxPixels: 10})
	require.ErrorIs(t, err, ErrMask)
	require.Contains(t, err.Error(), "6x5 pixels (limit 10 pixels)")
}
