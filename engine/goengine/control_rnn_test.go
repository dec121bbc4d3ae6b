package goengine_test

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/tfops"
)

// Recurrent layers as Keras 2 / TensorFlow 2 write them into SavedModels
// (keras/layers/recurrent_v2.py standard_lstm/standard_gru, and
// keras.backend.rnn for SimpleRNN and ConvLSTM2D): the input, transposed
// to time-major, is unstacked with TensorListFromTensor; a While loop whose
// loop variables are (loop_counter, maximum_iterations, time, output list,
// states..., time steps, input list, weights as resource handles) reads
// step t with TensorListGetItem, runs the cell with weights read from the
// resource variables, writes h with TensorListSetItem into a list from
// TensorListReserve; TensorListStack and a transpose make the output
// sequence. Each graph runs on the Go engine, on libtensorflow when linked
// (-tags tensorflow), and against a float64 reference loop of the cell.

// rnnCell describes one recurrent layer.
type rnnCell struct {
	kind    string // lstm, gru, simple, convlstm
	batch   int
	steps   int
	in      []int // one step's input without batch: [D] or [H, W, C]
	units   int
	weights map[string]*tfops.Tensor
	order   []string // weight names in loop-variable order
	// mask [steps, batch] (time-major, as keras.backend.rnn transposes it)
	// when the layer is masked: a masked step keeps the states and outputs
	// the previous h.
	mask *tfops.Tensor
}

// gates is the number of gate blocks in the kernel's last dimension.
func (k *rnnCell) gates() int {
	switch k.kind {
	case "lstm", "convlstm":
		return 4
	case "gru":
		return 3
	}
	return 1
}

// states is the number of state tensors (h, c for LSTMs).
func (k *rnnCell) states() int {
	if k.kind == "lstm" || k.kind == "convlstm" {
		return 2
	}
	return 1
}

// stateDims is one state's shape without batch.
func (k *rnnCell) stateDims() []int {
	if k.kind == "convlstm" {
		return []int{k.in[0] - 2, k.in[1] - 2, k.units} // 3x3 VALID input conv
	}
	return []int{k.units}
}

func newCell(kind string, seed int64) *rnnCell {
	r := rand.New(rand.NewSource(seed))
	k := &rnnCell{kind: kind, batch: 3, steps: 5, in: []int{4}, units: 6, weights: map[string]*tfops.Tensor{}}
	g := k.gates()
	switch kind {
	case "convlstm":
		k.batch, k.steps, k.in, k.units = 2, 3, []int{6, 5, 2}, 3
		k.weights["kernel"] = randTensor(r, 0.4, 3, 3, k.in[2], g*k.units)
		k.weights["recurrent_kernel"] = randTensor(r, 0.4, 3, 3, k.units, g*k.units)
		k.weights["bias"] = randTensor(r, 0.3, g*k.units)
		k.order = []string{"kernel", "recurrent_kernel", "bias"}
	case "gru":
		k.weights["kernel"] = randTensor(r, 0.6, k.in[0], g*k.units)
		k.weights["recurrent_kernel"] = randTensor(r, 0.6, k.units, g*k.units)
		k.weights["input_bias"] = randTensor(r, 0.3, g*k.units)
		k.weights["recurrent_bias"] = randTensor(r, 0.3, g*k.units)
		k.order = []string{"kernel", "recurrent_kernel", "input_bias", "recurrent_bias"}
	default:
		k.weights["kernel"] = randTensor(r, 0.6, k.in[0], g*k.units)
		k.weights["recurrent_kernel"] = randTensor(r, 0.6, k.units, g*k.units)
		k.weights["bias"] = randTensor(r, 0.3, g*k.units)
		k.order = []string{"kernel", "recurrent_kernel", "bias"}
	}
	return k
}

// elemShape is a TensorList element_shape constant: batch unknown.
func elemShape(dims []int) *tfops.Tensor {
	v := []int32{-1}
	for _, d := range dims {
		v = append(v, int32(d))
	}
	return tfops.MustFromSlice(v, len(v))
}

// loopArgs are the While loop variables as Keras orders them.
func (k *rnnCell) loopArgs() []fnArg {
	args := []fnArg{arg("loop_counter", tfops.Int32), arg("max_iter", tfops.Int32), arg("time", tfops.Int32), arg("out_list", tfops.Variant)}
	for i := 0; i < k.states(); i++ {
		args = append(args, arg(fmt.Sprintf("state_%d", i), tfops.Float))
	}
	args = append(args, arg("n", tfops.Int32), arg("in_list", tfops.Variant))
	if k.mask != nil {
		args = append(args, arg("mask_list", tfops.Variant))
	}
	for _, w := range k.order {
		args = append(args, arg(w, tfops.Resource))
	}
	return args
}

