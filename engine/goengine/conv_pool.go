package goengine

import (
	"fmt"
	"strings"

	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	typespb "github.com/wamuir/graft/tensorflow/core/framework/types_go_proto"

	"github.com/tfseg/tfseg/engine/goengine/internal/gemm"
	"github.com/tfseg/tfseg/engine/goengine/internal/parallel"
	"github.com/tfseg/tfseg/tfops"
)

// Max-pool fused into the convolution before it: the U-Net's encoder step
//
//	_FusedConv2D (float32, NHWC, VALID, unit strides and dilations,
//	              fused_ops [BiasAdd] or [BiasAdd, Relu]) → MaxPool
//	              (NHWC, VALID, ksize = strides in height and width)
//
// becomes one _FusedConv2DMaxPool node (an op internal to this engine)
// with two outputs: output 0 the convolution's output, stored in full as
// before (the U-Net's skip connection crops it later), and output 1 the
// pooled one. It computes the convolution in bands of output rows, each a
// whole number of pooling windows high, claimed by one worker at a time
// (parallel.Dynamic over the bands, gemm.Run on one thread per band),
// which pools the band's rows right after storing them, while they are in
// its cache, instead of a separate MaxPool reading the whole output back
// from memory. Rows past the last whole window (an odd height) are
// computed with the last band and not pooled, as VALID pooling leaves
// them.
//
// On the U-Net fixture at 1x572x572x1 (2 threads), the two pools after
// the 16→16 convolution at 568x568 (20.6 MB of output) and the 32→32 one
// at 280x280 (10 MB) took 0.85 and 0.75 ms as their own nodes (at 25-33
// GB/s, memory bound), next to 4.4 and 4.0 ms for the convolutions.
// Measured in one process alternating fused and unfused runs (medians of
// 30 on a loaded machine, 2 threads), the pairs went from 4.32 + 0.73 to
// 4.71 ms and from 3.85 + 0.48 to 4.24 ms (another round: 5.03 to 4.43 and
// 4.31 to 3.95 ms), a run from 47.9 to 47.4 ms (44.8 to 44.2). The gain is
// smaller than the pools' time: pooling a band from the L2 cache still
// costs a third to a half of the separate node on one thread (0.45 of
// 1.06 ms for the 568x568 layer, min of 40), and the banded GEMM is 1-3%
// slower than the whole-image one (its streams restart every band).
// Bands of 4, 8, 16 and 24 rows measured the same within the noise.
//
// The results are the unfused nodes' bits: each band is the unfused
// convolution's GEMM over those rows (the same jobs' rows, sums and
// micro-kernel; a band is never shorter than the micro-kernel's tile,
// where the portable kernel would run instead), and the pooling is
// poolGeneric, the MaxPool kernel itself, over the band's rows
// (maxPool2x2's row kernel for 2x2 windows: NaN propagates, max(-0, +0)
// is +0, as TensorFlow's).
//
// The rewrite (fuseConvPools, called by fuseConvChains once its chains are
// fused) keeps the convolution node's name for the fused node, so every
// reference to the convolution still reads output 0, and turns the
// MaxPool node into an Identity of output 1 under its own name. When the
// shapes or attrs do not allow the bands at run time, the kernel runs the
// _FusedConv2D and MaxPool kernels one after the other.

func init() { Register("_FusedConv2DMaxPool", fusedConv2DMaxPoolKernel) }

// convPoolBandRows is the height of the bands of convolution output rows
// fusedConv2DMaxPoolKernel computes and pools at a time (rounded up to a
// whole number of pooling windows).
const convPoolBandRows = 8

