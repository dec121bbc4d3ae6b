package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	typespb "github.com/wamuir/graft/tensorflow/core/framework/types_go_proto"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/savedmodel"
	"github.com/tfseg/tfseg/tfops"
)

const defaultSignature = "serving_default"

// status answers GET /v1/models/NAME[/versions/V|/labels/L]: a
// GetModelStatusResponse in JSON (GetModelStatusImpl,
// tensorflow_serving/model_servers/get_model_status_impl.cc), versions
// newest first. A label is resolved to its version (TensorFlow Serving's
// status API lists every version for a label).
func (s *Server) status(req *request) ([]byte, error) {
	m, ok := s.models[req.model]
	if !ok {
		return nil, notFoundf("Could not find any versions of model %s", req.model)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if req.label != "" {
		v, ok := m.cfg.Labels[req.label]
		if !ok {
			return nil, invalidArgf("Unrecognized servable version label: %s", req.label)
		}
		req.version, req.hasVersion = v, true
	}
	type statusBody struct {
		ErrorCode    string `json:"error_code"`
		ErrorMessage string `json:"error_message"`
	}
	type versionJSON struct {
		Version string     `json:"version"`
		State   string     `json:"state"`
		Status  statusBody `json:"status"`
	}
	var out struct {
		ModelVersionStatus []versionJSON `json:"model_version_status"`
	}
	var versions []int64
	for v := range m.statuses {
		if !req.hasVersion || v == req.version {
			versions = append(versions, v)
		}
	}
	if len(versions) == 0 {
		if req.hasVersion {
			return nil, notFoundf("Could not find version %d of model %s", req.version, req.model)
		}
		return nil, notFoundf("Could not find any versions of model %s", req.model)
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i] > versions[j] })
	for _, v := range versions {
		st := m.statuses[v]
		body := statusBody{ErrorCode: "OK"}
		if st.errMsg != "" {
			body = statusBody{ErrorCode: codeNames[st.errCode], ErrorMessage: st.errMsg}
		}
		out.ModelVersionStatus = append(out.ModelVersionStatus, versionJSON{strconv.FormatInt(v, 10), st.state, body})
	}
	return json.MarshalIndent(out, "", " ")
}

// tensorInfoJSON is a TensorInfo as protobuf's JSON printer writes it
// (preserve_proto_field_names, always_print_fields_with_no_presence).
type tensorInfoJSON struct {
	DType       string `json:"dtype"`
	TensorShape struct {
		Dim         []dimJSON `json:"dim"`
		UnknownRank bool      `json:"unknown_rank"`
	} `json:"tensor_shape"`
	Name string `json:"name"`
}

type dimJSON struct {
	Size string `json:"size"`
	Name string `json:"name"`
}

type signatureJSON struct {
	Inputs     map[string]tensorInfoJSON `json:"inputs"`
	Outputs    map[string]tensorInfoJSON `json:"outputs"`
	MethodName string                    `json:"method_name"`
	Defaults   map[string]any            `json:"defaults"`
}

func tensorInfo(ti savedmodel.TensorInfo) tensorInfoJSON {
	var t tensorInfoJSON
	t.DType = typespb.DataType(ti.DType).String()
	t.Name = ti.Name
	t.TensorShape.Dim = []dimJSON{}
	if !ti.Shape.RankKnown() {
		t.TensorShape.UnknownRank = true
		return t
	}
	for _, d := range ti.Shape.Dims() {
		t.TensorShape.Dim = append(t.TensorShape.Dim, dimJSON{Size: strconv.FormatInt(d, 10)})
	}
	return t
}

// metadata answers GET .../metadata: a GetModelMetadataResponse with the
// signature_def metadata, written as TensorFlow Serving's ToJsonString
// (http_rest_api_util.cc) writes it.
func (s *Server) metadata(req *request) ([]byte, error) {
	sv, err := s.acquire(req)
	if err != nil {
		return nil, err
	}
	defer sv.release()
	defs := map[string]signatureJSON{}
	for key, sig := range sv.sigs {
		sj := signatureJSON{Inputs: map[string]tensorInfoJSON{}, Outputs: map[string]tensorInfoJSON{}, MethodName: sig.MethodName, Defaults: map[string]any{}}
		for n, ti := range sig.Inputs {
			sj.Inputs[n] = tensorInfo(ti)
		}
		for n, ti := range sig.Outputs {
			sj.Outputs[n] = tensorInfo(ti)
		}
		defs[key] = sj
	}
	spec, err := json.MarshalIndent(map[string]string{"name": sv.name, "signature_name": "", "version": strconv.FormatInt(sv.version, 10)}, "", " ")
	if err != nil {
		return nil, err
	}
	sigs, err := json.MarshalIndent(map[string]any{"signature_def": defs}, "", " ")
	if err != nil {
		return nil, err
	}
	out := "{\n\"model_spec\":" + string(spec) + ",\n\"metadata\": {\"signature_def\": " + string(sigs) + "}\n}\n"
	return []byte(out), nil
}

