package tfseg

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/tfops"
)

// Params are the parameters of a loss or metric by name (see
// graphs.Spec.Params for each one's kind and default). A value is either
// typed, by the parameter's kind:
//
//   - float: float64, float32 or an integer type;
//   - int: int, int32 or int64;
//   - bool: bool;
//   - word: string ("binary", "auto");
//   - ints: []int, []int32 or []int64;
//   - floats: []float64, []float32 or []int;
//
// or its string form as on the command line ("0.25", "true", "1,2,3",
// "none"), exactly as graphs.Config holds it. A nil value stands for
// "none" where the parameter accepts it.
type Params map[string]any

// Config returns the parameters in their string form, checked against
// the parameters of spec: an unknown name or a value of a type the
// parameter does not take is a graphs.ErrParam error naming the parameter
// and the types allowed.
func (p Params) Config(spec *graphs.Spec) (graphs.Config, error) {
	cfg := make(graphs.Config, len(p))
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		par, ok := spec.Param(k)
		if !ok {
			valid := strings.Join(spec.ParamNames(), ", ")
			if valid == "" {
				valid = "none"
			}
			return nil, fmt.Errorf("%w: %s has no parameter %q; valid parameters: %s", graphs.ErrParam, spec.Name, k, valid)
		}
		s, err := paramString(par, p[k])
		if err != nil {
			return nil, fmt.Errorf("%w: %s: parameter %s is %T (%v); want %w", graphs.ErrParam, spec.Name, k, p[k], p[k], err)
		}
		cfg[k] = s
	}
	return cfg, nil
}

// paramString formats v as the string form of parameter par, or returns
// what par takes when v's type is not one of them.
func paramString(par graphs.Param, v any) (string, error) {
	floats := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	join := func(n int, f func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = f(i)
		}
		return strings.Join(parts, ",")
	}
	words := ""
	if len(par.Choices) > 0 {
		words = " or one of " + strings.Join(par.Choices, ", ")
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case nil:
		for _, c := range par.Choices {
			if c == "none" {
				return c, nil
			}
		}
	}
	switch par.Kind {
	case graphs.KindFloat:
		switch x := v.(type) {
		case float64:
			return floats(x), nil
		case float32:
			return floats(float64(x)), nil
		}
		if s, ok := intString(v); ok {
			return s, nil
		}
		return "", fmt.Errorf("a number (float64, float32, int) or its string form%s", words)
	case graphs.KindInt:
		if s, ok := intString(v); ok {
			return s, nil
		}
		return "", fmt.Errorf("an integer (int, int32, int64) or its string form%s", words)
	case graphs.KindBool:
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b), nil
		}
		return "", fmt.Errorf("a bool or \"true\"/\"false\"")
	case graphs.KindWord:
		return "", fmt.Errorf("a string, one of %s", strings.Join(par.Choices, ", "))
	case graphs.KindInts:
		switch x := v.(type) {
		case []int:
			return join(len(x), func(i int) string { return strconv.Itoa(x[i]) }), nil
		case []int32:
			return join(len(x), func(i int) string { return strconv.Itoa(int(x[i])) }), nil
		case []int64:
			return join(len(x), func(i int) string { return strconv.FormatInt(x[i], 10) }), nil
		}
		return "", fmt.Errorf("a list of integers ([]int, []int32, []int64) or its string form (\"1,2,3\")%s", words)
	case graphs.KindFloats:
		switch x := v.(type) {
		case []float64:
			return join(len(x), func(i int) string { return floats(x[i]) }), nil
		case []float32:
			return join(len(x), func(i int) string { return floats(float64(x[i])) }), nil
		case []int:
			return join(len(x), func(i int) string { return strconv.Itoa(x[i]) }), nil
		}
		return "", fmt.Errorf("a list of numbers ([]float64, []float32, []int) or its string form (\"1,2,0.5\")%s", words)
	}
	return "", fmt.Errorf("a string (parameter kind %s)", par.Kind)
}

