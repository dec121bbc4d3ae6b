package parity

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/tfops"
)

// ErrTolerance is returned by Verify when outputs fall outside the tolerance.
var ErrTolerance = errors.New("out of tolerance")

// Runner computes a case's outputs on Go's side.
type Runner struct {
	// What names what runs, for reports and errors: "model DIR, signature
	// KEY", "loss focal:gamma=2".
	What string
	// Run returns the outputs of one case by output name.
	Run func(ctx context.Context, c Case) (map[string]*tfops.Tensor, error)
}

// ModelRunner runs the signature of a loaded SavedModel: each signature
// input is fed from the case's input of that name, cast to the input's
// float dtype where it differs (Cast). With lossModel the model computes
// one loss (as python/export_losses.py's models do): its one output is
// returned as "loss", the name keras_goldens.json cases use.
func ModelRunner(m *tfseg.Model, signature string, lossModel bool) (Runner, error) {
	sig, err := m.Signature(signature)
	if err != nil {
		return Runner{}, err
	}
	run := func(ctx context.Context, c Case) (map[string]*tfops.Tensor, error) {
		feeds := map[string]*tfops.Tensor{}
		for _, in := range sig.Inputs {
			t, ok := c.Inputs[in.Name]
			if !ok {
				return nil, fmt.Errorf("case %s: no input %q for the signature (%s/%s.npy)", c.Name, in.Name, InputsDir, in.Name)
			}
			if t.DType() != in.DType && (in.DType == tfops.Float || in.DType == tfops.Double) {
				var err error
				if t, err = Cast(t, in.DType); err != nil {
					return nil, fmt.Errorf("case %s, input %s: %w", c.Name, in.Name, err)
				}
			}
			feeds[in.Name] = t
		}
		out, err := m.Run(ctx, sig.Key, feeds)
		if err != nil || !lossModel {
			return out, err
		}
		if len(out) != 1 {
			return nil, fmt.Errorf("signature %s has %d outputs; a loss model has one", sig.Key, len(out))
		}
		for _, t := range out {
			return map[string]*tfops.Tensor{"loss": t}, nil
		}
		return nil, nil
	}
	return Runner{What: fmt.Sprintf("model %s, signature %s", m.Dir(), sig.Key), Run: run}, nil
}

// LossRunner evaluates the loss or metric name with parameters cfg on
// engine eng (tfseg.Eval), its inputs cast to float32. A case read from
// keras_goldens.json runs its own loss and parameters instead. A case
// must want one output, which gets the loss's value.
func LossRunner(eng engine.Engine, name string, cfg graphs.Config) Runner {
	run := func(ctx context.Context, c Case) (map[string]*tfops.Tensor, error) {
		inputs := map[string]*tfops.Tensor{}
		for in, t := range c.Inputs {
			f, err := Cast(t, tfops.Float)
			if err != nil {
				return nil, fmt.Errorf("case %s, input %s: %w", c.Name, in, err)
			}
			inputs[in] = f
		}
		name, cfg := name, cfg
		if c.Loss != "" {
			name, cfg = c.Loss, c.Params
		}
		res, err := tfseg.Eval(ctx, eng, name, cfg, inputs)
		if err != nil {
			return nil, fmt.Errorf("case %s: %w", c.Name, err)
		}
		if len(c.Want) != 1 {
			return nil, fmt.Errorf("case %s: a loss has one output; %s holds %d files", c.Name, OutputsDir, len(c.Want))
		}
		out := map[string]*tfops.Tensor{}
		for o := range c.Want {
			out[o] = res
		}
		return out, nil
	}
	return Runner{What: "loss " + graphs.FormatLoss(name, cfg), Run: run}
}

// Result is the comparison of one output of one case.
type Result struct {
	Case, Output string
	// Source is the file Keras' output came from.
	Source string
	*Comparison
}

// Name is "CASE / OUTPUT", as `tfseg verify` titles the result.
func (r Result) Name() string { return r.Case + " / " + r.Output }

// Verify runs every case with r and compares each output the case wants
// (in name order) with tol, calling each (when not nil) on every result as
// it comes. A run error, a missing output or a comparison that cannot be
// made (shapes differ) stops it with an error naming the case and output;
// outputs outside the tolerance make an ErrTolerance error listing them
// ("CASE/OUTPUT, ...") after every case ran. The results so far are
// returned in both cases.
func Verify(ctx context.Context, cases []Case, r Runner, tol Tolerance, each func(Result)) ([]Result, error) {
	if err := tol.Check(); err != nil {
		return nil, err
	}
	var results []Result
	var bad []string
	for _, c := range cases {
		got, err := r.Run(ctx, c)
		if err != nil {
			return results, err
		}
		names := make([]string, 0, len(c.Want))
		for n := range c.Want {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			g, ok := got[n]
			if !ok {
				return results, fmt.Errorf("case %s: %s has no output %q", c.Name, r.What, n)
			}
			cmp, err := Compare(g, c.Want[n], tol)
			if err != nil {
				return results, fmt.Errorf("case %s, output %s (%s): %w", c.Name, n, c.Source[n], err)
			}
			res := Result{Case: c.Name, Output: n, Source: c.Source[n], Comparison: cmp}
			results = append(results, res)
			if each != nil {
				each(res)
			}
			if !cmp.OK() {
				bad = append(bad, c.Name+"/"+n)
			}
		}
	}
	if len(bad) > 0 {
		return results, fmt.Errorf("%w: %s", ErrTolerance, strings.Join(bad, ", "))
	}
	return results, nil
}
