package goengine

import (
	"fmt"
	"maps"
	"strings"
	"sync/atomic"

	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	typespb "github.com/wamuir/graft/tensorflow/core/framework/types_go_proto"

	"github.com/tfseg/tfseg/engine/goengine/internal/gemm"
	"github.com/tfseg/tfseg/engine/goengine/internal/parallel"
	"github.com/tfseg/tfseg/engine/goengine/internal/vec"
	"github.com/tfseg/tfseg/tfops"
)

// Two convolutions in a row, computed band by band: the chain
//
//	_FusedConv2D A → _FusedConv2D B [→ Softmax]
//
// where A's output is read only by B (and B's only by the Softmax), both
// float32, NHWC and VALID with unit strides and dilations, becomes one
// _FusedConvPair2D node (an op internal to this engine) named after the
// chain's last node. The Keras U-Net's head is such a chain: its last 3x3
// convolution (16→16 channels + bias + ReLU at 532x532), the 1x1
// convolution to 2 classes and the softmax. Unfused, the 3x3 layer writes
// its 18 MB output to memory and the 1x1 layer reads it back: per-op wall
// times on 2 threads at 1x572x572x1 (quiet machine) were 3.8 ms for the
// 3x3 layer, 1.3 ms for the 1x1 layer (memory-bound: 2 output channels per
// 16 inputs read) and 0.83 ms for the softmax (0.48 ms since it is
// vectorized). Fused, with runs of 20 unfused and fused interleaved on the
// machine shared with other work (min / median of 6): the three ops 6.0 /
// 6.5 ms unfused, 4.9 / 5.2 ms as a pair; the U-Net's first block (3x3
// 1→16 then 3x3 16→16 at 570 and 568 pixels) 6.4 / 7.5 ms unfused, 5.5 /
// 6.2 ms as a pair; the whole run 51.3 / 56.5 -> 49.3 / 54.3 ms. At
// 4x188x188x1 (min / median of 8): the head 1.74 / 1.98 -> 1.53 / 1.73 ms,
// the run 17.9 / 19.2 -> 16.7 / 18.7 ms. Bands of 4, 8 and 16 rows ran the
// head alike (5.1 ms each in one loaded round).
//
// A max-pool that reads B's output (the U-Net's first block: the pool
// before the next block, while the skip connection crops B's output) is
// fused into the pair as into a _FusedConv2DMaxPool (conv_pool.go: the
// node gains the pool's output as output 1): each band is pooled after B's
// rows are stored, while they are in the cache; a pair that falls back to
// its unfused convolutions runs B with the _FusedConv2DMaxPool kernel. On
// the fixture at 1x572x572x1 the first block's pair and its separate pool
// took 5.7-6.6 + 0.9-1.0 ms, with the pool fused 5.7-7.2 ms (three
// alternating loaded rounds).
//
// The fused kernel splits B's output into bands of convPairBandRows rows,
// which workers claim one at a time, each preferring the band below the
// one it just computed (parallel.Runs). For its band a worker computes the
// A rows the band needs (kh_B - 1 rows more than the band) into a scratch
// buffer of its own small enough to stay in its core's L2 cache, then B's
// rows from that buffer into the output, then the softmax of those rows:
// the intermediate never goes to memory. The kh_B - 1 A rows a band
// shares with the band above are moved to the front of the buffer when
// the worker computed that band just before, and computed again only where
// a worker's run of bands starts (an image's first band, or where it takes
// over the second half of another worker's untaken bands: a few times per
// image). While every band computed its overlap again, the U-Net's 16→32
// and 32→64 channel blocks (3·3·16 and 3·3·32 products per A element) ran
// faster unfused and were left so; reusing the rows, both run in bands
// too: per-op minimum over 40 runs at 1x572x572x1, alternating builds, the
// 16→32 block 5.68-5.75 -> 5.12-5.45 ms, the 32→64 block 4.74-4.85 ->
// 4.77-5.08 ms (alike), the fastest whole run 38.6-38.9 -> 36.1-36.9 ms
// (with the concatenations' transposed-convolution rows reused as well,
// conv_concat.go).
//
// The results are the unfused ops' bits. Each GEMM element is the float32
// sum over the filter taps in one fixed order, kept in registers for the
// whole sum (package gemm), whichever tile and band it falls in: the
// AVX-512 kernels' tile shapes (14×32, 28×16, the row-pair and narrow
// kernels) sum alike, and so does the portable kernel (kernelGo, whose
// multiply-adds round once as the FMAs do); every band's GEMM has at
// least gemm.TileRows() rows (both output widths are that wide or the
// chain runs unfused), so that the slower portable kernel does not run
// where the whole image's GEMM would not. Activations other than ReLU, and the softmax, are the same
// float32 steps per element or per row as their kernels take (convFinish,
// softmaxRows32 with its denormal flushes).
//
// The nodes of the chain stay in the graph under their names, so a caller
// fetching A's or B's output still gets it. When the tensors do not line
// up at run time (shapes, dtypes, a grouped convolution, attrs), an
// output row is narrower than a GEMM tile, or there are fewer bands than
// threads (a band is one worker's; the unfused convolutions share their
// rows among all), the kernel runs the chain with its ops' own kernels
// (convPairUnfused), whose errors it returns.