// body builds the While body function name; reverse walks time backwards
// (a go_backwards layer, written in input order, as Bidirectional's
// backward layer after its reverse).
func (k *rnnCell) body(t testing.TB, name string, reverse bool) *fnb {
	b := newFn(t, name, k.loopArgs()...)
	idx := "time"
	if reverse {
		one := b.konst("one_i", tfops.FromScalar(int32(1)))
		last := b.add("Sub", "last", map[string]any{"T": tfops.Int32}, "n", one)
		idx = b.add("Sub", "rev_index", map[string]any{"T": tfops.Int32}, last, "time")
	}
	x := b.add("TensorListGetItem", "TensorArrayV2Read/TensorListGetItem", map[string]any{"element_dtype": tfops.Float},
		"in_list", idx, b.konst("TensorArrayV2Read/element_shape", elemShape(k.in)))
	w := map[string]string{}
	for _, n := range k.order {
		w[n] = b.add("ReadVariableOp", n+"/read", map[string]any{"dtype": tfops.Float}, n)
	}
	rank := 1 + len(k.stateDims())
	gate := func(z string, j int) string {
		begin, size := make([]int32, rank), make([]int32, rank)
		for i := range size {
			size[i] = -1
		}
		begin[rank-1], size[rank-1] = int32(j*k.units), int32(k.units)
		tag := fmt.Sprintf("%s_gate%d", z[:len(z)-len(":output:0")], j)
		return b.add("Slice", tag, map[string]any{"T": tfops.Float, "Index": tfops.Int32}, z,
			b.ints(tag+"/begin", begin...), b.ints(tag+"/size", size...))
	}
	lin := func(tag, in, kernel string) string {
		if k.kind == "convlstm" {
			pad := "VALID"
			if tag == "rec" {
				pad = "SAME"
			}
			return b.add("Conv2D", tag+"_conv", map[string]any{"T": tfops.Float, "strides": []int64{1, 1, 1, 1}, "padding": pad,
				"data_format": "NHWC", "dilations": []int64{1, 1, 1, 1}, "use_cudnn_on_gpu": true}, in, kernel)
		}
		return b.add("MatMul", tag+"_matmul", map[string]any{"T": tfops.Float, "transpose_a": false, "transpose_b": false}, in, kernel)
	}
	biasAdd := func(name, x, bias string) string {
		return b.add("BiasAdd", name, map[string]any{"T": tfops.Float, "data_format": "NHWC"}, x, bias)
	}
	h := "state_0"
	var outs []string
	switch k.kind {
	case "lstm", "convlstm":
		z := biasAdd("BiasAdd", b.f("AddV2", "add", lin("in", x, w["kernel"]), lin("rec", h, w["recurrent_kernel"])), w["bias"])
		i := b.f("Sigmoid", "Sigmoid", gate(z, 0))
		f := b.f("Sigmoid", "Sigmoid_1", gate(z, 1))
		g := b.f("Tanh", "Tanh", gate(z, 2))
		o := b.f("Sigmoid", "Sigmoid_2", gate(z, 3))
		c := b.f("AddV2", "add_1", b.f("Mul", "mul", f, "state_1"), b.f("Mul", "mul_1", i, g))
		h = b.f("Mul", "mul_2", o, b.f("Tanh", "Tanh_1", c))
		outs = []string{h, c}
	case "gru":
		mx := biasAdd("BiasAdd", lin("in", x, w["kernel"]), w["input_bias"])
		mh := biasAdd("BiasAdd_1", lin("rec", h, w["recurrent_kernel"]), w["recurrent_bias"])
		z := b.f("Sigmoid", "Sigmoid", b.f("AddV2", "add", gate(mx, 0), gate(mh, 0)))
		r := b.f("Sigmoid", "Sigmoid_1", b.f("AddV2", "add_1", gate(mx, 1), gate(mh, 1)))
		hh := b.f("Tanh", "Tanh", b.f("AddV2", "add_2", gate(mx, 2), b.f("Mul", "mul", r, gate(mh, 2))))
		oneMinus := b.f("Sub", "sub", b.konst("one", tfops.FromScalar(float32(1))), z)
		h = b.f("AddV2", "add_3", b.f("Mul", "mul_1", z, "state_0"), b.f("Mul", "mul_2", oneMinus, hh))
		outs = []string{h}
	case "simple":
		h = b.f("Tanh", "Tanh", biasAdd("BiasAdd", b.f("AddV2", "add", lin("in", x, w["kernel"]), lin("rec", h, w["recurrent_kernel"])), w["bias"]))
		outs = []string{h}
	}
	if k.mask != nil { // keras.backend.rnn: where(tiled mask, new, previous)
		m := b.add("TensorListGetItem", "mask_read", map[string]any{"element_dtype": tfops.Bool}, "mask_list", idx, b.ints("mask_shape", -1))
		m = b.add("ExpandDims", "mask_expand", map[string]any{"T": tfops.Bool, "Tdim": tfops.Int32}, m, b.konst("minus_one", tfops.FromScalar(int32(-1))))
		m = b.add("Tile", "mask_tile", map[string]any{"T": tfops.Bool, "Tmultiples": tfops.Int32}, m, b.ints("multiples", 1, int32(k.units)))
		for i := range outs {
			outs[i] = b.f("SelectV2", fmt.Sprintf("where_%d", i), m, outs[i], fmt.Sprintf("state_%d", i))
		}
		h = outs[0]
	}
	list := b.add("TensorListSetItem", "TensorArrayV2Write/TensorListSetItem", map[string]any{"element_dtype": tfops.Float}, "out_list", idx, h)
	one := b.konst("add/y", tfops.FromScalar(int32(1)))
	i32 := map[string]any{"T": tfops.Int32}
	b.ret("loop_counter_out", tfops.Int32, b.add("AddV2", "add_counter", i32, "loop_counter", one))
	b.ret("max_iter_out", tfops.Int32, b.add("Identity", "Identity_1", i32, "max_iter"))
	b.ret("time_out", tfops.Int32, b.add("AddV2", "add_time", i32, "time", one))
	b.ret("out_list_out", tfops.Variant, b.add("Identity", "Identity_3", map[string]any{"T": tfops.Variant}, list))
	for i, s := range outs {
		b.ret(fmt.Sprintf("state_%d_out", i), tfops.Float, s)
	}
	b.ret("n_out", tfops.Int32, "n")
	b.ret("in_list_out", tfops.Variant, "in_list")
	if k.mask != nil {
		b.ret("mask_list_out", tfops.Variant, "mask_list")
	}
	for _, n := range k.order {
		b.ret(n+"_out", tfops.Resource, n)
	}
	return b
}

