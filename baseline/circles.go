package baseline

import (
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/tfseg/tfseg/dataset"
	"github.com/tfseg/tfseg/internal/atomicfile"
)

// Circles generates the noisy-circles dataset: grey images holding a few
// filled circles of random radius, centre and grey level on a flat
// background, under additive Gaussian noise, with their binary masks.
//
// Image i depends only on Seed and i (a PCG stream seeded with (Seed, i)),
// so any image can be made alone, in any order, and the same Seed gives the
// same dataset on every machine. The zero value is not useful: start from
// DefaultCircles.
type Circles struct {
	// Height and Width of every image, in pixels.
	Height, Width int
	// MinCircles..MaxCircles circles per image (uniform, inclusive).
	MinCircles, MaxCircles int
	// MinRadius..MaxRadius: the radius, uniform, in pixels.
	MinRadius, MaxRadius float64
	// Background is the grey level of the background, in [0, 1].
	Background float64
	// MinLevel..MaxLevel: a circle's grey level, uniform, in [0, 1].
	// Overlapping circles show the brighter level.
	MinLevel, MaxLevel float64
	// Noise is the standard deviation of the additive Gaussian noise.
	// Values are then clipped to [0, 1] and quantised to 8 bits.
	Noise float64
	// Seed selects the dataset.
	Seed uint64
}

// DefaultCircles is the dataset `tfseg demo` writes: 128x128 images with
// one to three circles of radius 8 to 20 pixels whose grey level (0.45 to
// 0.95) stands above a 0.15 background under noise of standard deviation
// 0.3: a per-pixel contrast-to-noise ratio between 1 and 2.7, too low to
// threshold single pixels (mean Dice 0.70 without smoothing), enough once
// the noise is smoothed out (see Calibrate).
var DefaultCircles = Circles{
	Height: 128, Width: 128,
	MinCircles: 1, MaxCircles: 3,
	MinRadius: 8, MaxRadius: 20,
	Background: 0.15,
	MinLevel:   0.45, MaxLevel: 0.95,
	Noise: 0.3,
	Seed:  1,
}

// Validate reports options that cannot generate images.
func (c Circles) Validate() error {
	switch {
	case c.Height <= 0 || c.Width <= 0:
		return fmt.Errorf("baseline: circles: image size %dx%d must be positive", c.Height, c.Width)
	case c.MinCircles < 0 || c.MaxCircles < c.MinCircles:
		return fmt.Errorf("baseline: circles: circle count range [%d, %d] is empty or negative", c.MinCircles, c.MaxCircles)
	case c.MinRadius <= 0 || c.MaxRadius < c.MinRadius:
		return fmt.Errorf("baseline: circles: radius range [%g, %g] is empty or not positive", c.MinRadius, c.MaxRadius)
	case c.Noise < 0 || math.IsNaN(c.Noise):
		return fmt.Errorf("baseline: circles: noise %g must be >= 0", c.Noise)
	case c.MaxLevel < c.MinLevel:
		return fmt.Errorf("baseline: circles: grey level range [%g, %g] is empty", c.MinLevel, c.MaxLevel)
	}
	return nil
}

// circle is one disc: centre (cx, cy), radius r, grey level v.
type circle struct{ cx, cy, r, v float64 }

// Sample returns image i: its pixels (values in [0, 1], 8-bit quantised,
// one channel) and its mask (1 inside a circle: pixel centres at distance
// <= r from the circle's centre). Centres lie inside the image, so a circle
// may be cut by the border.
func (c Circles) Sample(i int) (*dataset.Image, *dataset.Mask) {
	rng := rand.New(rand.NewPCG(c.Seed, uint64(i)))
	n := c.MinCircles + rng.IntN(c.MaxCircles-c.MinCircles+1)
	circles := make([]circle, n)
	for k := range circles {
		circles[k] = circle{
			cx: rng.Float64() * float64(c.Width),
			cy: rng.Float64() * float64(c.Height),
			r:  c.MinRadius + rng.Float64()*(c.MaxRadius-c.MinRadius),
			v:  c.MinLevel + rng.Float64()*(c.MaxLevel-c.MinLevel),
		}
	}
	h, w := c.Height, c.Width
	im := &dataset.Image{Height: h, Width: w, Channels: 1, Pix: make([]float32, h*w)}
	m := &dataset.Mask{Height: h, Width: w, Labels: make([]int32, h*w)}
	for y := range h {
		for x := range w {
			v, inside := c.Background, false
			px, py := float64(x)+0.5, float64(y)+0.5
			for _, ci := range circles {
				dx, dy := px-ci.cx, py-ci.cy
				if dx*dx+dy*dy <= ci.r*ci.r {
					if !inside || ci.v > v {
						v = ci.v
					}
					inside = true
				}
			}
			v += c.Noise * rng.NormFloat64()
			q := math.Round(math.Min(math.Max(v, 0), 1) * 255)
			im.Pix[y*w+x] = float32(q) * (float32(1) / 255) // as dataset.ReadImage reads it back
			if inside {
				m.Labels[y*w+x] = 1
			}
		}
	}
	return im, m
}

// Name returns the file name (without extension) of image i: "circle_00042".
func (c Circles) Name(i int) string { return fmt.Sprintf("circle_%05d", i) }

// WriteDir writes n images to dir/images/NAME.png and their masks (0/255)
// to dir/masks/NAME.png, creating the directories. Every file is written
// atomically; only one image is in memory at a time.
func (c Circles) WriteDir(dir string, n int) error {
	if err := c.Validate(); err != nil {
		return err
	}
	imgDir, maskDir := filepath.Join(dir, "images"), filepath.Join(dir, "masks")
	for _, d := range []string{imgDir, maskDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("baseline: circles: %w", err)
		}
	}
	for i := range n {
		im, m := c.Sample(i)
		name := c.Name(i) + ".png"
		if err := writeGrey(filepath.Join(imgDir, name), im.Width, im.Height, func(k int) uint8 { return uint8(math.Round(float64(im.Pix[k]) * 255)) }); err != nil {
			return err
		}
		if err := writeGrey(filepath.Join(maskDir, name), m.Width, m.Height, func(k int) uint8 { return uint8(255 * m.Labels[k]) }); err != nil {
			return err
		}
	}
	return nil
}

func writeGrey(path string, w, h int, at func(k int) uint8) error {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for k := range g.Pix {
		g.Pix[k] = at(k)
	}
	if err := atomicfile.WriteFunc(path, func(wr io.Writer) error { return png.Encode(wr, g) }); err != nil {
		return fmt.Errorf("baseline: circles: write %s: %w", path, err)
	}
	return nil
}