// convPairBandRows is the height of the bands of B's output rows the
// fused kernel computes at a time. Since bands reuse the rows they share
// (parallel.Runs), their height no longer sets how much is computed twice;
// smaller bands leave less of a band for one core to finish while the
// other waits at the end of the op. The U-Net with the pair and
// concatenation bands both 2, 4, 6 or 8 rows high (medians of 8
// alternating rounds, two sessions of the shared machine): 1x572x572x1
// 46.2 / 44.7 / 46.2 / 46.3 ms and (4 against 8 alone) 40.1 against
// 42.0 ms; 4x188x188x1 18.0 / 16.6 / 17.2 / 16.6 ms.
const convPairBandRows = 4

// fuseConvPairs returns nodes (with their convolution chains fused) with
// each chain A → B [→ Softmax] rewritten as a _FusedConvPair2D node, a new
// slice and true when there are any. uses counts the references to each
// node in the graph before any fusion (the fused nodes keep the names of
// the nodes whose references they take over).
func fuseConvPairs(nodes []*nodepb.NodeDef, uses map[string]int) ([]*nodepb.NodeDef, bool) {
	return rewriteEach(nodes, uses, convPairAt)
}

// convPairAt returns the _FusedConvPair2D node replacing the chain that
// ends at last (a Softmax or the second convolution), or nil. byName holds
// the nodes before this rewrite, so a convolution that is itself the end
// of a chain is still seen as the _FusedConv2D it is.
func convPairAt(last *nodepb.NodeDef, byName map[string]*nodepb.NodeDef, uses map[string]int) *nodepb.NodeDef {
	b, softmax := last, (*nodepb.NodeDef)(nil)
	if last.GetOp() == "Softmax" {
		d := dataInputs(last)
		if last.GetAttr()["T"].GetType() != typespb.DataType_DT_FLOAT || len(d) != 1 || !refIsOutput0(d[0]) {
			return nil
		}
		b, softmax = byName[refNode(d[0])], last
		if b == nil || uses[b.GetName()] != 1 {
			return nil
		}
	}
	bd := dataInputs(b)
	if !pairableConv(b) || len(bd) != 3 || !refIsOutput0(bd[0]) {
		return nil
	}
	a := byName[refNode(bd[0])]
	ad := dataInputs(a)
	if a == nil || uses[a.GetName()] != 1 || !pairableConv(a) || len(ad) != 3 {
		return nil
	}
	inputs := append(ad, bd[1], bd[2])
	names := [][]byte{[]byte(a.GetName()), []byte(b.GetName())}
	seen := map[string]bool{}
	for _, n := range []*nodepb.NodeDef{a, b, softmax} {
		if n != nil {
			for _, in := range controlInputs(n) {
				if !seen[in] {
					seen[in] = true
					inputs = append(inputs, in)
				}
			}
		}
	}
	// Each convolution's attrs under a prefix (not as func attrs: the
	// executor takes a node with those for a function call that may keep
	// its inputs, and never recycles them).
	attrs := map[string]*attrpb.AttrValue{
		"T":       {Value: &attrpb.AttrValue_Type{Type: typespb.DataType_DT_FLOAT}},
		"softmax": {Value: &attrpb.AttrValue_B{B: softmax != nil}},
		"nodes":   {Value: &attrpb.AttrValue_List{List: &attrpb.AttrValue_ListValue{S: names}}},
	}
	for prefix, n := range map[string]*nodepb.NodeDef{convPairA: a, convPairB: b} {
		for k, v := range n.GetAttr() {
			attrs[prefix+k] = v
		}
	}
	return &nodepb.NodeDef{Name: last.GetName(), Op: "_FusedConvPair2D", Input: inputs, Device: last.GetDevice(), Attr: attrs}
}

