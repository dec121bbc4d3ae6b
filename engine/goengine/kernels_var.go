package goengine

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/savedmodel"
	"github.com/tfseg/tfseg/tfops"
)

// Kernels of variables and checkpoints.
//
// Resource variables (TensorFlow 2): VarHandleOp outputs a DT_RESOURCE scalar
// whose one element is a *resourceHandle naming a *variable kept in the
// session's State; ReadVariableOp, AssignVariableOp and friends take that
// handle. Reference variables (TensorFlow 1): VariableV2 outputs the
// variable's current value, and Assign finds the variable through the name
// of the node feeding its "ref" input.
//
// A variable's value is never modified in place: assignments store a fresh
// tensor, and reads return a copy, so a tensor a Run returned never changes
// behind the caller's back and concurrent Runs see whole values. Each
// variable has its own RWMutex.
//
// RestoreV2 and SaveV2 read and write TensorFlow tensor bundles (V2
// checkpoints) through package savedmodel.

func init() {
	RegisterOp("VarHandleOp", OpDef{Kernel: varHandleKernel})
	Register("ReadVariableOp", readVariableKernel)
	RegisterOp("AssignVariableOp", OpDef{Kernel: assignVariableKernel(0), Stateful: true})
	RegisterOp("AssignAddVariableOp", OpDef{Kernel: assignVariableKernel(+1), Stateful: true})
	RegisterOp("AssignSubVariableOp", OpDef{Kernel: assignVariableKernel(-1), Stateful: true})
	Register("VarIsInitializedOp", varIsInitializedKernel)
	RegisterOp("DestroyResourceOp", OpDef{Kernel: destroyResourceKernel, Stateful: true})
	// DisableCopyOnRead switches a variable to TensorFlow's copy-on-write
	// mode; the Go engine never copies on write, so it does nothing.
	RegisterOp("DisableCopyOnRead", OpDef{Kernel: func(c *Context) ([]*tfops.Tensor, error) {
		if _, err := c.variableInput(0); err != nil {
			return nil, err
		}
		return nil, nil
	}, Stateful: true})

	RegisterOp("VariableV2", OpDef{Kernel: variableV2Kernel, Stateful: true})
	RegisterOp("Assign", OpDef{Kernel: refAssignKernel(0), Stateful: true})
	RegisterOp("AssignAdd", OpDef{Kernel: refAssignKernel(+1), Stateful: true})
	RegisterOp("AssignSub", OpDef{Kernel: refAssignKernel(-1), Stateful: true})

	RegisterOp("RestoreV2", OpDef{
		Kernel:     restoreV2Kernel,
		OutputArgs: []OutputArg{{Name: "tensors", TypeListAttr: "dtypes"}},
		Stateful:   true,
	})
	RegisterOp("SaveV2", OpDef{Kernel: saveV2Kernel, Stateful: true})
	RegisterOp("MergeV2Checkpoints", OpDef{Kernel: mergeV2CheckpointsKernel, Stateful: true})
	Register("ShardedFilename", shardedFilenameKernel)
	Register("StringJoin", stringJoinKernel)
	Register("StaticRegexFullMatch", staticRegexFullMatchKernel)
}

// variable is one variable of a session: a dtype, the shape it was declared
// with, and its value (nil until assigned).
type variable struct {
	mu    sync.RWMutex
	key   string
	name  string
	dtype tfops.DType
	shape tfops.Shape
	value *tfops.Tensor
}

// resourceHandle is the element of a DT_RESOURCE tensor produced by
// VarHandleOp.
type resourceHandle struct {
	key string
	v   *variable
}

// String names the variable, for printing handles.
func (h *resourceHandle) String() string { return "resource(" + h.key + ")" }

// uninitializedRef is what VariableV2 outputs before its variable has a
// value: a DT_RESOURCE scalar holding one. Only Assign consumes it; any
// other consumer fails on the dtype, naming resource.
type uninitializedRef struct{ name string }

func (u uninitializedRef) String() string { return "uninitialized variable " + u.name }

