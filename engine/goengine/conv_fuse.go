package goengine

import (
	"strings"

	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	fpb "github.com/wamuir/graft/tensorflow/core/framework/function_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	typespb "github.com/wamuir/graft/tensorflow/core/framework/types_go_proto"

	"github.com/tfseg/tfseg/tfops"
)

// Convolution fusion: a graph rewrite that turns each chain
//
//	Conv2D | Conv2DBackpropInput → BiasAdd [→ Relu | Relu6 | Elu | LeakyRelu]
//	Conv2D → FusedBatchNorm{,V2,V3} (inference) [→ the same activations]
//
// into one _FusedConv2D (fusedConv2DKernel) or _FusedConv2DBackpropInput
// node (the batch normalization one as fuseBatchNormAt describes), as
// TensorFlow's grappler remapper does for Conv2D on the CPU: the bias and
// ReLU are applied in the GEMM's registers, and the intermediate
// tensors (two full-size allocations and two passes over memory per
// layer) disappear.
//
// The fused node takes the name of the chain's last node, so every
// reference to that node, in any syntax ("n", "n:0", "n:activations:0"),
// now reads the fused result. The Conv2D and BiasAdd nodes stay in the
// graph under their names: nothing reads them any more, so the executor
// prunes them, yet a caller that fetches one still gets it. A chain is
// fused only when the Conv2D and the BiasAdd have no other use (data or
// control, including the extra references given: function rets), both are
// NHWC, and the dtype is float32 or float64. A float32 Conv2D chain whose
// input is a cropped concatenation becomes a _FusedConcatConv2D instead
// (conv_concat.go: the crop and the concatenation are read in place).
// Then two float32 convolutions in a row, the first read only by the
// second, [and a Softmax after them] become a _FusedConvPair2D
// (conv_pair.go: computed band by band, the intermediate kept in cache),
// and a float32 _FusedConv2D whose output a max-pool of whole windows
// reads becomes a _FusedConv2DMaxPool that also pools it (conv_pool.go).

// convFusedHeads maps the convolutions that start a chain to their fused
// op and their number of data inputs.
var convFusedHeads = map[string]struct {
	op     string
	inputs int
}{
	"Conv2D":              {"_FusedConv2D", 2},
	"Conv2DBackpropInput": {"_FusedConv2DBackpropInput", 3},
}

// convFusableActivations are the activations _FusedConv2D applies.
var convFusableActivations = map[string]bool{"Relu": true, "Relu6": true, "Elu": true, "LeakyRelu": true}

// fuseConvChains returns nodes with the fusable chains rewritten (a new
// slice, and changed true, when there are any; the input NodeDefs are not
// modified). extraUses are references to nodes from outside the list (a
// function's ret and control_ret values).
func fuseConvChains(nodes []*nodepb.NodeDef, extraUses []string) (_ []*nodepb.NodeDef, changed bool) {
	out, uses, changed := fuseChains(nodes, extraUses)
	// Pairs before pools: a convolution that is the second of a pair and
	// read by a max-pool stays in the pair. On the U-Net at 1x572x572x1
	// (10 alternating runs each, 2 threads), pairs first ran in 46.4 ms
	// (median; min 40.0), pools first in 49.5 ms (45.1), neither 50.4 ms
	// (45.9): the first block's pair saves more than its pool.
	if paired, ok := fuseConvPairs(out, uses); ok {
		out, changed = paired, true
	}
	if pooled := fuseConvPools(out); pooled != nil {
		out, changed = pooled, true // conv_pool.go: max-pools fused into their convolutions
	}
	return out, changed
}

// fuseChains is fuseConvChains without the pair rewrite (fuseConvPairs);
// it also returns the references to each node it counted.
func fuseChains(nodes []*nodepb.NodeDef, extraUses []string) (_ []*nodepb.NodeDef, uses map[string]int, changed bool) {
	byName := make(map[string]*nodepb.NodeDef, len(nodes))
	for _, n := range nodes {
		byName[n.GetName()] = n
	}
	nodes, shapes := shapesOfUpconvs(nodes, byName)
	uses = make(map[string]int, len(nodes))
	for _, n := range nodes {
		for _, in := range n.GetInput() {
			uses[refNode(in)]++
		}
	}
	for _, ref := range extraUses {
		uses[refNode(ref)]++
	}
	out, changed := rewriteEach(nodes, uses, fuseChainAt)
	return out, uses, changed || shapes
}

