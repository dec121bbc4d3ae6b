package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tfseg/tfseg/baseline"
	"github.com/tfseg/tfseg/dataset"
	"github.com/tfseg/tfseg/eval"
	"github.com/tfseg/tfseg/internal/atomicfile"
	"github.com/tfseg/tfseg/savedmodel"
)

func init() {
	register(&command{name: "demo", args: "[--out DIR] [--images N] [--size PX] [--seed S] [--engine go|tensorflow] [--eval=false]",
		summary: "write the baseline model and a noisy-circles dataset, then evaluate the model on it",
		run:     runDemo})
}

// demoMarker marks a directory written by tfseg demo, which a later demo may replace.
const demoMarker = ".tfseg-demo"

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["demo"])
	var f evalFlags
	f.register(fs)
	out := fs.String("out", "tfseg-demo", "output `DIR`: model/, data/images, data/masks, overlays/, report.csv, report.json")
	n := fs.Int("images", 100, "number of images")
	size := fs.Int("size", baseline.DefaultCircles.Height, "image height and width, in pixels (at least the smoothing radius, 6)")
	seed := fs.Uint64("seed", baseline.DefaultCircles.Seed, "dataset seed (the calibration used seed 1001)")
	runIt := fs.Bool("eval", true, "evaluate the model on the data (--eval=false only writes them)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("demo takes no arguments, got %q", pos)
	}
	if *n <= 0 {
		return usagef("--images must be positive")
	}
	if minSize := baseline.Radius(baseline.DefaultCalibration.Sigma); *size < minSize {
		return usagef("--size must be at least %d", minSize)
	}
	lo, err := f.loadOptions()
	if err != nil {
		return err
	}
	if err := prepareDemoDir(*out); err != nil {
		return err
	}
	modelDir := filepath.Join(*out, "model")
	dataDir := filepath.Join(*out, "data")
	overlays := filepath.Join(*out, "overlays")
	cal := baseline.DefaultCalibration
	exp, err := baseline.Model(cal)
	if err != nil {
		return &internalError{err}
	}
	exp.Replace = true
	if err := savedmodel.Write(modelDir, exp); err != nil {
		return err
	}
	data := baseline.DefaultCircles
	data.Seed = *seed
	data.Height, data.Width = *size, *size
	if err := atomicfile.Dir(dataDir, func(tmp string) error { return data.WriteDir(tmp, *n) }); err != nil {
		return err
	}
	if err := os.RemoveAll(overlays); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "tfseg demo: baseline model -> %s\n", modelDir)
	fmt.Fprintf(e.stdout, "  Gaussian smoothing (sigma %g px: two %d-tap Conv2D kernels held in variables), then p = sigmoid(%g*s - %g): threshold s = %.4f\n",
		cal.Sigma, 2*baseline.Radius(cal.Sigma)+1, cal.Gain, -cal.Bias, cal.Threshold())
	fmt.Fprintf(e.stdout, "tfseg demo: %d noisy-circles images %dx%d (seed %d) and masks -> %s\n\n", *n, data.Height, data.Width, data.Seed, dataDir)
	if !*runIt {
		return nil
	}
	l, err := dataset.Match(filepath.Join(dataDir, "images"), filepath.Join(dataDir, "masks"), dataset.MatchOptions{})
	if err != nil {
		return err
	}
	opts := eval.Options{Losses: f.losses.measures(), Metrics: f.metrics.measures(), BatchSize: f.batch, Workers: f.workers,
		SkipBad: f.skipBad, Overlays: overlays, Worst: f.worst}
	rep, err := evaluate(ctx, e, modelDir, l, lo, opts)
	if err != nil {
		return err
	}
	csvPath, jsonPath := filepath.Join(*out, "report.csv"), filepath.Join(*out, "report.json")
	if err := writeReport(e, rep, csvPath, jsonPath); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\noverlays -> %s (mask outline yellow, false positives vermillion, false negatives blue)\nper image -> %s, %s\n", overlays, csvPath, jsonPath)
	fmt.Fprintf(e.stdout, "next: tfseg eval --model %s --images %s --masks %s\n", modelDir, filepath.Join(dataDir, "images"), filepath.Join(dataDir, "masks"))
	return nil
}

// prepareDemoDir accepts an absent or empty dir, or one a previous demo
// wrote (it has the marker file), and marks it.
func prepareDemoDir(dir string) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case len(ents) > 0:
		if _, err := os.Stat(filepath.Join(dir, demoMarker)); err != nil {
			return fmt.Errorf("%s exists and was not written by tfseg demo; choose another --out", dir)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, demoMarker), []byte("written by tfseg demo; a later demo may replace this directory's model/, data/ and overlays/\n"))
}
