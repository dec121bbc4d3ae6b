package goengine

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"

	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	typespb "github.com/wamuir/graft/tensorflow/core/framework/types_go_proto"

	"github.com/tfseg/tfseg/engine/goengine/internal/gemm"
	"github.com/tfseg/tfseg/engine/goengine/internal/parallel"
	"github.com/tfseg/tfseg/tfops"
)

// Concatenation folded into a convolution: the U-Net's skip connection,
//
//	ConcatV2([crop(a), b], axis=-1) → Conv2D(VALID) → BiasAdd [→ activation]
//
// where crop is a StridedSlice or Slice of the spatial dimensions, becomes
// one _FusedConcatConv2D node (an op internal to this engine) that reads
// every part of the concatenation where it lies: since the convolution
// sums over input channels,
//
//	Conv2D(concat([a₀, a₁, …]), W) = Σᵢ Conv2D(aᵢ, W[:, :, cᵢ:cᵢ₊₁, :])
//
// so each part is one GEMM pass into the same output (the first storing,
// the others adding; the bias and a ReLU in the last one, another
// activation after it),
// and a cropped part is read in place: the GEMM's A rows start at the
// crop's first pixel and step by the uncropped tensor's pixel and row
// strides. Neither the crop nor the concatenation is copied.
//
// A part that is the output of a pixel-shuffling transposed convolution
// (Conv2DBackpropInput → BiasAdd [→ Relu] with kernel size == stride: the
// U-Net's upsampling, used only by the concatenation) is not read from
// memory either: each band computes the rows it reads into a buffer that
// stays in the cache (concatUpconv), taking the rows it shares with the
// band above from the buffer when its worker computed that band just
// before (bands are claimed as parallel.Runs hands them out; the
// transposed convolutions' rows were computed 1.25 times over while every
// band computed its own). At 1x572x572x1 the U-Net's two
// transposed convolutions wrote 9.5 and 18.4 MB that the concatenation's
// convolution then read back (1.40 and 1.48 ms of a 48.6 ms run). Keras'
// crop reads that tensor's Shape, which shapesOfUpconvs turns into its
// input_sizes so that the concatenation is its only use.
//
// The float32 sums are taken in another order than the unfused
// convolution's (all filter taps of one part, then of the next, instead of
// every channel of one filter tap in turn), so results may differ from it
// by float32 rounding.
//
// The rewrite (foldConcatConv, called by fuseConvChains on each
// _FusedConv2D it makes) applies only when the Conv2D is float32, NHWC,
// VALID, with unit strides and dilations, its input is a ConcatV2 on the
// last axis (a Const -1 or 3) used only by it, and each part that is a
// StridedSlice (unit strides as a Const, no ellipsis, new-axis or shrink
// masks) or Slice is used only by the concatenation; any other part is
// read as it is. Whether a slice crops only height and width is known at
// run time: when it does not (or the shapes do not line up), the kernel
// computes the slices, the concatenation and the convolution with their
// own kernels, the unfused graph's bits.

