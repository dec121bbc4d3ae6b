package eval

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/baseline"
	"github.com/tfseg/tfseg/dataset"
	"github.com/tfseg/tfseg/tfops"
)

// circles writes n noisy-circles images and masks and lists them.
func circles(t testing.TB, c baseline.Circles, n int) (string, *dataset.Listing) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, c.WriteDir(dir, n))
	l, err := dataset.Match(filepath.Join(dir, "images"), filepath.Join(dir, "masks"), dataset.MatchOptions{})
	require.NoError(t, err)
	return dir, l
}

func loadBaseline(t testing.TB) *Model {
	t.Helper()
	m, err := Load(baselineModel(t), LoadOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

// TestBaselineEval evaluates the baseline on its own data and checks the
// per-image numbers against direct computations: the Dice coefficient and
// IoU from the confusion counts of p > 0.5, and Keras' BCE from the
// logits, sigmoid_cross_entropy_with_logits, in float64.
func TestBaselineEval(t *testing.T) {
	m := loadBaseline(t)
	_, l := circles(t, baseline.DefaultCircles, 12)
	rep, err := Run(context.Background(), m, l, Options{BatchSize: 5, Workers: 2})
	require.NoError(t, err)
	require.Len(t, rep.Images, 12)
	assert.Greater(t, rep.Mean("dice_coef"), 0.9, "the demo's claim: mean Dice above 0.9")
	assert.Equal(t, 0, rep.Failing)
	assert.Equal(t, "dice_coef", rep.RankedBy)
	assert.Len(t, rep.Worst, 5)
	for i := 1; i < len(rep.Worst); i++ {
		assert.LessOrEqual(t, rep.Worst[i-1].Value, rep.Worst[i].Value)
	}

	for i, im := range rep.Images {
		assert.Equal(t, l.Pairs[i].Name, im.Name)
		img, mask := baseline.DefaultCircles.Sample(i)
		_, logits, err := m.Run(context.Background(), img.Tensor())
		require.NoError(t, err)
		x := logits.Float32s()
		var tp, fp, fn int
		var bce float64
		for k, lab := range mask.Labels {
			z, xv := float64(lab), float64(x[k])
			bce += math.Max(xv, 0) - xv*z + math.Log1p(math.Exp(-math.Abs(xv)))
			pred := 1/(1+math.Exp(-xv)) > 0.5
			switch {
			case pred && lab == 1:
				tp++
			case pred:
				fp++
			case lab == 1:
				fn++
			}
		}
		bce /= float64(len(mask.Labels))
		dice := 2 * float64(tp) / float64(2*tp+fp+fn)
		iou := float64(tp) / float64(tp+fp+fn)
		assert.InDelta(t, dice, rep.Value(i, "dice_coef"), 1e-6, "image %s dice", im.Name)
		assert.InDelta(t, iou, rep.Value(i, "iou"), 1e-6, "image %s iou", im.Name)
		assert.InEpsilon(t, bce, rep.Value(i, "keras_bce"), 1e-4, "image %s bce from logits", im.Name)
		assert.InDelta(t, float64(tp+fn)/float64(len(mask.Labels)), rep.Value(i, ColumnTrueFraction), 1e-12)
		assert.False(t, im.Cropped)
	}
	var logitCols []string
	for _, c := range rep.Columns {
		if c.FromLogits {
			logitCols = append(logitCols, c.Name)
		}
	}
	assert.Equal(t, []string{"keras_bce"}, logitCols)
}

// TestBatchIndependence: per-image numbers do not depend on batch size or workers.
func TestBatchIndependence(t *testing.T) {
	m := loadBaseline(t)
	_, l := circles(t, baseline.DefaultCircles, 5)
	a, err := Run(context.Background(), m, l, Options{BatchSize: 1, Workers: 1})
	require.NoError(t, err)
	b, err := Run(context.Background(), m, l, Options{BatchSize: 4, Workers: 3})
	require.NoError(t, err)
	require.Len(t, b.Images, len(a.Images))
	for i := range a.Images {
		for k := range a.Columns {
			assert.InDelta(t, a.Images[i].Values[k], b.Images[i].Values[k], 1e-6, "%s %s", a.Images[i].Name, a.Columns[k].Name)
		}
	}
}

// TestKerasUNetFixtureFails evaluates the barely trained Keras U-Net
// fixture (100x100 in, 60x60 out) on noisy circles: the masks are cropped
// and the report says plainly that the model fails.
func TestKerasUNetFixtureFails(t *testing.T) {
	dir := fixture(t, "keras-unet-circles")
	m, err := Load(dir, LoadOptions{})
	require.NoError(t, err)
	defer m.Close()
	c := baseline.DefaultCircles
	c.Height, c.Width = 100, 100
	_, l := circles(t, c, 6)
	rep, err := Run(context.Background(), m, l, Options{BatchSize: 4})
	require.NoError(t, err)
	var text bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	t.Log("\n" + text.String())
	require.Len(t, rep.Images, 6)
	for _, im := range rep.Images {
		assert.True(t, im.Cropped)
		assert.Equal(t, 60, im.Height)
	}
	assert.Equal(t, "dice_coef[1]", rep.RankedBy, "ranked by the foreground's Dice")
	assert.Less(t, rep.Mean("dice_coef[1]"), 0.1)
	assert.Equal(t, rep.Ranked, rep.Failing, "every image with foreground fails")
	assert.Equal(t, 0.0, rep.Mean(ColumnPredFraction))
	assert.Contains(t, text.String(), "100x100 -> 60x60")
	assert.Contains(t, text.String(), "FAILING")
	assert.Contains(t, text.String(), "keras_cce")
	assert.Contains(t, text.String(), "iou[1]")
}

func writeGreyPNG(t *testing.T, path string, w, h int, v uint8) {
	t.Helper()
	m := image.NewGray(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = v
	}
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, png.Encode(f, m))
	require.NoError(t, f.Close())
}

func TestBadInput(t *testing.T) {
	m := loadBaseline(t)
	tests := []struct {
		name string
		// make damages the dataset in dir and returns the file the message must name.
		make func(t *testing.T, dir string) string
		want string
	}{
		{"missing mask", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "masks", "circle_00001.png")
			require.NoError(t, os.Remove(p))
			return filepath.Join(dir, "images", "circle_00001.png")
		}, "has no mask"},
		{"mask of another size", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "masks", "circle_00001.png")
			writeGreyPNG(t, p, 50, 40, 0)
			return p
		}, "fitting neither the image (128x128) nor the model output (128x128)"},
		{"wrong channels", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "images", "circle_00001.png")
			rgb := image.NewNRGBA(image.Rect(0, 0, 128, 128))
			for i := range rgb.Pix {
				rgb.Pix[i] = 200
			}
			f, err := os.Create(p)
			require.NoError(t, err)
			require.NoError(t, png.Encode(f, rgb))
			require.NoError(t, f.Close())
			return p
		}, "has 3 channels; the model's input \"image\" takes 1"},
		{"unreadable image", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "images", "circle_00001.png")
			require.NoError(t, os.WriteFile(p, []byte("not a png"), 0o644))
			return p
		}, "unreadable file"},
		{"class the model does not have", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "masks", "circle_00001.png")
			writeGreyPNG(t, p, 128, 128, 3)
			return p
		}, "has class 3 but the model outputs 2 classes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := circles(t, baseline.DefaultCircles, 3)
			file := tc.make(t, dir)
			l, err := dataset.Match(filepath.Join(dir, "images"), filepath.Join(dir, "masks"), dataset.MatchOptions{})
			require.NoError(t, err)

			_, err = Run(context.Background(), m, l, Options{BatchSize: 2})
			require.ErrorIs(t, err, ErrBadInput)
			assert.Contains(t, err.Error(), file)
			assert.Contains(t, err.Error(), tc.want)

			rep, err := Run(context.Background(), m, l, Options{BatchSize: 2, SkipBad: true})
			require.NoError(t, err)
			require.Len(t, rep.Skipped, 1)
			assert.Equal(t, "circle_00001", rep.Skipped[0].Name)
			assert.Contains(t, rep.Skipped[0].Reason, file)
			assert.Len(t, rep.Images, 2)
			var text bytes.Buffer
			require.NoError(t, rep.WriteText(&text))
			assert.Contains(t, text.String(), "skipped 1:")
			assert.Contains(t, text.String(), file)
		})
	}
}

