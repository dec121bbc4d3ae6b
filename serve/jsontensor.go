package serve

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/tfseg/tfseg/tfops"
)

// This file translates between TensorFlow Serving's JSON tensors and tfops
// tensors, following tensorflow_serving/util/json_tensor.cc
// (FillPredictRequestFromJson, MakeJsonFromTensors) and the REST API
// documentation (tensorflow_serving/g3doc/api_rest.md).

// requestFormat is the predict request's format, which picks the
// response's: row ("instances" -> "predictions") or columnar ("inputs" ->
// "outputs").
type requestFormat int

const (
	formatRow requestFormat = iota
	formatColumnar
)

// tfTypeName is TensorFlow's DataTypeString, which TensorFlow Serving's
// messages print ("float", "int32").
func tfTypeName(d tfops.DType) string {
	switch d {
	case tfops.Float:
		return "float"
	case tfops.Double:
		return "double"
	}
	return d.String()
}

// tensorBuilder accumulates the leaves of JSON tensors of one dtype
// (AddValueToTensor in json_tensor.cc).
type tensorBuilder struct {
	dtype tfops.DType
	f32   []float32
	f64   []float64
	i64   []int64
	u64   []uint64
	b     []bool
	s     []string
	n     int
	limit int // maximum number of elements
}

var errTooLarge = errors.New("tensor too large")

func typeError(v *jsonValue, d tfops.DType) error {
	return fmt.Errorf("JSON Value: %s Type: %s is not of expected type: %s", v.debugString(), kindName[v.kind], tfTypeName(d))
}

// parseFloat reads a JSON number, NaN and the infinities included.
func parseFloat(text string, bits int) (float64, error) {
	switch text {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	// A float64 out of range was refused by the parser; one out of float32's
	// range becomes ±Inf, as the C++ cast to float does.
	f, err := strconv.ParseFloat(text, bits)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, err
	}
	return f, nil
}

// intRange is the range of each integer dtype. TensorFlow Serving reads
// int8, int16 and uint8 with RapidJSON's IsInt (any int32) and lets the
// TensorProto conversion wrap; tfseg rejects values out of the dtype's range.
func intRange(d tfops.DType) (lo, hi int64, ok bool) {
	switch d {
	case tfops.Int8:
		return math.MinInt8, math.MaxInt8, true
	case tfops.Int16:
		return math.MinInt16, math.MaxInt16, true
	case tfops.Int32:
		return math.MinInt32, math.MaxInt32, true
	case tfops.Int64:
		return math.MinInt64, math.MaxInt64, true
	case tfops.Uint8:
		return 0, math.MaxUint8, true
	case tfops.Uint16:
		return 0, math.MaxUint16, true
	case tfops.Uint32:
		return 0, math.MaxUint32, true
	}
	return 0, 0, false
}