// pairableConv reports whether n is a float32 NHWC _FusedConv2D, VALID
// with unit strides and dilations.
func pairableConv(n *nodepb.NodeDef) bool {
	return n != nil && n.GetOp() == "_FusedConv2D" && pairableAttrs(n.GetAttr())
}

func pairableAttrs(a map[string]*attrpb.AttrValue) bool {
	f, ok := a["data_format"]
	return a["T"].GetType() == typespb.DataType_DT_FLOAT && (!ok || string(f.GetS()) == "NHWC") &&
		string(a["padding"].GetS()) == "VALID" && unitInts(a["strides"], true) && unitInts(a["dilations"], false)
}

// fusedConvPair2DKernel computes _FusedConvPair2D (see fuseConvPairs):
// inputs x, A's filter and bias, B's filter and bias; attrs A's and B's
// (those of _FusedConv2D) prefixed a_ and b_, softmax (whether a Softmax
// follows B) and nodes (A's and B's names, for errors).
func fusedConvPair2DKernel(c *Context) ([]*tfops.Tensor, error) {
	if len(c.Inputs) != 5 {
		return nil, c.Errorf("expects 5 inputs (x, then each convolution's filter and bias), got %d", len(c.Inputs))
	}
	pa, pb := c.convPairAttrs(convPairA), c.convPairAttrs(convPairB)
	softmax, err := c.AttrBoolOr("softmax", false)
	if err != nil {
		return nil, err
	}
	names, _ := c.AttrStrings("nodes")
	if len(names) != 2 {
		names = []string{"conv_a", "conv_b"}
	}
	x, fa, fb := c.Inputs[0], c.Inputs[1], c.Inputs[3]
	foA, errA := c.sub(pa, c.Inputs[:3]).convFusedOps(3)
	foB, errB := c.sub(pb, append([]*tfops.Tensor{x}, c.Inputs[3:]...)).convFusedOps(3)
	ok := errA == nil && errB == nil && pairableAttrs(pa.GetAttr()) && pairableAttrs(pb.GetAttr())
	for _, t := range []*tfops.Tensor{x, fa, fb} {
		ok = ok && t.DType() == tfops.Float && t.Rank() == 4
	}
	// A max-pool of B's output fused into the node (fuseConvPools): its
	// windows, ph x pw, when they tile whole bands.
	pooling := c.Attr("pool_ksize") != nil
	if pooling {
		pb = &attrpb.NameAttrList{Name: "_FusedConv2DMaxPool", Attr: maps.Clone(pb.GetAttr())}
		for _, k := range []string{"pool_ksize", "pool_strides", "pool_padding", "pool_node"} {
			if v := c.Attr(k); v != nil {
				pb.Attr[k] = v
			}
		}
	}
	ph, pw := c.pairPool()
	if !ok || pooling && (ph == 0 || convPairBandRows%ph != 0) {
		return c.convPairUnfused(pa, pb, softmax, names)
	}
	xs, as, bs := x.Shape(), fa.Shape(), fb.Shape()
	n, h, w, ch := xs[0], xs[1], xs[2], xs[3]
	oa, ob := as[3], bs[3]
	oh1, ow1 := h-as[0]+1, w-as[1]+1
	oh2, ow2 := oh1-bs[0]+1, ow1-bs[1]+1
	mr := gemm.TileRows()
	nb := (oh2 + convPairBandRows - 1) / convPairBandRows // bands per image
	if as[2] != ch || bs[2] != oa || ch == 0 || oa == 0 || ob == 0 || as[0] == 0 || as[1] == 0 || bs[0] == 0 || bs[1] == 0 ||
		n == 0 || oh2 <= 0 || ow2 < mr || ow1 < mr || n*nb < c.Threads() ||
		foA.checkBias(c, tfops.Float, oa) != nil || foB.checkBias(c, tfops.Float, ob) != nil || pooling && (oh2 < ph || ow2 < pw) {
		return c.convPairUnfused(pa, pb, softmax, names)
	}
	out, err := c.AllocUninit(tfops.Float, n, oh2, ow2, ob)
	if err != nil {
		return nil, err
	}
	outs := []*tfops.Tensor{out}
	var bp bandPool
	if pooling {
		pooled, err := c.AllocUninit(tfops.Float, n, oh2/ph, ow2/pw, ob)
		if err != nil {
			return nil, err
		}
		outs, bp = append(outs, pooled), newBandPool(ph, pw, oh2, ow2, ob, pooled.Float32s())
	}
	panA := gemm.PackPanels(fa.Float32s(), as[0]*as[1]*ch, oa, oa, 1)
	foA.epilogue().apply(panA)
	panB := gemm.PackPanels(fb.Float32s(), bs[0]*bs[1]*oa, ob, ob, 1)
	foB.epilogue().apply(panB)
	xd, dst := x.Float32s(), out.Float32s()
	scratchLen := min(convPairBandRows+bs[0]-1, oh1) * ow1 * oa
	threads := min(c.Threads(), n*nb)
	buf, done := c.scratch(threads * scratchLen)
	defer done()
	var workers atomic.Int32 // each worker takes its slot of buf
	rowA := ow1 * oa
	keep := bs[0] - 1 // A rows a band shares with the band before it
	parallel.Runs(threads, n*nb, func(bi int) bool { return bi%nb == 0 }, func() func(bi int, cont bool) {
		slot := int(workers.Add(1)) - 1
		mid := buf[slot*scratchLen : (slot+1)*scratchLen]
		k := vec.Current()
		return func(bi int, cont bool) {
			img, y0 := bi/nb, bi%nb*convPairBandRows
			y1 := min(oh2, y0+convPairBandRows)
			ra := y1 - y0 + keep // A rows y0 .. y0+ra-1
			// After the band above (cont: a full band, computed by this
			// worker just before), its last keep A rows are this band's
			// first: moved to the front, not computed again.
			r0 := 0
			if cont {
				r0 = keep
				copy(mid[:keep*rowA], mid[convPairBandRows*rowA:(convPairBandRows+keep)*rowA])
			}
			jobA := validRowsJob(xd, (img*h+y0+r0)*w*ch, w, ch, as[0], as[1], ra-r0, ow1, oa, r0*rowA)
			gemm.RunOne(jobA, panA, mid, 1, false)
			foA.finishRows32(mid[r0*rowA : ra*rowA])
			coff := (img*oh2 + y0) * ow2 * ob
			jobB := validRowsJob(mid, 0, ow1, oa, bs[0], bs[1], y1-y0, ow2, ob, coff)
			gemm.RunOne(jobB, panB, dst, 1, false)
			rows := dst[coff : coff+(y1-y0)*ow2*ob]
			foB.finishRows32(rows)
			if softmax {
				softmaxInPlace32(k, rows, ob)
			}
			// The pool of the band's windows (bands are whole windows
			// high) while the rows are in the cache, as
			// fusedConv2DMaxPoolKernel does.
			if pooling {
				bp.rows(rows, img, y0, y1)
			}
		}
	})
	return outs, nil
}

