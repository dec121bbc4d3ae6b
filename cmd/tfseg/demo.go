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
	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/eval"
	"github.com/tfseg/tfseg/internal/atomicfile"
	"github.com/tfseg/tfseg/savedmodel"
)

func init() {
	register(&command{name: "demo", args: "[--out DIR] [--images N] [--size PX] [--seed S] [--engine go|tensorflow] [--eval=false]",
		summary: "write the baseline model and a noisy-circles dataset, then evaluate the model on it (report.html, overlays, CSV, JSON)",
		run:     runDemo})
}

// demoMarker marks a directory written by tfseg demo, which a later demo may replace.
const demoMarker = ".tfseg-demo"

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["demo"])
	var f evalFlags
	f.register(fs)
	out := fs.String("out", "tfseg-demo", "output `DIR`: model/, data/images, data/masks, overlays/, report.html, report.csv, report.json")
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
	opts, err := f.options()
	if err != nil {
		return err
	}
	// Check everything a flag can get wrong before writing anything.
	if *runIt {
		if _, err := engine.Get(f.engine); err != nil {
			return err
		}
	}
	if err := checkDemoDir(*out); err != nil {
		return err
	}
	if err := prepareDemoDir(*out); err != nil {
		return err
	}
	modelDir := filepath.Join(*out, "model")
	dataDir := filepath.Join(*out, "data")
	paths := reportPaths{overlays: filepath.Join(*out, "overlays"), csv: filepath.Join(*out, "report.csv"),
		json: filepath.Join(*out, "report.json"), html: filepath.Join(*out, "report.html")}
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
	page := eval.HTMLPage{Title: "tfseg demo: the baseline model on noisy circles", Images: filepath.Join(dataDir, "images"), Masks: filepath.Join(dataDir, "masks")}
	err = evalAndWrite(ctx, e, modelDir, l, lo, opts, paths, page, f.failUnder)
	var te *thresholdError
	if err != nil && !errors.As(err, &te) {
		return err
	}
	fmt.Fprintf(e.stdout, "\noverlays of the %d worst -> %s (mask outline yellow, false positives vermillion, false negatives blue)\n", opts.OverlayWorst, paths.overlays)
	fmt.Fprintf(e.stdout, "report -> %s (open it in a browser); per image -> %s, %s\n", paths.html, paths.csv, paths.json)
	fmt.Fprintf(e.stdout, "next: tfseg eval --model %s --images %s --masks %s\n", modelDir, filepath.Join(dataDir, "images"), filepath.Join(dataDir, "masks"))
	return err
}

// checkDemoDir checks that dir can be written: it is absent or empty, or a
// previous demo wrote it, and a file can be created in it (or in the
// nearest existing parent).
func checkDemoDir(dir string) error {
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
	probe := filepath.Clean(dir)
	for {
		if _, err := os.Stat(probe); err == nil {
			break
		}
		parent := filepath.Dir(probe)
		if parent == probe {
			break
		}
		probe = parent
	}
	f, err := os.CreateTemp(probe, ".tfseg-demo-probe*")
	if err != nil {
		return fmt.Errorf("--out %s: cannot write in %s: %w", dir, probe, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// prepareDemoDir creates and marks dir (checkDemoDir accepted it).
func prepareDemoDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, demoMarker), []byte("written by tfseg demo; a later demo may replace this directory's model/, data/ and overlays/\n"))
}