// cond builds the While cond: loop_counter < max_iter && time < n.
func (k *rnnCell) cond(t testing.TB, name string) *fnb {
	b := newFn(t, name, k.loopArgs()...)
	i32 := map[string]any{"T": tfops.Int32}
	b.ret("ok", tfops.Bool, b.add("LogicalAnd", "LogicalAnd", nil,
		b.add("Less", "Less", i32, "loop_counter", "max_iter"), b.add("Less", "Less_1", i32, "time", "n")))
	return b
}

// layer adds the layer's graph on the batch-major input x: its output
// sequence [batch, steps, state...] and final h. Weights become resource
// variables whose assign ops are appended to inits.
func (k *rnnCell) layer(t testing.TB, s *tfops.Scope, name string, x tfops.Output, op string, reverse bool, inits *[]string) (seq, h tfops.Output) {
	s.AddFunction(k.body(t, name+"_body", reverse).def())
	s.AddFunction(k.cond(t, name+"_cond").def())
	perm := []int32{1, 0}
	for i := 2; i < 2+len(k.in); i++ {
		perm = append(perm, int32(i))
	}
	sub := s.SubScope(name)
	xt := op1(sub, "Transpose", "transpose", tfops.Float, map[string]any{"T": tfops.Float, "Tperm": tfops.Int32}, x, constI32(sub, "perm", perm...))
	inList := op1(sub, "TensorListFromTensor", "TensorArrayUnstack/TensorListFromTensor", tfops.Variant,
		map[string]any{"element_dtype": tfops.Float, "shape_type": tfops.Int32}, xt, tfops.Const(sub.WithOpName("in_shape"), elemShape(k.in)))
	steps := scalarI32(sub, "steps", int32(k.steps))
	outList := op1(sub, "TensorListReserve", "TensorArrayV2", tfops.Variant,
		map[string]any{"element_dtype": tfops.Float, "shape_type": tfops.Int32}, tfops.Const(sub.WithOpName("out_shape"), elemShape(k.stateDims())), steps)
	zeros := tfops.Const(sub.WithOpName("zeros"), tfops.MustFromSlice(make([]float32, k.batch*tfops.NumElements(k.stateDims())), append([]int{k.batch}, k.stateDims()...)...))
	ins := []any{scalarI32(sub, "loop_counter", 0), scalarI32(sub, "maximum_iterations", int32(k.steps)), scalarI32(sub, "time", 0), outList}
	types := []tfops.DType{tfops.Int32, tfops.Int32, tfops.Int32, tfops.Variant}
	shapes := []tfops.Shape{tfops.ScalarShape(), tfops.ScalarShape(), tfops.ScalarShape(), tfops.ScalarShape()}
	stateShape := tfops.MakeShape(-1)
	for _, d := range k.stateDims() {
		stateShape = tfops.MakeShape(append(stateShape.Dims(), int64(d))...)
	}
	for i := 0; i < k.states(); i++ {
		ins = append(ins, zeros)
		types = append(types, tfops.Float)
		shapes = append(shapes, stateShape)
	}
	ins = append(ins, steps, inList)
	types = append(types, tfops.Int32, tfops.Variant)
	shapes = append(shapes, tfops.ScalarShape(), tfops.ScalarShape())
	if k.mask != nil {
		ins = append(ins, op1(sub, "TensorListFromTensor", "mask_unstack", tfops.Variant, map[string]any{"element_dtype": tfops.Bool, "shape_type": tfops.Int32},
			tfops.Const(sub.WithOpName("mask"), k.mask), constI32(sub, "mask_shape", -1)))
		types = append(types, tfops.Variant)
		shapes = append(shapes, tfops.ScalarShape())
	}
	for _, w := range k.order {
		hnd, init := graphVar(sub, name+"/"+w, k.weights[w])
		*inits = append(*inits, init)
		ins = append(ins, hnd)
		types = append(types, tfops.Resource)
		shapes = append(shapes, tfops.ScalarShape())
	}
	outInfo := make([]tfops.OutputInfo, len(types))
	for i, d := range types {
		outInfo[i] = tfops.OutputInfo{DType: d}
	}
	loop := sub.AddOp(tfops.OpSpec{Type: op, Name: "while", Inputs: ins, Outputs: outInfo, Attrs: map[string]any{
		"T": types, "cond": tfops.Func{Name: name + "_cond"}, "body": tfops.Func{Name: name + "_body"},
		"output_shapes": shapes, "parallel_iterations": 32}})
	stack := op1(sub, "TensorListStack", "TensorArrayV2Stack/TensorListStack", tfops.Float,
		map[string]any{"element_dtype": tfops.Float, "num_elements": k.steps}, loop.Output(3), tfops.Const(sub.WithOpName("stack_shape"), elemShape(k.stateDims())))
	perm = []int32{1, 0}
	for i := 2; i < 2+len(k.stateDims()); i++ {
		perm = append(perm, int32(i))
	}
	seq = op1(sub, "Transpose", "transpose_1", tfops.Float, map[string]any{"T": tfops.Float, "Tperm": tfops.Int32}, stack, constI32(sub, "perm_1", perm...))
	return seq, loop.Output(4)
}

