package goengine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/tfops"
)

// runGraph builds a graph with build, runs it on the Go engine with feeds
// and returns the fetched tensors.
func runGraph(t testing.TB, threads int, build func(s *tfops.Scope) ([]tfops.Output, map[tfops.Output]*tfops.Tensor)) ([]*tfops.Tensor, error) {
	s := tfops.NewScope()
	fetches, feeds := build(s)
	gd, err := s.Finalize()
	require.NoError(t, err)
	sess, err := goengine.Engine{}.NewSession(gd, engine.SessionOptions{Threads: threads})
	require.NoError(t, err)
	defer sess.Close()
	fd := map[string]*tfops.Tensor{}
	for o, v := range feeds {
		fd[o.Name()] = v
	}
	names := make([]string, len(fetches))
	for i, o := range fetches {
		names[i] = o.Name()
	}
	return sess.Run(context.Background(), fd, names, nil)
}

// Kernel errors name the node and op and say what is wrong in
// TensorFlow's words.
func TestKernelErrorsNameNode(t *testing.T) {
	f := tfops.Float
	cases := []struct {
		name  string
		build func(s *tfops.Scope) ([]tfops.Output, map[tfops.Output]*tfops.Tensor)
		want  []string
	}{
		{"gather index", func(s *tfops.Scope) ([]tfops.Output, map[tfops.Output]*tfops.Tensor) {
			p := tfops.Placeholder(s.WithOpName("p"), f, tfops.MakeShape(3))
			i := tfops.Placeholder(s.WithOpName("i"), tfops.Int32, tfops.MakeShape(2, 2))
			return []tfops.Output{tfops.GatherV2(s.WithOpName("lookup"), p, i, tfops.Scalar(s, tfops.Int32, 0), 0)},
				map[tfops.Output]*tfops.Tensor{p: tfops.MustFromSlice([]float32{1, 2, 3}), i: tfops.MustFromSlice([]int32{0, 1, 2, 7}, 2, 2)}
		}, []string{`"lookup"`, "GatherV2", "indices[1,1] = 7 is not in [0, 3)"}},
		{"broadcast", func(s *tfops.Scope) ([]tfops.Output, map[tfops.Output]*tfops.Tensor) {
			x := tfops.Placeholder(s.WithOpName("x"), f, tfops.UnknownShape())
			y := tfops.Placeholder(s.WithOpName("y"), f, tfops.UnknownShape())
			return []tfops.Output{tfops.AddV2(s.WithOpName("sum"), x, y)},
				map[tfops.Output]*tfops.Tensor{x: tfops.MustFromSlice(make([]float32, 6), 2, 3), y: tfops.MustFromSlice(make([]float32, 4))}
		}, []string{`"sum"`, "AddV2", "Incompatible shapes: [2,3] vs. [4]"}},
		{"reshape", func(s *tfops.Scope) ([]tfops.Output, map[tfops.Output]*tfops.Tensor) {
			x := tfops.Placeholder(s.WithOpName("x"), f, tfops.UnknownShape())
			return []tfops.Output{tfops.ReshapeTo(s.WithOpName("r"), x, 4, 2)},
				map[tfops.Output]*tfops.Tensor{x: tfops.MustFromSlice(make([]float32, 6), 2, 3)}
		}, []string{`"r"`, "Reshape", "tensor with 6 values, but the requested shape has 8"}},
		{"floordiv", func(s *tfops.Scope) ([]tfops.Output, map[tfops.Output]*tfops.Tensor) {
			x := tfops.Placeholder(s.WithOpName("x"), tfops.Int32, tfops.MakeShape(2))
			return []tfops.Output{tfops.FloorDiv(s.WithOpName("q"), x, x)},
				map[tfops.Output]*tfops.Tensor{x: tfops.MustFromSlice([]int32{1, 0})}
		}, []string{`"q"`, "Integer division by zero"}},
		{"strided slice", func(s *tfops.Scope) ([]tfops.Output, map[tfops.Output]*tfops.Tensor) {
			x := tfops.Placeholder(s.WithOpName("x"), f, tfops.UnknownShape())
			return []tfops.Output{tfops.StridedSlice(s.WithOpName("ss"), x, tfops.Int32s(s, 5), tfops.Int32s(s, 6), tfops.Int32s(s, 1),
					tfops.StridedSliceMasks{ShrinkAxis: 1})},
				map[tfops.Output]*tfops.Tensor{x: tfops.MustFromSlice([]float32{1, 2})}
		}, []string{`"ss"`, "StridedSlice", "out of bounds"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runGraph(t, 1, tc.build)
			require.Error(t, err)
			assert.ErrorIs(t, err, engine.ErrKernel)
			for _, w := range tc.want {
				assert.ErrorContains(t, err, w)
			}
		})
	}
}

// Results do not depend on the number of threads.
func TestThreadsAgree(t *testing.T) {
	build := func(s *tfops.Scope) ([]tfops.Output, map[tfops.Output]*tfops.Tensor) {
		n := 300 * 257
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i%97) * 0.37
		}
		xt := tfops.MustFromSlice(v, 300, 257)
		x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(300, 257))
		return []tfops.Output{
			tfops.Sum(s, tfops.Mul(s, x, x), []int{0}, false),
			tfops.Mean(s, tfops.Exp(s, tfops.Neg(s, x)), []int{1}, true),
			tfops.Transpose(s, x, tfops.Int32s(s, 1, 0)),
			tfops.Softmax(s, x),
		}, map[tfops.Output]*tfops.Tensor{x: xt}
	}
	one, err := runGraph(t, 1, build)
	require.NoError(t, err)
	for _, threads := range []int{2, 3, 8} {
		many, err := runGraph(t, threads, build)
		require.NoError(t, err)
		for i := range one {
			assert.Equal(t, one[i].Data(), many[i].Data(), "fetch %d with %d threads", i, threads)
		}
	}
}

// Benchmarks at the sizes the losses run at.
func BenchmarkKernels(b *testing.B) {
	for _, dims := range [][]int{{16, 512, 512}, {4, 256, 256, 3}} {
		n := tfops.NumElements(dims)
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i%1000)/500 - 1
		}
		xt := tfops.MustFromSlice(v, dims...)
		size := fmt.Sprint(dims)
		for _, op := range []struct {
			name  string
			build func(s *tfops.Scope, x tfops.Output) tfops.Output
		}{
			{"Mul", func(s *tfops.Scope, x tfops.Output) tfops.Output { return tfops.Mul(s, x, x) }},
			{"AddScalar", func(s *tfops.Scope, x tfops.Output) tfops.Output {
				return tfops.AddV2(s, x, tfops.Scalar(s, tfops.Float, 1))
			}},
			{"Sigmoid", tfops.Sigmoid},
			{"SumAll", func(s *tfops.Scope, x tfops.Output) tfops.Output { return tfops.Sum(s, x, nil, false) }},
			{"SumAxis0", func(s *tfops.Scope, x tfops.Output) tfops.Output { return tfops.Sum(s, x, []int{0}, false) }},
		} {
			b.Run(fmt.Sprintf("%s/size=%s", op.name, size), func(b *testing.B) {
				s := tfops.NewScope()
				x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, xt.StaticShape())
				y := op.build(s, x)
				gd, err := s.Finalize()
				require.NoError(b, err)
				sess, err := goengine.Engine{}.NewSession(gd, engine.SessionOptions{})
				require.NoError(b, err)
				defer sess.Close()
				b.SetBytes(int64(4 * n))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := sess.Run(context.Background(), map[string]*tfops.Tensor{"x": xt}, []string{y.Name()}, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