// foldConcatConv returns fused (a _FusedConv2D node made from conv) as a
// _FusedConcatConv2D when conv's input is a concatenation it can fold, or
// nil.
func foldConcatConv(fused, conv *nodepb.NodeDef, byName map[string]*nodepb.NodeDef, uses map[string]int) *nodepb.NodeDef {
	t := typespb.DataType_DT_FLOAT
	if conv.GetOp() != "Conv2D" || conv.GetAttr()["T"].GetType() != t || !isNHWC(conv) ||
		string(conv.GetAttr()["padding"].GetS()) != "VALID" || !unitInts(conv.GetAttr()["strides"], true) || !unitInts(conv.GetAttr()["dilations"], false) {
		return nil
	}
	cdata := dataInputs(conv)
	concat := byName[refNode(cdata[0])]
	if concat == nil || concat.GetOp() != "ConcatV2" || !refIsOutput0(cdata[0]) || uses[concat.GetName()] != 1 ||
		concat.GetAttr()["T"].GetType() != t {
		return nil
	}
	values := dataInputs(concat)
	if len(values) < 3 {
		return nil
	}
	axis, values := values[len(values)-1], values[:len(values)-1]
	if a, ok := constInts(byName[refNode(axis)]); !ok || len(a) != 1 || (a[0] != -1 && a[0] != 3) {
		return nil
	}
	var inputs, controls []string
	var ops [][]byte
	var beginMasks, endMasks []int64
	// A computed part's op attrs, under the prefix partAttrPrefix(i).
	partAttrs := map[string]*attrpb.AttrValue{}
	for i, v := range values {
		if up := upconvPart(v, byName, uses); up != nil {
			ops, beginMasks, endMasks = append(ops, []byte(up.GetOp())), append(beginMasks, 0), append(endMasks, 0)
			for k, a := range up.GetAttr() {
				partAttrs[partAttrPrefix(i)+k] = a
			}
			partAttrs[partAttrPrefix(i)+partNodeAttr] = &attrpb.AttrValue{Value: &attrpb.AttrValue_S{S: []byte(up.GetName())}}
			controls = append(controls, controlInputs(up)...)
			inputs = append(inputs, dataInputs(up)...)
			continue
		}
		n, ins := concatPart(v, byName, uses)
		if n == nil {
			ops, beginMasks, endMasks = append(ops, nil), append(beginMasks, 0), append(endMasks, 0)
		} else {
			ops = append(ops, []byte(n.GetOp()))
			beginMasks = append(beginMasks, n.GetAttr()["begin_mask"].GetI())
			endMasks = append(endMasks, n.GetAttr()["end_mask"].GetI())
			controls = append(controls, controlInputs(n)...)
		}
		inputs = append(inputs, ins...)
	}
	controls = append(controls, controlInputs(concat)...)
	fdata := dataInputs(fused)
	inputs = append(inputs, fdata[1], fdata[2])
	seen := map[string]bool{}
	for _, in := range append(controlInputs(fused), controls...) {
		if !seen[in] {
			seen[in] = true
			inputs = append(inputs, in)
		}
	}
	attrs := make(map[string]*attrpb.AttrValue, len(fused.GetAttr())+3+len(partAttrs))
	for k, v := range fused.GetAttr() {
		attrs[k] = v
	}
	attrs["part_ops"] = &attrpb.AttrValue{Value: &attrpb.AttrValue_List{List: &attrpb.AttrValue_ListValue{S: ops}}}
	attrs["part_begin_mask"] = &attrpb.AttrValue{Value: &attrpb.AttrValue_List{List: &attrpb.AttrValue_ListValue{I: beginMasks}}}
	attrs["part_end_mask"] = &attrpb.AttrValue{Value: &attrpb.AttrValue_List{List: &attrpb.AttrValue_ListValue{I: endMasks}}}
	maps.Copy(attrs, partAttrs)
	return &nodepb.NodeDef{Name: fused.GetName(), Op: "_FusedConcatConv2D", Input: inputs, Device: fused.GetDevice(), Attr: attrs}
}

// concatPart returns how the fused node computes the concatenated value
// v: the slice node (StridedSlice or Slice) it is and the slice's data
// inputs, or nil and v itself.
func concatPart(v string, byName map[string]*nodepb.NodeDef, uses map[string]int) (*nodepb.NodeDef, []string) {
	n := byName[refNode(v)]
	var plain *nodepb.NodeDef
	if n == nil || !refIsOutput0(v) || uses[n.GetName()] != 1 || n.GetAttr()["T"].GetType() != typespb.DataType_DT_FLOAT {
		return plain, []string{v}
	}
	ins := dataInputs(n)
	switch {
	case n.GetOp() == "Slice" && len(ins) == 3:
	case n.GetOp() == "StridedSlice" && len(ins) == 4:
		a := n.GetAttr()
		if a["ellipsis_mask"].GetI() != 0 || a["new_axis_mask"].GetI() != 0 || a["shrink_axis_mask"].GetI() != 0 {
			return plain, []string{v}
		}
		if s, ok := staticInts(ins[3], byName); !ok || len(s) != 4 || slices.ContainsFunc(s, func(x int64) bool { return x != 1 }) {
			return plain, []string{v}
		}
	default:
		return plain, []string{v}
	}
	return n, ins
}