// predict answers POST .../:predict.
func (s *Server) predict(ctx context.Context, req *request, body []byte) ([]byte, error) {
	var sv *servable
	defer func() {
		if sv != nil {
			sv.release()
		}
	}()
	var sig tfseg.Signature
	specs := func(name string) ([]inputSpec, error) {
		var err error
		sv, err = s.acquire(req)
		if err != nil {
			return nil, err
		}
		if name == "" {
			name = defaultSignature
		}
		sig, err = sv.model.Signature(name)
		if err != nil {
			return nil, invalidArgf("Serving signature name: %q not found in signature def", name)
		}
		var out []inputSpec
		for _, in := range sig.Inputs {
			out = append(out, inputSpec{name: in.Name, dtype: in.DType})
		}
		return out, nil
	}
	pr, err := readPredictRequest(body, specs, s.maxElements())
	if err != nil {
		return nil, err
	}
	if err := checkInputNames(sig, pr.inputs); err != nil {
		return nil, err
	}
	release, err := s.slot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	outputs, err := s.runAdapted(ctx, sv, sig, pr.inputs)
	if err != nil {
		return nil, runError(err)
	}
	return writePredictResponse(outputs, pr.format)
}

// maxElements bounds a request tensor's elements: Limits.MaxTensorBytes
// over 4 bytes (the size of float32, the usual input).
func (s *Server) maxElements() int {
	return int(min(s.opts.Limits.MaxTensorBytes/4, 1<<40))
}

// checkInputNames is VerifyRequestInputsSize of
// tensorflow_serving/servables/tensorflow/predict_util.cc.
func checkInputNames(sig tfseg.Signature, inputs map[string]*tfops.Tensor) error {
	var want, extra, missing []string
	required := 0
	for _, in := range sig.Inputs {
		want = append(want, in.Name)
		if in.Default == nil {
			required++
		}
		if _, ok := inputs[in.Name]; !ok && in.Default == nil {
			missing = append(missing, in.Name)
		}
	}
	var got []string
	for n := range inputs {
		got = append(got, n)
		found := false
		for _, w := range want {
			found = found || w == n
		}
		if !found {
			extra = append(extra, n)
		}
	}
	if len(extra) == 0 && len(missing) == 0 {
		return nil
	}
	sort.Strings(got)
	sort.Strings(extra)
	sort.Strings(missing)
	return invalidArgf("input size does not match signature: %d!=%d len({%s}) != len({%s}). Sent extra: {%s}. Missing but required: {%s}.",
		len(inputs), len(want), strings.Join(got, ","), strings.Join(want, ","), strings.Join(extra, ","), strings.Join(missing, ","))
}

// runError gives engine and model errors their TensorFlow status codes.
func runError(err error) error {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return err
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, engine.ErrLimit):
		return &apiError{code: codeResourceExhausted, msg: err.Error()}
	case errors.Is(err, tfseg.ErrInput), errors.Is(err, engine.ErrFeed), errors.Is(err, engine.ErrKernel):
		return &apiError{code: codeInvalidArgument, msg: err.Error()}
	case errors.Is(err, tfseg.ErrClosed), errors.Is(err, engine.ErrClosed):
		return &apiError{code: codeUnavailable, msg: err.Error()}
	}
	return &apiError{code: codeInternal, msg: err.Error()}
}

// runAdapted runs a signature on a request's inputs. TensorFlow Serving
// feeds a request's tensors to the session without holding them to the
// signature's declared shapes, and its documented half_plus_two example
// depends on that (three scalars, shape [3], fed to an x declared [?,1]
// or [1]). tfseg keeps its shape checks and adapts exactly two cases
// instead, both giving TensorFlow Serving's answer for models that work
// element by element or row by row:
//
//   - trailing ones: an input whose rank is short of the declared rank by
//     k dimensions that are declared 1 is reshaped to the declared rank
//     ([3] to [3,1]); outputs ending in k dimensions of size 1 lose them
//     again ([3,1] to [3]);
//   - a fixed first dimension of 1: an input with n > 1 rows where the
//     signature declares exactly 1 is run row by row, and the outputs
//     concatenated.
//
// Anything else that does not fit the signature is refused (HTTP 400) with
// tfseg's error naming the input and both shapes.
func (s *Server) runAdapted(ctx context.Context, sv *servable, sig tfseg.Signature, inputs map[string]*tfops.Tensor) (map[string]*tfops.Tensor, error) {
	run := s.runner(sv, sig.Key)
	specs := map[string]tfseg.TensorSpec{}
	for _, in := range sig.Inputs {
		specs[in.Name] = in
	}
	fits := true
	for name, t := range inputs {
		if sp, ok := specs[name]; ok && !sp.Shape.CompatibleWith(t.StaticShape()) {
			fits = false
		}
	}
	if fits {
		return run(ctx, inputs)
	}
	if adapted, k, ok := padTrailingOnes(specs, inputs); ok {
		out, err := run(ctx, adapted)
		if err != nil {
			return nil, err
		}
		return dropTrailingOnes(out, k)
	}
	if rows, ok := rowByRow(specs, inputs); ok {
		direct := s.direct(sv, sig.Key)
		var parts []map[string]*tfops.Tensor
		for r := range rows {
			one := map[string]*tfops.Tensor{}
			for name, t := range inputs {
				sl, err := slice0(t, r, r+1)
				if err != nil {
					return nil, err
				}
				one[name] = sl
			}
			out, err := direct(ctx, one)
			if err != nil {
				return nil, err
			}
			parts = append(parts, out)
		}
		merged := map[string]*tfops.Tensor{}
		for name := range parts[0] {
			ts := make([]*tfops.Tensor, len(parts))
			for i, p := range parts {
				ts[i] = p[name]
				if ts[i].Rank() == 0 {
					return nil, fmt.Errorf("output %q is a scalar; rows cannot be joined", name)
				}
			}
			m, err := concat0(ts)
			if err != nil {
				return nil, err
			}
			merged[name] = m
		}
		return merged, nil
	}
	return run(ctx, inputs) // fails with tfseg's shape error
}

