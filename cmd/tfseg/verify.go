package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/parity"
)

func init() {
	register(&command{name: "verify",
		args:    "(--model DIR [--signature KEY] [--loss NAME] | --loss NAME[:key=value,...]) --cases DIR|keras_goldens.json [--goldens FILE] [--engine go|tensorflow] [--rtol R] [--atol A]",
		summary: "check Go against Keras: run a SavedModel or a loss on saved inputs and compare with the outputs Keras produced",
		run:     runVerify})
}

// runVerify wires package parity (the case layouts, the comparison and
// its report are documented there) to the flags.
func runVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["verify"])
	model := fs.String("model", "", "SavedModel `DIR` to run")
	signature := fs.String("signature", "serving_default", "signature `KEY` (with --model)")
	loss := fs.String("loss", "", "loss or metric `NAME[:key=value,...]` to evaluate (with --model and keras_goldens.json: the loss the model computes, default the directory's name)")
	casesPath := fs.String("cases", "", "case `DIR` (inputs/NAME.npy, outputs/NAME.npy, or subdirectories of such) or python/export_losses.py's keras_goldens.json")
	goldens := fs.String("goldens", "", "with keras_goldens.json: the goldens.json `FILE` holding the input arrays (default: the copy built into tfseg, graphs/testdata/goldens.json)")
	engName := fs.String("engine", engine.Default, "engine: "+strings.Join(engine.Names(), ", "))
	rtol := fs.Float64("rtol", parity.DefaultTolerance.Rtol, "relative tolerance: |got - want| <= atol + rtol*|want| (numpy.allclose)")
	atol := fs.Float64("atol", parity.DefaultTolerance.Atol, "absolute tolerance")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("verify takes no arguments, got %q", pos)
	}
	if (*model == "" && *loss == "") || *casesPath == "" {
		return usagef("verify needs --cases and --model or --loss")
	}
	tol := parity.Tolerance{Rtol: *rtol, Atol: *atol}
	if tol.Check() != nil {
		return usagef("--rtol and --atol must be >= 0")
	}
	var lossName string
	var lossCfg graphs.Config
	if *loss != "" {
		if lossName, lossCfg, err = graphs.ParseLoss(*loss); err != nil {
			return &usageError{err.Error()}
		}
	}
	fromJSON := strings.HasSuffix(*casesPath, ".json")
	var cases []parity.Case
	if fromJSON {
		name := lossName
		if name == "" {
			name = filepath.Base(filepath.Clean(*model))
		}
		if cases, err = parity.ReadKerasGoldens(*casesPath, *goldens, name); err != nil {
			return err
		}
		if *model != "" {
			cases = parity.WithParams(cases, lossCfg)
			if len(cases) == 0 {
				return fmt.Errorf("%s has no %s result with parameters %v and no sample_weight (the exported models' signatures have none)", *casesPath, name, lossCfg)
			}
		}
	} else if cases, err = parity.ReadCaseDirs(*casesPath); err != nil {
		return err
	}

	var run parity.Runner
	if *model != "" {
		m, err := tfseg.Load(*model, tfseg.WithEngine(*engName))
		if err != nil {
			return err
		}
		defer m.Close()
		if run, err = parity.ModelRunner(m, *signature, fromJSON); err != nil {
			return err
		}
	} else {
		eng, err := engine.Get(*engName)
		if err != nil {
			return err
		}
		run = parity.LossRunner(eng, lossName, lossCfg)
	}
	fmt.Fprintf(e.stdout, "verify %s on engine %s: %d case(s), pass when %s\n", run.What, *engName, len(cases), tol)
	_, err = parity.Verify(ctx, cases, run, tol, func(r parity.Result) { r.Write(e.stdout, r.Name()) })
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "all outputs within tolerance")
	return nil
}
