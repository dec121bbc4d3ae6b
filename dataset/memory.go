package dataset

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"

	"github.com/tfseg/tfseg/npy"
	"github.com/tfseg/tfseg/tfops"
)

// Images and masks held in memory: the same conversions as ReadImage and
// ReadMask, from an io.Reader or an image.Image, and back from tensors.

// npyMagic starts every .npy file.
const npyMagic = "\x93NUMPY"

// readBounded reads r whole, refusing more than limit bytes.
func readBounded(r io.Reader, limit int64) (*bytes.Reader, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrImage, limit)
	}
	return bytes.NewReader(b), nil
}

// decodeAny reads a PNG, JPEG or .npy stream, recognised by its content.
// It returns the decoded image (PNG, JPEG) or the tensor (.npy).
func decodeAny(r io.Reader, maxPixels, npyBytes int) (img image.Image, lossy bool, t *tfops.Tensor, err error) {
	if r == nil {
		return nil, false, nil, fmt.Errorf("%w: nil reader", ErrFormat)
	}
	br := bufio.NewReader(r)
	head, _ := br.Peek(len(npyMagic))
	if string(head) == npyMagic {
		t, err := npy.Read(br, npy.Options{MaxBytes: int64(npyBytes)})
		if err != nil {
			return nil, false, nil, fmt.Errorf("%w: %w", ErrFormat, err)
		}
		return nil, false, t, nil
	}
	// A PNG or JPEG stream is at most about 8 bytes a pixel (16-bit
	// RGBA stored uncompressed) plus its headers.
	rs, err := readBounded(br, int64(maxPixels)*8+1<<20)
	if err != nil {
		return nil, false, nil, err
	}
	img, lossy, err = decodeBoundedReader(rs, maxPixels)
	return img, lossy, nil, err
}

// DecodeImage reads a PNG, JPEG or .npy image from r, recognised by its
// content, as ReadImage reads a file: the same scaling, channel
// conversion and size limit. Errors wrap ErrFormat or ErrImage.
func DecodeImage(r io.Reader, opts ImageOptions) (*Image, error) {
	if opts.Channels != 0 && opts.Channels != 1 && opts.Channels != 3 {
		return nil, fmt.Errorf("%w: ImageOptions.Channels is %d, want 0, 1 or 3", ErrImage, opts.Channels)
	}
	img, _, t, err := decodeAny(r, opts.maxPixels(), opts.maxPixels()*4*8)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	if t != nil {
		im, err := imageFromTensor(t)
		if err != nil {
			return nil, fmt.Errorf("image: %w", err)
		}
		return convertChannels(im, opts.Channels)
	}
	return convertChannels(imageFromDecoded(img, opts.Scale), opts.Channels)
}

// FromImage converts an image.Image as ReadImage converts a decoded PNG:
// grey images (image.Gray, image.Gray16) give one channel, others three
// (alpha dropped, non-premultiplied values), 8-bit samples scaled by 1/255
// and 16-bit ones (Gray16, RGBA64, NRGBA64) by 1/65535 with ScaleUnit,
// opts.Channels converting to grey or RGB. An empty or too large image is
// an ErrImage error.
func FromImage(m image.Image, opts ImageOptions) (*Image, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil image.Image", ErrImage)
	}
	if opts.Channels != 0 && opts.Channels != 1 && opts.Channels != 3 {
		return nil, fmt.Errorf("%w: ImageOptions.Channels is %d, want 0, 1 or 3", ErrImage, opts.Channels)
	}
	b := m.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 || b.Dx() > opts.maxPixels()/b.Dy() {
		return nil, fmt.Errorf("%w: %dx%d pixels (want non-empty, limit %d pixels)", ErrImage, b.Dx(), b.Dy(), opts.maxPixels())
	}
	return convertChannels(imageFromDecoded(m, opts.Scale), opts.Channels)
}

// DecodeMask reads a PNG, JPEG or .npy mask from r, recognised by its
// content, as ReadMask reads a file (the same encodings; JPEG content is
// binarised at half scale). Errors wrap ErrFormat or ErrMask.
func DecodeMask(r io.Reader, opts MaskOptions) (*Mask, error) {
	maxPixels := opts.MaxPixels
	if maxPixels <= 0 {
		maxPixels = defaultMaxPixels
	}
	img, lossy, t, err := decodeAny(r, maxPixels, maxPixels*8)
	if err != nil {
		return nil, fmt.Errorf("mask: %w", err)
	}
	var m *Mask
	if t != nil {
		m, err = maskFromTensor(t, opts.Encoding)
	} else {
		m, err = maskFromDecoded(img, opts.Encoding, lossy)
	}
	if err != nil {
		return nil, fmt.Errorf("mask: %w", err)
	}
	return m, nil
}

