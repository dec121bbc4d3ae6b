package enginetest

import (
	"fmt"

	"github.com/tfseg/tfseg/tfops"
)

// SpaceToBatchND and BatchToSpaceND (Keras DepthwiseConv2D and
// SeparableConv2D with dilation_rate > 1 run as SpaceToBatchND, a dense
// convolution, BatchToSpaceND), each against an index-mapping reference,
// and the dilated depthwise convolution they compose against conv2DRef.

// spaceToBatchRef: out[o·batch + n, q..., rest] = x[n, q_k·b_k + o_k - p_k0, ..., rest]
// (zero outside x).
func spaceToBatchRef(x *tfops.Tensor, block []int, pads [][2]int) *tfops.Tensor {
	xs := x.Shape()
	m := len(block)
	od := []int{xs[0] * numElems(block)}
	for k := 0; k < m; k++ {
		od = append(od, (xs[1+k]+pads[k][0]+pads[k][1])/block[k])
	}
	od = append(od, xs[1+m:]...)
	return gatherRef(x, od, func(idx []int) []int {
		o := unravel(idx[0]/xs[0], block)
		src := append([]int{idx[0] % xs[0]}, idx[1:]...)
		for k := 0; k < m; k++ {
			v := idx[1+k]*block[k] + o[k] - pads[k][0]
			if v < 0 || v >= xs[1+k] {
				return nil
			}
			src[1+k] = v
		}
		return src
	}, zeroOf(x.DType()))
}

// batchToSpaceRef: out[n, y..., rest] = x[o·batch + n, (y_k + c_k0)/b_k, ..., rest]
// with o_k = (y_k + c_k0) mod b_k.
func batchToSpaceRef(x *tfops.Tensor, block []int, crops [][2]int) *tfops.Tensor {
	xs := x.Shape()
	m := len(block)
	batch := xs[0] / numElems(block)
	od := []int{batch}
	for k := 0; k < m; k++ {
		od = append(od, xs[1+k]*block[k]-crops[k][0]-crops[k][1])
	}
	od = append(od, xs[1+m:]...)
	return gatherRef(x, od, func(idx []int) []int {
		o := make([]int, m)
		src := append([]int{0}, idx[1:]...)
		for k := 0; k < m; k++ {
			y := idx[1+k] + crops[k][0]
			o[k], src[1+k] = y%block[k], y/block[k]
		}
		src[0] = ravel(o, block)*batch + idx[0]
		return src
	}, nil)
}

func zeroOf(d tfops.DType) any {
	switch d {
	case tfops.Float:
		return float32(0)
	case tfops.Double:
		return float64(0)
	case tfops.Int32:
		return int32(0)
	}
	return int64(0)
}

func pairs(p [][2]int) *tfops.Tensor {
	v := make([]int64, 0, 2*len(p))
	for _, e := range p {
		v = append(v, int64(e[0]), int64(e[1]))
	}
	return tensorI(tfops.Int32, []int{len(p), 2}, v)
}

func ints64(v []int) []int64 {
	out := make([]int64, len(v))
	for i, e := range v {
		out[i] = int64(e)
	}
	return out
}

