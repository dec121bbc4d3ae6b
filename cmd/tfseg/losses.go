package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/internal/atomicfile"
	"github.com/tfseg/tfseg/npy"
	"github.com/tfseg/tfseg/parity"
	"github.com/tfseg/tfseg/tfops"
)

func init() {
	register(&command{name: "losses", args: "[NAME] [--json]",
		summary: "list the losses and metrics, one line each; with NAME: its formula, parameters, inputs, output shape and Keras versions", run: runLosses})
	register(&command{name: "loss", args: "NAME --y-true T.npy --y-pred P.npy [--weights W.npy] [--sample-weight S.npy] [--set key=value]... [--engine go|tensorflow] [--out R.npy]",
		summary: "evaluate a loss or metric on .npy inputs; print it and optionally write it as .npy", run: runLoss})
	register(&command{name: "export", args: "NAME [--set key=value]... --out DIR | --all --out DIR",
		summary: "export a loss (or every loss and metric) as a TensorFlow SavedModel", run: runExport})
}

// setFlags collects repeated --set key=value flags into a graphs.Config.
type setFlags graphs.Config

func (s setFlags) String() string {
	parts := make([]string, 0, len(s))
	for k, v := range s {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, " ")
}

// Set adds one key=value pair (graphs.Config.Add: a pair without "=" or a
// key given twice is an error).
func (s setFlags) Set(v string) error { return graphs.Config(s).Add(v) }

// paramJSON is one parameter in `tfseg losses --json`.
type paramJSON struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Default  any      `json:"default"`
	Required bool     `json:"required,omitempty"`
	Choices  []string `json:"choices,omitempty"`
	Doc      string   `json:"doc"`
}

// kerasChangeJSON is one change between Keras releases in `tfseg losses --json`.
type kerasChangeJSON struct {
	What   string `json:"what"`
	Since  string `json:"since"`
	Before string `json:"before"`
	After  string `json:"after"`
	Source string `json:"source"`
	Test   string `json:"test"`
}

type specJSON struct {
	Name         string            `json:"name"`
	Kind         string            `json:"kind"`
	Summary      string            `json:"summary"`
	Inputs       []string          `json:"inputs"`
	Optional     []string          `json:"optional_inputs,omitempty"`
	Output       string            `json:"output"`
	Params       []paramJSON       `json:"params"`
	Doc          string            `json:"doc"`
	KerasChanges []kerasChangeJSON `json:"keras_changes,omitempty"`
}

func toJSON(s *graphs.Spec) specJSON {
	j := specJSON{Name: s.Name, Kind: string(s.Kind), Summary: s.Summary, Inputs: s.Inputs, Optional: s.Optional,
		Output: s.Output, Doc: s.Doc, Params: []paramJSON{}}
	for _, p := range s.Params {
		j.Params = append(j.Params, paramJSON{Name: p.Name, Kind: p.Kind, Default: p.Default, Required: p.Required, Choices: p.Choices, Doc: p.Doc})
	}
	for _, c := range graphs.KerasChangesFor(s.Name) {
		j.KerasChanges = append(j.KerasChanges, kerasChangeJSON{What: c.What, Since: c.Since, Before: c.Before, After: c.After, Source: c.Source, Test: c.Test()})
	}
	return j
}

func runLosses(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["losses"])
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("losses takes at most one loss name, got %q", pos)
	}
	if len(pos) == 1 {
		spec, err := graphs.Lookup(pos[0])
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(e, toJSON(spec))
		}
		describeSpec(e, spec)
		return nil
	}
	specs := graphs.Specs()
	if *asJSON {
		out := make([]specJSON, 0, len(specs))
		for _, s := range specs {
			out = append(out, toJSON(s))
		}
		return writeJSON(e, out)
	}
	for _, s := range specs {
		fmt.Fprintf(e.stdout, "%-18s %-6s  %s\n", s.Name, s.Kind, s.Summary)
	}
	fmt.Fprintln(e.stdout, "\ntfseg losses NAME: formula, parameters, inputs, output shape and the Keras releases each behaviour belongs to")
	return nil
}

func writeJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// describeSpec prints `tfseg losses NAME`.
func describeSpec(e *env, s *graphs.Spec) {
	w := e.stdout
	fmt.Fprintf(w, "%s (%s): %s\n\n", s.Name, s.Kind, s.Summary)
	inputs := make([]string, len(s.Inputs))
	for i, in := range s.Inputs {
		inputs[i] = in
		if s.IsOptional(in) {
			inputs[i] = "[" + in + "] (optional)"
		}
	}
	fmt.Fprintf(w, "formula\n%s\n\n", wrap(s.Doc, "  ", 92))
	fmt.Fprintf(w, "inputs  %s\n", strings.Join(inputs, ", "))
	fmt.Fprintf(w, "output  %s\n", s.Output)
	if len(s.Params) > 0 {
		fmt.Fprintln(w, "\nparameters (--set key=value)")
		for _, p := range s.Params {
			def := "required"
			if !p.Required {
				def = "default " + formatDefault(p.Default)
			}
			choices := ""
			if len(p.Choices) > 0 {
				choices = " {" + strings.Join(p.Choices, "|") + "}"
			}
			fmt.Fprintf(w, "  %s  %s%s, %s\n%s\n", p.Name, p.Kind, choices, def, wrap(p.Doc, "      ", 92))
		}
	}
	changes := graphs.KerasChangesFor(s.Name)
	if len(changes) == 0 {
		return
	}
	fmt.Fprintf(w, "\nKeras versions (--set keras=RELEASE; default %s)\n", graphs.NewestKeras)
	for _, c := range changes {
		fmt.Fprintf(w, "  %s: changed in Keras %s\n", c.What, c.Since)
		fmt.Fprintf(w, "%s\n", wrap("until "+c.Since+": "+c.Before, "      ", 92))
		fmt.Fprintf(w, "%s\n", wrap("from "+c.Since+": "+c.After, "      ", 92))
		fmt.Fprintf(w, "%s\n", wrap("source: "+c.Source, "      ", 92))
		fmt.Fprintf(w, "      test: %s\n", c.Test())
	}
}

// wrap breaks text into lines of at most width columns (a longer word
// stands alone), each starting with indent.
func wrap(text, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(text) {
		if line != indent && len([]rune(line))+1+len([]rune(word)) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += word
	}
	b.WriteString(line)
	return b.String()
}