// partNodeAttr names, in a computed part's attrs, the node it replaces
// (for errors).
const partNodeAttr = "_part_node"

// partAttrPrefix is the prefix of the attrs of computed part i's op in a
// _FusedConcatConv2D node (see prefixedAttrs).
func partAttrPrefix(i int) string { return "part" + strconv.Itoa(i) + "_" }

// upconvPart returns the _FusedConv2DBackpropInput node that fuseChainAt
// makes of the chain ending at the node v names, when the fused
// concatenation can compute it band by band instead of reading it
// (fusedConcatConv2DKernel): v is that node's output 0, used only by the
// concatenation, a float32 transposed convolution whose fused ops the
// GEMM applies in full (a bias, then a ReLU or nothing). Whether its
// filter tiles the output (kernel size == stride, as Keras'
// Conv2DTranspose(k, strides=k) has) is checked at run time.
func upconvPart(v string, byName map[string]*nodepb.NodeDef, uses map[string]int) *nodepb.NodeDef {
	n := byName[refNode(v)]
	if n == nil || !refIsOutput0(v) || uses[n.GetName()] != 1 {
		return nil
	}
	fused := fuseChainAt(n, byName, uses)
	if fused == nil || fused.GetOp() != "_FusedConv2DBackpropInput" || fused.GetAttr()["T"].GetType() != typespb.DataType_DT_FLOAT {
		return nil
	}
	if ops := fused.GetAttr()["fused_ops"].GetList().GetS(); len(ops) == 2 && string(ops[1]) != "Relu" {
		return nil
	}
	return fused
}

// controlInputs returns n's control inputs.
func controlInputs(n *nodepb.NodeDef) []string {
	var out []string
	for _, in := range n.GetInput() {
		if len(in) > 0 && in[0] == '^' {
			out = append(out, in)
		}
	}
	return out
}

// unitInts reports whether a list(int) attr is four ones, or absent and
// not required.
func unitInts(a *attrpb.AttrValue, required bool) bool {
	if a == nil {
		return !required
	}
	v := a.GetList().GetI()
	return len(v) == 4 && !slices.ContainsFunc(v, func(x int64) bool { return x != 1 })
}

// staticInts returns the values of an int vector known from the graph:
// output 0 of a Const, or of a Pack (axis 0) of scalar Consts (as Keras
// writes the strides of a slice whose bounds it computes).
func staticInts(ref string, byName map[string]*nodepb.NodeDef) ([]int64, bool) {
	n := byName[refNode(ref)]
	if n == nil || !refIsOutput0(ref) {
		return nil, false
	}
	if n.GetOp() != "Pack" {
		return constInts(n)
	}
	ins := dataInputs(n)
	if n.GetAttr()["axis"].GetI() != 0 || len(ins) != len(n.GetInput()) {
		return nil, false
	}
	var out []int64
	for _, in := range ins {
		v, ok := constInts(byName[refNode(in)])
		if !ok || len(v) != 1 || !refIsOutput0(in) || len(byName[refNode(in)].GetAttr()["value"].GetTensor().GetTensorShape().GetDim()) != 0 {
			return nil, false
		}
		out = append(out, v[0])
	}
	return out, true
}

