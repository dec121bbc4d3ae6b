package goengine_test

import (
	"context"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/tfops"
)

// If, Case and While on their own: the cond conversion (ToBool in
// functional_ops.cc), an If nested in a While body, the errors, and the
// loop's limits and cancellation.

// branchFns adds x*2 ("double"), x-1 ("dec") and x+10 ("add10") on float
// vectors.
func branchFns(t testing.TB, s *tfops.Scope) {
	for _, f := range []struct{ name, op string }{{"double", "Mul"}, {"dec", "Sub"}, {"add10", "AddV2"}} {
		b := newFn(t, f.name, arg("x", tfops.Float))
		k := map[string]float32{"double": 2, "dec": 1, "add10": 10}[f.name]
		b.ret("y", tfops.Float, b.f(f.op, "op", "x", b.konst("k", tfops.FromScalar(k))))
		s.AddFunction(b.def())
	}
}

func TestIfCond(t *testing.T) {
	x := []float32{1, -2, 3}
	double, dec := []float32{2, -4, 6}, []float32{0, -3, 2}
	cases := []struct {
		name string
		cond *tfops.Tensor
		want []float32
	}{
		{"bool true", tfops.FromScalar(true), double},
		{"bool false", tfops.FromScalar(false), dec},
		{"int32 nonzero", tfops.FromScalar(int32(-5)), double},
		{"int32 zero", tfops.FromScalar(int32(0)), dec},
		{"int64 nonzero", tfops.FromScalar(int64(1 << 40)), double},
		{"float zero", tfops.FromScalar(float32(0)), dec},
		{"float nonzero", tfops.FromScalar(float32(0.25)), double},
		{"double nonzero", tfops.FromScalar(-1.5), double},
		{"uint8 zero", tfops.FromScalar(uint8(0)), dec},
		{"string empty", tfops.FromScalar(""), dec},
		{"string nonempty", tfops.FromScalar("a"), double},
		{"vector of one false", tfops.MustFromSlice([]bool{false}, 1), double}, // non-scalars: has elements
		{"empty vector", tfops.MustFromSlice([]bool{}, 0), dec},
		{"matrix of zeros", tfops.MustFromSlice([]int32{0, 0}, 1, 2), double},
	}
	for _, eng := range engines(t) {
		for _, op := range []string{"If", "StatelessIf"} {
			for _, c := range cases {
				t.Run(eng.Name()+"/"+op+"/"+c.name, func(t *testing.T) {
					s := tfops.NewScope()
					branchFns(t, s)
					out := op1(s, op, "if", tfops.Float, map[string]any{"Tcond": c.cond.DType(), "Tin": []tfops.DType{tfops.Float},
						"Tout": []tfops.DType{tfops.Float}, "then_branch": tfops.Func{Name: "double"}, "else_branch": tfops.Func{Name: "dec"},
						"output_shapes": []tfops.Shape{}}, tfops.Const(s.WithOpName("cond"), c.cond), tfops.Const(s.WithOpName("x"), tfops.MustFromSlice(x, 3)))
					got, err := runOn(t, eng, s, nil, []string{out.Name()})
					require.NoError(t, err)
					assert.Equal(t, c.want, got[0].Float32s())
				})
			}
		}
	}
}

// caseBranches is the list(func) attr [double, dec, add10].
func caseBranches() *attrpb.AttrValue {
	l := &attrpb.AttrValue_ListValue{}
	for _, n := range []string{"double", "dec", "add10"} {
		l.Func = append(l.Func, &attrpb.NameAttrList{Name: n})
	}
	return &attrpb.AttrValue{Value: &attrpb.AttrValue_List{List: l}}
}

func TestCase(t *testing.T) {
	for _, eng := range engines(t) {
		for _, op := range []string{"Case", "StatelessCase"} {
			// An index out of range runs the last branch (CaseOp).
			for idx, want := range map[int32][]float32{0: {4, -2}, 1: {1, -2}, 2: {12, 9}, 3: {12, 9}, -1: {12, 9}} {
				t.Run(eng.Name()+"/"+op, func(t *testing.T) {
					s := tfops.NewScope()
					branchFns(t, s)
					out := op1(s, op, "case", tfops.Float, map[string]any{"Tin": []tfops.DType{tfops.Float},
						"Tout": []tfops.DType{tfops.Float}, "branches": caseBranches(), "output_shapes": []tfops.Shape{}},
						scalarI32(s, "index", idx), tfops.Const(s.WithOpName("x"), tfops.MustFromSlice([]float32{2, -1}, 2)))
					got, err := runOn(t, eng, s, nil, []string{out.Name()})
					if op == "StatelessCase" && !isGo(eng) && err != nil {
						t.Skipf("TensorFlow 1.15 lacks StatelessCase: %v", err)
					}
					require.NoError(t, err)
					assert.Equal(t, want, got[0].Float32s(), "branch index %d", idx)
				})
			}
		}
	}
}

