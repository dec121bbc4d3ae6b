package goengine_test

import (
	"math"
	"os"
	"strconv"
	"testing"

	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"

	"github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/tfops"
)

// FuzzKernel runs one op of the Go engine on small constant inputs whose
// dtypes, shapes and values, and on attrs whose values, come from the fuzz
// bytes: every input is a valid graph, so the mutations reach the kernels'
// shape and attr handling (rank 0 to 4 inputs of up to 5 per dimension,
// special values such as NaN, ±Inf, denormals, int32 extremes; strides and
// window sizes of 0 to 3, any axis, masks, paddings). The checks are those
// of FuzzExecuteGraph: an answer or an error wrapping an engine sentinel,
// fetched tensors consistent with their shapes and within MaxTensorBytes,
// no hang, no kernel panic (TFSEG_FUZZ_PANIC_LOG applies too).
func FuzzKernel(f *testing.F) {
	for _, op := range fuzzKernelOps() {
		// Two float32 2x3 matrices; a 1x4x4x1 image and a 2x2x1x1
		// filter; a 2x3 matrix and an int32 vector (axes, shapes, indices).
		f.Add(op, []byte{2, 0, 2, 2, 3, 1, 2, 3, 4, 5, 6, 0, 2, 2, 3, 6, 5, 4, 3, 2, 1})
		f.Add(op, []byte{2, 0, 4, 1, 4, 4, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 4, 2, 2, 1, 1, 1, 2, 3, 4, 0, 1, 1, 1, 1, 1, 1, 1, 1})
		f.Add(op, []byte{2, 0, 2, 2, 3, 1, 2, 3, 4, 5, 6, 2, 1, 2, 1, 0})
	}
	panicLog := os.Getenv("TFSEG_FUZZ_PANIC_LOG")
	strict := panicLog == ""
	f.Fuzz(func(t *testing.T, op string, data []byte) {
		if _, ok := goengine.LookupOp(op); !ok || fuzzKernelSkip[op] {
			return
		}
		gd := gdef(kernelGraph(op, &fuzzBytes{data})...)
		if msg := checkExecute(t, gd, strict); msg != "" && panicLog != "" {
			logPanic(t, panicLog, msg, []byte(op+"\x00"+string(data)))
		}
	})
}

// fuzzKernelSkip are ops FuzzKernel does not run: file system access, ops
// that only fail without a function library or a feed, and the panicking
// op TestFuzzSeesKernelPanics registers.
var fuzzKernelSkip = map[string]bool{"SaveV2": true, "MergeV2Checkpoints": true, "RestoreV2": true,
	"Placeholder": true, "PartitionedCall": true, "StatefulPartitionedCall": true, "FuzzTestPanic": true,
	"While": true, "StatelessWhile": true, "If": true, "StatelessIf": true, "Case": true, "StatelessCase": true}

// fuzzKernelOps lists the ops FuzzKernel runs.
func fuzzKernelOps() []string {
	var ops []string
	for _, op := range goengine.SupportedOps() {
		if !fuzzKernelSkip[op] {
			ops = append(ops, op)
		}
	}
	return ops
}

// fuzzBytes hands out fuzz bytes; past the end it gives zeros.
type fuzzBytes struct{ b []byte }

func (r *fuzzBytes) next() byte {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *fuzzBytes) bool() bool { return r.next()&1 == 1 }

// small is a small signed int: -2..5.
func (r *fuzzBytes) small() int { return int(r.next()%8) - 2 }

var (
	fuzzDTypes  = []tfops.DType{tfops.Float, tfops.Double, tfops.Int32, tfops.Int64, tfops.Bool, tfops.Uint8, tfops.String}
	fuzzFloats  = []float64{0, 1, -1, 0.5, 2, -2, 3, math.NaN(), math.Inf(1), math.Inf(-1), 1e-40, -1e-45, 3.4e38, -3.4e38, 1e-7, 100}
	fuzzInts    = []int64{0, 1, -1, 2, 3, -2, 4, 5, -3, 64, 127, -128, math.MaxInt32, math.MinInt32, 1 << 20, 7}
	fuzzPadding = []string{"SAME", "VALID", "EXPLICIT", "BOGUS"}
	// fuzzEquations are Einsum equations, valid and not, for operands of
	// any rank.
	fuzzEquations = []string{"ab,bc->ac", "abc,cd->abd", "...ij,...jk->...ik", "ii->i", "ij->", "i,i->", "...->...",
		"a...b,b...->a...", "ab->ba", "aa,a->a", "a,b", "->", "ab,bc->ad", "a.b->a", "......->", "abc,cde->abde"}
)