// get returns the variable's value, or an error naming it when unset.
func (v *variable) get() (*tfops.Tensor, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.value == nil {
		return nil, fmt.Errorf("variable %q is uninitialized (restore or assign it first)", v.name)
	}
	return v.value.Clone(), nil
}

// set checks t against the variable's dtype and declared shape and stores a
// copy of it.
func (v *variable) set(t *tfops.Tensor) error {
	if t.DType() != v.dtype {
		return fmt.Errorf("variable %q holds %v, cannot assign %v", v.name, v.dtype, t.DType())
	}
	if !v.shape.CompatibleWith(t.StaticShape()) {
		return fmt.Errorf("variable %q has shape %v, cannot assign a tensor of shape %v", v.name, v.shape, t.StaticShape())
	}
	t = t.Clone()
	v.mu.Lock()
	v.value = t
	v.mu.Unlock()
	return nil
}

// update stores old + sign*delta; delta must have the value's shape.
func (v *variable) update(delta *tfops.Tensor, sign int) (*tfops.Tensor, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.value == nil {
		return nil, fmt.Errorf("variable %q is uninitialized (restore or assign it first)", v.name)
	}
	if delta.DType() != v.value.DType() {
		return nil, fmt.Errorf("variable %q holds %v, cannot add %v", v.name, v.value.DType(), delta.DType())
	}
	if !equalDims(delta.Shape(), v.value.Shape()) {
		return nil, fmt.Errorf("variable %q has shape %v, cannot add a tensor of shape %v", v.name, v.value.StaticShape(), delta.StaticShape())
	}
	out := v.value.Clone()
	if err := addScaledInPlace(out, delta, float64(sign)); err != nil {
		return nil, fmt.Errorf("variable %q: %w", v.name, err)
	}
	v.value = out
	return out.Clone(), nil
}

// addScaledInPlace computes dst += scale*src elementwise for the real types.
func addScaledInPlace(dst, src *tfops.Tensor, scale float64) error {
	switch d := dst.Data().(type) {
	case []float32:
		addScaled(d, src.Float32s(), float32(scale))
	case []float64:
		addScaled(d, src.Float64s(), scale)
	case []int32:
		addScaled(d, src.Int32s(), int32(scale))
	case []int64:
		addScaled(d, src.Int64s(), int64(scale))
	default:
		return fmt.Errorf("cannot add %v tensors", dst.DType())
	}
	return nil
}

func addScaled[T convElem](dst, src []T, k T) {
	for i := range dst {
		dst[i] += k * src[i]
	}
}

// variableKey is the State key of a resource variable: container and
// shared_name as TensorFlow's ResourceMgr keys it, the node name when
// shared_name is empty.
func (c *Context) variableKey() (string, error) {
	container, err := c.AttrStringOr("container", "")
	if err != nil {
		return "", err
	}
	shared, err := c.AttrStringOr("shared_name", "")
	if err != nil {
		return "", err
	}
	if shared == "" {
		shared = c.Node.GetName()
	}
	return "var:" + container + "/" + shared, nil
}

func (c *Context) lookupVariable(key, name string, dtype tfops.DType, shape tfops.Shape) (*variable, error) {
	r := c.State.Resource(key, func() any {
		return &variable{key: key, name: name, dtype: dtype, shape: shape}
	})
	v, ok := r.(*variable)
	if !ok {
		return nil, c.Errorf("resource %q is a %T, not a variable", key, r)
	}
	if v.dtype != dtype {
		return nil, c.Errorf("variable %q holds %v; this node declares %v", name, v.dtype, dtype)
	}
	return v, nil
}

func varHandleKernel(c *Context) ([]*tfops.Tensor, error) {
	key, err := c.variableKey()
	if err != nil {
		return nil, err
	}
	dtype, err := c.AttrType("dtype")
	if err != nil {
		return nil, err
	}
	shape, err := c.AttrShape("shape")
	if err != nil {
		return nil, err
	}
	name, _ := c.AttrStringOr("shared_name", "")
	if name == "" {
		name = c.Node.GetName()
	}
	v, err := c.lookupVariable(key, name, dtype, shape)
	if err != nil {
		return nil, err
	}
	return []*tfops.Tensor{resourceTensor(&resourceHandle{key: key, v: v})}, nil
}

