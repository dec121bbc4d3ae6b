// Package overlay draws what a segmentation model got wrong: the image, the
// true mask's outline, and the prediction's false positives and false
// negatives in two colours, as one PNG per image.
package overlay

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"

	"github.com/tfseg/tfseg/dataset"
	"github.com/tfseg/tfseg/internal/atomicfile"
)

// ErrSize is returned when the image, the mask and the prediction differ in size.
var ErrSize = errors.New("overlay: size mismatch")

// Colours of the overlay, from the Okabe-Ito palette (readable with the
// common colour-vision deficiencies).
var (
	// Outline marks the true mask's boundary (yellow).
	Outline = color.NRGBA{240, 228, 66, 255}
	// FalsePositive marks pixels predicted as a foreground class that is
	// not the true one (vermillion).
	FalsePositive = color.NRGBA{213, 94, 0, 255}
	// FalseNegative marks foreground pixels predicted as background (blue).
	FalseNegative = color.NRGBA{0, 114, 178, 255}
)

// alpha is the weight of the FP/FN colours over the image.
const alpha = 0.6

// Render draws the overlay of one image. im is shown in grey (1 channel) or
// colour (3 or 4 channels; channels past the third are ignored), each
// channel stretched from its minimum to its maximum over the image, so that
// any value range (a [0, 1] PNG or a z-scored .npy) is visible. truth and
// pred hold class indices (0 is background) and must be im's size: crop
// the image to the model's output first (Image.CenterCrop).
//
// A pixel with pred != truth is a false negative when pred is 0 and a false
// positive otherwise (the prediction put a foreground class where it does
// not belong); both are blended over the image with weight 0.6. The
// outline, drawn opaque over everything, is the set of truth foreground
// pixels with a 4-neighbour of another class.
func Render(im *dataset.Image, truth, pred *dataset.Mask) (*image.NRGBA, error) {
	for _, m := range []*dataset.Mask{truth, pred} {
		if m.Height != im.Height || m.Width != im.Width {
			return nil, fmt.Errorf("%w: image %dx%d, masks %dx%d and %dx%d", ErrSize, im.Height, im.Width, truth.Height, truth.Width, pred.Height, pred.Width)
		}
	}
	h, w := im.Height, im.Width
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	shown := min(im.Channels, 3)
	var lo, scale [3]float32
	for c := range shown {
		mn, mx := float32(0), float32(0)
		for i := range h * w {
			v := im.Pix[i*im.Channels+c]
			if i == 0 || v < mn {
				mn = v
			}
			if i == 0 || v > mx {
				mx = v
			}
		}
		lo[c] = mn
		if mx > mn {
			scale[c] = 255 / (mx - mn)
		}
	}
	for i := range h * w {
		var rgb [3]float32
		for c := range 3 {
			k := min(c, shown-1)
			rgb[c] = (im.Pix[i*im.Channels+k] - lo[k]) * scale[k]
		}
		t, p := truth.Labels[i], pred.Labels[i]
		if t != p {
			col := FalsePositive
			if p == 0 {
				col = FalseNegative
			}
			rgb[0] = (1-alpha)*rgb[0] + alpha*float32(col.R)
			rgb[1] = (1-alpha)*rgb[1] + alpha*float32(col.G)
			rgb[2] = (1-alpha)*rgb[2] + alpha*float32(col.B)
		}
		o := 4 * i
		out.Pix[o], out.Pix[o+1], out.Pix[o+2], out.Pix[o+3] = u8(rgb[0]), u8(rgb[1]), u8(rgb[2]), 255
	}
	for y := range h {
		for x := range w {
			if isBoundary(truth, x, y) {
				out.SetNRGBA(x, y, Outline)
			}
		}
	}
	return out, nil
}

func u8(v float32) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// isBoundary reports whether (x, y) is foreground with a 4-neighbour of another class.
func isBoundary(m *dataset.Mask, x, y int) bool {
	l := m.Labels[y*m.Width+x]
	if l == 0 {
		return false
	}
	for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
		nx, ny := x+d[0], y+d[1]
		if nx < 0 || ny < 0 || nx >= m.Width || ny >= m.Height {
			continue
		}
		if m.Labels[ny*m.Width+nx] != l {
			return true
		}
	}
	return false
}

// Encode writes the overlay as a PNG.
func Encode(w io.Writer, im *dataset.Image, truth, pred *dataset.Mask) error {
	m, err := Render(im, truth, pred)
	if err != nil {
		return err
	}
	return png.Encode(w, m)
}

// WriteFile writes the overlay PNG to path atomically (no partial file on error).
func WriteFile(path string, im *dataset.Image, truth, pred *dataset.Mask) error {
	m, err := Render(im, truth, pred)
	if err != nil {
		return fmt.Errorf("overlay %s: %w", path, err)
	}
	if err := atomicfile.WriteFunc(path, func(w io.Writer) error { return png.Encode(w, m) }); err != nil {
		return fmt.Errorf("overlay %s: %w", path, err)
	}
	return nil
}