func (tb *tensorBuilder) add(v *jsonValue) error {
	if tb.n >= tb.limit {
		return errTooLarge
	}
	d := tb.dtype
	switch {
	case d == tfops.Float || d == tfops.Double:
		if v.kind != jsonNumber {
			return typeError(v, d)
		}
		bits := 64
		if d == tfops.Float {
			bits = 32
		}
		f, err := parseFloat(v.text, bits)
		if err != nil {
			return typeError(v, d)
		}
		if d == tfops.Float {
			tb.f32 = append(tb.f32, float32(f))
		} else {
			tb.f64 = append(tb.f64, f)
		}
	case d == tfops.Uint64:
		if v.kind != jsonNumber {
			return typeError(v, d)
		}
		u, err := strconv.ParseUint(v.text, 10, 64)
		if err != nil {
			return typeError(v, d)
		}
		tb.u64 = append(tb.u64, u)
	case d == tfops.Bool:
		if v.kind != jsonTrue && v.kind != jsonFalse {
			return typeError(v, d)
		}
		tb.b = append(tb.b, v.kind == jsonTrue)
	case d == tfops.String:
		switch {
		case v.kind == jsonString:
			tb.s = append(tb.s, v.text)
		case v.kind == jsonObject:
			if !v.isB64() {
				return fmt.Errorf("JSON Value: %s not formatted correctly for base64 data", v.debugString())
			}
			raw, err := base64.StdEncoding.DecodeString(v.vals[0].text)
			if err != nil {
				//lint:ignore ST1005 TensorFlow Serving's message, verbatim
				return fmt.Errorf("Unable to base64 decode")
			}
			tb.s = append(tb.s, string(raw))
		default:
			return typeError(v, d)
		}
	default:
		lo, hi, ok := intRange(d)
		if !ok {
			//lint:ignore ST1005 TensorFlow Serving's message, verbatim
			return fmt.Errorf("Conversion of JSON Value: %s to type: %s is not supported", v.debugString(), tfTypeName(d))
		}
		if v.kind != jsonNumber {
			return typeError(v, d)
		}
		i, err := strconv.ParseInt(v.text, 10, 64)
		if err != nil || i < lo || i > hi {
			return typeError(v, d)
		}
		tb.i64 = append(tb.i64, i)
	}
	tb.n++
	return nil
}

func (tb *tensorBuilder) tensor(dims []int) (*tfops.Tensor, error) {
	var data any
	switch tb.dtype {
	case tfops.Float:
		data = nonNil(tb.f32)
	case tfops.Double:
		data = nonNil(tb.f64)
	case tfops.Bool:
		data = nonNil(tb.b)
	case tfops.String:
		data = nonNil(tb.s)
	case tfops.Uint64:
		data = nonNil(tb.u64)
	case tfops.Int64:
		data = nonNil(tb.i64)
	case tfops.Int32:
		data = convertInts[int32](tb.i64)
	case tfops.Int16:
		data = convertInts[int16](tb.i64)
	case tfops.Int8:
		data = convertInts[int8](tb.i64)
	case tfops.Uint8:
		data = convertInts[uint8](tb.i64)
	case tfops.Uint16:
		data = convertInts[uint16](tb.i64)
	case tfops.Uint32:
		data = convertInts[uint32](tb.i64)
	default:
		return nil, fmt.Errorf("dtype %v is not supported in JSON", tb.dtype)
	}
	return tfops.NewTensorRaw(tb.dtype, dims, data)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func convertInts[T int8 | int16 | int32 | uint8 | uint16 | uint32](in []int64) []T {
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = T(v)
	}
	return out
}

// denseShape is GetDenseTensorShape: the sizes of the first elements, level
// by level. A scalar has no dimensions.
func denseShape(v *jsonValue) []int {
	var dims []int
	for v.kind == jsonArray {
		dims = append(dims, len(v.arr))
		if len(v.arr) == 0 {
			break
		}
		v = &v.arr[0]
	}
	return dims
}

func shapeString(dims []int) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = strconv.Itoa(d)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// fill is FillTensorProto: every leaf must sit at depth len(dims) and every
// list must have the size dims gives for its level.
func fill(v *jsonValue, level int, dims []int, tb *tensorBuilder) error {
	if v.kind != jsonArray {
		if level != len(dims) {
			return fmt.Errorf("JSON Value: %s found at incorrect level: %d in the JSON DOM. Expected at level: %d", v.debugString(), level+1, len(dims))
		}
		return tb.add(v)
	}
	if level >= len(dims) {
		//lint:ignore ST1005 TensorFlow Serving's message, verbatim
		return fmt.Errorf("Encountered list at unexpected level: %d expected < %d", level, len(dims))
	}
	if len(v.arr) != dims[level] {
		//lint:ignore ST1005 TensorFlow Serving's message, verbatim
		return fmt.Errorf("Encountered list at unexpected size: %d at level: %d expected size: %d", len(v.arr), level, dims[level])
	}
	for i := range v.arr {
		if err := fill(&v.arr[i], level+1, dims, tb); err != nil {
			return err
		}
	}
	return nil
}