// ifInWhile adds, for x [T, n], the loop acc = 0; for t < steps: acc = t
// even ? acc + x[t] : acc - 2·x[t], with an If in the body and the steps
// read from a TensorList. It returns the final acc and the loop counter.
func ifInWhile(t testing.TB, s *tfops.Scope, x *tfops.Tensor, loop string, steps int32) (acc, counter tfops.Output) {
	add := newFn(t, "acc_add", arg("acc", tfops.Float), arg("x", tfops.Float))
	add.ret("y", tfops.Float, add.f("AddV2", "add", "acc", "x"))
	sub2 := newFn(t, "acc_sub2", arg("acc", tfops.Float), arg("x", tfops.Float))
	sub2.ret("y", tfops.Float, sub2.f("Sub", "sub", "acc", sub2.f("Mul", "mul", "x", sub2.konst("two", tfops.FromScalar(float32(2))))))
	args := []fnArg{arg("time", tfops.Int32), arg("n", tfops.Int32), arg("acc", tfops.Float), arg("list", tfops.Variant)}
	body := newFn(t, "if_body", args...)
	i32 := map[string]any{"T": tfops.Int32}
	item := body.add("TensorListGetItem", "get", map[string]any{"element_dtype": tfops.Float}, "list", "time", body.ints("shape", int32(x.Shape()[1])))
	even := body.add("Equal", "even", i32, body.add("FloorMod", "mod", i32, "time", body.konst("two", tfops.FromScalar(int32(2)))),
		body.konst("zero", tfops.FromScalar(int32(0))))
	next := body.add("StatelessIf", "if", map[string]any{"Tcond": tfops.Bool, "Tin": []tfops.DType{tfops.Float, tfops.Float},
		"Tout": []tfops.DType{tfops.Float}, "then_branch": tfops.Func{Name: "acc_add"}, "else_branch": tfops.Func{Name: "acc_sub2"},
		"output_shapes": []tfops.Shape{}}, even, "acc", item)
	body.ret("time_out", tfops.Int32, body.add("AddV2", "inc", i32, "time", body.konst("one", tfops.FromScalar(int32(1)))))
	body.ret("n_out", tfops.Int32, "n")
	body.ret("acc_out", tfops.Float, next)
	body.ret("list_out", tfops.Variant, "list")
	cond := newFn(t, "if_cond", args...)
	cond.ret("ok", tfops.Bool, cond.add("Less", "less", i32, "time", "n"))
	for _, f := range []*fnb{add, sub2, body, cond} {
		s.AddFunction(f.def())
	}
	list := op1(s, "TensorListFromTensor", "list", tfops.Variant, map[string]any{"element_dtype": tfops.Float, "shape_type": tfops.Int32},
		tfops.Const(s.WithOpName("x"), x), constI32(s, "elem_shape", int32(x.Shape()[1])))
	types := []tfops.DType{tfops.Int32, tfops.Int32, tfops.Float, tfops.Variant}
	w := s.AddOp(tfops.OpSpec{Type: loop, Name: "while", Inputs: []any{scalarI32(s, "t0", 0), scalarI32(s, "steps", steps),
		tfops.Const(s.WithOpName("acc0"), tfops.MustFromSlice(make([]float32, x.Shape()[1]), x.Shape()[1])), list},
		Attrs: map[string]any{"T": types, "cond": tfops.Func{Name: "if_cond"}, "body": tfops.Func{Name: "if_body"},
			"output_shapes":       []tfops.Shape{tfops.ScalarShape(), tfops.ScalarShape(), tfops.MakeShape(int64(x.Shape()[1])), tfops.ScalarShape()},
			"parallel_iterations": 10},
		Outputs: []tfops.OutputInfo{{DType: tfops.Int32}, {DType: tfops.Int32}, {DType: tfops.Float}, {DType: tfops.Variant}}})
	return w.Output(2), w.Output(0)
}