// MaskFromImage converts an image.Image to a mask as ReadMask converts a
// decoded PNG: a grey or paletted image (class = palette index), or a
// colour one with R = G = B everywhere, under opts.Encoding. The image is
// taken as lossless (a JPEG decoded by the caller is not binarised at half
// scale; use DecodeMask on its bytes for that).
func MaskFromImage(img image.Image, opts MaskOptions) (*Mask, error) {
	if img == nil {
		return nil, fmt.Errorf("%w: nil image.Image", ErrMask)
	}
	maxPixels := opts.MaxPixels
	if maxPixels <= 0 {
		maxPixels = defaultMaxPixels
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 || b.Dx() > maxPixels/b.Dy() {
		return nil, fmt.Errorf("%w: %dx%d pixels (want non-empty, limit %d pixels)", ErrMask, b.Dx(), b.Dy(), maxPixels)
	}
	return maskFromDecoded(img, opts.Encoding, false)
}

// ToImage returns im as an 8-bit image.Image: *image.Gray for one channel,
// *image.NRGBA for three (opaque) or four. With ScaleUnit samples are
// taken as [0, 1] and multiplied by 255, with ScaleRaw as 0..255; both are
// rounded to nearest and clamped. Other channel counts are ErrImage errors.
func (im *Image) ToImage(scale Scale) (image.Image, error) {
	k := float32(255)
	if scale == ScaleRaw {
		k = 1
	}
	u8 := func(v float32) uint8 {
		x := math.Round(float64(v * k))
		if !(x > 0) { // NaN too
			return 0
		}
		return uint8(min(x, 255))
	}
	r := image.Rect(0, 0, im.Width, im.Height)
	n := im.Width * im.Height
	if len(im.Pix) != n*im.Channels {
		return nil, fmt.Errorf("%w: %dx%dx%d image holds %d samples", ErrImage, im.Height, im.Width, im.Channels, len(im.Pix))
	}
	switch im.Channels {
	case 1:
		g := image.NewGray(r)
		for i, v := range im.Pix {
			g.Pix[i] = u8(v)
		}
		return g, nil
	case 3, 4:
		c := image.NewNRGBA(r)
		for i := range n {
			p := im.Pix[i*im.Channels:]
			c.Pix[4*i], c.Pix[4*i+1], c.Pix[4*i+2], c.Pix[4*i+3] = u8(p[0]), u8(p[1]), u8(p[2]), 255
			if im.Channels == 4 {
				c.Pix[4*i+3] = u8(p[3])
			}
		}
		return c, nil
	}
	return nil, fmt.Errorf("%w: %d channels; ToImage takes 1, 3 or 4", ErrImage, im.Channels)
}

// ImageFromTensor returns image n of an NHWC batch (N, H, W, C) of any
// real or bool dtype as an Image (samples converted to float32, kept as
// they are). A tensor of another rank, 0 or more than 4 channels, or n out
// of range is an ErrImage error.
func ImageFromTensor(t *tfops.Tensor, n int) (*Image, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: nil tensor", ErrImage)
	}
	img, err := t.Image(n)
	if err != nil || t.Rank() != 4 {
		return nil, fmt.Errorf("%w: image %d of a tensor of shape %v; want an NHWC batch (N, H, W, C) with 0 <= n < N", ErrImage, n, t.Shape())
	}
	im, err := imageFromTensor(img)
	if err != nil {
		return nil, fmt.Errorf("%w (tensor of shape %v)", err, t.Shape())
	}
	if t.DType() == tfops.Float {
		// imageFromTensor shares float32 data: copy it.
		im.Pix = append([]float32(nil), im.Pix...)
	}
	return im, nil
}

// ImagesTensor stacks images of one size and channel count into a float32
// NHWC tensor (N, H, W, C), the input of a Keras model. No images or
// differing sizes are ErrImage errors naming the image at fault.
func ImagesTensor(ims ...*Image) (*tfops.Tensor, error) {
	if len(ims) == 0 {
		return nil, fmt.Errorf("%w: no images to stack", ErrImage)
	}
	per := len(ims[0].Pix)
	pix := make([]float32, 0, len(ims)*per)
	for i, im := range ims {
		if im == nil {
			return nil, fmt.Errorf("%w: image %d is nil", ErrImage, i)
		}
		if im.Height != ims[0].Height || im.Width != ims[0].Width || im.Channels != ims[0].Channels || len(im.Pix) != per {
			return nil, fmt.Errorf("%w: image %d is %dx%dx%d, image 0 is %dx%dx%d; a batch needs one size", ErrImage, i,
				im.Height, im.Width, im.Channels, ims[0].Height, ims[0].Width, ims[0].Channels)
		}
		pix = append(pix, im.Pix...)
	}
	return tfops.FromSlice(pix, len(ims), ims[0].Height, ims[0].Width, ims[0].Channels)
}

// Tensor returns m's class indices as an int32 tensor of shape
// (1, H, W, 1) sharing Labels: the y_true of a binary loss or metric
// (tfseg.NewLoss takes integer masks), or sparse labels (a last axis of
// size 1 is accepted in place of none).
func (m *Mask) Tensor() *tfops.Tensor {
	return tfops.MustFromSlice(m.Labels, 1, m.Height, m.Width, 1)
}