// ---- float64 reference ----

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// linear is x·w for x [n, k] and w [k, m], or the stride-1 NHWC
// convolution of x [n, h, w, c] with w [3, 3, c, m], VALID or SAME.
func (k *rnnCell) linear(x []float64, xdims []int, w *tfops.Tensor, same bool) []float64 {
	wv := f64s(w.Float32s())
	wd := w.Shape()
	if k.kind != "convlstm" {
		n, kk, m := xdims[0], xdims[1], wd[1]
		out := make([]float64, n*m)
		for i := 0; i < n; i++ {
			for j := 0; j < m; j++ {
				var s float64
				for l := 0; l < kk; l++ {
					s += x[i*kk+l] * wv[l*m+j]
				}
				out[i*m+j] = s
			}
		}
		return out
	}
	n, h, wi, c, m := xdims[0], xdims[1], xdims[2], xdims[3], wd[3]
	oh, ow, off := h-2, wi-2, 0
	if same {
		oh, ow, off = h, wi, 1
	}
	out := make([]float64, n*oh*ow*m)
	for b := 0; b < n; b++ {
		for y := 0; y < oh; y++ {
			for xx := 0; xx < ow; xx++ {
				for o := 0; o < m; o++ {
					var s float64
					for ky := 0; ky < 3; ky++ {
						for kx := 0; kx < 3; kx++ {
							iy, ix := y+ky-off, xx+kx-off
							if iy < 0 || iy >= h || ix < 0 || ix >= wi {
								continue
							}
							for ci := 0; ci < c; ci++ {
								s += x[((b*h+iy)*wi+ix)*c+ci] * wv[((ky*3+kx)*c+ci)*m+o]
							}
						}
					}
					out[((b*oh+y)*ow+xx)*m+o] = s
				}
			}
		}
	}
	return out
}