func TestIfInsideWhile(t *testing.T) {
	x := randTensor(rand.New(rand.NewSource(11)), 2, 7, 4)
	xv := f64s(x.Float32s())
	want := make([]float64, 4)
	for step := 0; step < 7; step++ {
		for j := range want {
			if step%2 == 0 {
				want[j] += xv[step*4+j]
			} else {
				want[j] -= 2 * xv[step*4+j]
			}
		}
	}
	for _, loop := range []string{"While", "StatelessWhile"} {
		t.Run(loop, func(t *testing.T) {
			s := tfops.NewScope()
			acc, counter := ifInWhile(t, s, x, loop, 7)
			checkEngines(t, s, nil, []string{acc.Name()}, [][]float64{want})
			for _, eng := range engines(t) {
				got, err := runOn(t, eng, s, nil, []string{counter.Name()})
				require.NoError(t, err)
				assert.Equal(t, []int32{7}, got[0].Int32s(), eng.Name())
			}
		})
	}
}

// countLoop is while cond(i, n): i = i + 1, starting at i0; cond is built
// by condFn from the args (i, n) and returns one tensor of dtype cdt.
func countLoop(t testing.TB, s *tfops.Scope, i0, n int32, cdt tfops.DType, condFn func(b *fnb) string) tfops.Output {
	i32 := map[string]any{"T": tfops.Int32}
	body := newFn(t, "count_body", arg("i", tfops.Int32), arg("n", tfops.Int32))
	body.ret("i_out", tfops.Int32, body.add("AddV2", "inc", i32, "i", body.konst("one", tfops.FromScalar(int32(1)))))
	body.ret("n_out", tfops.Int32, "n")
	cond := newFn(t, "count_cond", arg("i", tfops.Int32), arg("n", tfops.Int32))
	cond.ret("c", cdt, condFn(cond))
	s.AddFunction(body.def())
	s.AddFunction(cond.def())
	w := s.AddOp(tfops.OpSpec{Type: "While", Name: "while", Inputs: []any{scalarI32(s, "i0", i0), scalarI32(s, "n", n)},
		Attrs:   map[string]any{"T": []tfops.DType{tfops.Int32, tfops.Int32}, "cond": tfops.Func{Name: "count_cond"}, "body": tfops.Func{Name: "count_body"}},
		Outputs: []tfops.OutputInfo{{DType: tfops.Int32}, {DType: tfops.Int32}}})
	return w.Output(0)
}

// TestWhileCondToBool: the cond's result may be any number (non-zero is
// true) or a non-scalar (true when it has elements).
func TestWhileCondToBool(t *testing.T) {
	i32 := map[string]any{"T": tfops.Int32}
	remaining := func(b *fnb) string { return b.add("Sub", "rem", i32, "n", "i") }
	cases := []struct {
		name string
		dt   tfops.DType
		cond func(b *fnb) string
	}{
		{"int32 n-i", tfops.Int32, remaining},
		{"float vector of n-i zeros", tfops.Float, func(b *fnb) string {
			dims := b.add("Pack", "dims", map[string]any{"T": tfops.Int32, "N": 1, "axis": 0}, remaining(b))
			return b.add("Fill", "fill", map[string]any{"T": tfops.Float, "index_type": tfops.Int32}, dims, b.konst("zero", tfops.FromScalar(float32(0))))
		}},
	}
	for _, eng := range engines(t) {
		for _, c := range cases {
			for _, n := range []int32{0, 1, 6} {
				t.Run(eng.Name()+"/"+c.name, func(t *testing.T) {
					s := tfops.NewScope()
					i := countLoop(t, s, 0, n, c.dt, c.cond)
					got, err := runOn(t, eng, s, nil, []string{i.Name()})
					require.NoError(t, err)
					assert.Equal(t, []int32{n}, got[0].Int32s())
				})
			}
		}
	}
}

// addWhile adds a While (or StatelessWhile) over ins.
func addWhile(s *tfops.Scope, op string, cond, body *fnb, ins ...tfops.Output) *tfops.Operation {
	s.AddFunction(cond.def())
	s.AddFunction(body.def())
	types := make([]tfops.DType, len(ins))
	outs := make([]tfops.OutputInfo, len(ins))
	in := make([]any, len(ins))
	for i, o := range ins {
		types[i], outs[i], in[i] = o.DType(), tfops.OutputInfo{DType: o.DType()}, o
	}
	return s.AddOp(tfops.OpSpec{Type: op, Name: "while", Inputs: in, Outputs: outs, Attrs: map[string]any{
		"T": types, "cond": tfops.Func{Name: cond.Name()}, "body": tfops.Func{Name: body.Name()}}})
}