// intString formats an int, int32 or int64.
func intString(v any) (string, bool) {
	switch x := v.(type) {
	case int:
		return strconv.Itoa(x), true
	case int32:
		return strconv.Itoa(int(x)), true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	return "", false
}

// maxCachedShapes bounds the sessions a Loss keeps: one per distinct set
// of input dtypes and shapes. Beyond it, new shapes run on a session built
// for the call and closed after it.
const maxCachedShapes = 16

// Loss is a compiled loss or metric: its name and parameters checked once,
// its graph built and its session opened once per set of input dtypes and
// shapes (the first Run with new shapes builds them; later Runs with the
// same shapes only run). Run, Value and PerImage are safe for concurrent
// use; Close releases the sessions.
type Loss struct {
	spec *graphs.Spec
	cfg  graphs.Config
	eng  engine.Engine
	so   engine.SessionOptions

	mu        sync.RWMutex
	closed    bool
	cache     map[string]*lossGraph
	batchAxis map[string]bool // PerImage: does the result have a batch axis, per input key
}

// lossGraph is a built graph with its open session.
type lossGraph struct {
	g    *graphs.Graph
	sess engine.Session
}

// NewLoss compiles the loss or metric registered as name (see graphs.Names)
// with the given parameters (nil: every default). Options pick the engine
// (WithEngine; default "go", the pure-Go engine, which the root package
// registers), its limits (WithLimits) and threads (WithThreads); WithTags
// does not apply. An unknown name, engine or parameter, or a parameter of
// the wrong type, is an error listing what is allowed.
func NewLoss(name string, params Params, opts ...Option) (*Loss, error) {
	spec, err := graphs.Lookup(name)
	if err != nil {
		return nil, err
	}
	cfg, err := params.Config(spec)
	if err != nil {
		return nil, err
	}
	if _, err := spec.Parse(cfg); err != nil {
		return nil, err
	}
	o := loadOptions{engine: engine.Default}
	for _, opt := range opts {
		opt(&o)
	}
	eng, err := engine.Get(o.engine)
	if err != nil {
		return nil, err
	}
	return &Loss{spec: spec, cfg: cfg, eng: eng,
		so:    engine.SessionOptions{Limits: o.limits, Threads: o.threads},
		cache: map[string]*lossGraph{}, batchAxis: map[string]bool{}}, nil
}

// ParseLoss compiles a loss or metric written with its parameters as the
// command line and eval write it, "NAME" or "NAME:key=value,...", for
// example "focal:gamma=2,alpha=0.25" (graphs.ParseLoss: a list value keeps
// its commas); then as NewLoss with those parameters in their string form.
func ParseLoss(s string, opts ...Option) (*Loss, error) {
	name, cfg, err := graphs.ParseLoss(s)
	if err != nil {
		return nil, err
	}
	params := make(Params, len(cfg))
	for k, v := range cfg {
		params[k] = v
	}
	return NewLoss(name, params, opts...)
}

// Name returns the registry name of the loss or metric.
func (l *Loss) Name() string { return l.spec.Name }

// Spec returns the loss's description: its kind, inputs and parameters.
func (l *Loss) Spec() *graphs.Spec { return l.spec }

// Config returns the parameters given to NewLoss in their string form.
func (l *Loss) Config() graphs.Config {
	c := make(graphs.Config, len(l.cfg))
	for k, v := range l.cfg {
		c[k] = v
	}
	return c
}

// Engine returns the name of the engine the loss runs on.
func (l *Loss) Engine() string { return l.eng.Name() }

// Run computes the loss or metric on inputs keyed by input name
// (graphs.InputTrue, graphs.InputPred and, for some losses,
// graphs.InputWeights or the optional graphs.InputSampleWeight; see
// Spec().Inputs). y_pred is float32 or float64 and the result has its
// dtype; y_true may also be bool, uint8, int32 or int64 (a mask or class
// indices). A nil, unknown or missing input, a wrong dtype or rank or
// mismatched shapes are graphs.ErrInput errors naming the input and what
// is allowed; nothing runs then.
func (l *Loss) Run(ctx context.Context, inputs map[string]*tfops.Tensor) (*tfops.Tensor, error) {
	var buf [128]byte
	key, err := l.key(buf[:0], inputs)
	if err != nil {
		return nil, err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return nil, fmt.Errorf("%s: %w", l.spec.Name, ErrClosed)
	}
	lg := l.cache[string(key)]
	if lg != nil {
		defer l.mu.RUnlock()
		return l.run(ctx, lg, inputs)
	}
	l.mu.RUnlock()
	lg, cached, err := l.graphFor(string(key), inputs)
	if err != nil {
		return nil, err
	}
	if !cached {
		defer lg.sess.Close()
		return l.run(ctx, lg, inputs)
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return nil, fmt.Errorf("%s: %w", l.spec.Name, ErrClosed)
	}
	return l.run(ctx, lg, inputs)
}

// Value runs the loss on y_true and y_pred alone and returns its value as
// a float64; a result that is not a single number (reduction=none,
// average=none) is an error.
func (l *Loss) Value(ctx context.Context, yTrue, yPred *tfops.Tensor) (float64, error) {
	out, err := l.Run(ctx, map[string]*tfops.Tensor{graphs.InputTrue: yTrue, graphs.InputPred: yPred})
	if err != nil {
		return 0, err
	}
	if out.NumElements() != 1 {
		return 0, fmt.Errorf("%w: %s: the result has shape %v, not a single value (see its reduction or average parameter)", graphs.ErrInput, l.spec.Name, out.Shape())
	}
	switch v := out.Data().(type) {
	case []float32:
		return float64(v[0]), nil
	case []float64:
		return v[0], nil
	}
	return 0, fmt.Errorf("%s: result of dtype %v", l.spec.Name, out.DType())
}

// PerImage computes the loss or metric on each image of the batch alone:
// entry n of the result is what Run returns for a batch holding image n of
// every input (a batch of one), without that batch's own axis when the
// result has one. So a loss or metric with a single value gives shape (N),
// dice_image with reduction=none (one value per image) gives (N) as well,
// and iou with average=none gives (N, C). Every input whose first axis has
// y_pred's batch size N is split along it; others (a sample_weight that
// broadcasts) are fed whole. This is the per-image value of every loss and
// metric: the batch metrics pool their counts over the images and the
// per-image losses average over them, while here each image stands alone.
// Errors are Run's.
func (l *Loss) PerImage(ctx context.Context, inputs map[string]*tfops.Tensor) (*tfops.Tensor, error) {
	var buf [128]byte
	key, err := l.key(buf[:0], inputs)
	if err != nil {
		return nil, err
	}
	p := inputs[graphs.InputPred]
	if p.Rank() == 0 {
		return nil, fmt.Errorf("%w: %s: PerImage needs y_pred with a batch axis, got a scalar", graphs.ErrInput, l.spec.Name)
	}
	n := p.Shape()[0]
	if n == 0 {
		return nil, fmt.Errorf("%w: %s: PerImage on an empty batch (y_pred shape %v)", graphs.ErrInput, l.spec.Name, p.Shape())
	}
	batchAxis, err := l.hasBatchAxis(string(key), inputs, n)
	if err != nil {
		return nil, err
	}
	outs := make([]*tfops.Tensor, n)
	one := make(map[string]*tfops.Tensor, len(inputs))
	for i := 0; i < n; i++ {
		for k, t := range inputs {
			one[k] = t
			if t.Rank() > 0 && t.Shape()[0] == n {
				if one[k], err = t.Image(i); err != nil {
					return nil, err
				}
			}
		}
		out, err := l.Run(ctx, one)
		if err != nil {
			return nil, fmt.Errorf("image %d: %w", i, err)
		}
		if batchAxis && out.Rank() > 0 && out.Shape()[0] == 1 {
			if out, err = out.Reshaped(out.Shape()[1:]...); err != nil {
				return nil, err
			}
		}
		outs[i] = out
	}
	return tfops.Stack(outs)
}

// hasBatchAxis reports whether the result for inputs (batch size n) has a
// batch axis: the graph built with the batch size unknown has a result
// whose first dimension is unknown. The answer is kept per input key.
func (l *Loss) hasBatchAxis(key string, inputs map[string]*tfops.Tensor, n int) (bool, error) {
	l.mu.RLock()
	v, ok := l.batchAxis[key]
	l.mu.RUnlock()
	if ok {
		return v, nil
	}
	specs := make(map[string]graphs.InputSpec, len(inputs))
	for k, t := range inputs {
		sh := t.Shape()
		if len(sh) > 0 && sh[0] == n {
			sh = append([]int{-1}, sh[1:]...)
		}
		specs[k] = graphs.InputSpec{DType: t.DType(), Shape: tfops.ShapeOf(sh)}
	}
	g, err := graphs.BuildFor(l.spec.Name, l.cfg, specs)
	if err != nil {
		return false, err
	}
	v = g.OutputShape.RankKnown() && g.OutputShape.Rank() > 0 && g.OutputShape.Dim(0) < 0
	l.mu.Lock()
	if l.batchAxis != nil && len(l.batchAxis) < maxCachedShapes {
		l.batchAxis[key] = v
	}
	l.mu.Unlock()
	return v, nil
}

// Close releases the loss's sessions. Runs in flight finish first; later
// calls fail with ErrClosed.
func (l *Loss) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var first error
	for _, lg := range l.cache {
		if err := lg.sess.Close(); err != nil && first == nil {
			first = err
		}
	}
	l.cache, l.batchAxis = nil, nil
	return first
}