// fuseConvPools returns nodes with each MaxPool that fuses into the
// _FusedConv2D before it rewritten (a new slice; the NodeDefs of nodes
// are not modified), or nil when there is none. A convolution read by
// several pools fuses the first.
func fuseConvPools(nodes []*nodepb.NodeDef) []*nodepb.NodeDef {
	index := make(map[string]int, len(nodes))
	for i, n := range nodes {
		index[n.GetName()] = i
	}
	var out []*nodepb.NodeDef
	for i, pool := range nodes {
		data := dataInputs(pool)
		if !poolFusable(pool) || len(data) != 1 || !refIsOutput0(data[0]) {
			continue
		}
		j, ok := index[refNode(data[0])]
		if !ok || (out != nil && out[j] != nodes[j]) || !convPoolable(nodes[j]) {
			continue
		}
		if out == nil {
			out = append([]*nodepb.NodeDef{}, nodes...)
		}
		conv := nodes[j]
		attrs := make(map[string]*attrpb.AttrValue, len(conv.GetAttr())+4)
		for k, v := range conv.GetAttr() {
			attrs[k] = v
		}
		pa := pool.GetAttr()
		attrs["pool_ksize"], attrs["pool_strides"], attrs["pool_padding"] = pa["ksize"], pa["strides"], pa["padding"]
		attrs["pool_node"] = &attrpb.AttrValue{Value: &attrpb.AttrValue_S{S: []byte(pool.GetName())}}
		op := "_FusedConv2DMaxPool"
		if conv.GetOp() == "_FusedConvPair2D" {
			op = conv.GetOp() // the pair pools its second convolution's bands (conv_pair.go)
		}
		out[j] = &nodepb.NodeDef{Name: conv.GetName(), Op: op, Input: conv.GetInput(), Device: conv.GetDevice(), Attr: attrs}
		// Output 1 in the syntax of the pool's reference: "conv:1", or
		// "conv:arg:1" in a function body.
		ref := refNode(data[0]) + ":1"
		if strings.Count(data[0], ":") == 2 {
			ref = data[0][:strings.LastIndexByte(data[0], ':')] + ":1"
		}
		out[i] = &nodepb.NodeDef{Name: pool.GetName(), Op: "Identity", Input: append([]string{ref}, controlInputs(pool)...),
			Device: pool.GetDevice(), Attr: map[string]*attrpb.AttrValue{"T": {Value: &attrpb.AttrValue_Type{Type: typespb.DataType_DT_FLOAT}}}}
	}
	return out
}

// poolFusable reports whether n is a float32 NHWC VALID MaxPool whose
// windows tile the input (ksize = strides, ones for batch and depth).
func poolFusable(n *nodepb.NodeDef) bool {
	a := n.GetAttr()
	if n.GetOp() != "MaxPool" || !isNHWC(n) || string(a["padding"].GetS()) != "VALID" ||
		(a["T"] != nil && a["T"].GetType() != typespb.DataType_DT_FLOAT) {
		return false
	}
	_, _, ok := tilingPool(a["ksize"].GetList().GetI(), a["strides"].GetList().GetI(), "VALID")
	return ok
}

// tilingPool returns the window of an NHWC pool whose windows tile its
// input, the only pools fused into convolutions: VALID, ksize = strides,
// ones for batch and depth.
func tilingPool(ksize, strides []int64, padding string) (ph, pw int, ok bool) {
	if padding != "VALID" || len(ksize) != 4 || len(strides) != 4 || ksize[0] != 1 || ksize[3] != 1 || strides[0] != 1 || strides[3] != 1 ||
		ksize[1] != strides[1] || ksize[2] != strides[2] || ksize[1] < 1 || ksize[2] < 1 {
		return 0, 0, false
	}
	return int(ksize[1]), int(ksize[2]), true
}

// bandPool pools a convolution's output (n images of oh x ow pixels of c
// channels) band by band into dst with windows of ph x pw that tile it,
// with poolGeneric, the MaxPool kernel itself.
type bandPool struct {
	g        convGeom // one band's pooling geometry, its height set per band
	poh, pow int
	dst      []float32
}

func newBandPool(ph, pw, oh, ow, c int, dst []float32) bandPool {
	pow := ow / pw
	return bandPool{g: convGeom{n: 1, w: ow, c: c, kh: ph, kw: pw,
		wh: window{k: ph, stride: ph, dilation: 1}, ww: window{in: ow, k: pw, stride: pw, dilation: 1, out: pow}},
		poh: oh / ph, pow: pow, dst: dst}
}