func resourceTensor(h any) *tfops.Tensor {
	t, _ := tfops.Zeros(tfops.Resource)
	t.Data().([]any)[0] = h
	return t
}

// variableInput returns the variable behind resource input i.
func (c *Context) variableInput(i int) (*variable, error) {
	if i >= len(c.Inputs) {
		return nil, c.Errorf("expects a resource handle as input %d, has %d inputs", i, len(c.Inputs))
	}
	t := c.Inputs[i]
	if t.DType() != tfops.Resource || t.NumElements() != 1 {
		return nil, c.Errorf("input %d must be a resource handle scalar, got %v%v", i, t.DType(), t.StaticShape())
	}
	h, ok := t.Data().([]any)[0].(*resourceHandle)
	if !ok || h == nil || h.v == nil {
		return nil, c.Errorf("input %d is not a variable handle (%v)", i, t.Data().([]any)[0])
	}
	return h.v, nil
}

// variableArg checks that the node has n inputs, the first a handle of a
// variable whose dtype matches attr dtype, and returns the variable.
func (c *Context) variableArg(n int) (*variable, error) {
	if err := c.CheckInputs(n); err != nil {
		return nil, err
	}
	v, err := c.variableInput(0)
	if err != nil {
		return nil, err
	}
	if err := c.checkVarDType(v, "dtype"); err != nil {
		return nil, err
	}
	return v, nil
}

func (c *Context) checkVarDType(v *variable, attr string) error {
	if c.Attr(attr) == nil {
		return nil
	}
	d, err := c.AttrType(attr)
	if err != nil {
		return err
	}
	if d != v.dtype {
		return c.Errorf("variable %q holds %v; attr %s says %v", v.name, v.dtype, attr, d)
	}
	return nil
}

func readVariableKernel(c *Context) ([]*tfops.Tensor, error) {
	v, err := c.variableInput(0)
	if err != nil {
		return nil, err
	}
	if err := c.checkVarDType(v, "dtype"); err != nil {
		return nil, err
	}
	t, err := v.get()
	if err != nil {
		return nil, c.Errorf("%w", err)
	}
	return []*tfops.Tensor{t}, nil
}

// assignVariableKernel returns AssignVariableOp (sign 0),
// AssignAddVariableOp (+1) or AssignSubVariableOp (-1).
func assignVariableKernel(sign int) Kernel {
	return func(c *Context) ([]*tfops.Tensor, error) {
		v, err := c.variableArg(2)
		if err != nil {
			return nil, err
		}
		if sign == 0 {
			err = v.set(c.Inputs[1])
		} else {
			_, err = v.update(c.Inputs[1], sign)
		}
		if err != nil {
			return nil, c.Errorf("%w", err)
		}
		return nil, nil
	}
}

func varIsInitializedKernel(c *Context) ([]*tfops.Tensor, error) {
	v, err := c.variableInput(0)
	if err != nil {
		return nil, err
	}
	v.mu.RLock()
	ok := v.value != nil
	v.mu.RUnlock()
	return []*tfops.Tensor{tfops.FromScalar(ok)}, nil
}

func destroyResourceKernel(c *Context) ([]*tfops.Tensor, error) {
	if len(c.Inputs) != 1 || c.Inputs[0].DType() != tfops.Resource || c.Inputs[0].NumElements() != 1 {
		return nil, c.Errorf("expects one resource handle input")
	}
	h, ok := c.Inputs[0].Data().([]any)[0].(*resourceHandle)
	if !ok {
		return nil, c.Errorf("input is not a resource handle")
	}
	ignore, err := c.AttrBoolOr("ignore_lookup_error", true)
	if err != nil {
		return nil, err
	}
	c.State.mu.Lock()
	_, found := c.State.resources[h.key]
	delete(c.State.resources, h.key)
	c.State.mu.Unlock()
	if !found && !ignore {
		return nil, c.Errorf("resource %q does not exist", h.key)
	}
	return nil, nil
}

// refKey is the State key of a TF1 reference variable: its node's name.
func refKey(node string) string { return "ref:" + node }