// TestOverlayWorst checks that only the OverlayWorst worst images get a
// card, that they are the report's worst (ranked independently here from
// the per-image values), and that the gallery holds the same, worst first.
func TestOverlayWorst(t *testing.T) {
	m := loadBaseline(t)
	dir, l := circles(t, baseline.DefaultCircles, 7)
	ov := filepath.Join(dir, "overlays")
	rep, err := Run(context.Background(), m, l, Options{Overlays: ov, OverlayWorst: 3, Gallery: 2})
	require.NoError(t, err)
	order := make([]int, len(rep.Images))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rep.Value(order[a], "dice_coef") < rep.Value(order[b], "dice_coef") })
	var want []string
	for _, i := range order[:3] {
		want = append(want, rep.Images[i].Name+".png")
		assert.Equal(t, filepath.Join(ov, rep.Images[i].Name+".png"), rep.OverlayPath(i))
	}
	ents, err := os.ReadDir(ov)
	require.NoError(t, err)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	assert.ElementsMatch(t, append(want, OverlayMarker), got)
	require.Len(t, rep.Gallery, 2)
	assert.Equal(t, rep.Images[order[0]].Name, rep.Gallery[0].Name)
	assert.Equal(t, rep.Images[order[1]].Name, rep.Gallery[1].Name)
	ents, err = os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range ents {
		assert.False(t, strings.HasPrefix(e.Name(), "."), "staging left behind: %s", e.Name())
	}

	// A second run replaces the directory; a directory of someone else's
	// files is refused, untouched.
	_, err = Run(context.Background(), m, l, Options{Overlays: ov, OverlayWorst: 1})
	require.NoError(t, err)
	ents, err = os.ReadDir(ov)
	require.NoError(t, err)
	assert.Len(t, ents, 2, "one card and the marker")
	mine := filepath.Join(dir, "mine")
	require.NoError(t, os.MkdirAll(mine, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(mine, "photo.png"), []byte("x"), 0o644))
	_, err = Run(context.Background(), m, l, Options{Overlays: mine})
	require.ErrorIs(t, err, ErrOverlayDir)
	assert.FileExists(t, filepath.Join(mine, "photo.png"))
}

