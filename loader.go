package tfseg

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/tfseg/tfseg/engine"
	_ "github.com/tfseg/tfseg/engine/goengine" // registers "go", the default engine
	_ "github.com/tfseg/tfseg/engine/tfengine" // registers "tensorflow" under -tags tensorflow
	"github.com/tfseg/tfseg/internal/smload"
	"github.com/tfseg/tfseg/savedmodel"
	"github.com/tfseg/tfseg/tfops"
)

// Sentinel errors of the root package; test with errors.Is. Errors from the
// engines and from package savedmodel are wrapped unchanged.
var (
	// ErrSignature marks an unknown signature key.
	ErrSignature = errors.New("tfseg: unknown signature")
	// ErrInput marks a bad Run input: an unknown or missing name, a nil
	// tensor, or a dtype or shape the signature does not accept.
	ErrInput = errors.New("tfseg: bad input")
	// ErrLoad marks a SavedModel that could not be brought up: variables
	// that failed to restore or an init op that failed to run. eval.Load
	// returns it too (both load through internal/smload).
	ErrLoad = smload.ErrLoad
	// ErrClosed marks a Run after Close.
	ErrClosed = errors.New("tfseg: model closed")
)

// Option configures Load.
type Option func(*loadOptions)

type loadOptions struct {
	engine     string
	tags       []string
	limits     engine.Limits
	threads    int
	signatures []string
}

// WithSignatures loads only the signatures with these keys (default: every
// signature). Load checks that the engine runs every op they reach, so a
// model whose other signatures need ops the engine lacks loads with the
// ones it can run.
func WithSignatures(keys ...string) Option {
	return func(o *loadOptions) { o.signatures = append([]string{}, keys...) }
}

// WithEngine selects the engine by its registry name: "go" (the default,
// pure Go) or "tensorflow" (real TensorFlow; needs -tags tensorflow).
func WithEngine(name string) Option { return func(o *loadOptions) { o.engine = name } }

// WithTags selects the MetaGraphDef whose tag set equals tags (default
// "serve", as TensorFlow Serving uses).
func WithTags(tags ...string) Option {
	return func(o *loadOptions) { o.tags = append([]string{}, tags...) }
}

// WithLimits bounds what the model may make the engine do (tensor sizes,
// function nesting, graph size); zero fields mean engine.Limits' defaults.
func WithLimits(l engine.Limits) Option { return func(o *loadOptions) { o.limits = l } }

// WithThreads caps the goroutines (Go engine) or threads (TensorFlow) one
// Run uses; 0 means all cores.
func WithThreads(n int) Option { return func(o *loadOptions) { o.threads = n } }

// TensorSpec describes one input or output of a signature.
type TensorSpec struct {
	// Name is the argument name callers use in Run ("inputs", "x").
	Name string
	// DType is the element type.
	DType tfops.DType
	// Shape is the static shape; -1 marks a dimension of any size.
	Shape tfops.Shape
	// Tensor is the graph tensor behind it ("serving_default_x:0").
	Tensor string
	// Default, for an input, is the value Run uses when the input is
	// omitted (nil: the input is required).
	Default *tfops.Tensor
}

// Signature is one callable entry point of a model.
type Signature struct {
	// Key is the signature key ("serving_default").
	Key string
	// Method is the SignatureDef's method name, possibly empty.
	Method string
	// Inputs and Outputs are sorted by name.
	Inputs, Outputs []TensorSpec
	// Missing lists the ops the signature needs that the engine lacks, each
	// with the first place that uses it ("Split (__inference_call_12/split)"),
	// found when the model was loaded; Run on it fails with
	// engine.ErrUnsupportedOp. Nil when the engine runs every op.
	Missing []string
}

// Model is a loaded SavedModel: a session on one engine with the model's
// variables restored and its init op run. Run is safe for concurrent use.
type Model struct {
	dir    string
	engine string
	sess   engine.Session
	sigs   map[string]Signature
	keys   []string
	mu     sync.RWMutex
	closed bool
}

