package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/eval"
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/internal/ulp"
	"github.com/tfseg/tfseg/npy"
	"github.com/tfseg/tfseg/tfops"
)

func init() {
	register(&command{name: "verify",
		args:    "(--model DIR [--signature KEY] [--loss NAME] | --loss NAME[:key=value,...]) --cases DIR|keras_goldens.json [--goldens FILE] [--engine go|tensorflow] [--rtol R] [--atol A]",
		summary: "check Go against Keras: run a SavedModel or a loss on saved inputs and compare with the outputs Keras produced",
		run:     runVerify})
}

// Cases come in two layouts.
//
// A case directory holds inputs/NAME.npy (one per signature input, or
// y_true, y_pred, weights, sample_weight for a loss) and outputs/NAME.npy
// (what Keras computed: one per signature output, or one file for a
// loss); --cases names one such directory, or a directory of them.
//
// keras_goldens.json, as python/export_losses.py writes it, lists results
// {case, loss, params, inputs: {input: array}, expected, npy}: the input
// arrays are the cases of graphs/testdata/goldens.json (--goldens), the
// Keras values are in the .npy file named by "npy" (relative to the JSON
// file), else in "expected".
const (
	casesInputs  = "inputs"
	casesOutputs = "outputs"
)

// errTolerance marks outputs out of tolerance (exit status 1).
var errTolerance = errors.New("out of tolerance")

type verifyCase struct {
	name string
	// loss and params, for keras_goldens.json results (the loss's own
	// parameters); empty for case directories.
	loss   string
	params graphs.Config
	inputs map[string]*tfops.Tensor
	want   map[string]*tfops.Tensor // Keras' outputs by name
	source map[string]string        // where each want came from
}

// readCaseDirs reads dir itself when it has inputs/, else each
// subdirectory that has.
func readCaseDirs(dir string) ([]verifyCase, error) {
	one := func(name, d string) (verifyCase, error) {
		c := verifyCase{name: name, inputs: map[string]*tfops.Tensor{}, want: map[string]*tfops.Tensor{}, source: map[string]string{}}
		for _, sub := range []string{casesInputs, casesOutputs} {
			ents, err := os.ReadDir(filepath.Join(d, sub))
			if err != nil {
				return c, fmt.Errorf("case %s: %w", d, err)
			}
			n := 0
			for _, e := range ents {
				if e.IsDir() || !strings.HasSuffix(e.Name(), ".npy") {
					continue
				}
				path := filepath.Join(d, sub, e.Name())
				t, err := npy.ReadFile(path, npy.Options{})
				if err != nil {
					return c, err
				}
				key := strings.TrimSuffix(e.Name(), ".npy")
				if sub == casesInputs {
					c.inputs[key] = t
				} else {
					c.want[key], c.source[key] = t, path
				}
				n++
			}
			if n == 0 {
				return c, fmt.Errorf("case %s: no .npy file in %s", d, filepath.Join(d, sub))
			}
		}
		return c, nil
	}
	if _, err := os.Stat(filepath.Join(dir, casesInputs)); err == nil {
		c, err := one(filepath.Base(dir), dir)
		return []verifyCase{c}, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var cases []verifyCase
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), casesInputs)); e.IsDir() && err == nil {
			c, err := one(e.Name(), filepath.Join(dir, e.Name()))
			if err != nil {
				return nil, err
			}
			cases = append(cases, c)
		}
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("%s has no case: want %s/%s/NAME.npy and %s/%s/NAME.npy, or subdirectories laid out so, or a keras_goldens.json", dir, dir, casesInputs, dir, casesOutputs)
	}
	return cases, nil
}

// goldenArray is an array of goldens.json: shape and values ("NaN" for NaN).
type goldenArray struct {
	Shape []int `json:"shape"`
	Data  []any `json:"data"`
}

func (a goldenArray) tensor() (*tfops.Tensor, error) {
	v := make([]float32, len(a.Data))
	for i, x := range a.Data {
		switch y := x.(type) {
		case float64:
			v[i] = float32(y)
		case string:
			switch y {
			case "NaN":
				v[i] = float32(math.NaN())
			case "Inf":
				v[i] = float32(math.Inf(1))
			case "-Inf":
				v[i] = float32(math.Inf(-1))
			default:
				return nil, fmt.Errorf("value %q at %d", y, i)
			}
		default:
			return nil, fmt.Errorf("value %v at %d", x, i)
		}
	}
	return tfops.FromSlice(v, a.Shape...)
}