// rows pools rows [y0, y1) of image img, whose values src holds from row
// y0 on, where y0 is a multiple of the window height: the windows wholly
// inside them (rows past the last whole window are not pooled, as VALID
// pooling leaves them).
func (bp bandPool) rows(src []float32, img, y0, y1 int) {
	ph, ow, c := bp.g.kh, bp.g.w, bp.g.c
	p0, p1 := y0/ph, min(y1/ph, bp.poh)
	if p1 <= p0 {
		return
	}
	g := bp.g
	g.h, g.wh.in, g.wh.out = (p1-p0)*ph, (p1-p0)*ph, p1-p0
	poolGeneric(g, src[:g.h*ow*c], bp.dst[(img*bp.poh+p0)*bp.pow*c:][:(p1-p0)*bp.pow*c], false, 1)
}

// convPoolable reports whether n is a _FusedConv2D whose output the bands
// of _FusedConv2DMaxPool compute: float32, NHWC, VALID, unit strides and
// dilations, the bias and at most a ReLU applied in the GEMM.
// A _FusedConvPair2D without a softmax whose second convolution is such
// a _FusedConv2D also is (the pair then pools the bands it computes).
func convPoolable(n *nodepb.NodeDef) bool {
	a := n.GetAttr()
	if n.GetOp() == "_FusedConvPair2D" && len(dataInputs(n)) == 5 && !a["softmax"].GetB() && a["pool_ksize"] == nil {
		return convPoolable(&nodepb.NodeDef{Op: "_FusedConv2D", Input: []string{"x", "f", "b"}, Attr: prefixedAttrs(a, convPairB)})
	}
	if n.GetOp() != "_FusedConv2D" || len(dataInputs(n)) != 3 || a["T"].GetType() != typespb.DataType_DT_FLOAT || !isNHWC(n) ||
		string(a["padding"].GetS()) != "VALID" || !unitInts(a["strides"], true) || !unitInts(a["dilations"], false) {
		return false
	}
	if na := a["num_args"]; na != nil && na.GetI() != 1 {
		return false
	}
	ops := a["fused_ops"].GetList().GetS()
	return (len(ops) == 1 || len(ops) == 2 && string(ops[1]) == "Relu") && string(ops[0]) == "BiasAdd"
}

// fusedConv2DMaxPoolKernel computes _FusedConv2DMaxPool (see
// fuseConvPools): inputs and attrs those of _FusedConv2D, plus the
// MaxPool's ksize, strides and padding as pool_ksize, pool_strides and
// pool_padding and its name as pool_node; outputs the convolution's and
// the pool's.
func fusedConv2DMaxPoolKernel(c *Context) ([]*tfops.Tensor, error) {
	fo, err := c.convFusedOps(3)
	if err != nil {
		return nil, err
	}
	ksize, err1 := c.AttrInts("pool_ksize")
	strides, err2 := c.AttrInts("pool_strides")
	padding, err3 := c.AttrStringOr("pool_padding", "")
	if err1 != nil || err2 != nil || err3 != nil || ksize == nil || strides == nil {
		return nil, c.Errorf("attrs pool_ksize, pool_strides (int lists) and pool_padding (a string) are required")
	}
	poolNode, _ := c.AttrStringOr("pool_node", "")
	pool := &attrpb.NameAttrList{Name: "MaxPool", Attr: map[string]*attrpb.AttrValue{
		"ksize": c.Attr("pool_ksize"), "strides": c.Attr("pool_strides"), "padding": c.Attr("pool_padding")}}
	x, f := c.Inputs[0], c.Inputs[1]
	ph, pw, ok := c.convPoolBands(x, f, fo, ksize, strides, padding)
	if !ok {
		conv, err := fusedConv2DKernel(c)
		if err != nil {
			return nil, err
		}
		pooled, err := poolKernel(false, false)(c.sub(pool, conv))
		if err != nil {
			return nil, fmt.Errorf("max-pool %q (fused into this node): %w", poolNode, err)
		}
		return []*tfops.Tensor{conv[0], pooled[0]}, nil
	}
	g, out, err := c.convGeometry(x, f, false)
	if err != nil {
		return nil, err
	}
	n, oh, ow, o := g.n, g.wh.out, g.ww.out, g.o
	pooled, err := c.AllocUninit(tfops.Float, n, oh/ph, ow/pw, o)
	if err != nil {
		return nil, err
	}
	b := gemm.PackPanels(f.Float32s(), g.kh*g.kw*g.c, o, o, 1)
	fo.epilogue().apply(b)
	rows := convPoolRows(ph, oh, g.w, ow)
	nb := oh / rows // the last band also takes the rows past nb·rows
	xv, dst := x.Float32s(), out.Float32s()
	bp := newBandPool(ph, pw, oh, ow, o, pooled.Float32s())
	parallel.Dynamic(c.Threads(), n*nb, 1, func() func(b0, b1 int) {
		return func(b0, b1 int) {
			for bi := b0; bi < b1; bi++ {
				img, y0 := bi/nb, bi%nb*rows
				y1 := y0 + rows
				if bi%nb == nb-1 {
					y1 = oh
				}
				coff := (img*oh + y0) * ow * o
				job := validRowsJob(xv, (img*g.h+y0)*g.w*g.c, g.w, g.c, g.kh, g.kw, y1-y0, ow, o, coff)
				gemm.RunOne(job, b, dst, 1, false)
				bp.rows(dst[coff:], img, y0, y1)
			}
		}
	})
	return []*tfops.Tensor{out, pooled}, nil
}

