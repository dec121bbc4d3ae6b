package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/baseline"
)

// TestDemo runs `tfseg demo` as a user would on a fresh machine and checks
// what it promises: the report, mean Dice above 0.9, overlays, CSV, JSON;
// a second run replaces the first; a foreign directory is refused.
func TestDemo(t *testing.T) {
	out := filepath.Join(t.TempDir(), "demo")
	code, stdout, stderr := runCLI(t, "demo", "--out", out, "--images", "24")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "dice_coef")
	assert.Contains(t, stdout, "keras_bce computed from the logits")
	assert.Contains(t, stderr, "eval: 24/24 images", "plain progress lines when stderr is not a terminal")

	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	require.NoError(t, err)
	var rep struct {
		Summary []struct {
			Name string
			Mean float64
		}
		Images []json.RawMessage
	}
	require.NoError(t, json.Unmarshal(data, &rep))
	assert.Len(t, rep.Images, 24)
	var dice float64
	for _, s := range rep.Summary {
		if s.Name == "dice_coef" {
			dice = s.Mean
		}
	}
	assert.Greater(t, dice, 0.9, "mean Dice of the baseline on its own data")
	ov, err := os.ReadDir(filepath.Join(out, "overlays"))
	require.NoError(t, err)
	assert.Len(t, ov, 21, "cards of the 20 worst images and eval.OverlayMarker")
	for _, f := range []string{"report.csv", "report.html", "model/saved_model.pb",
		"model/variables/variables.index", "data/images/circle_00023.png", "data/masks/circle_00023.png"} {
		_, err := os.Stat(filepath.Join(out, f))
		assert.NoError(t, err, f)
	}

	code, _, stderr = runCLI(t, "demo", "--out", out, "--images", "3")
	require.Equal(t, 0, code, stderr)
	_, err = os.Stat(filepath.Join(out, "data/images/circle_00023.png"))
	assert.True(t, os.IsNotExist(err), "a new demo replaces the old data")

	foreign := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(foreign, "mine.txt"), []byte("x"), 0o644))
	code, _, stderr = runCLI(t, "demo", "--out", foreign)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "was not written by tfseg demo")
}

func writeDemoData(t *testing.T, n int) (model, images, masks string) {
	t.Helper()
	dir := t.TempDir()
	model = filepath.Join(dir, "model")
	require.NoError(t, baseline.WriteModel(model, baseline.DefaultCalibration))
	require.NoError(t, baseline.DefaultCircles.WriteDir(filepath.Join(dir, "data"), n))
	return model, filepath.Join(dir, "data", "images"), filepath.Join(dir, "data", "masks")
}

func TestEvalCommand(t *testing.T) {
	model, images, masks := writeDemoData(t, 3)
	dir := t.TempDir()
	csvPath, jsonPath := filepath.Join(dir, "r.csv"), filepath.Join(dir, "r.json")
	code, stdout, stderr := runCLI(t, "eval", "--model", model, "--images", images, "--masks", masks,
		"--loss", "dice_image", "--loss", "ce:keras=2", "--metric", "dice_coef", "--csv", csvPath, "--json", jsonPath, "--batch", "2")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "ce:keras=2")
	assert.NotContains(t, stdout, "pixel_accuracy", "only the metrics asked for")
	for _, p := range []string{csvPath, jsonPath} {
		_, err := os.Stat(p)
		assert.NoError(t, err)
	}

	runCLICases(t, []cliCase{
		{"no model", []string{"eval", "--images", images, "--masks", masks}, 2, "needs --model"},
		{"bad from-logits", []string{"eval", "--model", model, "--images", images, "--masks", masks, "--from-logits", "yes"}, 2, "auto or off"},
		{"unknown loss", []string{"eval", "--model", model, "--images", images, "--masks", masks, "--loss", "nope"}, 1, "unknown loss"},
		{"bad mask encoding", []string{"eval", "--model", model, "--images", images, "--masks", masks, "--mask-encoding", "rgb"}, 2, "mask encoding"},
		{"missing model dir", []string{"eval", "--model", filepath.Join(dir, "none"), "--images", images, "--masks", masks}, 1, "saved_model.pb"},
		{"missing images dir", []string{"eval", "--model", model, "--images", filepath.Join(dir, "none"), "--masks", masks}, 1, "none"},
		{"metric as loss", []string{"eval", "--model", model, "--images", images, "--masks", masks, "--loss", "iou"}, 1, "iou is a metric"},
		{"no loss no metric", []string{"eval", "--model", model, "--images", images, "--masks", masks, "--loss", "none", "--metric", "none"}, 0, ""},
	})
}

// TestEvalBadInput: a missing mask stops eval with status 1 and a message
// naming the image; with --skip-bad the report lists it.
func TestEvalBadInput(t *testing.T) {
	model, images, masks := writeDemoData(t, 3)
	require.NoError(t, os.Remove(filepath.Join(masks, "circle_00001.png")))
	img := filepath.Join(images, "circle_00001.png")
	code, _, stderr := runCLI(t, "eval", "--model", model, "--images", images, "--masks", masks)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, img)
	assert.Contains(t, stderr, "has no mask")

	code, stdout, stderr := runCLI(t, "eval", "--model", model, "--images", images, "--masks", masks, "--skip-bad")
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "2 evaluated, 1 skipped")
	assert.Contains(t, stdout, img)
}

// TestEvalKerasUNet evaluates the Keras U-Net fixture (100x100 in, 60x60
// out) on noisy circles from the command line: cropping is announced and
// the failure is plain.
func TestEvalKerasUNet(t *testing.T) {
	fix := filepath.Join("..", "..", "..", "shared", "fixtures", "savedmodels", "keras-unet-circles")
	if _, err := os.Stat(filepath.Join(fix, "saved_model.pb")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("fixture %s missing under CI: %v", fix, err)
		}
		t.Skipf("fixture %s not available (%v)", fix, err)
	}
	dir := t.TempDir()
	c := baseline.DefaultCircles
	c.Height, c.Width = 100, 100
	require.NoError(t, c.WriteDir(dir, 4))
	code, stdout, stderr := runCLI(t, "eval", "--model", fix, "--images", filepath.Join(dir, "images"), "--masks", filepath.Join(dir, "masks"))
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "100x100 -> 60x60")
	assert.Contains(t, stdout, "FAILING")
	assert.Contains(t, stdout, "by dice_coef[1]:")
}

// cliCase is a command line, the exit status it must give and a text its
// stderr must contain.
type cliCase struct {
	name string
	args []string
	code int
	want string
}

func runCLICases(t *testing.T, cases []cliCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			assert.Equal(t, tc.code, code, stderr)
			assert.Contains(t, stderr, tc.want)
		})
	}
}