// pairPool returns the window of the max-pool fused into a pair node
// (pool_ksize, pool_strides and pool_padding), when it is one
// fusedConv2DMaxPoolKernel computes (VALID, NHWC windows that tile the
// output), else zeros.
func (c *Context) pairPool() (ph, pw int) {
	k, err1 := c.AttrInts("pool_ksize")
	s, err2 := c.AttrInts("pool_strides")
	p, err3 := c.AttrStringOr("pool_padding", "")
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0
	}
	ph, pw, _ = tilingPool(k, s, p)
	return ph, pw
}

// The prefixes of A's and B's attrs in a _FusedConvPair2D node.
const (
	convPairA = "a_"
	convPairB = "b_"
)

// convPairAttrs returns the _FusedConv2D whose attrs the node holds under
// prefix.
func (c *Context) convPairAttrs(prefix string) *attrpb.NameAttrList {
	return &attrpb.NameAttrList{Name: "_FusedConv2D", Attr: prefixedAttrs(c.Node.GetAttr(), prefix)}
}

// prefixedAttrs returns the attrs of a, with names starting with prefix,
// without it: the attrs of an op a fused node runs, which it holds under a
// prefix (not as func attrs: the executor takes a node with those for a
// function call that may keep its inputs, see retainsInputs).
func prefixedAttrs(a map[string]*attrpb.AttrValue, prefix string) map[string]*attrpb.AttrValue {
	out := map[string]*attrpb.AttrValue{}
	for k, v := range a {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			out[name] = v
		}
	}
	return out
}

