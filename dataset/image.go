package dataset

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"path/filepath"
	"strings"

	"github.com/tfseg/tfseg/npy"
	"github.com/tfseg/tfseg/tfops"
)

// Image is a decoded image: float32 samples in row-major height x width x
// channels order.
type Image struct {
	// Height, Width and Channels are the image's dimensions (HWC).
	Height, Width, Channels int
	// Pix holds Height*Width*Channels samples, pixel (y, x) channel c at
	// (y*Width+x)*Channels+c.
	Pix []float32
}

// Scale says how 8-bit and 16-bit PNG/JPEG samples become float32.
type Scale int

const (
	// ScaleUnit maps samples to [0, 1]: v/255 for 8-bit, v/65535 for
	// 16-bit files (what Keras' Rescaling(1/255) does). The default.
	ScaleUnit Scale = iota
	// ScaleRaw keeps the stored integer values (0..255 or 0..65535).
	ScaleRaw
)

// ImageOptions configure ReadImage. The zero value scales to [0, 1] and
// keeps the stored channels.
type ImageOptions struct {
	// Scale applies to PNG and JPEG files; .npy values are kept as stored.
	Scale Scale
	// Channels, when 1 or 3, converts to grey (ITU-R 601-2 luma,
	// L = 0.299 R + 0.587 G + 0.114 B, as PIL's convert("L")) or to RGB (grey
	// repeated). 0 keeps the file's channels: 1 for grey PNG/JPEG, 3 for
	// colour ones (alpha is dropped), the last axis of an .npy array.
	Channels int
	// MaxPixels bounds height*width (default 1<<26) so that a hostile
	// header cannot make the reader allocate without bound.
	MaxPixels int
}

const defaultMaxPixels = 1 << 26

func (o ImageOptions) maxPixels() int {
	if o.MaxPixels <= 0 {
		return defaultMaxPixels
	}
	return o.MaxPixels
}

// Extensions lists the file extensions the package reads (lower case).
var Extensions = []string{".png", ".jpg", ".jpeg", ".npy"}

func supported(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	for _, e := range Extensions {
		if ext == e {
			return true
		}
	}
	return false
}

// ReadImage reads a PNG, JPEG or .npy image. An .npy image is (H, W),
// (H, W, C) or (1, H, W, C), of any real or bool dtype. Errors name path and
// wrap ErrFormat or ErrImage.
func ReadImage(path string, opts ImageOptions) (*Image, error) {
	im, err := readImage(fileSource(path), opts)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", path, err)
	}
	return im, nil
}

func readImage(src source, opts ImageOptions) (*Image, error) {
	path := src.path
	if opts.Channels != 0 && opts.Channels != 1 && opts.Channels != 3 {
		return nil, fmt.Errorf("%w: ImageOptions.Channels is %d, want 0, 1 or 3", ErrImage, opts.Channels)
	}
	var im *Image
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		t, err := readNpy(src, opts.maxPixels()*4*8)
		if err != nil {
			return nil, err
		}
		if im, err = imageFromTensor(t); err != nil {
			return nil, err
		}
	case ".png", ".jpg", ".jpeg":
		m, err := decodeBounded(src, opts.maxPixels())
		if err != nil {
			return nil, err
		}
		im = imageFromDecoded(m, opts.Scale)
	default:
		return nil, fmt.Errorf("%w: unknown extension %q (want .png, .jpg, .jpeg or .npy)", ErrFormat, filepath.Ext(path))
	}
	return convertChannels(im, opts.Channels)
}

func readNpy(src source, maxBytes int) (*tfops.Tensor, error) {
	f, err := src.open()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	defer f.Close()
	t, err := npy.Read(bufio.NewReader(f), npy.Options{MaxBytes: int64(maxBytes)})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return t, nil
}

// decodeBounded decodes a PNG or JPEG after checking its header's size.
func decodeBounded(src source, maxPixels int) (image.Image, error) {
	m, _, err := decodeBoundedFormat(src, maxPixels)
	return m, err
}

