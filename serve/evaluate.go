package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/dataset"
	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/eval"
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/npy"
	"github.com/tfseg/tfseg/tfops"
)

// evaluate answers POST /v1/models/NAME[/versions/V|/labels/L]:evaluate:
//
//	{"images": [<image>, ...], "masks": [<mask>, ...],
//	 "names": ["a", ...], "losses": ["keras_bce", ...], "metrics": ["iou", ...],
//	 "signature_name": "serving_default"}
//
// An image is {"b64": "<PNG or JPEG bytes>"} or a nested array (H, W) or
// (H, W, C); a mask is {"b64": "<PNG>"} or a nested array (H, W) of class
// indices. names, losses, metrics and signature_name are optional (losses
// and metrics as `tfseg eval --loss/--metric` take them; their defaults are
// tfseg eval's). The images and masks are written to a temporary folder and
// evaluated by package eval exactly as `tfseg eval` evaluates a folder, so
// the numbers are the same; the answer is the report `tfseg eval --json`
// writes (per-image values, summary, worst images; NaN as null).
func (s *Server) evaluate(ctx context.Context, req *request, body []byte) ([]byte, error) {
	doc, err := parseJSON(body)
	if err != nil {
		return nil, invalidArg(err)
	}
	if doc.kind != jsonObject {
		return nil, invalidArgf("JSON Value: %s Is not object", doc.debugString())
	}
	sv, err := s.acquire(req)
	if err != nil {
		return nil, err
	}
	defer sv.release()
	signature := defaultSignature
	if v, ok := doc.member("signature_name"); ok {
		if v.kind != jsonString {
			return nil, invalidArgf("'signature_name' key must be a string value.")
		}
		signature = v.text
	}
	images, ok1 := doc.member("images")
	masks, ok2 := doc.member("masks")
	if !ok1 || !ok2 || images.kind != jsonArray || masks.kind != jsonArray || len(images.arr) == 0 {
		return nil, invalidArgf("evaluate needs 'images' and 'masks', two lists of the same non-zero length")
	}
	if len(images.arr) != len(masks.arr) {
		return nil, invalidArgf("evaluate: %d images but %d masks", len(images.arr), len(masks.arr))
	}
	names := make([]string, len(images.arr))
	for i := range names {
		names[i] = fmt.Sprintf("image_%04d", i)
	}
	if v, ok := doc.member("names"); ok {
		if v.kind != jsonArray || len(v.arr) != len(names) {
			return nil, invalidArgf("'names' must list one name per image")
		}
		seen := map[string]bool{}
		for i, n := range v.arr {
			if n.kind != jsonString || !safeName.MatchString(n.text) || seen[n.text] {
				return nil, invalidArgf("name %d must be a unique string of letters, digits, '_', '-' and '.' not starting with '.'", i)
			}
			seen[n.text] = true
			names[i] = n.text
		}
	}
	var opts eval.Options
	if opts.Losses, err = measures(&doc, "losses"); err != nil {
		return nil, err
	}
	if opts.Metrics, err = measures(&doc, "metrics"); err != nil {
		return nil, err
	}
	opts.Workers = 1
	dir, err := os.MkdirTemp("", "tfseg-serve-eval-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	imgDir, maskDir := filepath.Join(dir, "images"), filepath.Join(dir, "masks")
	if err := os.Mkdir(imgDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.Mkdir(maskDir, 0o700); err != nil {
		return nil, err
	}
	for i := range names {
		if err := s.writeSample(&images.arr[i], imgDir, names[i], fmt.Sprintf("images[%d]", i)); err != nil {
			return nil, err
		}
		if err := s.writeSample(&masks.arr[i], maskDir, names[i], fmt.Sprintf("masks[%d]", i)); err != nil {
			return nil, err
		}
	}
	listing, err := dataset.Match(imgDir, maskDir, dataset.MatchOptions{})
	if err != nil {
		return nil, invalidArg(err)
	}
	em, err := s.evalModel(sv, signature)
	if err != nil {
		return nil, err
	}
	release, err := s.slot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	rep, err := eval.Run(ctx, em, listing, opts)
	if err != nil {
		if errors.Is(err, eval.ErrBadInput) || errors.Is(err, eval.ErrMeasure) {
			return nil, invalidArgf("%s", stripDir(err.Error(), dir))
		}
		return nil, runError(err)
	}
	return evalResponse(sv, rep)
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9_\-][A-Za-z0-9_.\-]{0,127}$`)

// stripDir keeps the temporary folder out of error messages.
func stripDir(msg, dir string) string {
	return string(bytes.ReplaceAll([]byte(msg), []byte(dir+string(filepath.Separator)), nil))
}

func measures(doc *jsonValue, key string) ([]eval.Measure, error) {
	v, ok := doc.member(key)
	if !ok {
		return nil, nil
	}
	if v.kind != jsonArray {
		return nil, invalidArgf("'%s' must be a list of strings (NAME or NAME:key=value,...)", key)
	}
	out := []eval.Measure{}
	for _, e := range v.arr {
		if e.kind != jsonString {
			return nil, invalidArgf("'%s' must be a list of strings (NAME or NAME:key=value,...)", key)
		}
		m, err := eval.ParseMeasure(e.text)
		if err != nil {
			return nil, invalidArg(err)
		}
		out = append(out, m)
	}
	return out, nil
}

// writeSample writes one image or mask: base64 bytes as they are (PNG or
// JPEG by their signature), a nested array as a float32 .npy file.
func (s *Server) writeSample(v *jsonValue, dir, name, what string) error {
	if v.isB64() {
		raw, err := base64.StdEncoding.DecodeString(v.vals[0].text)
		if err != nil {
			return invalidArgf("%s: Unable to base64 decode", what)
		}
		ext := ""
		switch {
		case bytes.HasPrefix(raw, []byte("\x89PNG\r\n\x1a\n")):
			ext = ".png"
		case bytes.HasPrefix(raw, []byte{0xff, 0xd8, 0xff}):
			ext = ".jpg"
		default:
			return invalidArgf("%s: the b64 data is neither PNG nor JPEG", what)
		}
		return os.WriteFile(filepath.Join(dir, name+ext), raw, 0o600)
	}
	if v.kind != jsonArray {
		return invalidArgf("%s: want {\"b64\": ...} or a nested array, got %s", what, v.debugString())
	}
	t, err := arrayTensor(v, tfops.Float, s.maxElements(), what)
	if err != nil {
		return err
	}
	return npy.WriteFile(filepath.Join(dir, name+".npy"), t)
}

// arrayTensor reads a nested JSON array as a dense tensor.
func arrayTensor(v *jsonValue, d tfops.DType, maxElems int, what string) (*tfops.Tensor, error) {
	tb := &tensorBuilder{dtype: d, limit: maxElems}
	dims := denseShape(v)
	if err := fill(v, 0, dims, tb); err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, tooLarge(what, maxElems)
		}
		return nil, invalidArgf("%s: %v", what, err)
	}
	t, err := tb.tensor(dims)
	if err != nil {
		return nil, invalidArgf("%s: %v", what, err)
	}
	return t, nil
}

// evalModel loads (once per servable and signature) the model as package
// eval loads it.
func (s *Server) evalModel(sv *servable, signature string) (*eval.Model, error) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if em := sv.evals[signature]; em != nil {
		return em, nil
	}
	if _, err := sv.model.Signature(signature); err != nil {
		return nil, invalidArgf("Serving signature name: %q not found in signature def", signature)
	}
	em, err := eval.Load(sv.dir, eval.LoadOptions{Engine: s.opts.Engine, Signature: signature,
		Session: engine.SessionOptions{Limits: s.opts.Limits, Threads: s.opts.Threads}})
	if err != nil {
		return nil, invalidArg(err)
	}
	sv.evals[signature] = em
	return em, nil
}

// evalResponse is {"model_spec": {...}, "report": <the report as tfseg
// eval --json writes it>}, with the server's paths left out (the model
// directory, the temporary files: images and masks are named by file name).
func evalResponse(sv *servable, rep *eval.Report) ([]byte, error) {
	r := *rep
	r.Model.Dir = ""
	r.Images = append([]eval.ImageResult{}, rep.Images...)
	for i := range r.Images {
		r.Images[i].Image = filepath.Base(r.Images[i].Image)
		r.Images[i].Mask = filepath.Base(r.Images[i].Mask)
	}
	var report bytes.Buffer
	if err := r.WriteJSON(&report); err != nil {
		return nil, err
	}
	spec, err := json.Marshal(map[string]string{"name": sv.name, "version": fmt.Sprint(sv.version), "signature_name": rep.Model.Signature})
	if err != nil {
		return nil, err
	}
	return []byte(fmt.Sprintf("{\n \"model_spec\": %s,\n \"report\": %s}\n", spec, bytes.TrimSpace(report.Bytes()))), nil
}

// computeLoss answers POST /v1/losses/LOSS:compute:
//
//	{"y_true": <array>, "y_pred": <array>, "weights"|"sample_weight": <array>,
//	 "config": {"from_logits": "true", "beta": 0.7}}
//
// with {"loss": "NAME", "kind": "loss"|"metric", "value": <tensor>}: the
// loss or metric of the graphs registry, built for the arrays' shapes and
// run on the server's engine (tfseg.Eval). Arrays are float32.
func (s *Server) computeLoss(ctx context.Context, name string, body []byte) ([]byte, error) {
	spec, err := graphs.Lookup(name)
	if err != nil {
		return nil, notFoundf("%v", err)
	}
	doc, err := parseJSON(body)
	if err != nil {
		return nil, invalidArg(err)
	}
	if doc.kind != jsonObject {
		return nil, invalidArgf("JSON Value: %s Is not object", doc.debugString())
	}
	cfg := graphs.Config{}
	inputs := map[string]*tfops.Tensor{}
	for i, key := range doc.keys {
		v := &doc.vals[i]
		if key == "config" {
			if v.kind != jsonObject {
				return nil, invalidArgf("'config' must be an object of parameter values")
			}
			for j, k := range v.keys {
				p := &v.vals[j]
				switch p.kind {
				case jsonString, jsonNumber:
					cfg[k] = p.text
				case jsonTrue, jsonFalse:
					cfg[k] = fmt.Sprint(p.kind == jsonTrue)
				case jsonArray:
					cfg[k] = p.debugString()[1 : len(p.debugString())-1]
				default:
					return nil, invalidArgf("config %q: want a string, number, boolean or list", k)
				}
			}
			continue
		}
		known := false
		for _, in := range spec.Inputs {
			known = known || in == key
		}
		if !known {
			return nil, invalidArgf("%s has no input %q; its inputs: %v", name, key, spec.Inputs)
		}
		t, err := arrayTensor(v, tfops.Float, s.maxElements(), key)
		if err != nil {
			return nil, err
		}
		inputs[key] = t
	}
	eng, err := engine.Get(s.opts.Engine)
	if err != nil {
		return nil, err
	}
	release, err := s.slot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	res, err := tfseg.Eval(ctx, eng, name, cfg, inputs)
	if err != nil {
		if errors.Is(err, graphs.ErrInput) || errors.Is(err, graphs.ErrParam) {
			return nil, invalidArg(err)
		}
		return nil, runError(err)
	}
	w := &prettyWriter{}
	w.start('{')
	w.key("loss")
	w.raw(jsonQuote(name))
	w.key("kind")
	w.raw(jsonQuote(string(spec.Kind)))
	w.key("value")
	if err := newTensorWriter("value", res).values(w, 0); err != nil {
		return nil, err
	}
	w.end('}')
	return w.b, nil
}