// readKerasGoldens reads python/export_losses.py's keras_goldens.json with
// the case arrays of goldensPath, keeping the results of loss (all when "").
func readKerasGoldens(path, goldensPath, loss string) ([]verifyCase, error) {
	goldensName := goldensPath
	if goldensName == "" {
		goldensName = "the built-in goldens.json"
	}
	var kg struct {
		Results []struct {
			Case     string            `json:"case"`
			Loss     string            `json:"loss"`
			Params   map[string]string `json:"params"`
			Inputs   map[string]string `json:"inputs"`
			Expected goldenArray       `json:"expected"`
			Npy      string            `json:"npy"`
		} `json:"results"`
	}
	var gold struct {
		Cases map[string]map[string]goldenArray `json:"cases"`
	}
	for _, f := range []struct {
		path string
		v    any
	}{{path, &kg}, {goldensPath, &gold}} {
		data, err := graphs.GoldensJSON, error(nil)
		if f.path != "" {
			data, err = os.ReadFile(f.path)
		}
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, f.v); err != nil {
			return nil, fmt.Errorf("%s: %w", f.path, err)
		}
	}
	var cases []verifyCase
	for i, r := range kg.Results {
		if loss != "" && r.Loss != loss {
			continue
		}
		c := verifyCase{name: fmt.Sprintf("%d %s %s", i, r.Loss, r.Case), loss: r.Loss, params: graphs.Config(r.Params),
			inputs: map[string]*tfops.Tensor{}, want: map[string]*tfops.Tensor{}, source: map[string]string{}}
		if c.params == nil {
			c.params = graphs.Config{}
		}
		arrays, ok := gold.Cases[r.Case]
		if !ok {
			return nil, fmt.Errorf("%s: result %d uses case %q, which %s does not have", path, i, r.Case, goldensName)
		}
		for in, arr := range r.Inputs {
			a, ok := arrays[arr]
			if !ok {
				return nil, fmt.Errorf("%s: case %q has no array %q", goldensName, r.Case, arr)
			}
			t, err := a.tensor()
			if err != nil {
				return nil, fmt.Errorf("%s: case %q array %q: %w", goldensName, r.Case, arr, err)
			}
			c.inputs[in] = t
		}
		if r.Npy != "" {
			p := filepath.Join(filepath.Dir(path), r.Npy)
			t, err := npy.ReadFile(p, npy.Options{})
			if err != nil {
				return nil, err
			}
			c.want["loss"], c.source["loss"] = t, p
		} else {
			t, err := r.Expected.tensor()
			if err != nil {
				return nil, fmt.Errorf("%s: result %d: %w", path, i, err)
			}
			c.want["loss"], c.source["loss"] = t, fmt.Sprintf("%s result %d", path, i)
		}
		cases = append(cases, c)
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("%s has no result for loss %q", path, loss)
	}
	return cases, nil
}

func runVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["verify"])
	model := fs.String("model", "", "SavedModel `DIR` to run")
	signature := fs.String("signature", "serving_default", "signature `KEY` (with --model)")
	loss := fs.String("loss", "", "loss or metric `NAME[:key=value,...]` to evaluate (with --model and keras_goldens.json: the loss the model computes, default the directory's name)")
	casesPath := fs.String("cases", "", "case `DIR` (inputs/NAME.npy, outputs/NAME.npy, or subdirectories of such) or python/export_losses.py's keras_goldens.json")
	goldens := fs.String("goldens", "", "with keras_goldens.json: the goldens.json `FILE` holding the input arrays (default: the copy built into tfseg, graphs/testdata/goldens.json)")
	engName := fs.String("engine", engine.Default, "engine: "+strings.Join(engine.Names(), ", "))
	rtol := fs.Float64("rtol", 1e-5, "relative tolerance: |got - want| <= atol + rtol*|want| (numpy.allclose)")
	atol := fs.Float64("atol", 1e-6, "absolute tolerance")
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
	if *rtol < 0 || *atol < 0 || math.IsNaN(*rtol) || math.IsNaN(*atol) {
		return usagef("--rtol and --atol must be >= 0")
	}
	var ms eval.Measure
	if *loss != "" {
		if ms, err = eval.ParseMeasure(*loss); err != nil {
			return &usageError{err.Error()}
		}
	}
	fromJSON := strings.HasSuffix(*casesPath, ".json")
	var cases []verifyCase
	if fromJSON {
		name := ms.Name
		if name == "" {
			name = filepath.Base(filepath.Clean(*model))
		}
		if cases, err = readKerasGoldens(*casesPath, *goldens, name); err != nil {
			return err
		}
		if *model != "" {
			cases = withParams(cases, ms.Config)
			if len(cases) == 0 {
				return fmt.Errorf("%s has no %s result with parameters %v and no sample_weight (the exported models' signatures have none)", *casesPath, name, ms.Config)
			}
		}
	} else if cases, err = readCaseDirs(*casesPath); err != nil {
		return err
	}

	var run func(ctx context.Context, c verifyCase) (map[string]*tfops.Tensor, error)
	var what string
	if *model != "" {
		m, err := tfseg.Load(*model, tfseg.WithEngine(*engName))
		if err != nil {
			return err
		}
		defer m.Close()
		sig, err := m.Signature(*signature)
		if err != nil {
			return err
		}
		what = fmt.Sprintf("model %s, signature %s", *model, sig.Key)
		run = func(ctx context.Context, c verifyCase) (map[string]*tfops.Tensor, error) {
			feeds := map[string]*tfops.Tensor{}
			for _, in := range sig.Inputs {
				t, ok := c.inputs[in.Name]
				if !ok {
					return nil, fmt.Errorf("case %s: no input %q for the signature (inputs/%s.npy)", c.name, in.Name, in.Name)
				}
				if t.DType() != in.DType && (in.DType == tfops.Float || in.DType == tfops.Double) {
					var err error
					if t, err = convertTensor(t, in.DType); err != nil {
						return nil, fmt.Errorf("case %s, input %s: %w", c.name, in.Name, err)
					}
				}
				feeds[in.Name] = t
			}
			out, err := m.Run(ctx, sig.Key, feeds)
			if err != nil || !fromJSON {
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
	} else {
		eng, err := engine.Get(*engName)
		if err != nil {
			return err
		}
		what = "loss " + ms.String()
		run = func(ctx context.Context, c verifyCase) (map[string]*tfops.Tensor, error) {
			inputs := map[string]*tfops.Tensor{}
			for name, t := range c.inputs {
				f, err := convertTensor(t, tfops.Float)
				if err != nil {
					return nil, fmt.Errorf("case %s, input %s: %w", c.name, name, err)
				}
				inputs[name] = f
			}
			name, cfg := ms.Name, ms.Config
			if c.loss != "" {
				name, cfg = c.loss, c.params
			}
			res, err := tfseg.Eval(ctx, eng, name, cfg, inputs)
			if err != nil {
				return nil, fmt.Errorf("case %s: %w", c.name, err)
			}
			if len(c.want) != 1 {
				return nil, fmt.Errorf("case %s: a loss has one output; %s holds %d files", c.name, casesOutputs, len(c.want))
			}
			out := map[string]*tfops.Tensor{}
			for name := range c.want {
				out[name] = res
			}
			return out, nil
		}
	}
	fmt.Fprintf(e.stdout, "verify %s on engine %s: %d case(s), pass when |got - want| <= %g + %g*|want|\n", what, *engName, len(cases), *atol, *rtol)
	var bad []string
	for _, c := range cases {
		got, err := run(ctx, c)
		if err != nil {
			return err
		}
		names := make([]string, 0, len(c.want))
		for n := range c.want {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			g, ok := got[n]
			if !ok {
				return fmt.Errorf("case %s: %s has no output %q", c.name, what, n)
			}
			cmp, err := compareTensors(g, c.want[n], *rtol, *atol)
			if err != nil {
				return fmt.Errorf("case %s, output %s (%s): %w", c.name, n, c.source[n], err)
			}
			cmp.write(e.stdout, c.name+" / "+n)
			if cmp.outside > 0 {
				bad = append(bad, c.name+"/"+n)
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", errTolerance, strings.Join(bad, ", "))
	}
	fmt.Fprintln(e.stdout, "all outputs within tolerance")
	return nil
}

// withParams keeps the cases computed with exactly params and without a
// sample_weight input.
func withParams(cases []verifyCase, params graphs.Config) []verifyCase {
	var out []verifyCase
	for _, c := range cases {
		if _, sw := c.inputs[graphs.InputSampleWeight]; sw || len(c.params) != len(params) {
			continue
		}
		same := true
		for k, v := range params {
			if c.params[k] != v {
				same = false
			}
		}
		if same {
			out = append(out, c)
		}
	}
	return out
}

// comparison is the element-wise comparison of one output.
type comparison struct {
	shape               []int
	n, outside          int
	maxAbs, maxRel      float64
	maxAbsAt, maxRelAt  int
	worst               int // element with the largest tolerance excess
	worstGot, worstWant float64
	ulpHist             []int // by ulpBuckets, then NaN/Inf mismatches last
}

// ulpBuckets are the upper bounds of the ulp-distance histogram's buckets.
var ulpBuckets = []uint64{0, 1, 2, 4, 16, 256, math.MaxUint64}

func ulpLabel(i int) string {
	switch i {
	case 0:
		return "0"
	case 1:
		return "1"
	case 2:
		return "2"
	case len(ulpBuckets) - 1:
		return fmt.Sprintf(">%d", ulpBuckets[i-1])
	case len(ulpBuckets):
		return "NaN/Inf mismatch"
	}
	return fmt.Sprintf("%d-%d", ulpBuckets[i-1]+1, ulpBuckets[i])
}

// floatValues returns a float tensor's values as float64 and whether they are float32.
func floatValues(t *tfops.Tensor) ([]float64, bool, error) {
	switch v := t.Data().(type) {
	case []float32:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out, true, nil
	case []float64:
		return v, false, nil
	}
	f, err := convertTensor(t, tfops.Double)
	if err != nil {
		return nil, false, err
	}
	return f.Float64s(), false, nil
}

// ulpDistance counts the representable numbers between a and b in float32
// (single) or float64.
func ulpDistance(a, b float64, single bool) uint64 {
	if single {
		return ulp.Dist32(float32(a), float32(b))
	}
	return ulp.Dist64(a, b)
}

// compareTensors compares got with want element by element.
func compareTensors(got, want *tfops.Tensor, rtol, atol float64) (*comparison, error) {
	if !slices.Equal(got.Shape(), want.Shape()) {
		return nil, fmt.Errorf("shape %v, Keras' is %v", got.Shape(), want.Shape())
	}
	g, single, err := floatValues(got)
	if err != nil {
		return nil, err
	}
	// ulps count in the precision Go computed in (Keras' float32 values
	// saved as float64 are still float32 values).
	w, _, err := floatValues(want)
	if err != nil {
		return nil, err
	}
	c := &comparison{shape: got.Shape(), n: len(g), ulpHist: make([]int, len(ulpBuckets)+1), worst: -1, maxAbsAt: -1, maxRelAt: -1}
	worstExcess := math.Inf(-1)
	for i := range g {
		a, b := g[i], w[i]
		if math.IsNaN(a) || math.IsNaN(b) || math.IsInf(a, 0) || math.IsInf(b, 0) {
			if a == b || (math.IsNaN(a) && math.IsNaN(b)) {
				c.ulpHist[0]++
				continue
			}
			c.ulpHist[len(ulpBuckets)]++
			c.outside++
			if c.worst < 0 || !math.IsInf(worstExcess, 1) {
				c.worst, c.worstGot, c.worstWant, worstExcess = i, a, b, math.Inf(1)
			}
			continue
		}
		d := math.Abs(a - b)
		rel := d / math.Max(math.Abs(b), math.SmallestNonzeroFloat64)
		if d == 0 {
			rel = 0
		}
		if c.maxAbsAt < 0 || d > c.maxAbs {
			c.maxAbs, c.maxAbsAt = d, i
		}
		if c.maxRelAt < 0 || rel > c.maxRel {
			c.maxRel, c.maxRelAt = rel, i
		}
		u := ulpDistance(a, b, single)
		for k, ub := range ulpBuckets {
			if u <= ub {
				c.ulpHist[k]++
				break
			}
		}
		// The excess is the error in units of the tolerance: above 1 is outside.
		tol := atol + rtol*math.Abs(b)
		excess := 0.0
		switch {
		case d > 0 && tol == 0:
			excess = math.Inf(1)
		case d > 0:
			excess = d / tol
		}
		if excess > 1 {
			c.outside++
		}
		if excess > worstExcess {
			c.worst, c.worstGot, c.worstWant, worstExcess = i, a, b, excess
		}
	}
	return c, nil
}

// index converts a flat index to a multi-dimensional one.
func index(shape []int, flat int) []int {
	idx := make([]int, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		if shape[k] > 0 {
			idx[k] = flat % shape[k]
			flat /= shape[k]
		}
	}
	return idx
}

func (c *comparison) write(w io.Writer, name string) {
	status := "OK"
	if c.outside > 0 {
		status = fmt.Sprintf("OUT OF TOLERANCE: %d of %d elements", c.outside, c.n)
	}
	fmt.Fprintf(w, "\n%s: shape %v, %d elements: %s\n", name, c.shape, c.n, status)
	if c.maxAbsAt >= 0 {
		fmt.Fprintf(w, "  largest abs error %.3g at %v\n", c.maxAbs, index(c.shape, c.maxAbsAt))
		fmt.Fprintf(w, "  largest rel error %.3g at %v\n", c.maxRel, index(c.shape, c.maxRelAt))
	}
	if c.worst >= 0 {
		fmt.Fprintf(w, "  worst element %v: got %.9g, Keras %.9g\n", index(c.shape, c.worst), c.worstGot, c.worstWant)
	}
	var parts []string
	for k, n := range c.ulpHist {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d", ulpLabel(k), n))
		}
	}
	fmt.Fprintf(w, "  ulp distance histogram: %s\n", strings.Join(parts, ", "))
}
