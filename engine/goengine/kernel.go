package goengine

import (
	"context"
	"fmt"
	"sort"
	"sync"

	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/tfops"
)

// Kernel computes one node: it reads c.Inputs and the node's attrs and
// returns the node's outputs. Kernels must not modify their inputs (outputs
// may alias them, as Identity and Reshape do, or be views into them) and
// must allocate large outputs through c.Alloc or c.AllocUninit so the
// session's limits apply. The executor recycles an intermediate's buffer
// once no live value refers to it, so a kernel that keeps an input beyond
// the run (in State, or inside a non-tensor output) must be registered
// Stateful or pin it (the TensorList ops' Context.keep); function-calling
// ops (a func attr) are treated so already.
type Kernel func(c *Context) ([]*tfops.Tensor, error)

// OpDef describes an op to the Go engine.
type OpDef struct {
	// Kernel runs the op.
	Kernel Kernel
	// OutputArgs names the op's output args in order, as TensorFlow's OpDef
	// does; FunctionDef bodies refer to outputs as "node:arg:index". Nil
	// means a single output arg whose index maps straight through.
	OutputArgs []OutputArg
	// Stateful ops (variable assignment, optimizers) run inside a function
	// even when no output of theirs is used, as in TensorFlow.
	Stateful bool
}

// OutputArg is one output arg of an op. A list arg has its length in the
// int attr NumberAttr or the type-list attr TypeListAttr.
type OutputArg struct {
	// Name is the arg's name in the OpDef ("output", "y").
	Name         string
	NumberAttr   string
	TypeListAttr string
}

var (
	opsMu sync.RWMutex
	ops   = map[string]OpDef{}
)

// RegisterOp makes op available to the Go engine. It panics when op is
// registered twice: that is a programming error.
func RegisterOp(op string, def OpDef) {
	opsMu.Lock()
	defer opsMu.Unlock()
	if _, dup := ops[op]; dup {
		panic("goengine: op registered twice: " + op)
	}
	ops[op] = def
}

// Register is RegisterOp for a plain single-output-arg, stateless op.
func Register(op string, k Kernel) { RegisterOp(op, OpDef{Kernel: k}) }

// LookupOp returns the definition of op.
func LookupOp(op string) (OpDef, bool) {
	opsMu.RLock()
	defer opsMu.RUnlock()
	d, ok := ops[op]
	return d, ok
}

// SupportedOps lists every op the Go engine runs, sorted.
func SupportedOps() []string {
	opsMu.RLock()
	defer opsMu.RUnlock()
	out := make([]string, 0, len(ops))
	for k := range ops {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Context is what a kernel sees of the run.
type Context struct {
	// Ctx is the run's context; long kernels may check it.
	Ctx context.Context
	// Node is the NodeDef being computed.
	Node *nodepb.NodeDef
	// Inputs are the node's data inputs, in order.
	Inputs []*tfops.Tensor
	// State holds the session's resources (variables) and function library.
	State *State
	// depth is the current function nesting depth.
	depth int
	// arena hands out and recycles AllocUninit buffers (nil: no reuse).
	arena *runArena
}

// Errorf returns an error wrapping engine.ErrKernel and, through %w in
// format, the cause; the executor adds the node name and op.
func (c *Context) Errorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{engine.ErrKernel}, args...)...)
}

// Alloc returns a zeroed tensor, refusing allocations above the session's
// MaxTensorBytes limit.
func (c *Context) Alloc(d tfops.DType, dims ...int) (*tfops.Tensor, error) {
	if err := c.checkAlloc(d, dims); err != nil {
		return nil, err
	}
	return tfops.Zeros(d, dims...)
}

// checkAlloc applies the session's MaxTensorBytes limit.
func (c *Context) checkAlloc(d tfops.DType, dims []int) error {
	if err := tfops.CheckAlloc(d, dims, c.State.limits.MaxTensorBytes); err != nil {
		return fmt.Errorf("%w: MaxTensorBytes: %w", engine.ErrLimit, err)
	}
	return nil
}

// Threads is the number of goroutines a kernel may use.
func (c *Context) Threads() int { return c.State.threads }

// Attr returns the named attr or nil.
func (c *Context) Attr(name string) *attrpb.AttrValue { return c.Node.GetAttr()[name] }

// attrOf reads attr name as the AttrValue oneof wrapper W (for example
// *attrpb.AttrValue_I). present is false, with no error, when the node has
// no such attr; an attr of another kind is an error naming it and kind.
func attrOf[W any](c *Context, name, kind string) (w W, present bool, err error) {
	a := c.Attr(name)
	if a == nil {
		return w, false, nil
	}
	w, ok := a.GetValue().(W)
	if !ok {
		return w, true, c.Errorf("attr %q is not %s", name, kind)
	}
	return w, true, nil
}

