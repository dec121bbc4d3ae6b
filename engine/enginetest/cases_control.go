package enginetest

import (
	"fmt"

	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"

	"github.com/tfseg/tfseg/tfops"
)

// Functional control flow (While, StatelessWhile, If, StatelessIf, Case)
// over library functions, and the TensorList ops a loop body uses
// (tensorflow/core/kernels/functional_ops.cc, list_kernels.{h,cc}).

// single adds a one-output op.
func single(s *tfops.Scope, op, name string, d tfops.DType, attrs map[string]any, inputs ...any) tfops.Output {
	return s.AddOp(tfops.OpSpec{Type: op, Name: name, Inputs: inputs, Attrs: attrs, Outputs: []tfops.OutputInfo{{DType: d}}}).Output(0)
}

// doublingLoop is: for i < n { list[i] = x; x = 2x } over a list from
// TensorListReserve; it returns the stacked list and the final x.
func doublingLoop(s *tfops.Scope, op string, x *tfops.Tensor, n int) (stack, last tfops.Output) {
	args := []Arg{{"i", tfops.Int32}, {"n", tfops.Int32}, {"x", tfops.Float}, {"list", tfops.Variant}}
	i32 := map[string]any{"T": tfops.Int32}
	cond := NewFunc("doubling_cond", args...)
	cond.Ret("more", tfops.Bool, cond.Op("Less", "less", i32, "i", "n"))
	body := NewFunc("doubling_body", args...)
	body.Ret("i_next", tfops.Int32, body.Op("AddV2", "inc", i32, "i", body.Const("one", tfops.FromScalar(int32(1)))))
	body.Ret("n_same", tfops.Int32, "n")
	body.Ret("x_next", tfops.Float, body.Op("Mul", "double", map[string]any{"T": tfops.Float}, "x", body.Const("two", tfops.FromScalar(float32(2)))))
	body.Ret("list_next", tfops.Variant, body.Op("TensorListSetItem", "set", map[string]any{"element_dtype": tfops.Float}, "list", "i", "x"))
	cond.AddTo(s)
	body.AddTo(s)
	shape := tfops.Const(s.WithOpName("element_shape"), tfops.MustFromSlice([]int32{int32(x.NumElements())}, 1))
	nt := tfops.Const(s.WithOpName("n"), tfops.FromScalar(int32(n)))
	list := single(s, "TensorListReserve", "reserve", tfops.Variant, map[string]any{"element_dtype": tfops.Float, "shape_type": tfops.Int32}, shape, nt)
	w := s.AddOp(tfops.OpSpec{Type: op, Name: "loop",
		Inputs: []any{tfops.Const(s.WithOpName("i0"), tfops.FromScalar(int32(0))), nt, tfops.Const(s.WithOpName("x0"), x), list},
		Attrs: map[string]any{"T": []tfops.DType{tfops.Int32, tfops.Int32, tfops.Float, tfops.Variant},
			"cond": tfops.Func{Name: cond.Name()}, "body": tfops.Func{Name: body.Name()},
			"output_shapes": []tfops.Shape{tfops.ScalarShape(), tfops.ScalarShape(), x.StaticShape(), tfops.ScalarShape()}, "parallel_iterations": 10},
		Outputs: []tfops.OutputInfo{{DType: tfops.Int32}, {DType: tfops.Int32}, {DType: tfops.Float}, {DType: tfops.Variant}}})
	stack = single(s, "TensorListStack", "stack", tfops.Float, map[string]any{"element_dtype": tfops.Float, "num_elements": n}, w.Output(3), shape)
	return stack, w.Output(2)
}

// branches adds x·2 ("times2"), x−1 ("minus1") and x+10 ("plus10").
func branches(s *tfops.Scope) {
	for _, f := range []struct {
		name, op string
		k        float32
	}{{"times2", "Mul", 2}, {"minus1", "Sub", 1}, {"plus10", "AddV2", 10}} {
		b := NewFunc(f.name, Arg{"x", tfops.Float})
		b.Ret("y", tfops.Float, b.Op(f.op, "op", map[string]any{"T": tfops.Float}, "x", b.Const("k", tfops.FromScalar(f.k))))
		b.AddTo(s)
	}
}

// listItem unstacks the fed vector x with TensorListFromTensor and reads
// item index (fed) with TensorListGetItem.
func listItem(s *tfops.Scope, g *Graph, x *tfops.Tensor, index int32) (list, item tfops.Output) {
	scalar := tfops.MustFromSlice([]int32{}, 0) // element shape []
	list = single(s, "TensorListFromTensor", "list", tfops.Variant, map[string]any{"element_dtype": tfops.Float, "shape_type": tfops.Int32},
		feed(s, g, "x", x), tfops.Const(s.WithOpName("shape"), scalar))
	item = single(s, "TensorListGetItem", "get", tfops.Float, map[string]any{"element_dtype": tfops.Float},
		list, feed(s, g, "index", tfops.FromScalar(index)), tfops.Const(s.WithOpName("get_shape"), scalar))
	return list, item
}

