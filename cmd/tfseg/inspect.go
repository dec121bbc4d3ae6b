package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/npy"
	"github.com/tfseg/tfseg/savedmodel"
	"github.com/tfseg/tfseg/tfops"
)

func init() {
	register(&command{name: "inspect", args: "DIR [--tags serve] [--json]",
		summary: "show a SavedModel: tag sets, signatures, ops (and which the Go engine lacks), variables, assets", run: runInspect})
	register(&command{name: "run", args: "DIR [--signature KEY] --in NAME=FILE.npy ... --out DIR [--engine go|tensorflow] [--tags serve]",
		summary: "run a SavedModel signature on .npy inputs; write one NAME.npy per output", run: runRun})
}

// tagsFlag parses a comma-separated tag list.
func tagsFlag(s string) []string {
	var tags []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

type inspectTensor struct {
	Name   string `json:"name"`
	DType  string `json:"dtype"`
	Shape  string `json:"shape"`
	Tensor string `json:"tensor"`
}

type inspectSignature struct {
	Key     string          `json:"key"`
	Method  string          `json:"method,omitempty"`
	Inputs  []inspectTensor `json:"inputs"`
	Outputs []inspectTensor `json:"outputs"`
	// MissingGoOps are the ops this signature reaches that the Go engine
	// lacks, each with the first place that uses it.
	MissingGoOps []string `json:"ops_missing_in_go_engine"`
}

type inspectVariable struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Shape string `json:"shape"`
	Bytes int64  `json:"bytes"`
}

type inspectReport struct {
	Dir            string             `json:"dir"`
	TagSets        [][]string         `json:"tag_sets"`
	Tags           []string           `json:"tags"`
	TFVersion      string             `json:"tensorflow_version,omitempty"`
	Signatures     []inspectSignature `json:"signatures"`
	Ops            map[string]int     `json:"ops"`
	Functions      int                `json:"functions"`
	MissingGoOps   []string           `json:"ops_missing_in_go_engine"`
	LoadMissing    []string           `json:"load_ops_missing_in_go_engine"`
	UnreachedOps   []string           `json:"unreached_ops_missing_in_go_engine"`
	Variables      []inspectVariable  `json:"variables"`
	VariablesError string             `json:"variables_error,omitempty"`
	Assets         []string           `json:"assets"`
}