// convPoolBands reports whether fusedConv2DMaxPoolKernel computes its
// node in bands, and the pooling window's height and width: float32 NHWC
// input and filter of the same depth, a VALID convolution with unit
// strides and dilations, a float32 bias of the output depth, no
// activation but a ReLU, and a VALID NHWC pool whose windows tile the
// convolution's output (at least one of them).
func (c *Context) convPoolBands(x, f *tfops.Tensor, fo convFusedOps, ksize, strides []int64, padding string) (ph, pw int, ok bool) {
	if x.DType() != tfops.Float || f.DType() != tfops.Float || x.Rank() != 4 || f.Rank() != 4 {
		return 0, 0, false
	}
	xs, fs := x.Shape(), f.Shape()
	df, _ := c.AttrStringOr("data_format", "NHWC")
	if s, _ := c.AttrStringOr("padding", ""); s != "VALID" || df != "NHWC" || !unitInts(c.Attr("strides"), true) || !unitInts(c.Attr("dilations"), false) {
		return 0, 0, false
	}
	if (fo.act != "" && fo.act != "Relu") || fo.checkBias(c, tfops.Float, fs[3]) != nil || xs[3] != fs[2] {
		return 0, 0, false
	}
	ph, pw, ok = tilingPool(ksize, strides, padding)
	oh, ow := xs[1]-fs[0]+1, xs[2]-fs[1]+1
	if !ok || oh < ph || ow < pw || xs[0] == 0 || fs[0]*fs[1]*fs[2] == 0 || fs[3] == 0 {
		return 0, 0, false
	}
	if 4*xs[0]*oh*ow*fs[3] < convPoolMinBytes {
		return 0, 0, false
	}
	return ph, pw, true
}

// convPoolMinBytes is the smallest convolution output that
// fusedConv2DMaxPoolKernel computes in bands: a smaller one stays in the
// last-level cache for the pool after it, and the whole-image GEMM then
// costs less than the bands' restarts. Measured on the U-Net fixture (2
// threads, three alternating rounds of 20 runs): its 32→32 convolution
// and pool at 4x88x88x32 (4 MB) took 2.9-3.4 ms unbanded and 3.3-3.7 ms
// banded; at 1x280x280x32 (10 MB) 7.5-8.3 ms unbanded and 7.0-8.0 ms
// banded. Tests set it to 0.
var convPoolMinBytes = 8 << 20

// convPoolRows returns the height of the bands of a convolution of oh
// output rows of ow pixels read from rows of w pixels, pooled ph rows at a
// time: convPoolBandRows rounded up to whole windows and to an even count
// (the AVX-512 GEMM computes one-panel convolutions two rows at a time and
// an odd last row alone, at half the speed: 21 µs for one 568-pixel row of
// the U-Net's 16→16 layer, 45 µs for two), raised until a band is at least
// the micro-kernel's tile (gemm.TileRows; a shorter GEMM runs the portable
// kernel, whose sums may round otherwise than the unfused convolution's),
// at most oh (one band).
func convPoolRows(ph, oh, w, ow int) int {
	step := ph
	if ph%2 == 1 {
		step = 2 * ph
	}
	rows := (convPoolBandRows + step - 1) / step * step
	for rows < oh && (rows-1)*w+ow < gemm.TileRows() {
		rows += step
	}
	return min(rows, oh)
}