// key checks inputs' names and nil-ness and appends the cache key: every
// input's dtype and shape, in the spec's input order.
func (l *Loss) key(b []byte, inputs map[string]*tfops.Tensor) ([]byte, error) {
	seen := 0
	for i, in := range l.spec.Inputs {
		t, ok := inputs[in]
		if !ok {
			if !l.spec.IsOptional(in) {
				return nil, fmt.Errorf("%w: %s needs input %s (inputs: %s)", graphs.ErrInput, l.spec.Name, in, strings.Join(l.spec.Inputs, ", "))
			}
			continue
		}
		if t == nil {
			return nil, fmt.Errorf("%w: %s: input %s is nil", graphs.ErrInput, l.spec.Name, in)
		}
		seen++
		b = append(b, byte(i), byte(t.DType()))
		for _, d := range t.Shape() {
			b = strconv.AppendInt(b, int64(d), 10)
			b = append(b, ',')
		}
		b = append(b, ';')
	}
	if seen != len(inputs) {
		names := make([]string, 0, len(inputs))
		for k := range inputs {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if !contains(l.spec.Inputs, k) {
				return nil, fmt.Errorf("%w: %s takes no input %q; its inputs: %s", graphs.ErrInput, l.spec.Name, k, strings.Join(l.spec.Inputs, ", "))
			}
		}
	}
	return b, nil
}

