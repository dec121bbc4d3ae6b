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

func (c *Context) missing(name, kind string) error {
	return c.Errorf("missing %s attr %q", kind, name)
}

// AttrType returns a type attr ("T", "dtype").
func (c *Context) AttrType(name string) (tfops.DType, error) {
	a := c.Attr(name)
	if a == nil {
		return 0, c.missing(name, "type")
	}
	v, ok := a.GetValue().(*attrpb.AttrValue_Type)
	if !ok {
		return 0, c.Errorf("attr %q is not a type", name)
	}
	return tfops.DType(v.Type), nil
}

// AttrInt returns an int attr.
func (c *Context) AttrInt(name string) (int64, error) {
	a := c.Attr(name)
	if a == nil {
		return 0, c.missing(name, "int")
	}
	v, ok := a.GetValue().(*attrpb.AttrValue_I)
	if !ok {
		return 0, c.Errorf("attr %q is not an int", name)
	}
	return v.I, nil
}

// AttrIntOr returns an int attr, or def when absent.
func (c *Context) AttrIntOr(name string, def int64) (int64, error) {
	if c.Attr(name) == nil {
		return def, nil
	}
	return c.AttrInt(name)
}

// AttrFloat returns a float attr.
func (c *Context) AttrFloat(name string) (float32, error) {
	a := c.Attr(name)
	if a == nil {
		return 0, c.missing(name, "float")
	}
	v, ok := a.GetValue().(*attrpb.AttrValue_F)
	if !ok {
		return 0, c.Errorf("attr %q is not a float", name)
	}
	return v.F, nil
}

// AttrFloatOr returns a float attr, or def when absent.
func (c *Context) AttrFloatOr(name string, def float32) (float32, error) {
	if c.Attr(name) == nil {
		return def, nil
	}
	return c.AttrFloat(name)
}

// AttrBool returns a bool attr, or def when absent.
func (c *Context) AttrBool(name string, def bool) (bool, error) {
	a := c.Attr(name)
	if a == nil {
		return def, nil
	}
	v, ok := a.GetValue().(*attrpb.AttrValue_B)
	if !ok {
		return false, c.Errorf("attr %q is not a bool", name)
	}
	return v.B, nil
}

// AttrString returns a string attr, or def when absent.
func (c *Context) AttrString(name string, def string) (string, error) {
	a := c.Attr(name)
	if a == nil {
		return def, nil
	}
	v, ok := a.GetValue().(*attrpb.AttrValue_S)
	if !ok {
		return "", c.Errorf("attr %q is not a string", name)
	}
	return string(v.S), nil
}

// AttrInts returns a list(int) attr (nil when absent).
func (c *Context) AttrInts(name string) ([]int64, error) {
	a := c.Attr(name)
	if a == nil {
		return nil, nil
	}
	v, ok := a.GetValue().(*attrpb.AttrValue_List)
	if !ok {
		return nil, c.Errorf("attr %q is not a list", name)
	}
	return v.List.GetI(), nil
}

// AttrTypes returns a list(type) attr (nil when absent).
func (c *Context) AttrTypes(name string) ([]tfops.DType, error) {
	a := c.Attr(name)
	if a == nil {
		return nil, nil
	}
	v, ok := a.GetValue().(*attrpb.AttrValue_List)
	if !ok {
		return nil, c.Errorf("attr %q is not a list", name)
	}
	out := make([]tfops.DType, len(v.List.GetType()))
	for i, t := range v.List.GetType() {
		out[i] = tfops.DType(t)
	}
	return out, nil
}

// AttrShape returns a shape attr (unknown shape when absent).
func (c *Context) AttrShape(name string) (tfops.Shape, error) {
	a := c.Attr(name)
	if a == nil {
		return tfops.UnknownShape(), nil
	}
	v, ok := a.GetValue().(*attrpb.AttrValue_Shape)
	if !ok {
		return tfops.Shape{}, c.Errorf("attr %q is not a shape", name)
	}
	return tfops.ShapeFromProto(v.Shape), nil
}

// AttrFunc returns a func attr.
func (c *Context) AttrFunc(name string) (*attrpb.NameAttrList, error) {
	a := c.Attr(name)
	if a == nil {
		return nil, c.missing(name, "func")
	}
	v, ok := a.GetValue().(*attrpb.AttrValue_Func)
	if !ok {
		return nil, c.Errorf("attr %q is not a func", name)
	}
	return v.Func, nil
}

// CheckInputs returns an error unless the node has exactly n inputs.
func (c *Context) CheckInputs(n int) error {
	if len(c.Inputs) != n {
		return c.Errorf("expects %d inputs, got %d", n, len(c.Inputs))
	}
	return nil
}