// Load opens the SavedModel in dir and prepares it to Run.
//
// On the Go engine, the MetaGraphDef is read with package savedmodel, a
// session is opened on its GraphDef, the variables are restored the way
// TensorFlow's loader does it (the variables prefix dir/variables/variables
// is fed to the SaverDef's filename tensor and its restore op is run, for
// TF1 "save/restore_all" and for TF2 the traced restore function) and the
// init op (signature "__saved_model_init_op", else collection
// "saved_model_main_op", else "legacy_init_op") is run, with asset paths
// fed. Engines that implement engine.SavedModelLoader (TensorFlow) load
// the model with their own loader.
func Load(dir string, opts ...Option) (*Model, error) {
	o := loadOptions{engine: engine.Default, tags: []string{savedmodel.ServeTag}}
	for _, opt := range opts {
		opt(&o)
	}
	if len(o.tags) == 0 {
		o.tags = []string{savedmodel.ServeTag}
	}
	eng, err := engine.Get(o.engine)
	if err != nil {
		return nil, err
	}
	sm, err := savedmodel.Read(dir, savedmodel.ReadOptions{Tags: o.tags})
	if err != nil {
		return nil, err
	}
	m := &Model{dir: dir, engine: o.engine, sigs: map[string]Signature{}}
	for key, s := range sm.Signatures() {
		if strings.HasPrefix(key, "__saved_model") {
			continue // the init op's signature is not callable
		}
		m.sigs[key] = convertSignature(s)
		m.keys = append(m.keys, key)
	}
	sort.Strings(m.keys)
	if o.signatures != nil {
		keep := map[string]Signature{}
		for _, key := range o.signatures {
			s, err := m.Signature(key)
			if err != nil {
				return nil, err
			}
			keep[key] = s
		}
		m.sigs, m.keys = keep, append([]string{}, o.signatures...)
		sort.Strings(m.keys)
	}
	if ol, ok := eng.(engine.OpLister); ok {
		if err := m.checkOps(sm, ol, o.signatures != nil); err != nil {
			return nil, err
		}
	}
	m.sess, err = smload.Open(sm, eng, smload.Options{Tags: o.tags, Session: engine.SessionOptions{Limits: o.limits, Threads: o.threads}})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func convertSignature(s savedmodel.Signature) Signature {
	specs := func(m map[string]savedmodel.TensorInfo) []TensorSpec {
		out := make([]TensorSpec, 0, len(m))
		for name, ti := range m {
			out = append(out, TensorSpec{Name: name, DType: ti.DType, Shape: ti.Shape, Tensor: ti.Name})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
		return out
	}
	sig := Signature{Key: s.Key, Method: s.MethodName, Inputs: specs(s.Inputs), Outputs: specs(s.Outputs)}
	for i := range sig.Inputs {
		sig.Inputs[i].Default = s.Defaults[sig.Inputs[i].Name]
	}
	return sig
}

// checkOps finds, before anything runs, the ops the engine lacks that
// restoring the variables, running the init op or calling each signature
// reaches. Load fails (engine.ErrUnsupportedOp, naming each op and where it
// is used) when loading needs one, or a signature the caller asked for with
// WithSignatures does; any other signature that needs one keeps the list in
// Signature.Missing and its Run fails with that error before reading inputs.
func (m *Model) checkOps(sm *savedmodel.SavedModel, ol engine.OpLister, requested bool) error {
	has := func(op string) bool { ok, _ := ol.OpInfo(op); return ok }
	stateful := func(op string) bool { _, st := ol.OpInfo(op); return st }
	load, reach, err := sm.Reaches(m.keys, stateful)
	if err != nil {
		return err
	}
	if miss := load.Missing(has); len(miss) > 0 {
		return fmt.Errorf("%w: %s: the %s engine lacks ops that restoring the variables or the init op needs: %s",
			engine.ErrUnsupportedOp, sm.Dir, m.engine, strings.Join(miss, ", "))
	}
	var problems []string
	for _, key := range m.keys {
		miss := reach[key].Missing(has)
		if len(miss) == 0 {
			continue
		}
		sig := m.sigs[key]
		sig.Missing = miss
		m.sigs[key] = sig
		problems = append(problems, fmt.Sprintf("signature %q needs %s", key, strings.Join(miss, ", ")))
	}
	if requested && len(problems) > 0 {
		return fmt.Errorf("%w: %s: the %s engine lacks ops: %s", engine.ErrUnsupportedOp, sm.Dir, m.engine, strings.Join(problems, "; "))
	}
	return nil
}

// Notes says what the engine changed to load the model (the tensorflow
// engine rewrites what an older libtensorflow cannot read, see
// engine/tfengine), one line per kind of change; nil when nothing was.
func (m *Model) Notes() []string {
	if n, ok := m.sess.(engine.LoadNoter); ok {
		return n.LoadNotes()
	}
	return nil
}

// Dir returns the directory the model was loaded from.
func (m *Model) Dir() string { return m.dir }

// Engine returns the name of the engine the model runs on.
func (m *Model) Engine() string { return m.engine }

// Signatures returns the model's signatures sorted by key (the init op's
// internal signature excluded).
func (m *Model) Signatures() []Signature {
	out := make([]Signature, len(m.keys))
	for i, k := range m.keys {
		out[i] = m.sigs[k]
	}
	return out
}

// Signature returns the signature with the given key.
func (m *Model) Signature(key string) (Signature, error) {
	s, ok := m.sigs[key]
	if !ok {
		return Signature{}, fmt.Errorf("%w %q in %s; the model has: %s", ErrSignature, key, m.dir, strings.Join(m.keys, ", "))
	}
	return s, nil
}

// Run calls the signature key with inputs keyed by input name and returns
// every output of the signature keyed by output name. Every input must be
// given, with the signature's dtype and a shape compatible with its shape.
func (m *Model) Run(ctx context.Context, key string, inputs map[string]*tfops.Tensor) (map[string]*tfops.Tensor, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	sig, err := m.Signature(key)
	if err != nil {
		return nil, err
	}
	if len(sig.Missing) > 0 {
		return nil, fmt.Errorf("%w: %s: signature %q needs ops the %s engine lacks: %s",
			engine.ErrUnsupportedOp, filepath.Base(m.dir), key, m.engine, strings.Join(sig.Missing, ", "))
	}
	feeds := make(map[string]*tfops.Tensor, len(inputs))
	byName := make(map[string]TensorSpec, len(sig.Inputs))
	for _, in := range sig.Inputs {
		byName[in.Name] = in
	}
	for name, t := range inputs {
		spec, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("%w: signature %q has no input %q; its inputs: %s", ErrInput, key, name, specList(sig.Inputs))
		}
		if t == nil {
			return nil, fmt.Errorf("%w: signature %q: input %q is nil", ErrInput, key, name)
		}
		if t.DType() != spec.DType {
			return nil, fmt.Errorf("%w: signature %q: input %q must be %v, got %v", ErrInput, key, name, spec.DType, t.DType())
		}
		if !spec.Shape.CompatibleWith(t.StaticShape()) {
			return nil, fmt.Errorf("%w: signature %q: input %q must have shape %v, got %v", ErrInput, key, name, spec.Shape, t.StaticShape())
		}
		if spec.Tensor == "" {
			return nil, fmt.Errorf("%w: signature %q: input %q is a sparse or composite tensor, which Run does not feed", ErrInput, key, name)
		}
		feeds[spec.Tensor] = t
	}
	var missing []string
	for _, in := range sig.Inputs {
		if _, ok := inputs[in.Name]; !ok {
			if in.Default != nil && in.Tensor != "" {
				feeds[in.Tensor] = in.Default
				continue
			}
			missing = append(missing, in.Name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: signature %q: missing input(s) %s; its inputs: %s", ErrInput, key, strings.Join(missing, ", "), specList(sig.Inputs))
	}
	fetches := make([]string, 0, len(sig.Outputs))
	for _, out := range sig.Outputs {
		if out.Tensor == "" {
			return nil, fmt.Errorf("%w: signature %q: output %q is a sparse or composite tensor, which Run does not fetch", ErrSignature, key, out.Name)
		}
		fetches = append(fetches, out.Tensor)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	res, err := m.sess.Run(ctx, feeds, fetches, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: signature %q: %w", filepath.Base(m.dir), key, err)
	}
	out := make(map[string]*tfops.Tensor, len(res))
	for i, spec := range sig.Outputs {
		out[spec.Name] = res[i]
	}
	return out, nil
}

func specList(specs []TensorSpec) string {
	parts := make([]string, len(specs))
	for i, s := range specs {
		parts[i] = fmt.Sprintf("%s %v%v", s.Name, s.DType, s.Shape)
	}
	return strings.Join(parts, ", ")
}

// Close releases the model's session and variables. Run calls in flight
// finish first; later calls fail with ErrClosed.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	return m.sess.Close()
}