// required reads a required attr: absent is an error naming it.
func required[W, T any](c *Context, name, kind string, get func(W) T) (T, error) {
	w, present, err := attrOf[W](c, name, kind)
	if !present && err == nil {
		err = c.Errorf("missing %s attr %q", kind, name)
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return get(w), nil
}

// optional reads an optional attr: def when absent.
func optional[W, T any](c *Context, name, kind string, def T, get func(W) T) (T, error) {
	w, present, err := attrOf[W](c, name, kind)
	if err != nil || !present {
		return def, err
	}
	return get(w), nil
}

// The accessors below follow one naming rule: AttrX(name) for an attr the
// op requires (absent is an error), AttrXOr(name, def) for one with a
// default, and the list and shape accessors return TensorFlow's default
// for an absent attr (an empty list, an unknown shape). Every one fails,
// naming the attr, when the attr has another kind.

// AttrType returns a required type attr ("T", "dtype").
func (c *Context) AttrType(name string) (tfops.DType, error) {
	return required(c, name, "a type", func(v *attrpb.AttrValue_Type) tfops.DType { return tfops.DType(v.Type) })
}

// AttrInt returns a required int attr.
func (c *Context) AttrInt(name string) (int64, error) {
	return required(c, name, "an int", func(v *attrpb.AttrValue_I) int64 { return v.I })
}

// AttrIntOr returns an int attr, or def when absent.
func (c *Context) AttrIntOr(name string, def int64) (int64, error) {
	return optional(c, name, "an int", def, func(v *attrpb.AttrValue_I) int64 { return v.I })
}

// AttrFloat returns a required float attr.
func (c *Context) AttrFloat(name string) (float32, error) {
	return required(c, name, "a float", func(v *attrpb.AttrValue_F) float32 { return v.F })
}

// AttrFloatOr returns a float attr, or def when absent.
func (c *Context) AttrFloatOr(name string, def float32) (float32, error) {
	return optional(c, name, "a float", def, func(v *attrpb.AttrValue_F) float32 { return v.F })
}

// AttrBoolOr returns a bool attr, or def when absent.
func (c *Context) AttrBoolOr(name string, def bool) (bool, error) {
	return optional(c, name, "a bool", def, func(v *attrpb.AttrValue_B) bool { return v.B })
}

// AttrStringOr returns a string attr, or def when absent.
func (c *Context) AttrStringOr(name string, def string) (string, error) {
	return optional(c, name, "a string", def, func(v *attrpb.AttrValue_S) string { return string(v.S) })
}

// AttrInts returns a list(int) attr (nil when absent).
func (c *Context) AttrInts(name string) ([]int64, error) {
	return optional(c, name, "a list", nil, func(v *attrpb.AttrValue_List) []int64 { return v.List.GetI() })
}

// AttrStrings returns a list(string) attr (nil when absent).
func (c *Context) AttrStrings(name string) ([]string, error) {
	return optional(c, name, "a list", nil, func(v *attrpb.AttrValue_List) []string {
		out := make([]string, len(v.List.GetS()))
		for i, b := range v.List.GetS() {
			out[i] = string(b)
		}
		return out
	})
}

// AttrTypes returns a list(type) attr (nil when absent).
func (c *Context) AttrTypes(name string) ([]tfops.DType, error) {
	return optional(c, name, "a list", nil, func(v *attrpb.AttrValue_List) []tfops.DType {
		out := make([]tfops.DType, len(v.List.GetType()))
		for i, t := range v.List.GetType() {
			out[i] = tfops.DType(t)
		}
		return out
	})
}

// AttrShape returns a shape attr (an unknown shape when absent).
func (c *Context) AttrShape(name string) (tfops.Shape, error) {
	return optional(c, name, "a shape", tfops.UnknownShape(), func(v *attrpb.AttrValue_Shape) tfops.Shape { return tfops.ShapeFromProto(v.Shape) })
}

// AttrFunc returns a required func attr.
func (c *Context) AttrFunc(name string) (*attrpb.NameAttrList, error) {
	return required(c, name, "a func", func(v *attrpb.AttrValue_Func) *attrpb.NameAttrList { return v.Func })
}

// CheckInputs returns an error unless the node has exactly n inputs.
func (c *Context) CheckInputs(n int) error {
	if len(c.Inputs) != n {
		return c.Errorf("expects %d inputs, got %d", n, len(c.Inputs))
	}
	return nil
}