// rewriteEach returns nodes with each node n replaced by at(n, byName,
// uses) where that is not nil (a new slice, and true, when there are any;
// nodes itself otherwise). byName maps names to the nodes given.
func rewriteEach(nodes []*nodepb.NodeDef, uses map[string]int,
	at func(n *nodepb.NodeDef, byName map[string]*nodepb.NodeDef, uses map[string]int) *nodepb.NodeDef) ([]*nodepb.NodeDef, bool) {
	byName := make(map[string]*nodepb.NodeDef, len(nodes))
	for _, n := range nodes {
		byName[n.GetName()] = n
	}
	var out []*nodepb.NodeDef
	for i, n := range nodes {
		r := at(n, byName, uses)
		if r == nil {
			continue
		}
		if out == nil {
			out = append([]*nodepb.NodeDef{}, nodes...)
		}
		out[i] = r
	}
	if out == nil {
		return nodes, false
	}
	return out, true
}

// shapesOfUpconvs returns nodes with each int32 Shape of a transposed
// convolution's output (a Conv2DBackpropInput, or the BiasAdd or
// activation after one, which keep its shape) replaced by an Identity of
// the convolution's input_sizes, the int32 shape it allocates its output
// with (tensorflow/core/ops/nn_ops.cc: input_sizes is int32), and changed
// true when there were any (a new slice; the NodeDefs are not modified).
// Keras' U-Net crop computes its offsets from the upsampled tensor's
// shape: without this, that Shape is a second use of the transposed
// convolution, which could then not be computed band by band inside the
// convolution that reads it (upconvPart). The values are the same; an
// invalid input_sizes is still reported by the convolution, which the
// crop's consumer needs.
func shapesOfUpconvs(nodes []*nodepb.NodeDef, byName map[string]*nodepb.NodeDef) (_ []*nodepb.NodeDef, changed bool) {
	var out []*nodepb.NodeDef
	for i, n := range nodes {
		data := dataInputs(n)
		if n.GetOp() != "Shape" || len(data) != 1 || !refIsOutput0(data[0]) {
			continue
		}
		if a, ok := n.GetAttr()["out_type"]; ok && a.GetType() != typespb.DataType_DT_INT32 {
			continue
		}
		sizes := upconvSizes(byName[refNode(data[0])], byName)
		if sizes == "" {
			continue
		}
		if out == nil {
			out = append([]*nodepb.NodeDef{}, nodes...)
		}
		inputs := append([]string{sizes}, controlInputs(n)...)
		out[i] = &nodepb.NodeDef{Name: n.GetName(), Op: "Identity", Input: inputs, Device: n.GetDevice(),
			Attr: map[string]*attrpb.AttrValue{"T": {Value: &attrpb.AttrValue_Type{Type: typespb.DataType_DT_INT32}}}}
	}
	if out == nil {
		return nodes, false
	}
	return out, true
}

// upconvSizes returns the input_sizes reference of the NHWC
// Conv2DBackpropInput whose output n is, directly or through a BiasAdd
// and an activation (output 0 each), or "".
func upconvSizes(n *nodepb.NodeDef, byName map[string]*nodepb.NodeDef) string {
	for range 3 {
		if n == nil {
			return ""
		}
		data := dataInputs(n)
		switch {
		case n.GetOp() == "Conv2DBackpropInput" && isNHWC(n) && len(data) == 3:
			return data[0]
		case (n.GetOp() == "BiasAdd" && isNHWC(n) && len(data) == 2 || convFusableActivations[n.GetOp()] && len(data) == 1) && refIsOutput0(data[0]):
			n = byName[refNode(data[0])]
		default:
			return ""
		}
	}
	return ""
}