func formatDefault(v any) string {
	switch x := v.(type) {
	case nil:
		return "none"
	case []int:
		parts := make([]string, len(x))
		for i, d := range x {
			parts[i] = strconv.Itoa(d)
		}
		return strings.Join(parts, ",")
	case []float64:
		parts := make([]string, len(x))
		for i, d := range x {
			parts[i] = strconv.FormatFloat(d, 'g', -1, 64)
		}
		return strings.Join(parts, ",")
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// readInput reads a .npy input of a loss. Integer and bool arrays (label
// masks) become float32, which is exact for values below 2^24; float64
// stays float64 only with --float64, otherwise it is rounded to float32 as
// Keras does when it feeds NumPy arrays to a float32 model.
func readInput(path string, float64Mode bool) (*tfops.Tensor, error) {
	t, err := npy.ReadFile(path, npy.Options{})
	if err != nil {
		return nil, err
	}
	want := tfops.Float
	if float64Mode {
		want = tfops.Double
	}
	out, err := convertTensor(t, want)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// convertTensor casts numeric tensors to float32 or float64 (parity.Cast).
func convertTensor(t *tfops.Tensor, to tfops.DType) (*tfops.Tensor, error) {
	return parity.Cast(t, to)
}

func runLoss(ctx context.Context, e *env, args []string) error {
	c := commands["loss"]
	fs := newFlags(e, c)
	yTrue := fs.String("y-true", "", "labels `T.npy` (float, int or bool)")
	yPred := fs.String("y-pred", "", "predictions `P.npy` (probabilities, or logits with from_logits)")
	weights := fs.String("weights", "", "distance map `W.npy` (distance_ce)")
	sampleWeight := fs.String("sample-weight", "", "Keras sample_weight `S.npy`")
	engName := fs.String("engine", engine.Default, "engine: "+strings.Join(engine.Names(), ", "))
	out := fs.String("out", "", "write the result to `R.npy` (float32)")
	f64 := fs.Bool("float64", false, "compute in float64 (inputs are cast to float64)")
	set := setFlags{}
	fs.Var(set, "set", "parameter `key=value` (repeatable): numbers, true/false, 1,2,3, words")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("loss takes one loss name, got %d arguments; see tfseg losses", len(pos))
	}
	if *yTrue == "" || *yPred == "" {
		return usagef("loss needs --y-true and --y-pred")
	}
	name := pos[0]
	spec, err := graphs.Lookup(name)
	if err != nil {
		return err
	}
	if _, err := spec.Parse(graphs.Config(set)); err != nil {
		return err
	}
	eng, err := engine.Get(*engName)
	if err != nil {
		return err
	}
	inputs := map[string]*tfops.Tensor{}
	files := map[string]string{graphs.InputTrue: *yTrue, graphs.InputPred: *yPred,
		graphs.InputWeights: *weights, graphs.InputSampleWeight: *sampleWeight}
	for _, in := range []string{graphs.InputTrue, graphs.InputPred, graphs.InputWeights, graphs.InputSampleWeight} {
		path := files[in]
		if path == "" {
			continue
		}
		t, err := readInput(path, *f64)
		if err != nil {
			return err
		}
		inputs[in] = t
	}
	res, err := tfseg.Eval(ctx, eng, name, graphs.Config(set), inputs)
	if err != nil {
		return err
	}
	if res.DType() == tfops.Double && !*f64 {
		res, err = convertTensor(res, tfops.Float)
		if err != nil {
			return err
		}
	}
	if *out != "" {
		if err := npy.WriteFile(*out, res); err != nil {
			return err
		}
	}
	printTensor(e, res)
	return nil
}

// printTensor prints a scalar as a plain number and a tensor as its shape
// and values (at most 1000 of them).
func printTensor(e *env, t *tfops.Tensor) {
	vals := make([]string, 0, min(t.NumElements(), 1000))
	format := func(x float64, bits int) string { return strconv.FormatFloat(x, 'g', -1, bits) }
	switch v := t.Data().(type) {
	case []float32:
		for _, x := range v[:min(len(v), 1000)] {
			vals = append(vals, format(float64(x), 32))
		}
	case []float64:
		for _, x := range v[:min(len(v), 1000)] {
			vals = append(vals, format(x, 64))
		}
	}
	if t.Rank() == 0 && len(vals) == 1 {
		fmt.Fprintln(e.stdout, vals[0])
		return
	}
	fmt.Fprintf(e.stdout, "shape %v\n%s", t.Shape(), strings.Join(vals, " "))
	if t.NumElements() > len(vals) {
		fmt.Fprintf(e.stdout, " ... (%d more)", t.NumElements()-len(vals))
	}
	fmt.Fprintln(e.stdout)
}

func runExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["export"])
	out := fs.String("out", "", "output `DIR` (must not exist, or be empty)")
	all := fs.Bool("all", false, "export every loss and metric with its defaults, one directory each, named after it")
	set := setFlags{}
	fs.Var(set, "set", "parameter `key=value` (repeatable)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("export needs --out DIR")
	}
	if err := checkEmptyTarget(*out); err != nil {
		return err
	}
	if *all {
		if len(pos) > 0 || len(set) > 0 {
			return usagef("export --all takes no loss name and no --set")
		}
		// Build everything first so that a failure writes nothing.
		var built []*graphs.Graph
		for _, name := range graphs.Names() {
			spec, _ := graphs.Lookup(name)
			if req := requiredParams(spec); len(req) > 0 {
				fmt.Fprintf(e.stderr, "export: %s skipped: it has required parameters (%s); export it by name with --set\n",
					name, strings.Join(req, ", "))
				continue
			}
			g, err := graphs.Build(name, nil)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			built = append(built, g)
		}
		err := atomicfile.Dir(*out, func(tmp string) error {
			for _, g := range built {
				if err := g.Export(filepath.Join(tmp, g.Spec.Name)); err != nil {
					return fmt.Errorf("%s: %w", g.Spec.Name, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %d SavedModels to %s\n", len(built), *out)
		return nil
	}
	if len(pos) != 1 {
		return usagef("export takes one loss name (or --all)")
	}
	if err := graphs.Export(*out, pos[0], graphs.Config(set)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s to %s\n", pos[0], *out)
	return nil
}

func requiredParams(s *graphs.Spec) []string {
	var req []string
	for _, p := range s.Params {
		if p.Required {
			req = append(req, p.Name)
		}
	}
	return req
}

// checkEmptyTarget refuses an output directory that holds anything.
func checkEmptyTarget(dir string) error {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("output directory %s is not empty", dir)
	}
	return nil
}