// counterFns are cond i < n and body i+1 over (i, n): the body's outputs
// are left to the caller.
func counterFns(t testing.TB) (cond, body *fnb, next string) {
	i32 := map[string]any{"T": tfops.Int32}
	cond = newFn(t, "cond", arg("i", tfops.Int32), arg("n", tfops.Int32))
	body = newFn(t, "body", arg("i", tfops.Int32), arg("n", tfops.Int32))
	next = body.add("AddV2", "inc", i32, "i", body.konst("one", tfops.FromScalar(int32(1))))
	return cond, body, next
}

func TestWhileErrors(t *testing.T) {
	i32 := map[string]any{"T": tfops.Int32}
	cases := []struct {
		name  string
		build func(t *testing.T, s *tfops.Scope) tfops.Output
		err   string // the Go engine's error
		tfErr string // TensorFlow's, when it runs the graph and says the same
	}{
		{"cond returns two tensors", func(t *testing.T, s *tfops.Scope) tfops.Output {
			cond, body, next := counterFns(t)
			cond.ret("a", tfops.Bool, cond.add("Less", "less", i32, "i", "n"))
			cond.ret("b", tfops.Bool, cond.add("Less", "less_1", i32, "i", "n"))
			body.ret("i_out", tfops.Int32, next)
			body.ret("n_out", tfops.Int32, "n")
			return addWhile(s, "While", cond, body, scalarI32(s, "i", 0), scalarI32(s, "n", 3)).Output(0)
		}, "Expected a single scalar return value from WhileOp cond, got 2 tensors.", "Expected a single scalar return value from WhileOp cond, got 2 tensors."},
		{"cond returns a resource", func(t *testing.T, s *tfops.Scope) tfops.Output {
			cond := newFn(t, "cond", arg("i", tfops.Int32), arg("h", tfops.Resource))
			cond.ret("c", tfops.Resource, "h")
			body := newFn(t, "body", arg("i", tfops.Int32), arg("h", tfops.Resource))
			body.ret("i_out", tfops.Int32, "i")
			body.ret("h_out", tfops.Resource, "h")
			h, _ := graphVar(s, "v", tfops.FromScalar(float32(1)))
			return addWhile(s, "While", cond, body, scalarI32(s, "i", 0), h).Output(0)
		}, "resource cannot be converted to a boolean", "resource cannot be converted to a boolean"},
		{"body returns too few", func(t *testing.T, s *tfops.Scope) tfops.Output {
			cond, body, next := counterFns(t)
			cond.ret("c", tfops.Bool, cond.add("Less", "less", i32, "i", "n"))
			body.ret("i_out", tfops.Int32, next)
			return addWhile(s, "StatelessWhile", cond, body, scalarI32(s, "i", 0), scalarI32(s, "n", 3)).Output(0)
		}, "While loop body returned 1 arguments. Expected: 2.", ""},
		{"body returns a wrong dtype", func(t *testing.T, s *tfops.Scope) tfops.Output {
			cond, body, _ := counterFns(t)
			cond.ret("c", tfops.Bool, cond.add("Less", "less", i32, "i", "n"))
			body.ret("i_out", tfops.Float, body.konst("f", tfops.FromScalar(float32(1))))
			body.ret("n_out", tfops.Int32, "n")
			return addWhile(s, "While", cond, body, scalarI32(s, "i", 0), scalarI32(s, "n", 3)).Output(0)
		}, "Expected type int32 for return value 0 but got float32.", ""},
		{"GetItem past the list in the body", func(t *testing.T, s *tfops.Scope) tfops.Output {
			acc, _ := ifInWhile(t, s, tfops.MustFromSlice([]float32{1, 2, 3, 4, 5, 6}, 3, 2), "StatelessWhile", 4)
			return acc
		}, "Trying to access element 3 in a list with 3 elements.", "Trying to access element 3 in a list with 3 elements."},
		{"If Tout disagrees with the branch", func(t *testing.T, s *tfops.Scope) tfops.Output {
			branchFns(t, s)
			return op1(s, "If", "if", tfops.Int32, map[string]any{"Tcond": tfops.Bool, "Tin": []tfops.DType{tfops.Float},
				"Tout": []tfops.DType{tfops.Int32}, "then_branch": tfops.Func{Name: "double"}, "else_branch": tfops.Func{Name: "dec"}},
				tfops.Const(s.WithOpName("cond"), tfops.FromScalar(true)), tfops.Const(s.WithOpName("x"), tfops.FromScalar(float32(1))))
		}, `function "double" output 0 is float32, attr Tout says int32`, ""},
		{"cond function missing", func(t *testing.T, s *tfops.Scope) tfops.Output {
			_, body, next := counterFns(t)
			body.ret("i_out", tfops.Int32, next)
			body.ret("n_out", tfops.Int32, "n")
			cond := newFn(t, "nope")
			w := addWhile(s, "While", cond, body, scalarI32(s, "i", 0), scalarI32(s, "n", 3))
			return w.Output(0)
		}, `function "nope"`, ""},
	}
	for _, eng := range engines(t) {
		for _, c := range cases {
			t.Run(eng.Name()+"/"+c.name, func(t *testing.T) {
				s := tfops.NewScope()
				out := c.build(t, s)
				_, err := runOn(t, eng, s, nil, []string{out.Name()})
				require.Error(t, err)
				switch {
				case isGo(eng):
					assert.ErrorContains(t, err, c.err)
					assert.ErrorContains(t, err, `node "`)
				case c.tfErr != "":
					assert.ErrorContains(t, err, c.tfErr)
				}
			})
		}
	}
}