// fuseChainAt returns the _FusedConv2D node replacing the chain that ends
// at last, or nil.
func fuseChainAt(last *nodepb.NodeDef, byName map[string]*nodepb.NodeDef, uses map[string]int) *nodepb.NodeDef {
	bias, act := last, (*nodepb.NodeDef)(nil)
	if convFusableActivations[last.GetOp()] {
		data := dataInputs(last)
		if len(data) != 1 || !refIsOutput0(data[0]) {
			return nil
		}
		bias, act = byName[refNode(data[0])], last
		if bias == nil || uses[bias.GetName()] != 1 || batchNormOps[bias.GetOp()] && !refIsBatchNormY(data[0]) {
			return nil
		}
	}
	if batchNormOps[bias.GetOp()] {
		return fuseBatchNormAt(last, bias, act, byName, uses)
	}
	if bias.GetOp() != "BiasAdd" || !isNHWC(bias) {
		return nil
	}
	bdata := dataInputs(bias)
	if len(bdata) != 2 || !refIsOutput0(bdata[0]) {
		return nil
	}
	conv := byName[refNode(bdata[0])]
	if conv == nil || uses[conv.GetName()] != 1 || !isNHWC(conv) {
		return nil
	}
	head, ok := convFusedHeads[conv.GetOp()]
	cdata := dataInputs(conv)
	if !ok || len(cdata) != head.inputs {
		return nil
	}
	t := conv.GetAttr()["T"].GetType()
	if d := tfops.DType(t); d != tfops.Float && d != tfops.Double {
		return nil
	}
	for _, n := range []*nodepb.NodeDef{bias, act} {
		if n != nil && n.GetAttr()["T"] != nil && n.GetAttr()["T"].GetType() != t {
			return nil
		}
	}
	inputs := withControls(append(append([]string{}, cdata...), bdata[1]), conv, bias, last)
	fused := &nodepb.NodeDef{Name: last.GetName(), Op: head.op, Input: inputs, Device: last.GetDevice(), Attr: fusedConvAttrs(conv, act, "BiasAdd", 1)}
	if folded := foldConcatConv(fused, conv, byName, uses); folded != nil {
		return folded
	}
	return fused
}

// batchNormOps are the batch normalizations a Conv2D chain fuses (in
// inference mode).
var batchNormOps = map[string]bool{"FusedBatchNorm": true, "FusedBatchNormV2": true, "FusedBatchNormV3": true}

// fuseBatchNormAt returns the _FusedConv2D node replacing the chain
//
//	Conv2D → FusedBatchNorm{,V2,V3} (is_training false) [→ activation]
//
// that ends at last (bn, or act after it), or nil: TensorFlow's grappler
// remapper makes the same node on the CPU (remapper.cc, FuseConv2DWith-
// BatchNorm and ...BatchNormAndActivation: fused_ops [FusedBatchNorm] or
// [FusedBatchNorm, activation], num_args 4, inputs x, filter, scale,
// offset, mean, variance, attr epsilon), and its kernel
// (fused_eigen_output_kernels.h, FusedBatchNormOutputKernel) applies
// (conv - mean)·scaling_factor + offset, scaling_factor = scale /
// √(variance + epsilon), then the activation, as the unfused
// FusedBatchNormV3 does. The chain fuses only when the Conv2D is float32
// NHWC and read only by bn, bn is float32 NHWC inference, and nothing
// reads bn's other outputs (its batch statistics).
func fuseBatchNormAt(last, bn, act *nodepb.NodeDef, byName map[string]*nodepb.NodeDef, uses map[string]int) *nodepb.NodeDef {
	a := bn.GetAttr()
	f32 := typespb.DataType_DT_FLOAT
	if !isNHWC(bn) || a["T"].GetType() != f32 || (a["U"] != nil && a["U"].GetType() != f32) ||
		a["is_training"] == nil || a["is_training"].GetB() || !onlyBatchNormY(bn, byName, uses) {
		return nil
	}
	bdata := dataInputs(bn)
	if len(bdata) != 5 || !refIsOutput0(bdata[0]) {
		return nil
	}
	conv := byName[refNode(bdata[0])]
	if conv == nil || conv.GetOp() != "Conv2D" || uses[conv.GetName()] != 1 || !isNHWC(conv) || len(dataInputs(conv)) != 2 ||
		conv.GetAttr()["T"].GetType() != f32 || act != nil && act.GetAttr()["T"] != nil && act.GetAttr()["T"].GetType() != f32 {
		return nil
	}
	attrs := fusedConvAttrs(conv, act, "FusedBatchNorm", 4)
	eps := float32(1e-4) // the op's default (nn_ops.cc)
	if e, ok := a["epsilon"]; ok {
		eps = e.GetF()
	}
	attrs["epsilon"] = &attrpb.AttrValue{Value: &attrpb.AttrValue_F{F: eps}}
	inputs := withControls(append(append([]string{}, dataInputs(conv)...), bdata[1:]...), conv, bn, last)
	return &nodepb.NodeDef{Name: last.GetName(), Op: "_FusedConv2D", Input: inputs, Device: last.GetDevice(), Attr: attrs}
}

