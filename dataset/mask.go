package dataset

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"strings"

	"github.com/tfseg/tfseg/tfops"
)

// Mask is a segmentation mask: one class index per pixel, row-major.
// Binary masks hold 0 (background) and 1 (foreground).
type Mask struct {
	// Height and Width are the mask's dimensions.
	Height, Width int
	// Labels holds Height*Width class indices, pixel (y, x) at y*Width+x.
	Labels []int32
}

// MaskEncoding says how stored mask values become class indices.
type MaskEncoding int

const (
	// MaskAuto, the default: a mask whose values are all 0 or the file's
	// maximum (255 for 8-bit, 65535 for 16-bit PNG, 255 in an .npy array)
	// is binary (0 and 1); any other mask holds class indices as stored,
	// and a paletted PNG holds its palette indices. JPEG masks are lossy:
	// they are binarised at half scale (v >= 128 is foreground).
	MaskAuto MaskEncoding = iota
	// MaskBinary: any non-zero value is foreground (JPEG: v >= 128).
	MaskBinary
	// MaskIndex: stored values are class indices, even 255.
	MaskIndex
)

// String returns "auto", "binary" or "index".
func (e MaskEncoding) String() string {
	switch e {
	case MaskAuto:
		return "auto"
	case MaskBinary:
		return "binary"
	case MaskIndex:
		return "index"
	}
	return fmt.Sprintf("MaskEncoding(%d)", int(e))
}

// ParseMaskEncoding parses "auto", "binary" or "index".
func ParseMaskEncoding(s string) (MaskEncoding, error) {
	for _, e := range []MaskEncoding{MaskAuto, MaskBinary, MaskIndex} {
		if s == e.String() {
			return e, nil
		}
	}
	return 0, fmt.Errorf("dataset: unknown mask encoding %q (want auto, binary or index)", s)
}

// MaskOptions configure ReadMask. The zero value is MaskAuto.
type MaskOptions struct {
	// Encoding says how stored values become class indices (default MaskAuto).
	Encoding MaskEncoding
	// MaxPixels bounds height*width (default 1<<26).
	MaxPixels int
}

// ReadMask reads a PNG, JPEG or .npy mask. A PNG mask is grey, paletted
// (class = palette index) or colour with R = G = B everywhere; an .npy mask
// is (H, W), (H, W, 1), (1, H, W) or (1, H, W, 1) of integers, bools or
// floats holding whole numbers. Errors name path and wrap ErrFormat or ErrMask.
func ReadMask(path string, opts MaskOptions) (*Mask, error) {
	m, err := readMask(fileSource(path), opts)
	if err != nil {
		return nil, fmt.Errorf("mask %s: %w", path, err)
	}
	return m, nil
}

func readMask(src source, opts MaskOptions) (*Mask, error) {
	path := src.path
	maxPixels := opts.MaxPixels
	if maxPixels <= 0 {
		maxPixels = defaultMaxPixels
	}
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".npy":
		t, err := readNpy(src, maxPixels*8)
		if err != nil {
			return nil, err
		}
		return maskFromTensor(t, opts.Encoding)
	case ".png", ".jpg", ".jpeg":
		img, lossy, err := decodeBoundedFormat(src, maxPixels)
		if errors.Is(err, ErrImage) {
			// The pixel limit: for a mask that is a mask error (ReadMask
			// documents ErrFormat or ErrMask); ErrImage still matches.
			return nil, fmt.Errorf("%w: %w", ErrMask, err)
		}
		if err != nil {
			return nil, err
		}
		// Lossiness goes by content: a JPEG named .png is still JPEG.
		return maskFromDecoded(img, opts.Encoding, lossy)
	}
	return nil, fmt.Errorf("%w: unknown extension %q (want .png, .jpg, .jpeg or .npy)", ErrFormat, filepath.Ext(path))
}

func maskFromDecoded(img image.Image, enc MaskEncoding, lossy bool) (*Mask, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	m := &Mask{Height: h, Width: w, Labels: make([]int32, w*h)}
	if p, ok := img.(*image.Paletted); ok {
		for y := range h {
			for x := range w {
				m.Labels[y*w+x] = int32(p.Pix[y*p.Stride+x])
			}
		}
		if enc == MaskBinary {
			binarise(m.Labels, 1)
		}
		return m, nil
	}
	full := int32(255)
	switch img.ColorModel() {
	case color.Gray16Model, color.RGBA64Model, color.NRGBA64Model:
		full = 65535
	}
	grey := isGrey(img)
	for y := range h {
		for x := range w {
			c := img.At(b.Min.X+x, b.Min.Y+y)
			var v int32
			if grey {
				v = int32(color.Gray16Model.Convert(c).(color.Gray16).Y)
			} else {
				n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
				if n.R != n.G || n.G != n.B {
					return nil, fmt.Errorf("%w: colour pixel (%d,%d,%d) at x=%d y=%d; want a grey or paletted mask", ErrMask, n.R>>8, n.G>>8, n.B>>8, x, y)
				}
				v = int32(n.R)
			}
			if full == 255 {
				v >>= 8
			}
			m.Labels[y*w+x] = v
		}
	}
	switch {
	case lossy && enc != MaskIndex:
		for i, v := range m.Labels {
			m.Labels[i] = 0
			if v >= (full+1)/2 {
				m.Labels[i] = 1
			}
		}
	case enc == MaskBinary:
		binarise(m.Labels, 1)
	case enc == MaskAuto:
		autoBinary(m.Labels, full)
	}
	return m, nil
}

