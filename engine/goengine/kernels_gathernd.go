package goengine

import (
	"fmt"
	"strings"

	"github.com/tfseg/tfseg/tfops"
)

// GatherNd (tf.gather_nd) and ResourceGather (tf.keras 2.x Embedding's
// embedding_lookup on a resource variable). Op definitions:
// tensorflow/core/ops/array_ops.cc (GatherNd) and
// resource_variable_ops.cc (ResourceGather); kernels:
// tensorflow/core/kernels/gather_nd_op.cc and resource_variable_ops.cc
// (ResourceGatherOp). Out-of-range indices are errors, as on TensorFlow's
// CPU.

func init() {
	Register("GatherNd", gatherNdKernel)
	Register("ResourceGather", resourceGatherKernel)
}

// indexValues returns an int32 or int64 tensor's values as int64s: an
// int64 tensor's own values (read only), an int32 one's converted.
func indexValues(t *tfops.Tensor) []int64 {
	if v, ok := t.Data().([]int64); ok {
		return v
	}
	v, _ := t.IndexValues()
	return v
}

// resourceGatherKernel gathers rows of the variable behind input 0 with
// the indices of input 1, along axis batch_dims (ResourceGatherOp). The
// variable is read in place under its lock; the gather copies the rows.
func resourceGatherKernel(c *Context) ([]*tfops.Tensor, error) {
	v, err := c.variableArg(2)
	if err != nil {
		return nil, err
	}
	indices := c.Inputs[1]
	if d := indices.DType(); d != tfops.Int32 && d != tfops.Int64 {
		return nil, c.Errorf("indices must be int32 or int64, got %v", d)
	}
	bd, err := c.AttrIntOr("batch_dims", 0)
	if err != nil {
		return nil, err
	}
	if bd < 0 {
		return nil, c.Errorf("batch_dims %d must be non-negative", bd)
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.value == nil {
		return nil, c.Errorf("variable %q is uninitialized (restore or assign it first)", v.name)
	}
	params := v.value
	if params.Rank() < 1 {
		return nil, c.Errorf("params (variable %q) must be at least 1 dimensional, got shape %s", v.name, dimsString(params.Shape()))
	}
	return c.gather(params, indices, bd, bd)
}

// gatherNdKernel: for indices of shape [..., K] and params of rank >= K,
// out[i...] = params[indices[i..., 0], ..., indices[i..., K-1], ...].
func gatherNdKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	params, indices := c.Inputs[0], c.Inputs[1]
	if d := indices.DType(); d != tfops.Int32 && d != tfops.Int64 {
		return nil, c.Errorf("indices must be int32 or int64, got %v", d)
	}
	if params.Rank() < 1 {
		return nil, c.Errorf("params must be at least a vector")
	}
	if indices.Rank() < 1 {
		return nil, c.Errorf("indices must be at least a vector")
	}
	is, ps := indices.Shape(), params.Shape()
	k := is[len(is)-1]
	if k > len(ps) {
		return nil, c.Errorf("index innermost dimension length must be <= params rank; saw: %d vs. %d", k, len(ps))
	}
	n := tfops.NumElements(is[:len(is)-1])
	inner := tfops.NumElements(ps[k:])
	dims := append(append([]int{}, is[:len(is)-1]...), ps[k:]...)
	if n > 0 && params.NumElements() == 0 && k > 0 {
		return nil, c.Errorf("Requested more than 0 entries, but params is empty.  Params shape: %s", dimsString(ps))
	}
	out, err := c.Alloc(params.DType(), dims...)
	if err != nil {
		return nil, err
	}
	idx := indexValues(indices)
	pst := rowMajorStrides(ps)
	src := make([]int, n)
	for i := range src {
		off := 0
		for d := 0; d < k; d++ {
			v := idx[i*k+d]
			if v < 0 || v >= int64(ps[d]) {
				return nil, c.Errorf("indices%s = [%s] does not index into param shape %s",
					sliceDebug(i, is[:len(is)-1]), joinInts(idx[i*k:(i+1)*k]), dimsString(ps))
			}
			off += int(v) * pst[d]
		}
		src[i] = off
	}
	if out.NumElements() > 0 {
		copyRows(c, out, params, src, inner)
	}
	return []*tfops.Tensor{out}, nil
}

// sliceDebug formats flat index i of dims as TensorFlow's SliceDebugString
// does: "[1,2]".
func sliceDebug(i int, dims []int) string {
	if len(dims) == 0 {
		return "[]"
	}
	parts := make([]string, len(dims))
	for d := len(dims) - 1; d >= 0; d-- {
		parts[d] = fmt.Sprint(i % max(dims[d], 1))
		i /= max(dims[d], 1)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func joinInts(v []int64) string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = fmt.Sprint(e)
	}
	return strings.Join(parts, ", ")
}
