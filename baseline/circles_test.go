package baseline

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/dataset"
)

func TestCirclesDeterministic(t *testing.T) {
	c := DefaultCircles
	c.Height, c.Width = 32, 48
	a1, m1 := c.Sample(3)
	_, _ = c.Sample(7) // another sample in between changes nothing
	a2, m2 := c.Sample(3)
	assert.Equal(t, a1, a2)
	assert.Equal(t, m1, m2)
	b, _ := c.Sample(4)
	assert.NotEqual(t, a1.Pix, b.Pix)
	c.Seed++
	d, _ := c.Sample(3)
	assert.NotEqual(t, a1.Pix, d.Pix)
	assert.Equal(t, []int{32, 48, 1}, []int{a1.Height, a1.Width, a1.Channels})
}

// TestCirclesStatistics checks the generator against its specification:
// without noise, pixels in the mask hold a level in [MinLevel, MaxLevel]
// and the others the background; with noise, the background's residuals
// have the requested standard deviation.
func TestCirclesStatistics(t *testing.T) {
	c := DefaultCircles
	c.Noise = 0
	fg := 0
	for i := range 20 {
		im, m := c.Sample(i)
		for k, l := range m.Labels {
			v := float64(im.Pix[k])
			if l == 1 {
				fg++
				assert.GreaterOrEqual(t, v, c.MinLevel-0.5/255, "image %d pixel %d", i, k)
				assert.LessOrEqual(t, v, c.MaxLevel+0.5/255, "image %d pixel %d", i, k)
			} else {
				assert.InDelta(t, c.Background, v, 0.5/255, "image %d pixel %d", i, k)
			}
		}
	}
	frac := float64(fg) / float64(20*c.Height*c.Width)
	// One to three discs of radius 8..20 in 128x128: expected area fraction
	// about 2 * pi * 196 / 16384 = 0.075 (less where discs overlap or leave the image).
	assert.InDelta(t, 0.065, frac, 0.03)

	c = DefaultCircles
	c.Noise = 0.15
	var sum, sum2 float64
	var n int
	for i := range 20 {
		im, m := c.Sample(i)
		for k, l := range m.Labels {
			if l == 0 {
				r := float64(im.Pix[k]) - c.Background
				sum += r
				sum2 += r * r
				n++
			}
		}
	}
	mean := sum / float64(n)
	variance := sum2/float64(n) - mean*mean
	// Clipping at 0 (one background sigma away) trims the lower tail: for
	// Y = clip(X, 0, 1), X ~ N(0.15, 0.15), SciPy gives E[Y] - 0.15 = 0.012497
	// and Var[Y] = 0.016899 (numerical integration of scipy.stats.norm.pdf).
	assert.InDelta(t, 0.012497, mean, 0.002)
	assert.InDelta(t, 0.016899, variance, 0.0005)
}

func TestCirclesWriteDir(t *testing.T) {
	dir := t.TempDir()
	c := DefaultCircles
	c.Height, c.Width = 20, 30
	require.NoError(t, c.WriteDir(dir, 3))
	l, err := dataset.Match(filepath.Join(dir, "images"), filepath.Join(dir, "masks"), dataset.MatchOptions{})
	require.NoError(t, err)
	require.Len(t, l.Pairs, 3)
	for i, p := range l.Pairs {
		assert.Equal(t, c.Name(i), p.Name)
		s := dataset.Read(p, dataset.ImageOptions{}, dataset.MaskOptions{})
		require.NoError(t, s.Err)
		im, m := c.Sample(i)
		assert.Equal(t, im.Pix, s.Image.Pix, "image %d reads back as generated", i)
		assert.Equal(t, m.Labels, s.Mask.Labels, "mask %d reads back as generated", i)
	}
}

func TestCirclesValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Circles)
		want string
	}{
		{"size", func(c *Circles) { c.Height = 0 }, "image size"},
		{"count", func(c *Circles) { c.MaxCircles = 0 }, "circle count"},
		{"radius", func(c *Circles) { c.MinRadius = 0 }, "radius"},
		{"noise", func(c *Circles) { c.Noise = -1 }, "noise"},
		{"level", func(c *Circles) { c.MaxLevel = 0 }, "grey level"},
	}
	require.NoError(t, DefaultCircles.Validate())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultCircles
			tc.edit(&c)
			err := c.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Error(t, c.WriteDir(t.TempDir(), 1))
		})
	}
}