// decodeBoundedFormat is decodeBounded that also says whether the content
// (not the file name) is lossy JPEG.
func decodeBoundedFormat(src source, maxPixels int) (img image.Image, lossy bool, err error) {
	f, err := src.open()
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	defer f.Close()
	return decodeBoundedReader(f, maxPixels)
}

// decodeBoundedReader decodes a PNG or JPEG from r after checking its
// header's size, and says whether the content is lossy JPEG.
func decodeBoundedReader(r io.ReadSeeker, maxPixels int) (img image.Image, lossy bool, err error) {
	start, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	br := bufio.NewReader(r)
	head, _ := br.Peek(8)
	var decode func(io.Reader) (image.Image, error)
	var config func(io.Reader) (image.Config, error)
	switch {
	case strings.HasPrefix(string(head), "\x89PNG\r\n\x1a\n"):
		decode, config = png.Decode, png.DecodeConfig
	case strings.HasPrefix(string(head), "\xff\xd8"):
		decode, config = jpeg.Decode, jpeg.DecodeConfig
		lossy = true
	default:
		return nil, false, fmt.Errorf("%w: not a PNG or JPEG file", ErrFormat)
	}
	cfg, err := config(br)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxPixels/cfg.Height {
		return nil, false, fmt.Errorf("%w: %dx%d pixels (limit %d pixels)", ErrImage, cfg.Width, cfg.Height, maxPixels)
	}
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	m, err := decode(bufio.NewReader(r))
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return m, lossy, nil
}

// isGrey reports whether m's colour model is grey.
func isGrey(m image.Image) bool {
	switch m.ColorModel() {
	case color.GrayModel, color.Gray16Model:
		return true
	}
	return false
}

func imageFromDecoded(m image.Image, scale Scale) *Image {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	s8, s16 := float32(1)/255, float32(1)/65535
	if scale == ScaleRaw {
		s8, s16 = 1, 1
	}
	if isGrey(m) {
		im := &Image{Height: h, Width: w, Channels: 1, Pix: make([]float32, w*h)}
		switch g := m.(type) {
		case *image.Gray:
			for y := 0; y < h; y++ {
				row := g.Pix[y*g.Stride : y*g.Stride+w]
				for x, v := range row {
					im.Pix[y*w+x] = float32(v) * s8
				}
			}
		default:
			sixteen := m.ColorModel() == color.Gray16Model
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					v := color.Gray16Model.Convert(m.At(b.Min.X+x, b.Min.Y+y)).(color.Gray16).Y
					if sixteen {
						im.Pix[y*w+x] = float32(v) * s16
					} else {
						im.Pix[y*w+x] = float32(v>>8) * s8
					}
				}
			}
		}
		return im
	}
	im := &Image{Height: h, Width: w, Channels: 3, Pix: make([]float32, w*h*3)}
	sixteen := false
	switch m.ColorModel() {
	case color.RGBA64Model, color.NRGBA64Model:
		sixteen = true
	}
	switch c := m.(type) {
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := c.Pix[y*c.Stride : y*c.Stride+4*w]
			for x := 0; x < w; x++ {
				o := (y*w + x) * 3
				im.Pix[o] = float32(row[4*x]) * s8
				im.Pix[o+1] = float32(row[4*x+1]) * s8
				im.Pix[o+2] = float32(row[4*x+2]) * s8
			}
		}
		return im
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			// Non-premultiplied values, as PIL reads them (alpha dropped).
			nc := color.NRGBA64Model.Convert(m.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
			o := (y*w + x) * 3
			if sixteen {
				im.Pix[o], im.Pix[o+1], im.Pix[o+2] = float32(nc.R)*s16, float32(nc.G)*s16, float32(nc.B)*s16
			} else {
				im.Pix[o], im.Pix[o+1], im.Pix[o+2] = float32(nc.R>>8)*s8, float32(nc.G>>8)*s8, float32(nc.B>>8)*s8
			}
		}
	}
	return im
}