func runInspect(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["inspect"])
	asJSON := fs.Bool("json", false, "print JSON")
	tags := fs.String("tags", savedmodel.ServeTag, "comma-separated tag set of the MetaGraphDef to show")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("inspect takes one SavedModel directory")
	}
	sm, err := savedmodel.Read(pos[0], savedmodel.ReadOptions{Tags: tagsFlag(*tags)})
	if err != nil {
		return err
	}
	r := inspectReport{Dir: pos[0], TagSets: savedmodel.TagSets(sm.Proto), Tags: sm.Tags, Ops: map[string]int{},
		TFVersion: sm.MetaGraph.GetMetaInfoDef().GetTensorflowVersion(), MissingGoOps: []string{}, Variables: []inspectVariable{}, Assets: []string{}}
	for _, key := range sm.SignatureKeys() {
		s, _ := sm.Signature(key)
		is := inspectSignature{Key: key, Method: s.MethodName}
		conv := func(m map[string]savedmodel.TensorInfo) []inspectTensor {
			out := []inspectTensor{}
			for name, ti := range m {
				out = append(out, inspectTensor{Name: name, DType: ti.DType.String(), Shape: ti.Shape.String(), Tensor: ti.Name})
			}
			sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
			return out
		}
		is.Inputs, is.Outputs = conv(s.Inputs), conv(s.Outputs)
		r.Signatures = append(r.Signatures, is)
	}
	g := sm.Graph()
	for _, n := range g.GetNode() {
		r.Ops[n.GetOp()]++
	}
	for _, f := range g.GetLibrary().GetFunction() {
		r.Functions++
		for _, n := range f.GetNodeDef() {
			r.Ops[n.GetOp()]++
		}
	}
	// What the Go engine lacks: per signature (what a run needs), for
	// loading, and separately in what nothing reaches (training traces,
	// augmentation, GPU-only functions), which no run needs. The same
	// reach and the same test as tfseg.Load's, so the lists are exactly
	// what Load refuses.
	has := func(op string) bool { ok, _ := goengine.Engine{}.OpInfo(op); return ok }
	stateful := func(op string) bool { _, st := goengine.Engine{}.OpInfo(op); return st }
	var keys []string
	for _, is := range r.Signatures {
		if is.Key != savedmodel.InitOpSignatureKey {
			keys = append(keys, is.Key)
		}
	}
	load, reach, err := sm.Reaches(keys, stateful)
	if err != nil {
		return err
	}
	needed := map[string]bool{}
	addNeeded := func(reach *savedmodel.Reach) []string {
		for _, op := range reach.OpNames() {
			needed[op] = true
		}
		return reach.Missing(has)
	}
	r.LoadMissing = addNeeded(load)
	missing := map[string]bool{}
	for i, is := range r.Signatures {
		if is.Key == savedmodel.InitOpSignatureKey {
			r.Signatures[i].MissingGoOps = []string{}
			continue
		}
		r.Signatures[i].MissingGoOps = addNeeded(reach[is.Key])
		for _, m := range r.Signatures[i].MissingGoOps {
			op, _, _ := strings.Cut(m, " ")
			missing[op] = true
		}
	}
	for _, m := range r.LoadMissing {
		op, _, _ := strings.Cut(m, " ")
		missing[op] = true
	}
	for op := range missing {
		r.MissingGoOps = append(r.MissingGoOps, op)
	}
	sort.Strings(r.MissingGoOps)
	for op := range r.Ops {
		if !has(op) && !needed[op] {
			r.UnreachedOps = append(r.UnreachedOps, op)
		}
	}
	sort.Strings(r.UnreachedOps)
	var varErr error
	if _, err := sm.VerifyVariables(); err != nil {
		varErr = err
		r.VariablesError = err.Error()
	}
	if sm.HasVariables() {
		b, err := sm.OpenVariables(savedmodel.BundleOptions{})
		if err == nil {
			for _, k := range b.Keys() {
				ent, err := b.Entry(k)
				if err != nil {
					break // VerifyVariables reported it
				}
				r.Variables = append(r.Variables, inspectVariable{Name: k, DType: tfops.DType(ent.GetDtype()).String(),
					Shape: tfops.ShapeFromProto(ent.GetShape()).String(), Bytes: ent.GetSize()})
			}
			b.Close()
		}
	}
	if assets, err := sm.Assets(); err == nil {
		for _, a := range assets {
			r.Assets = append(r.Assets, a.Filename)
		}
	}
	if varErr != nil {
		varErr = fmt.Errorf("the model's variables cannot be restored: %w", varErr)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
		return varErr
	}
	w := e.stdout
	fmt.Fprintf(w, "SavedModel %s\n", r.Dir)
	if r.TFVersion != "" {
		fmt.Fprintf(w, "written by TensorFlow %s\n", r.TFVersion)
	}
	sets := make([]string, len(r.TagSets))
	for i, s := range r.TagSets {
		sets[i] = "{" + strings.Join(s, ",") + "}"
	}
	fmt.Fprintf(w, "tag sets: %s (showing {%s})\n\nsignatures:\n", strings.Join(sets, " "), strings.Join(r.Tags, ","))
	for _, s := range r.Signatures {
		fmt.Fprintf(w, "  %s", s.Key)
		if s.Method != "" {
			fmt.Fprintf(w, " (%s)", s.Method)
		}
		fmt.Fprintln(w)
		for _, t := range s.Inputs {
			fmt.Fprintf(w, "    in  %-20s %-8s %-20s %s\n", t.Name, t.DType, t.Shape, t.Tensor)
		}
		for _, t := range s.Outputs {
			fmt.Fprintf(w, "    out %-20s %-8s %-20s %s\n", t.Name, t.DType, t.Shape, t.Tensor)
		}
	}
	ops := make([]string, 0, len(r.Ops))
	for op := range r.Ops {
		ops = append(ops, fmt.Sprintf("%s×%d", op, r.Ops[op]))
	}
	sort.Strings(ops)
	fmt.Fprintf(w, "\nops (%d types, graph and %d functions): %s\n", len(r.Ops), r.Functions, strings.Join(ops, " "))
	if len(r.MissingGoOps) == 0 {
		fmt.Fprintln(w, "go engine: runs every op that loading and the signatures reach")
	} else {
		if len(r.LoadMissing) > 0 {
			fmt.Fprintf(w, "go engine lacks, to load: %s\n", strings.Join(r.LoadMissing, ", "))
		}
		for _, s := range r.Signatures {
			if len(s.MissingGoOps) > 0 {
				fmt.Fprintf(w, "go engine lacks, for signature %s: %s\n", s.Key, strings.Join(s.MissingGoOps, ", "))
			}
		}
	}
	if len(r.UnreachedOps) > 0 {
		fmt.Fprintf(w, "not reached by loading or any signature (no run needs them), the go engine lacks: %s\n", strings.Join(r.UnreachedOps, ", "))
	}
	fmt.Fprintf(w, "\nvariables (%d):\n", len(r.Variables))
	for _, v := range r.Variables {
		fmt.Fprintf(w, "  %-60s %-8s %s\n", v.Name, v.DType, v.Shape)
	}
	if r.VariablesError != "" {
		fmt.Fprintf(w, "  error: %s\n", r.VariablesError)
	}
	if len(r.Assets) > 0 {
		fmt.Fprintf(w, "\nassets: %s\n", strings.Join(r.Assets, ", "))
	}
	return varErr
}