// infiniteLoop is while true: i = i + 1.
func infiniteLoop(t testing.TB, s *tfops.Scope) tfops.Output {
	cond, body, next := counterFns(t)
	cond.ret("c", tfops.Bool, cond.konst("true", tfops.FromScalar(true)))
	body.ret("i_out", tfops.Int32, next)
	body.ret("n_out", tfops.Int32, "n")
	return addWhile(s, "While", cond, body, scalarI32(s, "i", 0), scalarI32(s, "n", 3)).Output(0)
}

func goSessionLimits(t testing.TB, s *tfops.Scope, l engine.Limits) engine.Session {
	gd, err := s.Finalize()
	require.NoError(t, err)
	sess, err := goengine.Engine{}.NewSession(gd, engine.SessionOptions{Limits: l})
	require.NoError(t, err)
	t.Cleanup(func() { sess.Close() })
	return sess
}

func TestWhileLimits(t *testing.T) {
	t.Run("MaxLoopIterations", func(t *testing.T) {
		s := tfops.NewScope()
		i := infiniteLoop(t, s)
		_, err := goSessionLimits(t, s, engine.Limits{MaxLoopIterations: 10}).Run(context.Background(), nil, []string{i.Name()}, nil)
		require.ErrorIs(t, err, engine.ErrLimit)
		assert.ErrorContains(t, err, "MaxLoopIterations: the loop did not end after 10 iterations")
		assert.ErrorContains(t, err, `node "while" (While)`)
	})
	t.Run("exactly MaxLoopIterations", func(t *testing.T) {
		s := tfops.NewScope()
		cond, body, next := counterFns(t)
		cond.ret("c", tfops.Bool, cond.add("Less", "less", map[string]any{"T": tfops.Int32}, "i", "n"))
		body.ret("i_out", tfops.Int32, next)
		body.ret("n_out", tfops.Int32, "n")
		i := addWhile(s, "While", cond, body, scalarI32(s, "i", 0), scalarI32(s, "n", 10)).Output(0)
		got, err := goSessionLimits(t, s, engine.Limits{MaxLoopIterations: 10}).Run(context.Background(), nil, []string{i.Name()}, nil)
		require.NoError(t, err)
		assert.Equal(t, []int32{10}, got[0].Int32s())
	})
	t.Run("context deadline", func(t *testing.T) {
		s := tfops.NewScope()
		i := infiniteLoop(t, s)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := goSessionLimits(t, s, engine.Limits{}).Run(ctx, nil, []string{i.Name()}, nil)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 10*time.Second)
	})
	t.Run("MaxFunctionDepth", func(t *testing.T) {
		s := tfops.NewScope()
		acc, _ := ifInWhile(t, s, tfops.MustFromSlice([]float32{1, 2, 3, 4}, 2, 2), "While", 2)
		_, err := goSessionLimits(t, s, engine.Limits{MaxFunctionDepth: 1}).Run(context.Background(), nil, []string{acc.Name()}, nil)
		require.ErrorIs(t, err, engine.ErrLimit)
		assert.ErrorContains(t, err, `MaxFunctionDepth: calling "acc_add" at depth 2, limit 1`)
	})
}