// imageFromTensor accepts (H, W), (H, W, C) or (1, H, W, C).
func imageFromTensor(t *tfops.Tensor) (*Image, error) {
	dims := t.Shape()
	var h, w, c int
	switch {
	case len(dims) == 2:
		h, w, c = dims[0], dims[1], 1
	case len(dims) == 3:
		h, w, c = dims[0], dims[1], dims[2]
	case len(dims) == 4 && dims[0] == 1:
		h, w, c = dims[1], dims[2], dims[3]
	default:
		return nil, fmt.Errorf("%w: .npy array of shape %v; want (H, W), (H, W, C) or (1, H, W, C)", ErrImage, dims)
	}
	if h == 0 || w == 0 || c == 0 || c > 4 {
		return nil, fmt.Errorf("%w: .npy array of shape %v; want non-empty height and width and 1 to 4 channels", ErrImage, dims)
	}
	pix, err := float32s(t)
	if err != nil {
		return nil, err
	}
	return &Image{Height: h, Width: w, Channels: c, Pix: pix}, nil
}

// float32s converts a real or bool tensor's elements to float32.
func float32s(t *tfops.Tensor) ([]float32, error) {
	switch v := t.Data().(type) {
	case []float32:
		return v, nil
	case []float64:
		return conv(v), nil
	case []int8:
		return conv(v), nil
	case []int16:
		return conv(v), nil
	case []int32:
		return conv(v), nil
	case []int64:
		return conv(v), nil
	case []uint8:
		return conv(v), nil
	case []uint16:
		return conv(v), nil
	case []uint32:
		return conv(v), nil
	case []uint64:
		return conv(v), nil
	case []bool:
		out := make([]float32, len(v))
		for i, b := range v {
			if b {
				out[i] = 1
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: .npy dtype %v is not a number", ErrFormat, t.DType())
}

func conv[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float64](v []T) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// convertChannels converts to 1 (luma) or 3 (repeated grey) channels.
func convertChannels(im *Image, want int) (*Image, error) {
	if want == 0 || want == im.Channels {
		return im, nil
	}
	n := im.Height * im.Width
	switch {
	case want == 1 && (im.Channels == 3 || im.Channels == 4):
		out := make([]float32, n)
		for i := range n {
			p := im.Pix[i*im.Channels:]
			out[i] = p[0]*0.299 + p[1]*0.587 + p[2]*0.114
		}
		return &Image{Height: im.Height, Width: im.Width, Channels: 1, Pix: out}, nil
	case want == 3 && im.Channels == 1:
		out := make([]float32, 3*n)
		for i, v := range im.Pix {
			out[3*i], out[3*i+1], out[3*i+2] = v, v, v
		}
		return &Image{Height: im.Height, Width: im.Width, Channels: 3, Pix: out}, nil
	case want == 3 && im.Channels == 4:
		out := make([]float32, 3*n)
		for i := range n {
			copy(out[3*i:3*i+3], im.Pix[4*i:4*i+3])
		}
		return &Image{Height: im.Height, Width: im.Width, Channels: 3, Pix: out}, nil
	}
	return nil, fmt.Errorf("%w: cannot convert %d channels to %d", ErrImage, im.Channels, want)
}

// CenterCrop returns the centered h x w window of im (a copy), the window
// Keras' Cropping2D keeps when it crops (H-h)/2 rows from the top, rounded
// down, and the rest from the bottom.
func (im *Image) CenterCrop(h, w int) (*Image, error) {
	if h > im.Height || w > im.Width || h <= 0 || w <= 0 {
		return nil, fmt.Errorf("%w: cannot crop %dx%d to %dx%d", ErrImage, im.Height, im.Width, h, w)
	}
	top, left := (im.Height-h)/2, (im.Width-w)/2
	out := &Image{Height: h, Width: w, Channels: im.Channels, Pix: make([]float32, h*w*im.Channels)}
	for y := range h {
		src := ((top+y)*im.Width + left) * im.Channels
		copy(out.Pix[y*w*im.Channels:(y+1)*w*im.Channels], im.Pix[src:src+w*im.Channels])
	}
	return out, nil
}

// Tensor returns im as a float32 tensor of shape (1, H, W, C) sharing Pix.
func (im *Image) Tensor() *tfops.Tensor {
	return tfops.MustFromSlice(im.Pix, 1, im.Height, im.Width, im.Channels)
}