// constInts returns the values of an int32 or int64 Const node.
func constInts(n *nodepb.NodeDef) ([]int64, bool) {
	if n == nil || n.GetOp() != "Const" {
		return nil, false
	}
	t, err := tfops.FromProto(n.GetAttr()["value"].GetTensor())
	if err != nil {
		return nil, false
	}
	return t.IndexValues()
}

// concatView is one part of a folded concatenation as the GEMM reads it:
// the n·hc·wc·ch pixels of x (n × h × w × ch) starting at element off of
// each image.
type concatView struct {
	x                   []float32
	n, h, w, ch, hc, wc int
	off                 int
	up                  *concatUpconv // a part computed band by band (x is nil)
}

// concatUpconv is a part of a folded concatenation that is the output of
// a pixel-shuffling transposed convolution (upconvPart): instead of
// reading the whole output, which the transposed convolution would have
// written to memory just before (18 MB at the U-Net's 536x536x16), each
// band computes the rows it reads into a buffer that stays in the cache.
// The rows are the transposed convolution's own (the same GEMM, panels and
// epilogue, on the out_backprop rows that make them), so the bits are
// those of the unfolded graph.
type concatUpconv struct {
	g  convGeom
	b  *gemm.Panels
	dy []float32
}

// upconvRows is a worker's buffer of one computed part's rows: rows
// [d0, d1) of out_backprop (each sh rows of the part) of image img, from
// the buffer's start.
type upconvRows struct {
	buf         []float32
	img, d0, d1 int
}

// band computes rows [r0, r1) of the view's window in image img (rows of
// the part's output, offset by the view's crop) into rs's buffer (replaced
// by a buffer from alloc when too small), and returns the buffer and the
// offset of row r0's first element of the window (as the view's x and
// offset for these rows). Rows the buffer holds from the band before
// (bands overlap by the filter's height less one) are moved to its front
// instead of computed again.
func (u *concatUpconv) band(rs *upconvRows, alloc func(int) []float32, v concatView, img, r0, r1 int) ([]float32, int) {
	g, rowLen := u.g, v.w*v.ch
	top, left := v.off/rowLen, v.off%rowLen
	r0, r1 = r0+top, r1+top
	sh := g.wh.stride
	d0, d1 := r0/sh, min(g.wh.out, (r1+sh-1)/sh)
	// At least a micro-kernel tile of product rows (or the whole image),
	// so that the GEMM runs an assembly kernel rather than the slower
	// portable one (which gives the same bits).
	tile := gemm.TileRows()
	for (d1-d0)*g.ww.out < tile && (d0 > 0 || d1 < g.wh.out) {
		if d1 < g.wh.out {
			d1++
		} else {
			d0--
		}
	}
	dRow := sh * rowLen // elements of one out_backprop row's part rows
	// Keep the buffer's rows [d0, rs.d1) when they are this band's first
	// and the rest are a whole tile of product rows.
	from := d0
	if rs.img == img && rs.d0 <= d0 && d0 < rs.d1 && rs.d1 < d1 && (d1-rs.d1)*g.ww.out >= tile {
		copy(rs.buf, rs.buf[(d0-rs.d0)*dRow:(rs.d1-rs.d0)*dRow])
		from = rs.d1
	}
	n := (d1 - d0) * dRow
	if cap(rs.buf) < n {
		nb := alloc(n)
		copy(nb, rs.buf[:(from-d0)*dRow])
		rs.buf = nb
	}
	x := rs.buf[:n]
	gemm.RunOne(g.shuffleJob(u.dy, img, from, d1, (from-d0)*dRow), u.b, x, 1, false)
	rs.img, rs.d0, rs.d1 = img, d0, d1
	return x, (r0-d0*sh)*rowLen + left
}

// concatBandRows is the number of output rows fusedConcatConv2DKernel
// computes at a time, all passes over them while they are in the cache
// (4, as convPairBandRows, measured with it).
const concatBandRows = 4