func variableV2Kernel(c *Context) ([]*tfops.Tensor, error) {
	dtype, err := c.AttrType("dtype")
	if err != nil {
		return nil, err
	}
	shape, err := c.AttrShape("shape")
	if err != nil {
		return nil, err
	}
	name := c.Node.GetName()
	v, err := c.lookupVariable(refKey(name), name, dtype, shape)
	if err != nil {
		return nil, err
	}
	v.mu.RLock()
	val := v.value
	v.mu.RUnlock()
	if val == nil {
		return []*tfops.Tensor{resourceTensor(uninitializedRef{name})}, nil
	}
	return []*tfops.Tensor{val.Clone()}, nil
}

// refInputNode returns the name of the node feeding input 0 of an Assign.
func (c *Context) refInputNode() (string, error) {
	ins := c.Node.GetInput()
	if len(ins) == 0 {
		return "", c.Errorf("has no ref input")
	}
	ref := strings.TrimPrefix(ins[0], "^")
	if i := strings.IndexByte(ref, ':'); i >= 0 {
		ref = ref[:i]
	}
	return ref, nil
}

// refAssignKernel implements Assign (sign 0), AssignAdd (+1) and AssignSub
// (-1) on TF1 reference variables; each outputs the new value.
func refAssignKernel(sign int) Kernel {
	return func(c *Context) ([]*tfops.Tensor, error) {
		if err := c.CheckInputs(2); err != nil {
			return nil, err
		}
		name, err := c.refInputNode()
		if err != nil {
			return nil, err
		}
		r := c.State.Resource(refKey(name), nil)
		v, ok := r.(*variable)
		if !ok {
			return nil, c.Errorf("input %q is not a VariableV2 of this graph", name)
		}
		val := c.Inputs[1]
		if sign == 0 {
			validate, err := c.AttrBoolOr("validate_shape", true)
			if err != nil {
				return nil, err
			}
			if !validate {
				v.mu.Lock()
				if val.DType() != v.dtype {
					v.mu.Unlock()
					return nil, c.Errorf("variable %q holds %v, cannot assign %v", v.name, v.dtype, val.DType())
				}
				v.value = val.Clone()
				v.mu.Unlock()
			} else if err := v.set(val); err != nil {
				return nil, c.Errorf("%w", err)
			}
			return []*tfops.Tensor{val}, nil
		}
		out, err := v.update(val, sign)
		if err != nil {
			return nil, c.Errorf("%w", err)
		}
		return []*tfops.Tensor{out}, nil
	}
}

// scalarString returns input i as a string scalar (or one-element vector).
func (c *Context) scalarString(i int, what string) (string, error) {
	if i >= len(c.Inputs) {
		return "", c.Errorf("missing input %d (%s)", i, what)
	}
	t := c.Inputs[i]
	if t.DType() != tfops.String || t.NumElements() != 1 {
		return "", c.Errorf("%s must be a string scalar, got %v%v", what, t.DType(), t.StaticShape())
	}
	return t.Strings()[0], nil
}

// stringVector returns input i as a string vector of length n (n < 0: any).
func (c *Context) stringVector(i int, what string, n int) ([]string, error) {
	if i >= len(c.Inputs) {
		return nil, c.Errorf("missing input %d (%s)", i, what)
	}
	t := c.Inputs[i]
	if t.DType() != tfops.String || t.Rank() > 1 || (n >= 0 && t.NumElements() != n) {
		want := "a string vector"
		if n >= 0 {
			want = fmt.Sprintf("a string vector of %d", n)
		}
		return nil, c.Errorf("%s must be %s, got %v%v", what, want, t.DType(), t.StaticShape())
	}
	return t.Strings(), nil
}

