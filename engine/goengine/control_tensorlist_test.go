package goengine_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/tfops"
)

// TensorList ops on their own, on every engine; the expected values are
// worked out by hand from list_kernels.{h,cc}.

// listGraph is a small TensorList graph under construction.
type listGraph struct {
	s *tfops.Scope
}

// i32 is an int32 scalar (an index, a count).
func (g listGraph) i32(name string, v int32) tfops.Output { return scalarI32(g.s, name, v) }

// shape is an element_shape vector; unknown is the scalar -1 (unknown rank).
func (g listGraph) shape(name string, v ...int32) tfops.Output { return constI32(g.s, name, v...) }

func (g listGraph) unknown(name string) tfops.Output { return scalarI32(g.s, name, -1) }

func (g listGraph) floats(name string, v []float32, dims ...int) tfops.Output {
	return tfops.Const(g.s.WithOpName(name), tfops.MustFromSlice(v, dims...))
}

func (g listGraph) reserve(name string, shape tfops.Output, n int32) tfops.Output {
	return op1(g.s, "TensorListReserve", name, tfops.Variant, map[string]any{"element_dtype": tfops.Float, "shape_type": tfops.Int32},
		shape, g.i32(name+"/n", n))
}

func (g listGraph) set(name string, l tfops.Output, i int32, item tfops.Output) tfops.Output {
	return op1(g.s, "TensorListSetItem", name, tfops.Variant, map[string]any{"element_dtype": item.DType()}, l, g.i32(name+"/index", i), item)
}

func (g listGraph) get(name string, l tfops.Output, i int32, shape tfops.Output) tfops.Output {
	return op1(g.s, "TensorListGetItem", name, tfops.Float, map[string]any{"element_dtype": tfops.Float}, l, g.i32(name+"/index", i), shape)
}

func (g listGraph) stack(name string, l, shape tfops.Output, num int) tfops.Output {
	return op1(g.s, "TensorListStack", name, tfops.Float, map[string]any{"element_dtype": tfops.Float, "num_elements": num}, l, shape)
}

func (g listGraph) length(name string, l tfops.Output) tfops.Output {
	return op1(g.s, "TensorListLength", name, tfops.Int32, nil, l)
}

func (g listGraph) push(name string, l, item tfops.Output) tfops.Output {
	return op1(g.s, "TensorListPushBack", name, tfops.Variant, map[string]any{"element_dtype": tfops.Float}, l, item)
}

// listCase is a graph and what its fetches hold.
type listCase struct {
	name   string
	build  func(g listGraph) []tfops.Output
	want   []*tfops.Tensor
	err    string // the Go engine's message, and TensorFlow's unless tfErr is set
	tfErr  string // TensorFlow's message where it differs (it fails at import)
	goOnly bool   // TensorFlow 1.15 has no check (undefined behaviour) or lacks the feature
}