// fusedConcatConv2DKernel computes _FusedConcatConv2D (see foldConcatConv):
// inputs the data inputs of each part in turn, then the filter and the
// bias; attrs those of _FusedConv2D and, per part, part_ops (the slice op,
// or "" for a value read as it is), part_begin_mask and part_end_mask (a
// StridedSlice's masks).
func fusedConcatConv2DKernel(c *Context) ([]*tfops.Tensor, error) {
	ops, err := c.AttrStrings("part_ops")
	if err != nil {
		return nil, err
	}
	bm, err1 := c.AttrInts("part_begin_mask")
	em, err2 := c.AttrInts("part_end_mask")
	if err1 != nil || err2 != nil || len(bm) != len(ops) || len(em) != len(ops) {
		return nil, c.Errorf("attrs part_begin_mask and part_end_mask must list %d masks (one per part_ops)", len(ops))
	}
	parts := make([]*attrpb.NameAttrList, len(ops))
	for i, op := range ops {
		parts[i] = &attrpb.NameAttrList{Name: op, Attr: prefixedAttrs(c.Node.GetAttr(), partAttrPrefix(i))}
		parts[i].Attr["begin_mask"] = &attrpb.AttrValue{Value: &attrpb.AttrValue_I{I: bm[i]}}
		parts[i].Attr["end_mask"] = &attrpb.AttrValue{Value: &attrpb.AttrValue_I{I: em[i]}}
	}
	fo, err := c.convFusedOps(len(c.Inputs))
	if err != nil {
		return nil, err
	}
	f := c.Inputs[len(c.Inputs)-2]
	partIns := make([][]*tfops.Tensor, len(parts))
	next := 0
	for i, p := range parts {
		n := map[string]int{"": 1, "Slice": 3, "StridedSlice": 4, "_FusedConv2DBackpropInput": 4}[p.GetName()]
		if n == 0 || next+n > len(c.Inputs)-2 {
			return nil, c.Errorf("part %d (%q) does not match the %d inputs", i, p.GetName(), len(c.Inputs))
		}
		partIns[i], next = c.Inputs[next:next+n], next+n
	}
	if next != len(c.Inputs)-2 {
		return nil, c.Errorf("%d parts take %d inputs, got %d", len(parts), next+2, len(c.Inputs))
	}
	views, ok := c.concatViews(parts, partIns, f)
	if !ok || fo.checkBias(c, tfops.Float, f.Shape()[3]) != nil {
		return c.concatConvUnfolded(parts, partIns, f, fo.bias)
	}
	v0 := views[0]
	kh, kw, o := f.Shape()[0], f.Shape()[1], f.Shape()[3]
	oh, ow := v0.hc-kh+1, v0.wc-kw+1
	out, err := c.AllocUninit(tfops.Float, v0.n, oh, ow, o)
	if err != nil {
		return nil, err
	}
	if out.NumElements() == 0 {
		return []*tfops.Tensor{out}, nil
	}
	// B of part i: the filter's input channels [c0, c0 + ch), packed.
	panels := make([]*gemm.Panels, len(views))
	fw, cin, c0 := f.Float32s(), f.Shape()[2], 0
	for i, v := range views {
		sub := make([]float32, kh*kw*v.ch*o)
		for tap := 0; tap < kh*kw; tap++ {
			copy(sub[tap*v.ch*o:(tap+1)*v.ch*o], fw[(tap*cin+c0)*o:])
		}
		c0 += v.ch
		panels[i] = gemm.PackPanels(sub, kh*kw*v.ch, o, o, 1)
	}
	// The last pass adds the bias and, accumulating, applies a ReLU to
	// the sum with what the others stored (gemm.Run).
	fo.epilogue().apply(panels[len(panels)-1])
	dst := out.Float32s()
	nb := (oh + concatBandRows - 1) / concatBandRows
	// Band buffers come from the session's pool and go back after the
	// bands.
	var mu sync.Mutex
	var dones []func()
	defer func() {
		for _, done := range dones {
			done()
		}
	}()
	alloc := func(n int) []float32 {
		b, done := c.scratch(n)
		mu.Lock()
		dones = append(dones, done)
		mu.Unlock()
		return b
	}
	parallel.Runs(c.Threads(), v0.n*nb, func(bi int) bool { return bi%nb == 0 }, func() func(bi int, cont bool) {
		// rows[i]: the rows of computed part i that this worker's band
		// reads (the band before's, which consecutive bands share).
		rows := make([]upconvRows, len(views))
		for i := range rows {
			rows[i].img = -1
		}
		return func(bi int, _ bool) {
			img, y0 := bi/nb, bi%nb*concatBandRows
			y1 := min(oh, y0+concatBandRows)
			coff := (img*oh + y0) * ow * o
			for i, v := range views {
				x, aoff := v.x, img*v.h*v.w*v.ch+v.off+y0*v.w*v.ch
				if u := v.up; u != nil {
					x, aoff = u.band(&rows[i], alloc, v, img, y0, y1+kh-1)
				}
				job := validRowsJob(x, aoff, v.w, v.ch, kh, kw, y1-y0, ow, o, coff)
				gemm.RunOne(job, panels[i], dst, 1, i > 0)
			}
		}
	})
	fo.finish(c, out, true)
	return []*tfops.Tensor{out}, nil
}

