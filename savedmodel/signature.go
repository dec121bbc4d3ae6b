package savedmodel

import (
	"fmt"
	"sort"

	"github.com/tfseg/tfseg/tfops"
	tensorpb "github.com/wamuir/graft/tensorflow/core/framework/tensor_go_proto"
	pb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
)

// TensorEncoding says how a signature tensor maps onto graph tensors.
type TensorEncoding string

// The encodings of meta_graph.proto's TensorInfo.
const (
	// EncodingName is a dense tensor named "node:index".
	EncodingName TensorEncoding = "name"
	// EncodingCOOSparse is a SparseTensor given by three dense tensors.
	EncodingCOOSparse TensorEncoding = "coo_sparse"
	// EncodingComposite is a composite tensor (ragged, ...), not described further here.
	EncodingComposite TensorEncoding = "composite_tensor"
)

// TensorInfo describes one input or output of a signature.
type TensorInfo struct {
	// Name is the graph tensor, "node:index" (for a COO sparse tensor, its
	// values tensor; empty for a composite tensor).
	Name string
	// DType is the element type.
	DType tfops.DType
	// Shape is the static shape; -1 marks an unknown dimension.
	Shape tfops.Shape
	// Encoding is EncodingName unless the tensor is sparse or composite;
	// the zero value means EncodingName.
	Encoding TensorEncoding
	// SparseIndices and SparseDenseShape name the indices and dense-shape
	// tensors of a COO sparse tensor.
	SparseIndices, SparseDenseShape string
}

// Signature is a SignatureDef in a friendlier form: named inputs and outputs
// with their graph tensors, dtypes and shapes.
type Signature struct {
	// Key is the signature's key in the MetaGraphDef ("serving_default").
	Key string
	// Inputs and Outputs map the signature's argument names to tensors.
	Inputs, Outputs map[string]TensorInfo
	// MethodName is the method ("tensorflow/serving/predict"), possibly empty.
	MethodName string
	// Defaults holds the values of inputs that may be omitted (the
	// SignatureDef's defaults, TF 2.x: arguments with default values).
	Defaults map[string]*tfops.Tensor
}

// PredictMethod is the method name of a serving "predict" signature.
const PredictMethod = "tensorflow/serving/predict"

// InputKeys returns the input names in sorted order.
func (s Signature) InputKeys() []string { return sortedKeys(s.Inputs) }

// OutputKeys returns the output names in sorted order.
func (s Signature) OutputKeys() []string { return sortedKeys(s.Outputs) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// SignatureFromProto converts a SignatureDef stored under key.
func SignatureFromProto(key string, sd *pb.SignatureDef) (Signature, error) {
	s := Signature{Key: key, MethodName: sd.GetMethodName(),
		Inputs: map[string]TensorInfo{}, Outputs: map[string]TensorInfo{}}
	for _, side := range []struct {
		kind string
		in   map[string]*pb.TensorInfo
		out  map[string]TensorInfo
	}{{"input", sd.GetInputs(), s.Inputs}, {"output", sd.GetOutputs(), s.Outputs}} {
		for name, ti := range side.in {
			t, err := tensorInfoFromProto(ti)
			if err != nil {
				return Signature{}, fmt.Errorf("%w: signature %q %s %q: %w", ErrFormat, key, side.kind, name, err)
			}
			side.out[name] = t
		}
	}
	for name, tp := range sd.GetDefaults() {
		in, ok := s.Inputs[name]
		if !ok {
			return Signature{}, fmt.Errorf("%w: signature %q: default for %q, which is not an input", ErrFormat, key, name)
		}
		t, err := tfops.FromProto(tp)
		if err != nil {
			return Signature{}, fmt.Errorf("%w: signature %q: default of input %q: %w", ErrFormat, key, name, err)
		}
		if t.DType() != in.DType || !in.Shape.CompatibleWith(t.StaticShape()) {
			return Signature{}, fmt.Errorf("%w: signature %q: default of input %q is %v%v, the input is %v%v",
				ErrFormat, key, name, t.DType(), t.Shape(), in.DType, in.Shape)
		}
		if s.Defaults == nil {
			s.Defaults = map[string]*tfops.Tensor{}
		}
		s.Defaults[name] = t
	}
	return s, nil
}

func tensorInfoFromProto(ti *pb.TensorInfo) (TensorInfo, error) {
	if ti == nil {
		return TensorInfo{}, fmt.Errorf("empty TensorInfo")
	}
	t := TensorInfo{DType: tfops.DType(ti.GetDtype()), Shape: tfops.ShapeFromProto(ti.GetTensorShape())}
	switch enc := ti.GetEncoding().(type) {
	case *pb.TensorInfo_Name:
		t.Name, t.Encoding = enc.Name, EncodingName
		if t.Name == "" {
			return TensorInfo{}, fmt.Errorf("empty tensor name")
		}
	case *pb.TensorInfo_CooSparse_:
		t.Encoding = EncodingCOOSparse
		t.Name = enc.CooSparse.GetValuesTensorName()
		t.SparseIndices = enc.CooSparse.GetIndicesTensorName()
		t.SparseDenseShape = enc.CooSparse.GetDenseShapeTensorName()
	case *pb.TensorInfo_CompositeTensor_:
		t.Encoding = EncodingComposite
	default:
		return TensorInfo{}, fmt.Errorf("no encoding")
	}
	return t, nil
}

// Proto converts the signature back to a SignatureDef.
func (s Signature) Proto() (*pb.SignatureDef, error) {
	//lint:ignore SA1019 TensorFlow 2's own exporter still writes method_name, and TF 1.x loaders read it
	sd := &pb.SignatureDef{MethodName: s.MethodName,
		Inputs: map[string]*pb.TensorInfo{}, Outputs: map[string]*pb.TensorInfo{}}
	for _, side := range []struct {
		kind string
		in   map[string]TensorInfo
		out  map[string]*pb.TensorInfo
	}{{"input", s.Inputs, sd.Inputs}, {"output", s.Outputs, sd.Outputs}} {
		for name, t := range side.in {
			ti := &pb.TensorInfo{Dtype: t.DType.Proto(), TensorShape: t.Shape.Proto()}
			switch t.Encoding {
			case EncodingName, "":
				if t.Name == "" {
					return nil, fmt.Errorf("%w: signature %q %s %q has no tensor name", ErrExport, s.Key, side.kind, name)
				}
				ti.Encoding = &pb.TensorInfo_Name{Name: t.Name}
			case EncodingCOOSparse:
				ti.Encoding = &pb.TensorInfo_CooSparse_{CooSparse: &pb.TensorInfo_CooSparse{
					ValuesTensorName: t.Name, IndicesTensorName: t.SparseIndices, DenseShapeTensorName: t.SparseDenseShape}}
			default:
				return nil, fmt.Errorf("%w: signature %q %s %q: cannot write encoding %q", ErrExport, s.Key, side.kind, name, t.Encoding)
			}
			side.out[name] = ti
		}
	}
	for name, t := range s.Defaults {
		if _, ok := s.Inputs[name]; !ok {
			return nil, fmt.Errorf("%w: signature %q: default for %q, which is not an input", ErrExport, s.Key, name)
		}
		tp, err := tfops.ToProto(t)
		if err != nil {
			return nil, fmt.Errorf("%w: signature %q: default of %q: %w", ErrExport, s.Key, name, err)
		}
		if sd.Defaults == nil {
			sd.Defaults = map[string]*tensorpb.TensorProto{}
		}
		sd.Defaults[name] = tp
	}
	return sd, nil
}