func TestTensorListOps(t *testing.T) {
	vec := func(v ...float32) []float32 { return v }
	cases := []listCase{
		{name: "reserve set stack fills zeros", build: func(g listGraph) []tfops.Output {
			l := g.set("set", g.reserve("reserve", g.shape("shape", 2), 3), 1, g.floats("item", vec(1, 2), 2))
			return []tfops.Output{g.stack("stack", l, g.shape("stack_shape", 2), 3), g.length("len", l),
				g.get("get0", l, 0, g.shape("get_shape", 2)), g.get("get1", l, 1, g.shape("get_shape1", 2))}
		}, want: []*tfops.Tensor{tfops.MustFromSlice(vec(0, 0, 1, 2, 0, 0), 3, 2), tfops.FromScalar(int32(3)),
			tfops.MustFromSlice(vec(0, 0), 2), tfops.MustFromSlice(vec(1, 2), 2)}},
		{name: "unknown element shape merged from items", build: func(g listGraph) []tfops.Output {
			l := g.set("set", g.reserve("reserve", g.unknown("shape"), 2), 0, g.floats("item", vec(1, 2, 3), 1, 3))
			return []tfops.Output{g.stack("stack", l, g.unknown("stack_shape"), -1), g.get("get1", l, 1, g.shape("get_shape", -1, 3))}
		}, want: []*tfops.Tensor{tfops.MustFromSlice(vec(1, 2, 3, 0, 0, 0), 2, 1, 3), tfops.MustFromSlice(vec(0, 0, 0), 1, 3)}},
		{name: "copy on write", build: func(g listGraph) []tfops.Output {
			base := g.set("base", g.reserve("reserve", g.shape("shape", 2), 2), 0, g.floats("a", vec(1, 1), 2))
			l1 := g.set("l1", base, 1, g.floats("b", vec(2, 2), 2))
			l2 := g.set("l2", base, 1, g.floats("c", vec(3, 3), 2))
			l3 := g.set("l3", l1, 0, g.floats("d", vec(4, 4), 2))
			sh := g.shape("stack_shape", 2)
			return []tfops.Output{g.stack("s0", base, sh, 2), g.stack("s1", l1, sh, 2), g.stack("s2", l2, sh, 2), g.stack("s3", l3, sh, 2)}
		}, want: []*tfops.Tensor{tfops.MustFromSlice(vec(1, 1, 0, 0), 2, 2), tfops.MustFromSlice(vec(1, 1, 2, 2), 2, 2),
			tfops.MustFromSlice(vec(1, 1, 3, 3), 2, 2), tfops.MustFromSlice(vec(4, 4, 2, 2), 2, 2)}},
		{name: "from tensor, get, gather, element shape", build: func(g listGraph) []tfops.Output {
			l := op1(g.s, "TensorListFromTensor", "from", tfops.Variant, map[string]any{"element_dtype": tfops.Float, "shape_type": tfops.Int32},
				g.floats("t", vec(1, 2, 3, 4, 5, 6), 3, 2), g.shape("shape", -1))
			gather := op1(g.s, "TensorListGather", "gather", tfops.Float, map[string]any{"element_dtype": tfops.Float},
				l, g.shape("indices", 2, 0), g.shape("gshape", 2))
			es := op1(g.s, "TensorListElementShape", "element_shape", tfops.Int64, map[string]any{"shape_type": tfops.Int64}, l)
			return []tfops.Output{g.get("get", l, 2, g.shape("get_shape", 2)), gather, es, g.length("len", l)}
		}, want: []*tfops.Tensor{tfops.MustFromSlice(vec(5, 6), 2), tfops.MustFromSlice(vec(5, 6, 1, 2), 2, 2),
			tfops.MustFromSlice([]int64{-1}, 1), tfops.FromScalar(int32(3))}},
		{name: "push back, pop back", build: func(g listGraph) []tfops.Output {
			l := op1(g.s, "EmptyTensorList", "empty", tfops.Variant, map[string]any{"element_dtype": tfops.Float, "shape_type": tfops.Int32},
				g.shape("shape", 2), g.i32("max", -1))
			l = g.push("push_b", g.push("push_a", l, g.floats("a", vec(1, 2), 2)), g.floats("b", vec(3, 4), 2))
			pop := g.s.AddOp(tfops.OpSpec{Type: "TensorListPopBack", Name: "pop", Inputs: []any{l, g.shape("pop_shape", 2)},
				Attrs: map[string]any{"element_dtype": tfops.Float}, Outputs: []tfops.OutputInfo{{DType: tfops.Variant}, {DType: tfops.Float}}})
			es := op1(g.s, "TensorListElementShape", "element_shape", tfops.Int32, map[string]any{"shape_type": tfops.Int32}, l)
			return []tfops.Output{pop.Output(1), g.stack("stack", pop.Output(0), g.shape("stack_shape", 2), -1), g.length("len", l), es}
		}, want: []*tfops.Tensor{tfops.MustFromSlice(vec(3, 4), 2), tfops.MustFromSlice(vec(1, 2), 1, 2), tfops.FromScalar(int32(2)),
			tfops.MustFromSlice([]int32{2}, 1)}},
		{name: "get out of range", build: func(g listGraph) []tfops.Output {
			return []tfops.Output{g.get("get", g.reserve("reserve", g.shape("shape", 2), 3), 3, g.shape("get_shape", 2))}
		}, err: "Trying to access element 3 in a list with 3 elements."},
		{name: "get negative index", build: func(g listGraph) []tfops.Output {
			return []tfops.Output{g.get("get", g.reserve("reserve", g.shape("shape", 2), 3), -1, g.shape("get_shape", 2))}
		}, err: "Trying to access element -1 in a list with 3 elements.", goOnly: true},
		{name: "set out of range", build: func(g listGraph) []tfops.Output {
			l := g.set("set", g.reserve("reserve", g.shape("shape", 2), 3), 5, g.floats("item", vec(1, 2), 2))
			return []tfops.Output{g.length("len", l)}
		}, err: "Trying to modify element 5 in a list with 3 elements."},
		{name: "set wrong shape", build: func(g listGraph) []tfops.Output {
			l := g.set("set", g.reserve("reserve", g.shape("shape", 2), 3), 0, g.floats("item", vec(1, 2, 3), 3))
			return []tfops.Output{g.length("len", l)}
		}, err: "incompatible shape", tfErr: "Dimension 0 in both shapes must be equal"},
		{name: "set wrong dtype", build: func(g listGraph) []tfops.Output {
			l := g.set("set", g.reserve("reserve", g.shape("shape", 2), 3), 0, g.shape("item", 1, 2))
			return []tfops.Output{g.length("len", l)}
		}, err: "Invalid data types; op elements int32 but list elements float32"},
		{name: "stack unknown shape, nothing set", build: func(g listGraph) []tfops.Output {
			return []tfops.Output{g.stack("stack", g.reserve("reserve", g.unknown("shape"), 2), g.unknown("stack_shape"), -1)}
		}, err: "Tried to stack list which only contains uninitialized tensors and has a non-fully-defined element_shape: <unknown>"},
		{name: "stack num_elements", build: func(g listGraph) []tfops.Output {
			return []tfops.Output{g.stack("stack", g.reserve("reserve", g.shape("shape", 2), 3), g.shape("stack_shape", 2), 2)}
		}, err: "Operation expected a list with 2 elements but got a list with 3 elements."},
		{name: "stack items of different shapes", build: func(g listGraph) []tfops.Output {
			l := g.reserve("reserve", g.unknown("shape"), 2)
			l = g.set("set1", g.set("set0", l, 0, g.floats("a", vec(1, 2), 2)), 1, g.floats("b", vec(1, 2, 3), 3))
			return []tfops.Output{g.stack("stack", l, g.unknown("stack_shape"), -1)}
		}, err: "Incompatible shapes during merge: [2] vs. [3]"},
		{name: "pop empty", build: func(g listGraph) []tfops.Output {
			l := op1(g.s, "EmptyTensorList", "empty", tfops.Variant, map[string]any{"element_dtype": tfops.Float, "shape_type": tfops.Int32},
				g.shape("shape", 2), g.i32("max", -1))
			pop := g.s.AddOp(tfops.OpSpec{Type: "TensorListPopBack", Name: "pop", Inputs: []any{l, g.shape("pop_shape", 2)},
				Attrs: map[string]any{"element_dtype": tfops.Float}, Outputs: []tfops.OutputInfo{{DType: tfops.Variant}, {DType: tfops.Float}}})
			return []tfops.Output{pop.Output(1)}
		}, err: "Trying to pop from an empty list."},
		{name: "push into full list", build: func(g listGraph) []tfops.Output {
			l := op1(g.s, "EmptyTensorList", "empty", tfops.Variant, map[string]any{"element_dtype": tfops.Float, "shape_type": tfops.Int32},
				g.shape("shape", 2), g.i32("max", 1))
			l = g.push("push_b", g.push("push_a", l, g.floats("a", vec(1, 2), 2)), g.floats("b", vec(3, 4), 2))
			return []tfops.Output{g.length("len", l)}
		}, err: "Tried to push item into a full list list size: 1 max_num_elements: 1"},
		{name: "reserve negative", build: func(g listGraph) []tfops.Output {
			return []tfops.Output{g.length("len", g.reserve("reserve", g.shape("shape", 2), -1))}
		}, err: "The num_elements to reserve must be a non negative number, but got -1", goOnly: true},
	}
	for _, eng := range engines(t) {
		for _, c := range cases {
			t.Run(eng.Name()+"/"+c.name, func(t *testing.T) {
				if c.goOnly && !isGo(eng) {
					t.Skip("TensorFlow 1.15's kernel does not check this")
				}
				g := listGraph{s: tfops.NewScope()}
				outs := c.build(g)
				fetches := make([]string, len(outs))
				for i, o := range outs {
					fetches[i] = o.Name()
				}
				got, err := runOn(t, eng, g.s, nil, fetches)
				if c.err != "" {
					require.Error(t, err)
					if isGo(eng) {
						assert.ErrorIs(t, err, engine.ErrKernel)
						assert.ErrorContains(t, err, c.err)
					} else if c.tfErr != "" {
						assert.ErrorContains(t, err, c.tfErr)
					} else { // TensorFlow calls float32 "float"
						assert.ErrorContains(t, err, strings.ReplaceAll(c.err, "float32", "float"))
					}
					return
				}
				require.NoError(t, err)
				for i, w := range c.want {
					assert.Equal(t, w.Shape(), got[i].Shape(), fetches[i])
					assert.Equal(t, w.Data(), got[i].Data(), fetches[i])
				}
			})
		}
	}
}