func padTrailingOnes(specs map[string]tfseg.TensorSpec, inputs map[string]*tfops.Tensor) (map[string]*tfops.Tensor, int, bool) {
	out := map[string]*tfops.Tensor{}
	k := -1
	for name, t := range inputs {
		sp := specs[name]
		if sp.Shape.CompatibleWith(t.StaticShape()) {
			out[name] = t
			continue
		}
		if !sp.Shape.RankKnown() || t.Rank() >= sp.Shape.Rank() {
			return nil, 0, false
		}
		d := sp.Shape.Rank() - t.Rank()
		if k >= 0 && d != k {
			return nil, 0, false
		}
		k = d
		dims := append([]int{}, t.Shape()...)
		for i := t.Rank(); i < sp.Shape.Rank(); i++ {
			if sp.Shape.Dim(i) != 1 {
				return nil, 0, false
			}
			dims = append(dims, 1)
		}
		r, err := t.Reshaped(dims...)
		if err != nil || !sp.Shape.CompatibleWith(r.StaticShape()) {
			return nil, 0, false
		}
		out[name] = r
	}
	return out, k, k > 0
}

func dropTrailingOnes(outputs map[string]*tfops.Tensor, k int) (map[string]*tfops.Tensor, error) {
	out := map[string]*tfops.Tensor{}
	for name, t := range outputs {
		dims := t.Shape()
		ones := len(dims) > k
		for i := len(dims) - k; ones && i < len(dims); i++ {
			ones = dims[i] == 1
		}
		if !ones {
			out[name] = t
			continue
		}
		r, err := t.Reshaped(dims[:len(dims)-k]...)
		if err != nil {
			return nil, err
		}
		out[name] = r
	}
	return out, nil
}

func rowByRow(specs map[string]tfseg.TensorSpec, inputs map[string]*tfops.Tensor) (int, bool) {
	rows := -1
	for name, t := range inputs {
		sp := specs[name]
		if !sp.Shape.RankKnown() || sp.Shape.Rank() == 0 || sp.Shape.Dim(0) != 1 || t.Rank() != sp.Shape.Rank() {
			return 0, false
		}
		n := t.Shape()[0]
		if n <= 1 || (rows >= 0 && n != rows) {
			return 0, false
		}
		rows = n
		one := append([]int{1}, t.Shape()[1:]...)
		if !sp.Shape.CompatibleWith(tfops.ShapeOf(one)) {
			return 0, false
		}
	}
	return rows, rows > 0
}

// direct runs a signature without batching.
func (s *Server) direct(sv *servable, key string) runFunc {
	return func(ctx context.Context, inputs map[string]*tfops.Tensor) (map[string]*tfops.Tensor, error) {
		if _, rows, ok := batchKey(inputs); ok {
			s.metrics.batchSize.WithLabelValues(sv.name).Observe(float64(rows))
		}
		return sv.model.Run(ctx, key, inputs)
	}
}

// runner runs a signature through the servable's batcher when batching is
// on.
func (s *Server) runner(sv *servable, key string) runFunc {
	if s.opts.Batching == nil {
		return s.direct(sv, key)
	}
	sv.mu.Lock()
	b := sv.batchers[key]
	if b == nil {
		run := func(ctx context.Context, inputs map[string]*tfops.Tensor) (map[string]*tfops.Tensor, error) {
			return sv.model.Run(ctx, key, inputs)
		}
		observe := func(rows int) { s.metrics.batchSize.WithLabelValues(sv.name).Observe(float64(rows)) }
		b = newBatcher(*s.opts.Batching, run, observe)
		sv.batchers[key] = b
	}
	sv.mu.Unlock()
	return b.submit
}