// inputSpec is what the JSON reader needs to know of a signature input.
type inputSpec struct {
	name  string
	dtype tfops.DType
}

// parsedRequest is a predict request read from JSON.
type parsedRequest struct {
	signature string
	format    requestFormat
	inputs    map[string]*tfops.Tensor
}

// readPredictRequest is FillPredictRequestFromJson. specs gives a
// signature's inputs (error: unknown signature); maxElems bounds the
// elements of any one input.
func readPredictRequest(body []byte, specs func(sig string) ([]inputSpec, error), maxElems int) (*parsedRequest, error) {
	doc, err := parseJSON(body)
	if err != nil {
		return nil, invalidArg(err)
	}
	if doc.kind != jsonObject {
		return nil, invalidArgf("JSON Value: %s Is not object", doc.debugString())
	}
	req := &parsedRequest{}
	if sig, ok := doc.member("signature_name"); ok {
		if sig.kind != jsonString {
			return nil, invalidArgf("JSON Value: %s not formatted correctly. 'signature_name' key must be a string value.", doc.debugString())
		}
		req.signature = sig.text
	}
	ins, err := specs(req.signature)
	if err != nil {
		return nil, err
	}
	if len(ins) == 0 {
		name := req.signature
		if name == "" {
			name = "DEFAULT"
		}
		return nil, invalidArgf("Failed to get input map for signature: %s", name)
	}
	instances, hasInstances := doc.member("instances")
	inputs, hasInputs := doc.member("inputs")
	switch {
	case hasInstances && hasInputs:
		return nil, invalidArgf("JSON Value: %s Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist ", doc.debugString())
	case hasInstances:
		if instances.kind != jsonArray {
			return nil, invalidArgf("JSON Value: %s Expecting 'instances' to be an list/array", doc.debugString())
		}
		if len(instances.arr) == 0 {
			return nil, invalidArgf("JSON Value: %s No values in 'instances' array", doc.debugString())
		}
		req.format = formatRow
		req.inputs, err = readInstances(instances, ins, maxElems)
	case hasInputs:
		req.format = formatColumnar
		req.inputs, err = readInputs(inputs, ins, maxElems)
	default:
		return nil, invalidArgf("Missing 'inputs' or 'instances' key")
	}
	if err != nil {
		return nil, err
	}
	return req, nil
}

func tooLarge(name string, maxElems int) error {
	return &apiError{code: codeResourceExhausted, msg: fmt.Sprintf("input %q has more than %d elements (the server's tensor size limit)", name, maxElems)}
}

