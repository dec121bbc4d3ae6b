package parity

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/npy"
	"github.com/tfseg/tfseg/tfops"
)

// The subdirectories of a case directory.
const (
	InputsDir  = "inputs"
	OutputsDir = "outputs"
)

// Case is one set of inputs with the outputs Keras computed from them.
type Case struct {
	Name string
	// Loss and Params are the loss and its parameters that computed Want,
	// for keras_goldens.json results; empty for case directories.
	Loss   string
	Params graphs.Config
	// Inputs by input name; Want, Keras' outputs by output name ("loss"
	// for a keras_goldens.json result); Source, the file each Want came from.
	Inputs map[string]*tfops.Tensor
	Want   map[string]*tfops.Tensor
	Source map[string]string
}

func newCase(name string) Case {
	return Case{Name: name, Inputs: map[string]*tfops.Tensor{}, Want: map[string]*tfops.Tensor{}, Source: map[string]string{}}
}

// readCaseDir reads one case directory d (inputs/, outputs/).
func readCaseDir(name, d string) (Case, error) {
	c := newCase(name)
	for _, sub := range []string{InputsDir, OutputsDir} {
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
			if sub == InputsDir {
				c.Inputs[key] = t
			} else {
				c.Want[key], c.Source[key] = t, path
			}
			n++
		}
		if n == 0 {
			return c, fmt.Errorf("case %s: no .npy file in %s", d, filepath.Join(d, sub))
		}
	}
	return c, nil
}

// ReadCaseDirs reads dir as one case directory when it has inputs/ (the
// case is named after dir), else each subdirectory that has (named after
// the subdirectory, in name order). No case at all is an error.
func ReadCaseDirs(dir string) ([]Case, error) {
	if _, err := os.Stat(filepath.Join(dir, InputsDir)); err == nil {
		c, err := readCaseDir(filepath.Base(dir), dir)
		return []Case{c}, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var cases []Case
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), InputsDir)); e.IsDir() && err == nil {
			c, err := readCaseDir(e.Name(), filepath.Join(dir, e.Name()))
			if err != nil {
				return nil, err
			}
			cases = append(cases, c)
		}
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("%s has no case: want %s/%s/NAME.npy and %s/%s/NAME.npy, or subdirectories laid out so, or a keras_goldens.json", dir, dir, InputsDir, dir, OutputsDir)
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

// ReadKerasGoldens reads python/export_losses.py's keras_goldens.json at
// path with the input arrays of the goldens.json at goldensPath ("": the
// copy built into package graphs, graphs.GoldensJSON), keeping the results
// of loss (all when ""). Each case has the output "loss"; it is named
// "INDEX LOSS CASE". No result for loss is an error.
func ReadKerasGoldens(path, goldensPath, loss string) ([]Case, error) {
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
	var cases []Case
	for i, r := range kg.Results {
		if loss != "" && r.Loss != loss {
			continue
		}
		c := newCase(fmt.Sprintf("%d %s %s", i, r.Loss, r.Case))
		c.Loss, c.Params = r.Loss, graphs.Config(r.Params)
		if c.Params == nil {
			c.Params = graphs.Config{}
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
			c.Inputs[in] = t
		}
		if r.Npy != "" {
			p := filepath.Join(filepath.Dir(path), r.Npy)
			t, err := npy.ReadFile(p, npy.Options{})
			if err != nil {
				return nil, err
			}
			c.Want["loss"], c.Source["loss"] = t, p
		} else {
			t, err := r.Expected.tensor()
			if err != nil {
				return nil, fmt.Errorf("%s: result %d: %w", path, i, err)
			}
			c.Want["loss"], c.Source["loss"] = t, fmt.Sprintf("%s result %d", path, i)
		}
		cases = append(cases, c)
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("%s has no result for loss %q", path, loss)
	}
	return cases, nil
}

// WithParams keeps the cases computed with exactly params and without a
// sample_weight input: the results a SavedModel exported with those
// parameters can reproduce (its signature has no sample_weight).
func WithParams(cases []Case, params graphs.Config) []Case {
	var out []Case
	for _, c := range cases {
		if _, sw := c.Inputs[graphs.InputSampleWeight]; sw || len(c.Params) != len(params) {
			continue
		}
		same := true
		for k, v := range params {
			if c.Params[k] != v {
				same = false
			}
		}
		if same {
			out = append(out, c)
		}
	}
	return out
}