// reference runs the layer in float64 on x [batch, steps, in...]: the
// output sequence [batch, steps, state...] and the final h.
func (k *rnnCell) reference(x *tfops.Tensor, reverse bool) (seq, hT []float64) {
	xv := f64s(x.Float32s())
	inN := tfops.NumElements(k.in)
	stN := tfops.NumElements(k.stateDims())
	U, G := k.units, k.gates()
	pix := stN / U // positions per batch item (1, or oh·ow)
	h := make([]float64, k.batch*stN)
	c := make([]float64, k.batch*stN)
	seq = make([]float64, k.batch*k.steps*stN)
	bias := func(name string) []float64 { return f64s(k.weights[name].Float32s()) }
	for s := 0; s < k.steps; s++ {
		ti := s
		if reverse {
			ti = k.steps - 1 - s
		}
		xt := make([]float64, k.batch*inN)
		for b := 0; b < k.batch; b++ {
			copy(xt[b*inN:(b+1)*inN], xv[(b*k.steps+ti)*inN:(b*k.steps+ti+1)*inN])
		}
		xdims := append([]int{k.batch}, k.in...)
		hdims := append([]int{k.batch}, k.stateDims()...)
		mx := k.linear(xt, xdims, k.weights["kernel"], false)
		mh := k.linear(h, hdims, k.weights["recurrent_kernel"], true)
		nh := make([]float64, len(h))
		nc := make([]float64, len(c))
		for p := 0; p < k.batch*pix; p++ {
			for u := 0; u < U; u++ {
				at := func(m []float64, g int) float64 { return m[p*G*U+g*U+u] }
				e := p*U + u
				switch k.kind {
				case "lstm", "convlstm":
					b := bias("bias")
					z := func(g int) float64 { return at(mx, g) + at(mh, g) + b[g*U+u] }
					nc[e] = sigmoid(z(1))*c[e] + sigmoid(z(0))*math.Tanh(z(2))
					nh[e] = sigmoid(z(3)) * math.Tanh(nc[e])
				case "gru":
					bx, bh := bias("input_bias"), bias("recurrent_bias")
					xz := func(g int) float64 { return at(mx, g) + bx[g*U+u] }
					hz := func(g int) float64 { return at(mh, g) + bh[g*U+u] }
					z := sigmoid(xz(0) + hz(0))
					r := sigmoid(xz(1) + hz(1))
					hh := math.Tanh(xz(2) + r*hz(2))
					nh[e] = z*h[e] + (1-z)*hh
				case "simple":
					nh[e] = math.Tanh(at(mx, 0) + at(mh, 0) + bias("bias")[u])
				}
			}
		}
		if k.mask != nil {
			for b := 0; b < k.batch; b++ {
				if !k.mask.Bools()[ti*k.batch+b] {
					copy(nh[b*stN:(b+1)*stN], h[b*stN:(b+1)*stN])
					copy(nc[b*stN:(b+1)*stN], c[b*stN:(b+1)*stN])
				}
			}
		}
		h, c = nh, nc
		for b := 0; b < k.batch; b++ {
			copy(seq[(b*k.steps+ti)*stN:(b*k.steps+ti+1)*stN], h[b*stN:(b+1)*stN])
		}
	}
	return seq, h
}

// TestKerasRNNWhile runs LSTM, GRU, SimpleRNN and ConvLSTM2D layers, each
// through While and StatelessWhile, forwards and backwards.
func TestKerasRNNWhile(t *testing.T) {
	for _, kind := range []string{"lstm", "gru", "simple", "convlstm"} {
		for _, op := range []string{"While", "StatelessWhile"} {
			for _, reverse := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/reverse=%v", kind, op, reverse)
				t.Run(name, func(t *testing.T) {
					k := newCell(kind, int64(len(kind)))
					x := randTensor(rand.New(rand.NewSource(7)), 1, append([]int{k.batch, k.steps}, k.in...)...)
					s := tfops.NewScope()
					var inits []string
					seq, h := k.layer(t, s, kind, tfops.Const(s.WithOpName("x"), x), op, reverse, &inits)
					wantSeq, wantH := k.reference(x, reverse)
					checkEngines(t, s, inits, []string{seq.Name(), h.Name()}, [][]float64{wantSeq, wantH})
				})
			}
		}
	}
}