func controlCases() []Case {
	x := randn(rng(91), 6, 3)
	xt := tensorF(tfops.Float, []int{6}, x)
	scaled := func(k, c float64) *tfops.Tensor {
		out := make([]float64, len(x))
		for i, v := range x {
			out[i] = float64(float32(v))*k + c
		}
		return tensorF(tfops.Float, []int{len(x)}, out)
	}
	var cs []Case
	for _, op := range []string{"While", "StatelessWhile"} {
		cs = append(cs, Case{
			Name: op + "/tensorlist-doubling", Op: op,
			Description: "five iterations writing x, 2x, 4x, ... into a TensorList, stacked",
			Build: func(s *tfops.Scope) Graph {
				stack, last := doublingLoop(s, op, xt, 5)
				want := make([]float64, 0, 5*len(x))
				for i := 0; i < 5; i++ {
					for _, v := range x {
						want = append(want, float64(float32(v))*float64(int(1)<<i))
					}
				}
				return Graph{Fetches: []tfops.Output{stack, last},
					Want: []*tfops.Tensor{tensorF(tfops.Float, []int{5, len(x)}, want), scaled(32, 0)}, Tol: Elementwise}
			},
		})
	}
	for _, op := range []string{"If", "StatelessIf"} {
		for _, c := range []bool{true, false} {
			cs = append(cs, Case{
				Name: fmt.Sprintf("%s/cond-%v", op, c), Op: op, Description: "then x·2, else x−1, on a fed bool",
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					branches(s)
					out := single(s, op, "if", tfops.Float, map[string]any{"Tcond": tfops.Bool, "Tin": []tfops.DType{tfops.Float},
						"Tout": []tfops.DType{tfops.Float}, "then_branch": tfops.Func{Name: "times2"}, "else_branch": tfops.Func{Name: "minus1"},
						"output_shapes": []tfops.Shape{}}, feed(s, &g, "cond", tfops.FromScalar(c)), feed(s, &g, "x", xt))
					g.Fetches = []tfops.Output{out}
					g.Want = []*tfops.Tensor{scaled(2, 0)}
					if !c {
						g.Want = []*tfops.Tensor{scaled(1, -1)}
					}
					g.Tol = Elementwise
					return g
				},
			})
		}
	}
	for idx, want := range map[int32]*tfops.Tensor{1: scaled(1, -1), 5: scaled(1, 10)} {
		cs = append(cs, Case{
			Name: fmt.Sprintf("Case/index-%d", idx), Op: "Case", Description: "branch by index; out of range runs the last branch",
			Build: func(s *tfops.Scope) Graph {
				var g Graph
				branches(s)
				l := &attrpb.AttrValue_ListValue{}
				for _, n := range []string{"times2", "minus1", "plus10"} {
					l.Func = append(l.Func, &attrpb.NameAttrList{Name: n})
				}
				out := single(s, "Case", "case", tfops.Float, map[string]any{"Tin": []tfops.DType{tfops.Float}, "Tout": []tfops.DType{tfops.Float},
					"branches": &attrpb.AttrValue{Value: &attrpb.AttrValue_List{List: l}}, "output_shapes": []tfops.Shape{}},
					feed(s, &g, "index", tfops.FromScalar(idx)), feed(s, &g, "x", xt))
				g.Fetches, g.Want, g.Tol = []tfops.Output{out}, []*tfops.Tensor{want}, Elementwise
				return g
			},
		})
	}
	cs = append(cs, Case{
		Name: "TensorListGetItem/out-of-range", Op: "TensorListGetItem", Description: "index 6 of a 6-item list from TensorListFromTensor",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			_, item := listItem(s, &g, xt, 6)
			g.Fetches, g.WantErr = []tfops.Output{item}, true
			return g
		},
	}, Case{
		Name: "TensorListGetItem/from-tensor", Op: "TensorListGetItem", Description: "item 4 of a list from TensorListFromTensor, and its length",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			list, item := listItem(s, &g, xt, 4)
			n := single(s, "TensorListLength", "length", tfops.Int32, nil, list)
			g.Fetches = []tfops.Output{item, n}
			g.Want = []*tfops.Tensor{tensorF(tfops.Float, []int{}, x[4:5]), tensorI(tfops.Int32, []int{}, []int64{6})}
			g.Tol = Exact
			return g
		},
	})
	return cs
}