// restoreV2Kernel reads tensors by name from the V2 checkpoint at prefix.
// Only whole tensors are supported (shape_and_slices entries must be "").
func restoreV2Kernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(3); err != nil {
		return nil, err
	}
	prefix, err := c.scalarString(0, "prefix")
	if err != nil {
		return nil, err
	}
	dtypes, err := c.AttrTypes("dtypes")
	if err != nil {
		return nil, err
	}
	names, err := c.stringVector(1, "tensor_names", len(dtypes))
	if err != nil {
		return nil, err
	}
	slices, err := c.stringVector(2, "shape_and_slices", len(dtypes))
	if err != nil {
		return nil, err
	}
	b, err := savedmodel.OpenBundle(prefix, savedmodel.BundleOptions{MaxTensorBytes: c.State.limits.MaxTensorBytes})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", engine.ErrKernel, err) // keeps savedmodel's sentinel
	}
	defer b.Close()
	out := make([]*tfops.Tensor, len(names))
	for i, name := range names {
		if slices[i] != "" {
			return nil, c.Errorf("tensor %q: restoring a slice (%q) is not supported", name, slices[i])
		}
		t, err := b.Tensor(name)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", engine.ErrKernel, err)
		}
		if t.DType() != dtypes[i] {
			return nil, c.Errorf("checkpoint %s holds tensor %q as %v, attr dtypes says %v", prefix, name, t.DType(), dtypes[i])
		}
		out[i] = t
	}
	return out, nil
}

// saveV2Kernel writes its tensors as a one-shard V2 checkpoint at prefix.
func saveV2Kernel(c *Context) ([]*tfops.Tensor, error) {
	if len(c.Inputs) < 3 {
		return nil, c.Errorf("expects prefix, tensor_names, shape_and_slices and tensors, got %d inputs", len(c.Inputs))
	}
	prefix, err := c.scalarString(0, "prefix")
	if err != nil {
		return nil, err
	}
	n := len(c.Inputs) - 3
	names, err := c.stringVector(1, "tensor_names", n)
	if err != nil {
		return nil, err
	}
	slices, err := c.stringVector(2, "shape_and_slices", n)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*tfops.Tensor, n)
	for i, name := range names {
		if slices[i] != "" {
			return nil, c.Errorf("tensor %q: saving a slice (%q) is not supported", name, slices[i])
		}
		if _, dup := m[name]; dup {
			return nil, c.Errorf("tensor name %q given twice", name)
		}
		m[name] = c.Inputs[3+i]
	}
	if err := savedmodel.WriteBundle(prefix, m); err != nil {
		return nil, c.Errorf("%w", err)
	}
	return nil, nil
}

// mergeV2CheckpointsKernel merges the checkpoints at checkpoint_prefixes into
// one at destination_prefix and, as TensorFlow does by default
// (delete_old_dirs), removes the merged files and their emptied directories.
func mergeV2CheckpointsKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	prefixes, err := c.stringVector(0, "checkpoint_prefixes", -1)
	if err != nil {
		return nil, err
	}
	dest, err := c.scalarString(1, "destination_prefix")
	if err != nil {
		return nil, err
	}
	deleteOld, err := c.AttrBoolOr("delete_old_dirs", true)
	if err != nil {
		return nil, err
	}
	all := map[string]*tfops.Tensor{}
	var files []string
	for _, p := range prefixes {
		b, err := savedmodel.OpenBundle(p, savedmodel.BundleOptions{MaxTensorBytes: c.State.limits.MaxTensorBytes})
		if err != nil {
			return nil, c.Errorf("%w", err)
		}
		ts, err := b.Tensors()
		numShards := int(b.Header().GetNumShards())
		b.Close()
		if err != nil {
			return nil, c.Errorf("%w", err)
		}
		for k, t := range ts {
			if _, dup := all[k]; dup {
				return nil, c.Errorf("tensor %q appears in more than one checkpoint to merge", k)
			}
			all[k] = t
		}
		files = append(files, savedmodel.IndexFilename(p))
		for s := 0; s < numShards; s++ {
			files = append(files, savedmodel.DataFilename(p, s, numShards))
		}
	}
	if err := savedmodel.WriteBundle(dest, all); err != nil {
		return nil, c.Errorf("%w", err)
	}
	if deleteOld {
		dirs := map[string]bool{}
		for _, f := range files {
			if f == savedmodel.IndexFilename(dest) || strings.HasPrefix(f, dest+".data-") {
				continue
			}
			_ = os.Remove(f)
			if i := strings.LastIndexByte(f, '/'); i > 0 {
				dirs[f[:i]] = true
			}
		}
		for d := range dirs {
			_ = os.Remove(d) // only succeeds when empty
		}
	}
	return nil, nil
}