func spaceBatchCases() []Case {
	f := tfops.Float
	var cs []Case
	for _, sc := range []struct {
		name  string
		dims  []int
		block []int
		pads  [][2]int
	}{{"2d", []int{2, 4, 6, 3}, []int{2, 2}, [][2]int{{0, 0}, {0, 0}}},
		{"2d-padded", []int{1, 5, 4, 2}, []int{2, 3}, [][2]int{{2, 3}, {1, 1}}},
		{"1d-rest", []int{3, 6, 2, 2}, []int{3}, [][2]int{{1, 2}}}} {
		sc := sc
		cs = append(cs, exact("SpaceToBatchND/float32/"+sc.name, "SpaceToBatchND", "block offsets moved to the batch, zero padding", func(s *tfops.Scope, g *Graph) {
			xt := tensorF(f, sc.dims, randn(rng(103), numElems(sc.dims), 1))
			g.Fetches = outputs(addOp(s, "SpaceToBatchND", []any{feed(s, g, "x", xt), tfops.Const(s, i32(ints64(sc.block)...)), tfops.Const(s, pairs(sc.pads))},
				map[string]any{"T": f, "Tblock_shape": tfops.Int32, "Tpaddings": tfops.Int32}, f))
			g.Want = []*tfops.Tensor{spaceToBatchRef(xt, sc.block, sc.pads)}
		}))
		crops := sc.pads
		bdims := append([]int{}, sc.dims...)
		bdims[0] *= numElems(sc.block)
		for k := range sc.block {
			bdims[1+k] = (sc.dims[1+k] + sc.pads[k][0] + sc.pads[k][1]) / sc.block[k]
		}
		cs = append(cs, exact("BatchToSpaceND/float32/"+sc.name, "BatchToSpaceND", "the batch moved back into blocks, cropped", func(s *tfops.Scope, g *Graph) {
			xt := tensorF(f, bdims, randn(rng(104), numElems(bdims), 1))
			g.Fetches = outputs(addOp(s, "BatchToSpaceND", []any{feed(s, g, "x", xt), tfops.Const(s, i32(ints64(sc.block)...)), tfops.Const(s, pairs(crops))},
				map[string]any{"T": f, "Tblock_shape": tfops.Int32, "Tcrops": tfops.Int32}, f))
			g.Want = []*tfops.Tensor{batchToSpaceRef(xt, sc.block, crops)}
		}))
	}
	cs = append(cs,
		failing("SpaceToBatchND/float32/not-divisible", "SpaceToBatchND", "a padded dimension the block does not divide", func(s *tfops.Scope, g *Graph) {
			x := feedUnknown(s, g, "x", arange(f, 1, 5, 4, 1))
			g.Fetches = outputs(addOp(s, "SpaceToBatchND", []any{x, tfops.Const(s, i32(2, 2)), tfops.Const(s, pairs([][2]int{{0, 0}, {0, 0}}))},
				map[string]any{"T": f, "Tblock_shape": tfops.Int32, "Tpaddings": tfops.Int32}, f))
		}),
		failing("BatchToSpaceND/float32/batch-not-divisible", "BatchToSpaceND", "a batch the block product does not divide", func(s *tfops.Scope, g *Graph) {
			x := feedUnknown(s, g, "x", arange(f, 3, 2, 2, 1))
			g.Fetches = outputs(addOp(s, "BatchToSpaceND", []any{x, tfops.Const(s, i32(2, 2)), tfops.Const(s, pairs([][2]int{{0, 0}, {0, 0}}))},
				map[string]any{"T": f, "Tblock_shape": tfops.Int32, "Tcrops": tfops.Int32}, f))
		}),
	)
	// Keras DepthwiseConv2D(3, dilation_rate=2, padding="same") on 7×7:
	// with_space_to_batch pads (2, 3), runs the VALID depthwise
	// convolution on the 4× batch, and crops (0, 1).
	for _, hw := range []int{7, 8} {
		hw := hw
		cs = append(cs, Case{Name: fmt.Sprintf("SpaceToBatchND/float32/dilated-depthwise-%d", hw), Op: "SpaceToBatchND",
			Description: "SpaceToBatchND, DepthwiseConv2dNative, BatchToSpaceND = a depthwise convolution with dilation 2, SAME",
			Build: func(s *tfops.Scope) Graph {
				var g Graph
				xd, fd := []int{2, hw, hw, 3}, []int{3, 3, 3, 1}
				xt := tensorF(f, xd, randn(rng(105), numElems(xd), 1))
				ft := tensorF(f, fd, randn(rng(106), numElems(fd), 0.5))
				extra := (hw + 4) % 2
				pads := [][2]int{{2, 2 + extra}, {2, 2 + extra}}
				crops := [][2]int{{0, extra}, {0, extra}}
				sb := addOp(s, "SpaceToBatchND", []any{feed(s, &g, "x", xt), tfops.Const(s, i32(2, 2)), tfops.Const(s, pairs(pads))},
					map[string]any{"T": f, "Tblock_shape": tfops.Int32, "Tpaddings": tfops.Int32}, f)
				if sb == nil {
					return g
				}
				dw := addOp(s, "DepthwiseConv2dNative", []any{sb.Output(0), feed(s, &g, "f", ft)}, nhwcAttrs(f, 1, 1, "VALID"), f)
				if dw == nil {
					return g
				}
				g.Fetches = outputs(addOp(s, "BatchToSpaceND", []any{dw.Output(0), tfops.Const(s, i32(2, 2)), tfops.Const(s, pairs(crops))},
					map[string]any{"T": f, "Tblock_shape": tfops.Int32, "Tcrops": tfops.Int32}, f))
				g.Want = []*tfops.Tensor{conv2DRef(xt, ft, 1, 2, "SAME", true)}
				g.Tol = Tolerance{ULP: 4, Rel: 1e-5, Abs: 1e-5}
				return g
			}})
	}
	return cs
}