// concatViews returns the parts of a folded concatenation as views of
// their tensors, or false when one is not a float32 NHWC tensor or a crop
// of its height and width, or the parts and the filter do not line up.
func (c *Context) concatViews(parts []*attrpb.NameAttrList, ins [][]*tfops.Tensor, f *tfops.Tensor) ([]concatView, bool) {
	if f.DType() != tfops.Float || f.Rank() != 4 {
		return nil, false
	}
	if s, _ := c.AttrStringOr("padding", ""); s != "VALID" || !unitInts(c.Attr("strides"), true) || !unitInts(c.Attr("dilations"), false) {
		return nil, false
	}
	views := make([]concatView, len(parts))
	cin := 0
	for i, p := range parts {
		var v concatView
		x := ins[i][0]
		if p.GetName() == "_FusedConv2DBackpropInput" {
			if up, ok := c.concatUpconv(p, ins[i]); ok {
				g := up.g
				v = concatView{n: g.n, h: g.h, w: g.w, ch: g.c, hc: g.h, wc: g.w, up: up}
			} else {
				// Read in full, as the unfolded graph computes it.
				out, err := fusedConv2DBackpropInputKernel(c.sub(p, ins[i]))
				if err != nil {
					return nil, false
				}
				x = out[0]
			}
		}
		if v.up == nil {
			if x.DType() != tfops.Float || x.Rank() != 4 {
				return nil, false
			}
			d := x.Shape()
			v = concatView{x: x.Float32s(), n: d[0], h: d[1], w: d[2], ch: d[3], hc: d[1], wc: d[2]}
		}
		d := []int{v.n, v.h, v.w, v.ch}
		begin, size := []int{0, 0, 0, 0}, d
		switch p.GetName() {
		case "StridedSlice":
			sub := c.sub(p, ins[i])
			sizes, sv, dims, err := sub.stridedSliceView(d)
			if err != nil || !slices.Equal(sizes, dims) || !slices.Equal(sv.strides, rowMajorStrides(d)) {
				return nil, false
			}
			size = sizes
			begin = []int{0, sv.off / (d[2] * d[3]) % d[1], sv.off / d[3] % d[2], sv.off % d[3]}
		case "Slice":
			sub := c.sub(p, ins[i])
			b, err1 := sub.vectorIndexInput(1, "begin")
			s, err2 := sub.vectorIndexInput(2, "size")
			if err1 != nil || err2 != nil || len(b) != 4 || len(s) != 4 {
				return nil, false
			}
			size = make([]int, 4)
			for k := range 4 {
				if s[k] == -1 {
					s[k] = int64(d[k]) - b[k]
				}
				if b[k] < 0 || s[k] < 0 || b[k]+s[k] > int64(d[k]) {
					return nil, false
				}
				begin[k], size[k] = int(b[k]), int(s[k])
			}
		}
		if size[0] != d[0] || size[3] != d[3] || begin[0] != 0 || begin[3] != 0 {
			return nil, false
		}
		v.hc, v.wc, v.off = size[1], size[2], (begin[1]*d[2]+begin[2])*d[3]
		if v.n*v.hc*v.wc*v.ch == 0 {
			return nil, false
		}
		if i > 0 && (v.n != views[0].n || v.hc != views[0].hc || v.wc != views[0].wc) {
			return nil, false
		}
		views[i], cin = v, cin+v.ch
	}
	fs := f.Shape()
	if fs[2] != cin || fs[0] > views[0].hc || fs[1] > views[0].wc || fs[3] == 0 {
		return nil, false
	}
	return views, true
}

