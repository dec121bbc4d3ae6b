package enginetest

import (
	"fmt"

	"github.com/tfseg/tfseg/tfops"
)

// reverseRef reverses x along axes with plain index arithmetic.
func reverseRef(x *tfops.Tensor, axes ...int) *tfops.Tensor {
	dims := x.Shape()
	src := x.Float32s()
	out := make([]float32, len(src))
	idx := make([]int, len(dims))
	for i := range src {
		rem := i
		for d := len(dims) - 1; d >= 0; d-- {
			idx[d] = rem % dims[d]
			rem /= dims[d]
		}
		for _, a := range axes {
			idx[a] = dims[a] - 1 - idx[a]
		}
		j := 0
		for d := range dims {
			j = j*dims[d] + idx[d]
		}
		out[i] = src[j]
	}
	return tfops.MustFromSlice(out, dims...)
}

func reverseV2(s *tfops.Scope, x tfops.Output, axes ...int64) tfops.Output {
	return s.AddOp(tfops.OpSpec{Type: "ReverseV2", Inputs: []any{x, tfops.Const(s, tensorI(tfops.Int32, []int{len(axes)}, axes))},
		Attrs:   map[string]any{"T": x.DType(), "Tidx": tfops.Int32},
		Outputs: []tfops.OutputInfo{{DType: x.DType(), Shape: x.Shape()}}}).Output(0)
}

// reverseCases: ReverseV2 as Keras' Bidirectional and go_backwards RNNs use
// it (the time axis of (batch, time, features)), and on every axis set.
func reverseCases() []Case {
	f := tfops.Float
	var cs []Case
	for _, axes := range [][]int64{{}, {0}, {1}, {-1}, {0, 2}, {2, 1, 0}} {
		axes := axes
		cs = append(cs, exact(fmt.Sprintf("ReverseV2/float32/axes%v", axes), "ReverseV2", "a (3, 4, 5) tensor along the listed axes",
			func(s *tfops.Scope, g *Graph) {
				x := tensorF(f, []int{3, 4, 5}, randn(rng(uint64(900+len(axes))), 60, 1))
				canon := make([]int, len(axes))
				for i, a := range axes {
					canon[i] = int((a + 3) % 3)
				}
				g.Fetches = []tfops.Output{reverseV2(s, feed(s, g, "x", x), axes...)}
				g.Want = []*tfops.Tensor{reverseRef(x, canon...)}
			}))
	}
	cs = append(cs,
		exact("ReverseV2/float32/empty", "ReverseV2", "an empty tensor", func(s *tfops.Scope, g *Graph) {
			x := arange(f, 0, 3)
			g.Fetches = []tfops.Output{reverseV2(s, feed(s, g, "x", x), 0, 1)}
			g.Want = []*tfops.Tensor{arange(f, 0, 3)}
		}),
		failing("ReverseV2/float32/axis-out-of-range", "ReverseV2", "axis 3 of a rank-3 tensor", func(s *tfops.Scope, g *Graph) {
			g.Fetches = []tfops.Output{reverseV2(s, feed(s, g, "x", arange(f, 2, 2, 2)), 3)}
		}),
		failing("ReverseV2/float32/axis-twice", "ReverseV2", "axis 1 and -2 are the same", func(s *tfops.Scope, g *Graph) {
			g.Fetches = []tfops.Output{reverseV2(s, feed(s, g, "x", arange(f, 2, 2, 2)), 1, -2)}
		}),
	)
	return cs
}