// MasksTensor stacks masks of one size into an int32 tensor (N, H, W, 1).
// No masks or differing sizes are ErrMask errors naming the mask at fault.
func MasksTensor(ms ...*Mask) (*tfops.Tensor, error) {
	if len(ms) == 0 {
		return nil, fmt.Errorf("%w: no masks to stack", ErrMask)
	}
	per := ms[0].Height * ms[0].Width
	labels := make([]int32, 0, len(ms)*per)
	for i, m := range ms {
		if m == nil {
			return nil, fmt.Errorf("%w: mask %d is nil", ErrMask, i)
		}
		if m.Height != ms[0].Height || m.Width != ms[0].Width || len(m.Labels) != per {
			return nil, fmt.Errorf("%w: mask %d is %dx%d, mask 0 is %dx%d; a batch needs one size", ErrMask, i, m.Height, m.Width, ms[0].Height, ms[0].Width)
		}
		labels = append(labels, m.Labels...)
	}
	return tfops.FromSlice(labels, len(ms), ms[0].Height, ms[0].Width, 1)
}

// ToImage returns m as a grey image that ReadMask (and MaskFromImage) read
// back to m under the same encoding: MaskBinary writes 0 and 255 (any
// non-zero class is 255); MaskIndex writes the class indices (*image.Gray
// up to 255, *image.Gray16 above); MaskAuto is MaskBinary for a mask of 0
// and 1, MaskIndex otherwise. A negative class is an ErrMask error.
func (m *Mask) ToImage(enc MaskEncoding) (image.Image, error) {
	mx := int32(0)
	for i, v := range m.Labels {
		if v < 0 {
			return nil, fmt.Errorf("%w: class %d at flat index %d is negative", ErrMask, v, i)
		}
		mx = max(mx, v)
	}
	if enc == MaskAuto {
		enc = MaskIndex
		if mx <= 1 {
			enc = MaskBinary
		}
	}
	r := image.Rect(0, 0, m.Width, m.Height)
	if enc == MaskIndex && mx > 255 {
		g := image.NewGray16(r)
		for i, v := range m.Labels {
			g.SetGray16(i%m.Width, i/m.Width, color.Gray16{Y: uint16(min(v, 65535))})
		}
		return g, nil
	}
	g := image.NewGray(r)
	for i, v := range m.Labels {
		switch {
		case enc == MaskBinary && v != 0:
			g.Pix[i] = 255
		case enc != MaskBinary:
			g.Pix[i] = uint8(v)
		}
	}
	return g, nil
}

// MaskFromOutput returns the predicted mask of image n of a model's NHWC
// output (N, H, W, C), float32 or float64: with one channel a pixel is
// class 1 when its value is > threshold (0.5 for probabilities, the rule
// of Keras' BinaryIoU and of tfseg eval; 0 for logits), with more channels
// its class is the argmax over the channels (the first of equal maxima,
// as tf.math.argmax). Another rank or dtype, or n out of range, is an
// ErrMask error naming the shape.
func MaskFromOutput(out *tfops.Tensor, n int, threshold float64) (*Mask, error) {
	if out == nil {
		return nil, fmt.Errorf("%w: nil model output", ErrMask)
	}
	N, h, w, c, err := out.NHWC()
	if err != nil || n < 0 || n >= N || c == 0 {
		return nil, fmt.Errorf("%w: image %d of a model output of shape %v; want (N, H, W, C) with 0 <= n < N, C >= 1", ErrMask, n, out.Shape())
	}
	var at func(i int) float64
	switch v := out.Data().(type) {
	case []float32:
		at = func(i int) float64 { return float64(v[i]) }
	case []float64:
		at = func(i int) float64 { return v[i] }
	default:
		return nil, fmt.Errorf("%w: model output is %v; want float32 or float64", ErrMask, out.DType())
	}
	m := &Mask{Height: h, Width: w, Labels: make([]int32, h*w)}
	base := n * h * w * c
	for i := range m.Labels {
		o := base + i*c
		if c == 1 {
			if at(o) > threshold {
				m.Labels[i] = 1
			}
			continue
		}
		best := 0
		for k := 1; k < c; k++ {
			if at(o+k) > at(o+best) {
				best = k
			}
		}
		m.Labels[i] = int32(best)
	}
	return m, nil
}

// MasksFromOutput is MaskFromOutput for every image of the batch.
func MasksFromOutput(out *tfops.Tensor, threshold float64) ([]*Mask, error) {
	if out == nil || out.Rank() != 4 {
		return nil, fmt.Errorf("%w: model output of shape %v; want (N, H, W, C)", ErrMask, shapeOf(out))
	}
	ms := make([]*Mask, out.Shape()[0])
	for n := range ms {
		m, err := MaskFromOutput(out, n, threshold)
		if err != nil {
			return nil, err
		}
		ms[n] = m
	}
	return ms, nil
}

func shapeOf(t *tfops.Tensor) any {
	if t == nil {
		return "nil"
	}
	return t.Shape()
}