// concatUpconv returns part p (a _FusedConv2DBackpropInput on ins) as a
// part computed band by band, or false when the concatenation must read it
// computed in full: it is not a valid float32 transposed convolution whose
// filter tiles the output with the GEMM applying its fused ops.
func (c *Context) concatUpconv(p *attrpb.NameAttrList, ins []*tfops.Tensor) (*concatUpconv, bool) {
	sub := c.sub(p, ins)
	fo, err := sub.convFusedOps(4)
	if err != nil || (fo.act != "" && fo.act != "Relu") {
		return nil, false
	}
	f, dy := ins[1], ins[2]
	if f.DType() != tfops.Float || dy.DType() != tfops.Float {
		return nil, false
	}
	g, err := sub.backpropGeom(ins[0], f, dy)
	if err != nil || !g.tilesExactly() || g.n*g.h*g.w*g.c == 0 || g.o == 0 || fo.checkBias(sub, tfops.Float, g.c) != nil {
		return nil, false
	}
	return &concatUpconv{g: g, b: shufflePanels(g, f.Float32s(), fo.epilogue(), true), dy: dy.Float32s()}, true
}

// sub returns a context for running part p's op on ins.
func (c *Context) sub(p *attrpb.NameAttrList, ins []*tfops.Tensor) *Context {
	s := *c
	s.Node = &nodepb.NodeDef{Name: c.Node.GetName(), Op: p.GetName(), Attr: p.GetAttr()}
	s.Inputs = ins
	return &s
}

// concatConvUnfolded computes a _FusedConcatConv2D as the graph it
// replaces: each slice, the concatenation, then the fused convolution,
// with their kernels.
func (c *Context) concatConvUnfolded(parts []*attrpb.NameAttrList, ins [][]*tfops.Tensor, f, bias *tfops.Tensor) ([]*tfops.Tensor, error) {
	values := make([]*tfops.Tensor, 0, len(parts)+1)
	for i, p := range parts {
		if p.GetName() == "" {
			values = append(values, ins[i][0])
			continue
		}
		d, _ := LookupOp(p.GetName())
		out, err := d.Kernel(c.sub(p, ins[i]))
		if err != nil {
			if name := p.GetAttr()[partNodeAttr].GetS(); len(name) > 0 {
				return nil, fmt.Errorf("transposed convolution %q (computed inside this node): %w", name, err)
			}
			return nil, err
		}
		values = append(values, out[0])
	}
	values = append(values, tfops.MustFromSlice([]int32{3}, []int{}...))
	cc, err := concatKernel(c.sub(&attrpb.NameAttrList{Name: "ConcatV2"}, values))
	if err != nil {
		return nil, err
	}
	conv := *c
	conv.Inputs = []*tfops.Tensor{cc[0], f, bias}
	return fusedConv2DKernel(&conv)
}