// fuzzTensor reads a dtype, a rank, dimensions and values.
func fuzzTensor(r *fuzzBytes) *tfops.Tensor {
	d := fuzzDTypes[int(r.next())%len(fuzzDTypes)]
	dims := make([]int, int(r.next()%5))
	for i := range dims {
		dims[i] = int(r.next() % 6)
	}
	t, err := tfops.Zeros(d, dims...)
	if err != nil {
		panic(err)
	}
	switch v := t.Data().(type) {
	case []float32:
		for i := range v {
			v[i] = float32(fuzzFloats[int(r.next())%len(fuzzFloats)])
		}
	case []float64:
		for i := range v {
			v[i] = fuzzFloats[int(r.next())%len(fuzzFloats)]
		}
	case []int32:
		for i := range v {
			v[i] = int32(fuzzInts[int(r.next())%len(fuzzInts)])
		}
	case []int64:
		for i := range v {
			v[i] = fuzzInts[int(r.next())%len(fuzzInts)]
		}
	case []bool:
		for i := range v {
			v[i] = r.bool()
		}
	case []uint8:
		for i := range v {
			v[i] = r.next()
		}
	case []string:
		for i := range v {
			v[i] = strconv.Itoa(int(r.next()))
		}
	}
	return t
}

// kernelGraph is Const inputs c0, c1, ... and node "op" of type op on
// them, with attrs read from r.
func kernelGraph(op string, r *fuzzBytes) []*nodepb.NodeDef {
	n := int(r.next() % 5)
	var nodes []*nodepb.NodeDef
	var inputs []string
	var dts []tfops.DType
	for i := 0; i < n; i++ {
		t := fuzzTensor(r)
		name := "c" + strconv.Itoa(i)
		nodes = append(nodes, constNode(name, t))
		inputs = append(inputs, name)
		dts = append(dts, t.DType())
	}
	dt := func(i int) tfops.DType {
		if i < len(dts) {
			return dts[i]
		}
		return tfops.Int32
	}
	ints := func(k int) []int {
		v := make([]int, k)
		for i := range v {
			v[i] = int(r.next() % 4)
		}
		return v
	}
	index := dt(1)
	attrs := map[string]any{
		"T": dt(0), "dtype": dt(0), "SrcT": dt(0), "DstT": fuzzDTypes[int(r.next())%len(fuzzDTypes)],
		"Tidx": index, "Tshape": index, "Tindices": index, "Tparams": dt(0), "index_type": index,
		"Tpaddings": index, "Tmultiples": index, "out_type": index, "output_type": index, "TI": dt(0),
		"Taxis": dt(2), "Tperm": index, "Index": index, "Tlen": index,
		"N": n, "num": int(r.next() % 4), "axis": r.small(), "keep_dims": r.bool(),
		"exclusive": r.bool(), "reverse": r.bool(), "sorted": r.bool(),
		"strides": ints(4), "ksize": ints(4), "dilations": ints(4), "explicit_paddings": ints(8),
		"padding": fuzzPadding[int(r.next())%len(fuzzPadding)], "data_format": []string{"NHWC", "NCHW"}[r.next()%2],
		"transpose_a": r.bool(), "transpose_b": r.bool(), "adj_x": r.bool(), "adj_y": r.bool(),
		"align_corners": r.bool(), "half_pixel_centers": r.bool(), "is_training": r.bool(),
		"alpha": float32(fuzzFloats[int(r.next())%len(fuzzFloats)]), "epsilon": float32(fuzzFloats[int(r.next())%len(fuzzFloats)]),
		"mode":       []string{"REFLECT", "SYMMETRIC", "CONSTANT"}[r.next()%3],
		"begin_mask": int(r.next() % 8), "end_mask": int(r.next() % 8), "ellipsis_mask": int(r.next() % 4),
		"new_axis_mask": int(r.next() % 4), "shrink_axis_mask": int(r.next() % 8),
		"squeeze_dims": []int{r.small()}, "separator": "-", "pattern": "^a.*",
		"use_locking": false, "use_nesterov": r.bool(), "validate_shape": r.bool(),
		"shared_name": "v", "container": "", "shape": tfops.MakeShape(int64(r.small())),
		// Read last, so that the bytes above keep their meaning for the
		// ops before these (Einsum, Split*, ScaleAndTranslate,
		// DepthToSpace, SpaceToBatchND, ResourceGather, FusedBatchNorm).
		"equation":  fuzzEquations[int(r.next())%len(fuzzEquations)],
		"num_split": int(r.next() % 4), "batch_dims": r.small(), "block_size": int(r.next() % 5),
		"kernel_type": []string{"lanczos3", "gaussian", "mitchellcubic", "box", "nope"}[r.next()%5], "antialias": r.bool(),
		"Tblock_shape": index, "Tcrops": index, "U": dt(1),
		"exponential_avg_factor": float32(fuzzFloats[int(r.next())%len(fuzzFloats)]),
	}
	return append(nodes, node("op", op, inputs, attrs))
}