// inFlags collects repeated --in NAME=FILE.npy flags.
type inFlags map[string]string

func (f inFlags) String() string { return fmt.Sprint(map[string]string(f)) }

func (f inFlags) Set(v string) error {
	k, p, ok := strings.Cut(v, "=")
	if !ok || k == "" || p == "" {
		return fmt.Errorf("--in wants NAME=FILE.npy, got %q", v)
	}
	if _, dup := f[k]; dup {
		return fmt.Errorf("--in %s given twice", k)
	}
	f[k] = p
	return nil
}

func runRun(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["run"])
	sigKey := fs.String("signature", "serving_default", "signature `KEY`")
	out := fs.String("out", "", "output `DIR`: one NAME.npy per output (created if needed)")
	engName := fs.String("engine", engine.Default, "engine: "+strings.Join(engine.Names(), ", "))
	tags := fs.String("tags", savedmodel.ServeTag, "comma-separated tag set")
	ins := inFlags{}
	fs.Var(ins, "in", "input `NAME=FILE.npy` (repeatable; dtype and shape must fit the signature)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("run takes one SavedModel directory")
	}
	if *out == "" {
		return usagef("run needs --out DIR")
	}
	inputs := map[string]*tfops.Tensor{}
	for name, path := range ins {
		t, err := npy.ReadFile(path, npy.Options{})
		if err != nil {
			return err
		}
		inputs[name] = t
	}
	m, err := tfseg.Load(pos[0], tfseg.WithEngine(*engName), tfseg.WithTags(tagsFlag(*tags)...), tfseg.WithSignatures(*sigKey))
	if err != nil {
		return err
	}
	defer m.Close()
	if sig, err := m.Signature(*sigKey); err == nil {
		castFloat64Inputs(e, sig, inputs)
	}
	res, err := m.Run(ctx, *sigKey, inputs)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(res))
	for k := range res {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if strings.ContainsAny(k, `/\`) || k == "." || k == ".." {
			return fmt.Errorf("output name %q cannot be a file name", k)
		}
	}
	var written []string
	for _, k := range names {
		p := filepath.Join(*out, k+".npy")
		if err := npy.WriteFile(p, res[k]); err != nil {
			for _, w := range written {
				os.Remove(w)
			}
			return err
		}
		written = append(written, p)
		fmt.Fprintf(e.stdout, "%s: %v %v -> %s\n", k, res[k].DType(), res[k].Shape(), p)
	}
	return nil
}

// castFloat64Inputs rounds float64 inputs (NumPy's default dtype) that the
// signature takes as float32 to float32, with a note on stderr, as tfseg
// loss does.
func castFloat64Inputs(e *env, sig tfseg.Signature, inputs map[string]*tfops.Tensor) {
	for _, spec := range sig.Inputs {
		t, ok := inputs[spec.Name]
		if !ok || t.DType() != tfops.Double || spec.DType != tfops.Float {
			continue
		}
		f64 := t.Float64s()
		f32 := make([]float32, len(f64))
		for i, v := range f64 {
			f32[i] = float32(v)
		}
		inputs[spec.Name] = tfops.MustFromSlice(f32, t.Shape()...)
		fmt.Fprintf(e.stderr, "note: input %s: float64 rounded to the signature's float32\n", spec.Name)
	}
}