// shardedFilenameKernel formats "%s-%05d-of-%05d" as TensorFlow does.
func shardedFilenameKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(3); err != nil {
		return nil, err
	}
	base, err := c.scalarString(0, "basename")
	if err != nil {
		return nil, err
	}
	shard, err1 := scalarInt(c.Inputs[1])
	num, err2 := scalarInt(c.Inputs[2])
	if err1 != nil || err2 != nil {
		return nil, c.Errorf("shard and num_shards must be int32 scalars")
	}
	return []*tfops.Tensor{tfops.FromScalar(fmt.Sprintf("%s-%05d-of-%05d", base, shard, num))}, nil
}

func scalarInt(t *tfops.Tensor) (int64, error) {
	if t.NumElements() != 1 {
		return 0, fmt.Errorf("not a scalar: %v", t.StaticShape())
	}
	switch d := t.Data().(type) {
	case []int32:
		return int64(d[0]), nil
	case []int64:
		return d[0], nil
	}
	return 0, fmt.Errorf("not an integer: %v", t.DType())
}

// stringJoinKernel joins its string inputs elementwise with attr separator;
// scalar inputs broadcast against the (common) shape of the others.
func stringJoinKernel(c *Context) ([]*tfops.Tensor, error) {
	sep, err := c.AttrStringOr("separator", "")
	if err != nil {
		return nil, err
	}
	var shape []int
	for i, t := range c.Inputs {
		if t.DType() != tfops.String {
			return nil, c.Errorf("input %d is %v, not string", i, t.DType())
		}
		if t.Rank() == 0 {
			continue
		}
		if shape != nil && !equalDims(shape, t.Shape()) {
			return nil, c.Errorf("input %d has shape %v, an earlier input %v", i, t.StaticShape(), tfops.ShapeOf(shape))
		}
		shape = t.Shape()
	}
	if shape == nil {
		shape = []int{}
	}
	n := tfops.NumElements(shape)
	// The output's bytes, counted before anything is built: joined strings
	// can grow without bound (a scalar joined with every element, or a
	// string joined with itself again and again).
	limit := c.State.limits.MaxTensorBytes
	var total int64
	for j := 0; j < n; j++ {
		total += int64(len(sep) * max(len(c.Inputs)-1, 0))
		for _, t := range c.Inputs {
			if t.Rank() == 0 {
				total += int64(len(t.Strings()[0]))
			} else {
				total += int64(len(t.Strings()[j]))
			}
		}
		if total > limit {
			return nil, fmt.Errorf("%w: MaxTensorBytes: StringJoin output would exceed %d bytes", engine.ErrLimit, limit)
		}
	}
	out := make([]string, n)
	parts := make([]string, len(c.Inputs))
	for j := 0; j < n; j++ {
		for i, t := range c.Inputs {
			s := t.Strings()
			if t.Rank() == 0 {
				parts[i] = s[0]
			} else {
				parts[i] = s[j]
			}
		}
		out[j] = strings.Join(parts, sep)
	}
	t, err := tfops.FromSlice(out, shape...)
	if err != nil {
		return nil, c.Errorf("%w", err)
	}
	return []*tfops.Tensor{t}, nil
}

// staticRegexFullMatchKernel matches each string against attr pattern (RE2
// syntax, as in TensorFlow), anchored at both ends.
func staticRegexFullMatchKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(1); err != nil {
		return nil, err
	}
	pat, err := c.AttrStringOr("pattern", "")
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(`^(?:` + pat + `)$`)
	if err != nil {
		return nil, c.Errorf("pattern %q: %w", pat, err)
	}
	in := c.Inputs[0]
	if in.DType() != tfops.String {
		return nil, c.Errorf("input is %v, not string", in.DType())
	}
	s := in.Strings()
	out := make([]bool, len(s))
	for i, x := range s {
		out[i] = re.MatchString(x)
	}
	t, err := tfops.FromSlice(out, in.Shape()...)
	if err != nil {
		return nil, c.Errorf("%w", err)
	}
	return []*tfops.Tensor{t}, nil
}