// convPairUnfused computes a _FusedConvPair2D as the nodes it replaces:
// A's and B's _FusedConv2D kernels, then the Softmax kernel when it is
// fused; an error names the convolution it comes from.
func (c *Context) convPairUnfused(pa, pb *attrpb.NameAttrList, softmax bool, names []string) ([]*tfops.Tensor, error) {
	mid, err := fusedConv2DKernel(c.sub(pa, c.Inputs[:3]))
	if err != nil {
		return nil, fmtConvPairErr(names[0], err)
	}
	second := fusedConv2DKernel
	if pb.GetName() == "_FusedConv2DMaxPool" {
		second = fusedConv2DMaxPoolKernel // B and the max-pool fused into the node
	}
	out, err := second(c.sub(pb, []*tfops.Tensor{mid[0], c.Inputs[3], c.Inputs[4]}))
	c.recycle(mid[0])
	if err != nil || !softmax {
		return out, fmtConvPairErr(names[1], err)
	}
	sm, err := softmaxKernel(false)(c.sub(&attrpb.NameAttrList{Name: "Softmax"}, out))
	if err == nil && !sameData(sm[0], out[0]) {
		c.recycle(out[0])
	}
	return sm, err
}

// sameData reports whether two float32 tensors share their first element.
func sameData(a, b *tfops.Tensor) bool {
	x, y := a.Float32s(), b.Float32s()
	return len(x) > 0 && len(y) > 0 && &x[0] == &y[0]
}

// recycle hands t, a tensor a kernel allocated (AllocUninit) for its own
// use and no longer reads, back to the session's pool: the executor only
// recycles node outputs, so without this every run would allocate it anew
// (the U-Net's two unfused pairs: 58 MB of fresh buffers per run).
func (c *Context) recycle(t *tfops.Tensor) {
	c.arena.track([]*tfops.Tensor{t})
	c.arena.release(t)
}

// fmtConvPairErr returns err (nil or not) naming the convolution node.
func fmtConvPairErr(node string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("convolution %q: %w", node, err)
}

// finishRows32 applies to float32 rows o, in one goroutine, what the GEMM
// epilogue did not (see finish; the GEMM applied the bias and any ReLU).
func (fo convFusedOps) finishRows32(o []float32) {
	if fo.act == "" || fo.act == "Relu" {
		return
	}
	convFinishRange(o, fo.bias.Float32s(), false, convActivations[fo.act], fo.alpha, true)
}

// softmaxInPlace32 overwrites rows of n logits with their softmax as the
// Softmax kernel computes it for float32: denormal logits read as zero,
// softmaxRows32's float32 steps, denormal results flushed.
func softmaxInPlace32(k *vec.Kernels, y []float32, n int) {
	ftz(y)
	softmaxBlocks32(k, y, y, n)
	ftz(y)
}