// fusedConvAttrs returns the attrs of a fused convolution made of conv:
// conv's, fused_ops [first] or [first, act's op], num_args and, for a
// LeakyRelu, its slope as leakyrelu_alpha.
func fusedConvAttrs(conv, act *nodepb.NodeDef, first string, numArgs int64) map[string]*attrpb.AttrValue {
	attrs := make(map[string]*attrpb.AttrValue, len(conv.GetAttr())+4)
	for k, v := range conv.GetAttr() {
		attrs[k] = v
	}
	ops := [][]byte{[]byte(first)}
	if act != nil {
		ops = append(ops, []byte(act.GetOp()))
		if al, ok := act.GetAttr()["alpha"]; ok && act.GetOp() == "LeakyRelu" {
			attrs["leakyrelu_alpha"] = al
		}
	}
	attrs["fused_ops"] = &attrpb.AttrValue{Value: &attrpb.AttrValue_List{List: &attrpb.AttrValue_ListValue{S: ops}}}
	attrs["num_args"] = &attrpb.AttrValue{Value: &attrpb.AttrValue_I{I: numArgs}}
	return attrs
}

// withControls returns inputs followed by the control inputs of nodes,
// each once.
func withControls(inputs []string, nodes ...*nodepb.NodeDef) []string {
	seen := map[string]bool{}
	for _, n := range nodes {
		for _, in := range n.GetInput() {
			if strings.HasPrefix(in, "^") && !seen[in] {
				seen[in] = true
				inputs = append(inputs, in)
			}
		}
	}
	return inputs
}

// refIsBatchNormY reports whether a data reference reads a batch
// normalization's output y: "n", "n:0" or, in a function body, "n:y:0".
func refIsBatchNormY(ref string) bool {
	_, rest, ok := strings.Cut(ref, ":")
	return !ok || rest == "0" || rest == "y:0"
}

// onlyBatchNormY reports whether every reference to bn that uses counts is
// a control input or reads its output y (not its batch statistics; a
// reference from outside the nodes, a function's ret, counts as another).
func onlyBatchNormY(bn *nodepb.NodeDef, byName map[string]*nodepb.NodeDef, uses map[string]int) bool {
	seen := 0
	for _, n := range byName {
		for _, in := range n.GetInput() {
			if refNode(in) != bn.GetName() {
				continue
			}
			if !strings.HasPrefix(in, "^") && !refIsBatchNormY(in) {
				return false
			}
			seen++
		}
	}
	return seen == uses[bn.GetName()]
}

// fuseConvFunction returns fd with its convolution chains fused (fd itself
// when there are none; fd is never modified).
func fuseConvFunction(fd *fpb.FunctionDef) *fpb.FunctionDef {
	var extra []string
	for _, r := range fd.GetRet() {
		extra = append(extra, r)
	}
	for _, r := range fd.GetControlRet() {
		extra = append(extra, r)
	}
	nodes, changed := fuseConvChains(fd.GetNodeDef(), extra)
	if !changed {
		return fd
	}
	return &fpb.FunctionDef{
		Signature: fd.GetSignature(), Attr: fd.GetAttr(), ArgAttr: fd.GetArgAttr(),
		ResourceArgUniqueId: fd.GetResourceArgUniqueId(), NodeDef: nodes,
		Ret: fd.GetRet(), ControlRet: fd.GetControlRet(),
	}
}

// refNode is the node a reference names: "n", "n:1", "n:out:0" and "^n"
// all name n.
func refNode(ref string) string {
	ref = strings.TrimPrefix(ref, "^")
	if i := strings.IndexByte(ref, ':'); i >= 0 {
		return ref[:i]
	}
	return ref
}

// refIsOutput0 reports whether a data reference reads output 0 of its node
// ("n", "n:0" or, in a function body, "n:arg:0"; the ops fused here have a
// single output arg).
func refIsOutput0(ref string) bool {
	i := strings.LastIndexByte(ref, ':')
	return i < 0 || ref[i+1:] == "0"
}

// dataInputs returns the non-control inputs of n.
func dataInputs(n *nodepb.NodeDef) []string {
	var out []string
	for _, in := range n.GetInput() {
		if !strings.HasPrefix(in, "^") {
			out = append(out, in)
		}
	}
	return out
}

// isNHWC reports whether n's data_format attr is NHWC or absent.
func isNHWC(n *nodepb.NodeDef) bool {
	a, ok := n.GetAttr()["data_format"]
	return !ok || string(a.GetS()) == "NHWC"
}