// graphFor builds the graph and session for the inputs' dtypes and shapes
// and caches them under key while the cache has room (cached reports it).
func (l *Loss) graphFor(key string, inputs map[string]*tfops.Tensor) (lg *lossGraph, cached bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, false, fmt.Errorf("%s: %w", l.spec.Name, ErrClosed)
	}
	if lg := l.cache[key]; lg != nil {
		return lg, true, nil
	}
	lg, err = openLoss(l.eng, l.so, l.spec.Name, l.cfg, inputs)
	if err != nil {
		return nil, false, err
	}
	if len(l.cache) >= maxCachedShapes {
		return lg, false, nil
	}
	l.cache[key] = lg
	return lg, true, nil
}

// openLoss builds the graph of name for the inputs' dtypes and shapes and
// opens a session on it.
func openLoss(eng engine.Engine, so engine.SessionOptions, name string, cfg graphs.Config, inputs map[string]*tfops.Tensor) (*lossGraph, error) {
	specs := make(map[string]graphs.InputSpec, len(inputs))
	for k, t := range inputs {
		if t == nil {
			return nil, fmt.Errorf("%w: %s: input %s is nil", graphs.ErrInput, name, k)
		}
		specs[k] = graphs.InputSpec{DType: t.DType(), Shape: t.StaticShape()}
	}
	g, err := graphs.BuildFor(name, cfg, specs)
	if err != nil {
		return nil, err
	}
	sess, err := eng.NewSession(g.GraphDef, so)
	if err != nil {
		return nil, fmt.Errorf("%s on engine %s: %w", name, eng.Name(), err)
	}
	return &lossGraph{g: g, sess: sess}, nil
}

// run feeds inputs to lg's session and fetches the result.
func (l *Loss) run(ctx context.Context, lg *lossGraph, inputs map[string]*tfops.Tensor) (*tfops.Tensor, error) {
	return runLoss(ctx, l.eng, l.spec.Name, lg, inputs)
}

func runLoss(ctx context.Context, eng engine.Engine, name string, lg *lossGraph, inputs map[string]*tfops.Tensor) (*tfops.Tensor, error) {
	feeds := make(map[string]*tfops.Tensor, len(inputs))
	for k, t := range inputs {
		feeds[lg.g.Inputs[k]] = t
	}
	out, err := lg.sess.Run(ctx, feeds, []string{lg.g.Output}, nil)
	if err != nil {
		return nil, fmt.Errorf("%s on engine %s: %w", name, eng.Name(), err)
	}
	return out[0], nil
}

// Eval is the one-shot form of NewLoss and Run: it builds the loss or
// metric name for the shapes of inputs, runs it on eng (nil: the default
// engine, "go") and closes the session. Inputs are checked as Run checks
// them. To run a loss more than once, compile it with NewLoss: Eval
// builds the graph and opens a session on every call.
func Eval(ctx context.Context, eng engine.Engine, name string, cfg graphs.Config, inputs map[string]*tfops.Tensor) (*tfops.Tensor, error) {
	if eng == nil {
		var err error
		if eng, err = engine.Get(engine.Default); err != nil {
			return nil, err
		}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	lg, err := openLoss(eng, engine.SessionOptions{}, name, cfg, inputs)
	if err != nil {
		return nil, err
	}
	defer lg.sess.Close()
	return runLoss(ctx, eng, name, lg, inputs)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