// TestKerasMaskedRNN is LSTM and GRU with a mask (Masking, or
// Embedding(mask_zero=True)): a bool TensorList read in the body, tiled,
// and a SelectV2 between new and previous states.
func TestKerasMaskedRNN(t *testing.T) {
	for _, kind := range []string{"lstm", "gru"} {
		t.Run(kind, func(t *testing.T) {
			k := newCell(kind, 5)
			k.mask = tfops.MustFromSlice([]bool{true, true, true, true, false, true, false, true, false, true, false, true, true, true, false}, k.steps, k.batch)
			x := randTensor(rand.New(rand.NewSource(9)), 1, k.batch, k.steps, k.in[0])
			s := tfops.NewScope()
			var inits []string
			seq, h := k.layer(t, s, kind, tfops.Const(s.WithOpName("x"), x), "While", false, &inits)
			wantSeq, wantH := k.reference(x, false)
			checkEngines(t, s, inits, []string{seq.Name(), h.Name()}, [][]float64{wantSeq, wantH})
		})
	}
}

// TestKerasBidirectionalLSTM is Bidirectional(LSTM(return_sequences=True)):
// a forward and a backward loop over the same input list, the backward
// output in input order, concatenated on the last axis.
func TestKerasBidirectionalLSTM(t *testing.T) {
	fw, bw := newCell("lstm", 1), newCell("lstm", 2)
	x := randTensor(rand.New(rand.NewSource(3)), 1, fw.batch, fw.steps, fw.in[0])
	s := tfops.NewScope()
	var inits []string
	xc := tfops.Const(s.WithOpName("x"), x)
	seqF, _ := fw.layer(t, s, "forward_lstm", xc, "StatelessWhile", false, &inits)
	seqB, _ := bw.layer(t, s, "backward_lstm", xc, "StatelessWhile", true, &inits)
	cat := s.AddOp(tfops.OpSpec{Type: "ConcatV2", Name: "concat", Inputs: []any{[]tfops.Output{seqF, seqB}, scalarI32(s, "axis", -1)},
		Attrs: map[string]any{"T": tfops.Float, "N": 2, "Tidx": tfops.Int32}, Outputs: []tfops.OutputInfo{{DType: tfops.Float}}}).Output(0)
	rf, _ := fw.reference(x, false)
	rb, _ := bw.reference(x, true)
	U := fw.units
	want := make([]float64, 0, 2*len(rf))
	for p := 0; p < len(rf)/U; p++ {
		want = append(append(want, rf[p*U:(p+1)*U]...), rb[p*U:(p+1)*U]...)
	}
	checkEngines(t, s, inits, []string{cat.Name()}, [][]float64{want})
}

// checkEngines runs the graph on every engine: each result within 1e-5
// relative of the float64 reference, and the Go engine within 1e-5 of
// TensorFlow when it is linked. It logs the worst differences.
func checkEngines(t *testing.T, s *tfops.Scope, inits, fetches []string, want [][]float64) {
	t.Helper()
	got := map[string][]*tfops.Tensor{}
	for _, eng := range engines(t) {
		out, err := runOn(t, eng, s, inits, fetches)
		require.NoError(t, err, eng.Name())
		for i, w := range want {
			d := requireClose(t, fmt.Sprintf("%s %s vs float64 reference", eng.Name(), fetches[i]), out[i].Float32s(), w, 1e-5)
			t.Logf("%s %s vs reference: worst rel %.2g abs %.2g", eng.Name(), fetches[i], d.rel, d.abs)
		}
		got[eng.Name()] = out
	}
	if tf, ok := got["tensorflow"]; ok {
		for i := range want {
			d := requireClose(t, fetches[i]+" go vs tensorflow", got["go"][i].Float32s(), f64s(tf[i].Float32s()), 1e-5)
			t.Logf("go vs tensorflow %s: worst rel %.2g abs %.2g", fetches[i], d.rel, d.abs)
			require.Equal(t, tf[i].Shape(), got["go"][i].Shape())
		}
	}
}