func TestOutputs(t *testing.T) {
	m := loadBaseline(t)
	dir, l := circles(t, baseline.DefaultCircles, 3)
	ov := filepath.Join(dir, "overlays")
	rep, err := Run(context.Background(), m, l, Options{Overlays: ov,
		Losses:  []Measure{{Name: "dice_image"}, {Name: "ce", Config: map[string]string{"keras": "2"}}},
		Metrics: []Measure{{Name: "dice_coef"}}})
	require.NoError(t, err)
	names := []string{}
	for _, c := range rep.Columns {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{"dice_image", "ce:keras=2", "dice_coef", ColumnTrueFraction, ColumnPredFraction}, names)

	for _, p := range l.Pairs {
		f, err := os.Open(filepath.Join(ov, p.Name+".png"))
		require.NoError(t, err)
		img, err := png.Decode(f)
		f.Close()
		require.NoError(t, err)
		assert.Equal(t, 256, img.Bounds().Dx(), "128 px enlarged twice (nearest neighbour) to reach 256")
		assert.Greater(t, img.Bounds().Dy(), 256, "a caption band and a legend around the 256 px overlay")
	}

	csvPath, jsonPath := filepath.Join(dir, "r.csv"), filepath.Join(dir, "r.json")
	require.NoError(t, rep.WriteCSVFile(csvPath))
	require.NoError(t, rep.WriteJSONFile(jsonPath))
	f, err := os.Open(csvPath)
	require.NoError(t, err)
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	require.NoError(t, err)
	require.Len(t, rows, 4)
	assert.Equal(t, []string{"name", "image", "mask", "height", "width", "cropped", "dice_image", "ce:keras=2", "dice_coef", "true_fraction", "pred_fraction"}, rows[0])
	assert.Equal(t, "circle_00000", rows[1][0])

	data, err := os.ReadFile(jsonPath)
	require.NoError(t, err)
	var js struct {
		Images []struct {
			Name   string
			Values map[string]*float64
		}
		Summary []struct {
			Name string
			Mean *float64
		}
	}
	require.NoError(t, json.Unmarshal(data, &js))
	require.Len(t, js.Images, 3)
	require.NotNil(t, js.Images[0].Values["dice_coef"])
	assert.InDelta(t, rep.Images[0].Values[2], *js.Images[0].Values["dice_coef"], 1e-12)
	// dice_image is the per-image Dice loss: 1 - Dice of the probabilities.
	assert.InDelta(t, 0.05, rep.Mean("dice_image"), 0.05)

	err = rep.WriteCSVFile(filepath.Join(dir, "missing", "r.csv"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing")
}

func TestParseMeasure(t *testing.T) {
	tests := []struct {
		in   string
		want Measure
		err  string
	}{
		{"iou", Measure{Name: "iou"}, ""},
		{"ce:keras=2", Measure{Name: "ce", Config: map[string]string{"keras": "2"}}, ""},
		{"lovasz_softmax:class_weights=1,2,3,per_image=true", Measure{Name: "lovasz_softmax", Config: map[string]string{"class_weights": "1,2,3", "per_image": "true"}}, ""},
		{"nope", Measure{}, "unknown"},
		{"iou:average", Measure{}, "key=value"},
		{":x=1", Measure{}, "empty name"},
		{"iou:=1", Measure{}, "empty parameter"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			m, err := ParseMeasure(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, m)
			again, err := ParseMeasure(m.String())
			require.NoError(t, err)
			assert.Equal(t, m, again, "String round-trips")
		})
	}
}

func TestMeasureErrors(t *testing.T) {
	m := loadBaseline(t)
	_, l := circles(t, baseline.DefaultCircles, 1)
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Losses: []Measure{{Name: "iou"}}}, "iou is a metric, not a loss"},
		{Options{Losses: []Measure{{Name: "distance_ce", Config: map[string]string{"beta": "0.5"}}}}, `needs input "weights"`},
		{Options{Metrics: []Measure{{Name: "iou", Config: map[string]string{"bogus": "1"}}}}, "bogus"},
	} {
		_, err := Run(context.Background(), m, l, tc.opts)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
}

func TestFindLogitsNone(t *testing.T) {
	s := tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(-1))
	tfops.Identity(s.WithOpName("y"), tfops.Relu(s, x))
	g, err := s.Finalize()
	require.NoError(t, err)
	got, _, ok, err := FindLogits(g, "y:0")
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Same(t, g, got)
	_, _, _, err = FindLogits(g, "nope:0")
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "nope"))
}

var _ = color.Gray{}