// binarise maps every value >= min to 1 and the rest to 0.
func binarise(labels []int32, min int32) {
	for i, v := range labels {
		if v >= min {
			labels[i] = 1
		} else {
			labels[i] = 0
		}
	}
}

// autoBinary maps full to 1 when every value is 0 or full.
func autoBinary(labels []int32, full int32) {
	for _, v := range labels {
		if v != 0 && v != full {
			return
		}
	}
	for i, v := range labels {
		if v == full {
			labels[i] = 1
		}
	}
}

func maskFromTensor(t *tfops.Tensor, enc MaskEncoding) (*Mask, error) {
	dims := t.Shape()
	var h, w int
	switch {
	case len(dims) == 2:
		h, w = dims[0], dims[1]
	case len(dims) == 3 && dims[2] == 1:
		h, w = dims[0], dims[1]
	case len(dims) == 3 && dims[0] == 1:
		h, w = dims[1], dims[2]
	case len(dims) == 4 && dims[0] == 1 && dims[3] == 1:
		h, w = dims[1], dims[2]
	default:
		return nil, fmt.Errorf("%w: .npy array of shape %v; want (H, W), (H, W, 1), (1, H, W) or (1, H, W, 1) of class indices", ErrMask, dims)
	}
	if h == 0 || w == 0 {
		return nil, fmt.Errorf("%w: empty .npy array of shape %v", ErrMask, dims)
	}
	vals, err := float32s(t)
	if err != nil {
		return nil, err
	}
	m := &Mask{Height: h, Width: w, Labels: make([]int32, len(vals))}
	for i, v := range vals {
		if v != float32(math.Trunc(float64(v))) || v < 0 || v > math.MaxInt32/2 {
			return nil, fmt.Errorf("%w: value %v at flat index %d is not a class index (a whole number >= 0)", ErrMask, v, i)
		}
		m.Labels[i] = int32(v)
	}
	switch enc {
	case MaskBinary:
		binarise(m.Labels, 1)
	case MaskAuto:
		autoBinary(m.Labels, 255)
	}
	return m, nil
}

// CenterCrop returns the centered h x w window of m (a copy); see
// Image.CenterCrop for the convention.
func (m *Mask) CenterCrop(h, w int) (*Mask, error) {
	if h > m.Height || w > m.Width || h <= 0 || w <= 0 {
		return nil, fmt.Errorf("%w: cannot crop %dx%d to %dx%d", ErrMask, m.Height, m.Width, h, w)
	}
	top, left := (m.Height-h)/2, (m.Width-w)/2
	out := &Mask{Height: h, Width: w, Labels: make([]int32, h*w)}
	for y := range h {
		src := (top+y)*m.Width + left
		copy(out.Labels[y*w:(y+1)*w], m.Labels[src:src+w])
	}
	return out, nil
}

// MaxLabel returns the largest class index in m.
func (m *Mask) MaxLabel() int32 {
	var mx int32
	for _, v := range m.Labels {
		mx = max(mx, v)
	}
	return mx
}

// Fit relates a mask to a model's output: a mask of the output's size is
// used as is; a mask of the image's size is center-cropped to the output
// (valid-padding models such as the U-Net, whose output is smaller than
// its input) and cropped is true. Any other size is an ErrMask error that
// gives the three sizes.
func (m *Mask) Fit(imageH, imageW, outH, outW int) (fitted *Mask, cropped bool, err error) {
	switch {
	case m.Height == outH && m.Width == outW:
		return m, false, nil
	case m.Height == imageH && m.Width == imageW && outH <= imageH && outW <= imageW:
		c, err := m.CenterCrop(outH, outW)
		return c, err == nil, err
	}
	return nil, false, fmt.Errorf("%w: mask is %dx%d, fitting neither the image (%dx%d) nor the model output (%dx%d)",
		ErrMask, m.Height, m.Width, imageH, imageW, outH, outW)
}