// readInstances is FillTensorMapFromInstancesList: each element of the
// list is one row (a value, or an object with one value per input); the
// rows are stacked along a new first dimension.
func readInstances(list *jsonValue, ins []inputSpec, maxElems int) (map[string]*tfops.Tensor, error) {
	isObject := func(v *jsonValue) bool { return v.kind == jsonObject && !v.isB64() }
	if !isObject(&list.arr[0]) && len(ins) > 1 {
		return nil, invalidArgf("instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map")
	}
	byName := map[string]inputSpec{}
	names := make([]string, len(ins))
	for i, s := range ins {
		byName[s.name] = s
		names[i] = s.name
	}
	sort.Strings(names)
	builders := map[string]*tensorBuilder{}
	shapes := map[string][]int{}
	sizes := map[string]int{}
	add := func(item *jsonValue, name string) error {
		spec, ok := byName[name]
		if !ok {
			return fmt.Errorf("JSON object: does not have named input: %s", name)
		}
		tb := builders[name]
		if tb == nil {
			tb = &tensorBuilder{dtype: spec.dtype, limit: maxElems}
			builders[name] = tb
		}
		dims := denseShape(item)
		before := tb.n
		if err := fill(item, 0, dims, tb); err != nil {
			if errors.Is(err, errTooLarge) {
				return tooLarge(name, maxElems)
			}
			return err
		}
		size := tb.n - before
		if want, seen := sizes[name]; !seen {
			sizes[name] = size
			shapes[name] = dims
		} else if want != size {
			//lint:ignore ST1005 TensorFlow Serving's message, verbatim
			return fmt.Errorf("Expecting tensor size: %d but got: %d", want, size)
		} else if shapeString(shapes[name]) != shapeString(dims) {
			//lint:ignore ST1005 TensorFlow Serving's message, verbatim
			return fmt.Errorf("Expecting shape %s but got: %s", shapeString(shapes[name]), shapeString(dims))
		}
		return nil
	}
	elementsAreObjects := isObject(&list.arr[0])
	for i := range list.arr {
		elem := &list.arr[i]
		if elementsAreObjects {
			if !isObject(elem) {
				return nil, invalidArgf("Expecting object but got list at item %d of input list", i)
			}
			for k, key := range elem.keys {
				if err := add(&elem.vals[k], key); err != nil {
					return nil, wrapElementError(err, fmt.Sprintf("Failed to process element: %d key: %s of 'instances' list. Error: ", i, key))
				}
			}
			keys := append([]string{}, elem.keys...)
			sort.Strings(keys)
			if strings.Join(keys, ",") != strings.Join(names, ",") {
				return nil, invalidArgf("Failed to process element: %d of 'instances' list. JSON object: %s keys must be equal to: %s", i, elem.debugString(), strings.Join(names, ","))
			}
			continue
		}
		if isObject(elem) {
			return nil, invalidArgf("Expecting value/list but got object at item %d of input list", i)
		}
		if err := add(elem, ins[0].name); err != nil {
			return nil, wrapElementError(err, fmt.Sprintf("Failed to process element: %d of 'instances' list. Error: ", i))
		}
	}
	out := make(map[string]*tfops.Tensor, len(builders))
	for name, tb := range builders {
		t, err := tb.tensor(append([]int{len(list.arr)}, shapes[name]...))
		if err != nil {
			return nil, invalidArg(err)
		}
		out[name] = t
	}
	return out, nil
}

// wrapElementError prefixes an element's error as TensorFlow Serving does,
// keeping a size-limit error's status code.
func wrapElementError(err error, prefix string) error {
	var ae *apiError
	if errors.As(err, &ae) {
		return err
	}
	return invalidArgf("%sINVALID_ARGUMENT: %v", prefix, err)
}

// readInputs is FillTensorMapFromInputsMap: one value for a single input,
// or an object with one value per input.
func readInputs(val *jsonValue, ins []inputSpec, maxElems int) (map[string]*tfops.Tensor, error) {
	one := func(v *jsonValue, spec inputSpec) (*tfops.Tensor, error) {
		tb := &tensorBuilder{dtype: spec.dtype, limit: maxElems}
		dims := denseShape(v)
		if err := fill(v, 0, dims, tb); err != nil {
			if errors.Is(err, errTooLarge) {
				return nil, tooLarge(spec.name, maxElems)
			}
			return nil, invalidArg(err)
		}
		t, err := tb.tensor(dims)
		if err != nil {
			return nil, invalidArg(err)
		}
		return t, nil
	}
	out := map[string]*tfops.Tensor{}
	if val.kind != jsonObject || val.isB64() {
		if len(ins) > 1 {
			return nil, invalidArgf("inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map")
		}
		t, err := one(val, ins[0])
		if err != nil {
			return nil, err
		}
		out[ins[0].name] = t
		return out, nil
	}
	for _, spec := range ins {
		item, ok := val.member(spec.name)
		if !ok {
			return nil, invalidArgf("Missing named input: %s in 'inputs' object.", spec.name)
		}
		t, err := one(item, spec)
		if err != nil {
			return nil, err
		}
		out[spec.name] = t
	}
	// Members that are not inputs are ignored, as TensorFlow Serving does.
	return out, nil
}
