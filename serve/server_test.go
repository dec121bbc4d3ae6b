package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tfseg/tfseg/internal/fixtures"
)

var fixturesDir = filepath.Join("..", "..", "shared", "fixtures", "savedmodels")

// fixture returns the absolute path of a fixture SavedModel. Outside CI a
// missing fixture skips the test; under CI=true it fails it.
func fixture(t testing.TB, name string) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join(fixturesDir, name))
	require.NoError(t, err)
	return fixtures.Require(t, d, "saved_model.pb")
}

// addVersion publishes fixture as version v of the model in base (a
// symbolic link, as deployments often do).
func addVersion(t testing.TB, base string, v int, fixtureName string) {
	t.Helper()
	require.NoError(t, os.Symlink(fixture(t, fixtureName), filepath.Join(base, fmt.Sprint(v))))
}

// addBrokenVersion writes a version whose saved_model.pb is not a protobuf.
func addBrokenVersion(t testing.TB, base string, v int) {
	t.Helper()
	dir := filepath.Join(base, fmt.Sprint(v))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "saved_model.pb"), []byte("this is not a SavedModel"), 0o644))
}

// start serves opts on a loopback test server.
func start(t testing.TB, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	if opts.PollInterval == 0 {
		opts.PollInterval = -1 // tests poll by hand
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	s, err := New(opts)
	require.NoError(t, err)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		s.Close()
	})
	return s, hs
}

// halfPlusTwo serves the TF1 half_plus_two fixture as model
// "half_plus_two", version 123 (the version TensorFlow Serving's testdata
// uses).
func halfPlusTwo(t testing.TB, fixtureName string, opts Options) (*Server, *httptest.Server) {
	base := t.TempDir()
	addVersion(t, base, 123, fixtureName)
	opts.Models = []ModelConfig{{Name: "half_plus_two", BasePath: base}}
	return start(t, opts)
}

func do(t testing.TB, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode != http.StatusNotFound || strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), "%s %s", method, url)
	}
	return resp.StatusCode, string(b)
}

// TestDocumentedExamples sends TensorFlow Serving's documented requests
// and compares with its documented answers, taken verbatim from
// tensorflow/serving: README.md and g3doc/docker.md ("Returns => {
// "predictions": [2.5, 3.0, 4.5] }"), g3doc/api_rest.md (the 404 for model
// "half"), and model_servers/http_rest_api_handler_test.cc (Predict,
// GetStatus).
func TestDocumentedExamples(t *testing.T) {
	for _, fx := range []string{"half-plus-two-tf1", "half-plus-two-tf2"} {
		t.Run(fx, func(t *testing.T) {
			_, hs := halfPlusTwo(t, fx, Options{})
			u := hs.URL + "/v1/models/half_plus_two"
			cases := []struct{ method, path, body, want string }{
				{"POST", ":predict", `{"instances": [1.0, 2.0, 5.0]}`, `{ "predictions": [2.5, 3.0, 4.5] }`},
				{"POST", "/versions/123:predict", `{"instances": [1.0, 2.0]}`, `{ "predictions": [2.5, 3.0] }`},
				{"POST", ":predict", `{"signature_name": "serving_default", "instances": [3.0, 4.0]}`, `{ "predictions": [3.5, 4.0] }`},
				{"POST", ":predict", `{"signature_name": "serving_default", "inputs": [3.0, 4.0]}`, `{ "outputs": [3.5, 4.0] }`},
				{"GET", "", "", `{"model_version_status": [{"version": "123", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}`},
				{"GET", "/versions/123", "", `{"model_version_status": [{"version": "123", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}`},
			}
			for _, c := range cases {
				code, body := do(t, c.method, u+c.path, c.body)
				assert.Equal(t, http.StatusOK, code, "%s %s %s: %s", c.method, c.path, c.body, body)
				assert.JSONEq(t, c.want, body, "%s %s %s", c.method, c.path, c.body)
			}
			code, body := do(t, "POST", hs.URL+"/v1/models/half:predict", `{"instances": [1.0,5.0]}`)
			assert.Equal(t, http.StatusNotFound, code)
			assert.JSONEq(t, `{ "error": "Servable not found for request: Latest(half)" }`, body)
		})
	}
}

// TestRowFormatBytes checks the response bytes of the row format: RapidJSON's
// PrettyWriter with kFormatSingleLineArray switched on for each row
// (MakeRowFormatJsonFromTensors), absl::StrCat's float formatting.
func TestRowFormatBytes(t *testing.T) {
	_, hs := halfPlusTwo(t, "half-plus-two-tf1", Options{})
	_, body := do(t, "POST", hs.URL+"/v1/models/half_plus_two:predict", `{"instances": [1.0, 2.0, 5.0]}`)
	assert.Equal(t, "{\n    \"predictions\": [2.5, 3, 4.5\n    ]\n}", body)
	_, body = do(t, "POST", hs.URL+"/v1/models/half_plus_two:predict", `{"instances": [[1.0], [2.0]]}`)
	assert.Equal(t, "{\n    \"predictions\": [[2.5], [3]\n    ]\n}", body)
}

// TestMetadataMatchesTensorFlowServing compares GET .../metadata with
// TensorFlow Serving's own expected answer for half_plus_two
// (testdata/saved_model_half_plus_two_2_versions_metadata.json, copied from
// tensorflow_serving/servables/tensorflow/testdata). That model is a later
// export with one more signature (classify_x2_to_y3) than the fixture; every
// signature the fixture has must come out exactly as TensorFlow Serving
// writes it, and the model_spec too (model name aside).
func TestMetadataMatchesTensorFlowServing(t *testing.T) {
	_, hs := halfPlusTwo(t, "half-plus-two-tf1", Options{})
	code, body := do(t, "GET", hs.URL+"/v1/models/half_plus_two/versions/123/metadata", "")
	require.Equal(t, http.StatusOK, code, body)
	wantBytes, err := os.ReadFile(filepath.Join("testdata", "saved_model_half_plus_two_2_versions_metadata.json"))
	require.NoError(t, err)
	type response struct {
		ModelSpec map[string]any `json:"model_spec"`
		Metadata  struct {
			SignatureDef struct {
				SignatureDef map[string]json.RawMessage `json:"signature_def"`
			} `json:"signature_def"`
		} `json:"metadata"`
	}
	var got, want response
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	require.NoError(t, json.Unmarshal(wantBytes, &want))
	want.ModelSpec["name"] = "half_plus_two"
	assert.Equal(t, want.ModelSpec, got.ModelSpec)
	sigs := got.Metadata.SignatureDef.SignatureDef
	assert.Len(t, sigs, 5)
	for key, sig := range sigs {
		w, ok := want.Metadata.SignatureDef.SignatureDef[key]
		if assert.True(t, ok, "signature %s", key) {
			assert.JSONEq(t, string(w), string(sig), "signature %s", key)
		}
	}
}

func TestBadRequests(t *testing.T) {
	base := t.TempDir()
	addVersion(t, base, 1, "half-plus-two-tf1")
	addBrokenVersion(t, base, 2)
	s, hs := start(t, Options{Models: []ModelConfig{{Name: "hp", BasePath: base, Policy: VersionPolicy{All: true},
		Labels: map[string]int64{"stable": 1}}}, MaxBodyBytes: 1000})
	u := hs.URL + "/v1/models/hp"
	cases := []struct {
		name, method, path, body string
		status                   int
		errContains              string
	}{
		{"malformed JSON", "POST", ":predict", `instances = [1, 2]`, 400, "JSON Parse error: Invalid value."},
		{"empty body", "POST", ":predict", ``, 400, "JSON Parse error: The document is empty"},
		{"not an object", "POST", ":predict", `[1]`, 400, "Is not object"},
		{"no instances or inputs", "POST", ":predict", `{"x": [1]}`, 400, "Missing 'inputs' or 'instances' key"},
		{"both formats", "POST", ":predict", `{"instances": [1], "inputs": [1]}`, 400, "expecting only one of 'inputs' or 'instances'"},
		{"wrong input name (columnar)", "POST", ":predict", `{"inputs": {"z": [1.0]}}`, 400, "Missing named input: x in 'inputs' object."},
		{"wrong input name (row)", "POST", ":predict", `{"instances": [{"z": 1.0}]}`, 400, "does not have named input: z"},
		{"wrong dtype", "POST", ":predict", `{"instances": ["x", "y"]}`, 400, "not of expected type: float"},
		{"wrong shape", "POST", ":predict", `{"instances": [[1.0, 2.0], [3.0, 4.0]]}`, 400, `input "x" must have shape (?, 1), got (2, 2)`},
		{"ragged", "POST", ":predict", `{"inputs": [[1.0], [2.0, 3.0]]}`, 400, "Encountered list at unexpected size: 2 at level: 1 expected size: 1"},
		{"signature_name not a string", "POST", ":predict", `{"signature_name": 100, "instances": [1]}`, 400, "'signature_name' key must be a string value."},
		{"unknown signature", "POST", ":predict", `{"signature_name": "nope", "instances": [1.0]}`, 400, `Serving signature name: "nope" not found in signature def`},
		{"oversized body", "POST", ":predict", `{"instances": [` + strings.Repeat("1.0, ", 300) + `1.0]}`, 413, "request body larger than 1000 bytes"},
		{"unknown model", "POST", "x:predict", `{"instances": [1.0]}`, 404, "Servable not found for request: Latest(hpx)"},
		{"unknown version", "POST", "/versions/7:predict", `{"instances": [1.0]}`, 404, "Servable not found for request: Specific(hp, 7)"},
		{"version that failed to load", "POST", "/versions/2:predict", `{"instances": [1.0]}`, 404, "Servable not found for request: Specific(hp, 2)"},
		{"unknown label", "POST", "/labels/canary:predict", `{"instances": [1.0]}`, 400, "Unrecognized servable version label: canary"},
		{"unknown version status", "GET", "/versions/7", ``, 404, "Could not find version 7 of model hp"},
		{"malformed path", "GET", "/versions/x", ``, 400, "Malformed request: GET /v1/models/hp/versions/x"},
		{"GET predict", "GET", ":predict", ``, 400, "Malformed request"},
		{"classify", "POST", ":classify", `{"examples": [{"x": 1.0}]}`, 501, "classify is not implemented"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := do(t, c.method, u+c.path, c.body)
			assert.Equal(t, c.status, code, body)
			var e struct{ Error string }
			require.NoError(t, json.Unmarshal([]byte(body), &e), body)
			assert.Contains(t, e.Error, c.errContains)
			// The server keeps serving.
			code, body = do(t, "POST", u+"/labels/stable:predict", `{"instances": [1.0, 2.0, 5.0]}`)
			assert.Equal(t, 200, code)
			assert.JSONEq(t, `{"predictions": [2.5, 3.0, 4.5]}`, body)
		})
	}
	// The failed version is in the status, with its error; version 1 serves.
	code, body := do(t, "GET", u, "")
	require.Equal(t, 200, code)
	var st struct {
		ModelVersionStatus []struct {
			Version, State string
			Status         struct{ ErrorCode, ErrorMessage string } `json:"status"`
		} `json:"model_version_status"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &st))
	require.Len(t, st.ModelVersionStatus, 2, body)
	assert.Equal(t, "2", st.ModelVersionStatus[0].Version)
	assert.Equal(t, "END", st.ModelVersionStatus[0].State)
	assert.Contains(t, body, "saved_model.pb")
	assert.Equal(t, "1", st.ModelVersionStatus[1].Version)
	assert.Equal(t, "AVAILABLE", st.ModelVersionStatus[1].State)
	_ = s
}

// TestNewVersionsAndBrokenVersion: a broken new version is refused and the
// served version keeps serving; a good new version takes over and the old
// one is unloaded.
func TestNewVersionsAndBrokenVersion(t *testing.T) {
	base := t.TempDir()
	addVersion(t, base, 1, "half-plus-two-tf1")
	s, hs := start(t, Options{Models: []ModelConfig{{Name: "hp", BasePath: base}}})
	u := hs.URL + "/v1/models/hp"
	predict := func() (int, string) {
		return do(t, "POST", u+":predict", `{"instances": [2.0]}`)
	}
	status := func() string { _, b := do(t, "GET", u, ""); return b }

	addBrokenVersion(t, base, 2)
	s.Poll()
	code, body := predict()
	assert.Equal(t, 200, code, body)
	assert.JSONEq(t, `{"predictions": [3.0]}`, body)
	assert.Contains(t, status(), `"state": "END"`)
	code, _ = do(t, "GET", u+"/versions/1", "")
	assert.Equal(t, 200, code, "version 1 still served")

	addVersion(t, base, 3, "half-plus-two-tf2")
	s.Poll()
	_, body = do(t, "GET", u+"/metadata", "")
	assert.Contains(t, body, `"version": "3"`, "the newest good version is served")
	assert.Contains(t, body, "serving_default_x:0", "the TF2 model's signature")
	code, body = predict()
	assert.Equal(t, 200, code, body)
	assert.JSONEq(t, `{"predictions": [3.0]}`, body)
	code, _ = do(t, "POST", u+"/versions/1:predict", `{"instances": [2.0]}`)
	assert.Equal(t, 404, code, "version 1 unloaded")
	assert.Contains(t, status(), `"version": "1",`+"\n"+`   "state": "END"`)
}

func TestModelConfigFile(t *testing.T) {
	base1, base2 := t.TempDir(), t.TempDir()
	addVersion(t, base1, 1, "half-plus-two-tf1")
	addVersion(t, base1, 2, "half-plus-two-tf2")
	addVersion(t, base2, 5, "half-plus-two-tf1")
	cfgPath := filepath.Join(t.TempDir(), "models.config")
	cfg := fmt.Sprintf(`# two models
model_config_list {
  config {
    name: 'hp'
    base_path: '%s'
    model_platform: "tensorflow"
    model_version_policy { specific { versions: 1 versions: 2 } }
    version_labels { key: 'stable' value: 1 }
    version_labels { key: 'canary' value: 2 }
  }
  config: {
    name: "other"
    base_path: "%s"
  }
}
`, base1, base2)
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o644))
	models, err := ReadModelConfigFile(cfgPath)
	require.NoError(t, err)
	require.Len(t, models, 2)
	assert.Equal(t, []int64{1, 2}, models[0].Policy.Specific)
	assert.Equal(t, map[string]int64{"stable": 1, "canary": 2}, models[0].Labels)
	_, hs := start(t, Options{Models: models})
	for path, version := range map[string]string{"/v1/models/hp/labels/stable": "1", "/v1/models/hp/labels/canary": "2", "/v1/models/hp": "2", "/v1/models/other": "5"} {
		code, body := do(t, "GET", hs.URL+path+"/metadata", "")
		assert.Equal(t, 200, code, body)
		assert.Contains(t, body, `"version": "`+version+`"`, path)
		code, body = do(t, "POST", hs.URL+path+":predict", `{"instances": [1.0]}`)
		assert.Equal(t, 200, code, body)
		assert.JSONEq(t, `{"predictions": [2.5]}`, body, path)
	}

	bad := filepath.Join(t.TempDir(), "bad.config")
	require.NoError(t, os.WriteFile(bad, []byte(`model_config_list { config { name: "a" base_path: "/x" logging_config {} } }`), 0o644))
	_, err = ReadModelConfigFile(bad)
	assert.ErrorContains(t, err, `logging_config is not supported`)
}

// TestBatchingMergesConcurrentRequests: concurrent requests share batches
// (the batch size histogram sees batches of more than one row) and each
// gets its own rows back.
func TestBatchingMergesConcurrentRequests(t *testing.T) {
	s, hs := halfPlusTwo(t, "half-plus-two-tf1", Options{Batching: &BatchingOptions{MaxBatchSize: 16, BatchTimeout: 50 * time.Millisecond}})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := float64(i)
			code, body := do(t, "POST", hs.URL+"/v1/models/half_plus_two:predict", fmt.Sprintf(`{"instances": [[%g], [%g]]}`, x, x+0.5))
			assert.Equal(t, 200, code, body)
			assert.JSONEq(t, fmt.Sprintf(`{"predictions": [[%g], [%g]]}`, x/2+2, (x+0.5)/2+2), body)
		}()
	}
	wg.Wait()
	_, metrics := doRaw(t, hs.URL+"/metrics")
	count, sum := histogram(t, metrics, "tfseg_serve_batch_size", `model="half_plus_two"`)
	assert.Equal(t, 32.0, sum, "32 rows in all")
	assert.Less(t, count, 16.0, "fewer runs than requests: some were batched\n%s", metrics)
	_ = s
}

func doRaw(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// histogram reads a Prometheus histogram's _count and _sum.
func histogram(t testing.TB, text, name, labels string) (count, sum float64) {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		var v float64
		if strings.HasPrefix(line, name+"_count{"+labels+"}") {
			_, err := fmt.Sscanf(line[strings.LastIndexByte(line, ' ')+1:], "%g", &v)
			require.NoError(t, err)
			count = v
		}
		if strings.HasPrefix(line, name+"_sum{"+labels+"}") {
			_, err := fmt.Sscanf(line[strings.LastIndexByte(line, ' ')+1:], "%g", &v)
			require.NoError(t, err)
			sum = v
		}
	}
	return count, sum
}

func TestHealthzAndMetrics(t *testing.T) {
	_, hs := halfPlusTwo(t, "half-plus-two-tf1", Options{})
	code, body := doRaw(t, hs.URL+"/healthz")
	assert.Equal(t, 200, code)
	assert.Equal(t, "ok\n", body)
	do(t, "POST", hs.URL+"/v1/models/half_plus_two:predict", `{"instances": [1.0]}`)
	do(t, "POST", hs.URL+"/v1/models/half_plus_two:predict", `{"instances": ["a"]}`)
	_, m := doRaw(t, hs.URL+"/metrics")
	assert.Contains(t, m, `tfseg_serve_requests_total{api="predict",code="200",model="half_plus_two"} 1`)
	assert.Contains(t, m, `tfseg_serve_requests_total{api="predict",code="400",model="half_plus_two"} 1`)
	assert.Contains(t, m, `tfseg_serve_model_version_available{model="half_plus_two",version="123"} 1`)
	assert.Contains(t, m, `tfseg_serve_request_duration_seconds_bucket{api="predict",model="half_plus_two",le=`)
}

// TestBinaryAndSpecialValues: {"b64": ...} strings, NaN and Infinity in
// and out (api_rest.md, "Encoding binary values", "JSON conformance").
func TestJSONTensorRules(t *testing.T) {
	v, err := parseJSON([]byte(`{"instances": [NaN, Infinity, -Infinity, 1e-7]}`))
	require.NoError(t, err)
	in, _ := v.member("instances")
	tt, err := readInstances(in, []inputSpec{{"x", 1}}, 100)
	require.NoError(t, err)
	out, err := writePredictResponse(tt, formatColumnar)
	require.NoError(t, err)
	assert.Equal(t, "{\n    \"outputs\": [\n        NaN,\n        Infinity,\n        -Infinity,\n        1e-07\n    ]\n}", string(out))

	v, err = parseJSON([]byte(`{"inputs": [{"b64": "aW1hZ2UgYnl0ZXM="}, "plain"]}`))
	require.NoError(t, err)
	in, _ = v.member("inputs")
	tt, err = readInputs(in, []inputSpec{{"img_bytes", 7}}, 100)
	require.NoError(t, err)
	assert.Equal(t, []string{"image bytes", "plain"}, tt["img_bytes"].Strings())
	out, err = writePredictResponse(tt, formatColumnar)
	require.NoError(t, err)
	assert.JSONEq(t, `{"outputs": [{"b64": "aW1hZ2UgYnl0ZXM="}, {"b64": "cGxhaW4="}]}`, string(out))

	// Float formatting: six significant digits when they read back, else nine.
	assert.Equal(t, "0.1", formatFloat(float64(float32(0.1)), 32))
	assert.Equal(t, "3", formatFloat(3, 32))
	assert.Equal(t, "0.333333343", formatFloat(float64(float32(1.0/3)), 32)) // C's %.9g
	assert.Equal(t, "1e+20", formatFloat(float64(float32(1e20)), 32))

	// A too-large tensor is RESOURCE_EXHAUSTED.
	v, _ = parseJSON([]byte(`{"inputs": [1, 2, 3]}`))
	in, _ = v.member("inputs")
	_, err = readInputs(in, []inputSpec{{"x", 1}}, 2)
	assert.Equal(t, 429, asAPIError(err).httpStatus())
	_, err = parseJSON([]byte(`{"inputs": [1e400]}`))
	assert.ErrorContains(t, err, "JSON Parse error: Number too big to be stored in double. at offset: 12")
	var buf bytes.Buffer
	buf.WriteString(strings.Repeat("[", 200))
	_, err = parseJSON(buf.Bytes())
	assert.ErrorContains(t, err, "Nesting deeper")
}

// TestPythonClient runs a client written from TensorFlow Serving's REST
// documentation (testdata/tfserving_client.py, Python requests) against the
// server and compares its answers with the documented ones.
func TestPythonClient(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import requests").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3 with requests is missing under CI: %v", err)
		}
		t.Skipf("python3 with requests not available (apt-get install python3-requests): %v", err)
	}
	_, hs := halfPlusTwo(t, "half-plus-two-tf1", Options{})
	out, err := exec.Command(py, filepath.Join("testdata", "tfserving_client.py"), hs.URL, "half_plus_two").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.JSONEq(t, `{
	  "status": {"model_version_status": [{"version": "123", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]},
	  "serving_default_inputs": ["x"],
	  "row": {"predictions": [2.5, 3.0, 4.5]},
	  "columnar": {"outputs": [3.5, 4.0]},
	  "nonfinite": ["nan", "inf"],
	  "error": {"status": 404, "body": {"error": "Servable not found for request: Latest(half)"}}
	}`, string(out))
}

// TestGracefulShutdown: when Serve's context ends (SIGTERM in tfseg
// serve), a request in flight finishes with its answer and new
// connections are refused.
func TestGracefulShutdown(t *testing.T) {
	base := t.TempDir()
	addVersion(t, base, 1, "half-plus-two-tf1")
	// The batch timeout holds the request in the server for 300 ms.
	s, err := New(Options{Models: []ModelConfig{{Name: "hp", BasePath: base}}, PollInterval: -1, Logf: t.Logf,
		Batching: &BatchingOptions{MaxBatchSize: 8, BatchTimeout: 300 * time.Millisecond}})
	require.NoError(t, err)
	defer s.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, l, 10*time.Second) }()
	url := "http://" + l.Addr().String() + "/v1/models/hp:predict"
	type result struct {
		code int
		body string
	}
	res := make(chan result, 1)
	go func() {
		code, body := do(t, "POST", url, `{"instances": [1.0]}`)
		res <- result{code, body}
	}()
	time.Sleep(100 * time.Millisecond) // the request is in the batcher
	cancel()
	r := <-res
	assert.Equal(t, 200, r.code, r.body)
	assert.JSONEq(t, `{"predictions": [2.5]}`, r.body)
	assert.NoError(t, <-served)
	_, err = http.Post(url, "application/json", strings.NewReader(`{"instances": [1.0]}`))
	assert.Error(t, err, "the listener is closed")
}

// TestRequestTimeout: a request that outlives RequestTimeout is answered
// DEADLINE_EXCEEDED (504), and the server keeps serving.
func TestRequestTimeout(t *testing.T) {
	_, hs := halfPlusTwo(t, "half-plus-two-tf1", Options{RequestTimeout: 50 * time.Millisecond,
		Batching: &BatchingOptions{MaxBatchSize: 8, BatchTimeout: 300 * time.Millisecond}})
	code, body := do(t, "POST", hs.URL+"/v1/models/half_plus_two:predict", `{"instances": [1.0]}`)
	assert.Equal(t, 504, code, body)
	assert.Contains(t, body, "Deadline Exceeded")
	code, body = do(t, "GET", hs.URL+"/v1/models/half_plus_two", "")
	assert.Equal(t, 200, code, body)
}

// TestSwitchUnderLoad: versions come and go while clients send requests,
// with batching on; no request fails (run it with -race).
func TestSwitchUnderLoad(t *testing.T) {
	base := t.TempDir()
	addVersion(t, base, 1, "half-plus-two-tf1")
	s, hs := start(t, Options{Models: []ModelConfig{{Name: "hp", BasePath: base}},
		Batching: &BatchingOptions{MaxBatchSize: 8, BatchTimeout: time.Millisecond}})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, body := do(t, "POST", hs.URL+"/v1/models/hp:predict", `{"instances": [2.0]}`)
				if !assert.Equal(t, 200, code, body) || !assert.JSONEq(t, `{"predictions": [3.0]}`, body) {
					return
				}
			}
		}()
	}
	for v, fx := range map[int]string{2: "half-plus-two-tf2", 3: "half-plus-two-tf1", 4: "half-plus-two-tf2"} {
		time.Sleep(50 * time.Millisecond)
		addVersion(t, base, v, fx)
		s.Poll()
	}
	addBrokenVersion(t, base, 5)
	s.Poll()
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	_, body := do(t, "GET", hs.URL+"/v1/models/hp/metadata", "")
	assert.Contains(t, body, `"version": "4"`)
}

// TestConcurrencyLimit: with MaxConcurrent 1, a request waits for the one
// in progress to finish before it starts.
func TestConcurrencyLimit(t *testing.T) {
	// Each request spends 100 ms in the batcher, holding the only slot.
	_, hs := halfPlusTwo(t, "half-plus-two-tf1", Options{MaxConcurrent: 1, RequestTimeout: 5 * time.Second,
		Batching: &BatchingOptions{MaxBatchSize: 1 << 20, BatchTimeout: 100 * time.Millisecond}})
	u := hs.URL + "/v1/models/half_plus_two:predict"
	first := make(chan int, 1)
	go func() { code, _ := do(t, "POST", u, `{"instances": [1.0]}`); first <- code }()
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	code, body := do(t, "POST", u, `{"instances": [[1.0], [2.0]]}`)
	assert.Equal(t, 200, code, body)
	// Alone it would take 100 ms; behind the first, about 180 ms.
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond, "it waited for the slot")
	assert.Equal(t, 200, <-first)
}

func TestBatchingParametersFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "batching.config")
	require.NoError(t, os.WriteFile(p, []byte("max_batch_size { value: 16 }\nbatch_timeout_micros { value: 2500 }\nnum_batch_threads { value: 3 }\n"), 0o644))
	b, err := ReadBatchingParametersFile(p)
	require.NoError(t, err)
	assert.Equal(t, BatchingOptions{MaxBatchSize: 16, BatchTimeout: 2500 * time.Microsecond, NumBatchThreads: 3}, b)
	require.NoError(t, os.WriteFile(p, []byte("max_batch_size { value: 16 }\nallowed_batch_sizes: 8\n"), 0o644))
	_, err = ReadBatchingParametersFile(p)
	assert.ErrorContains(t, err, "only max_batch_size")
	require.NoError(t, os.WriteFile(p, []byte("max_batch_size: 16\n"), 0o644))
	_, err = ReadBatchingParametersFile(p)
	assert.Error(t, err, "a wrapper field is a message")
}

// TestEscapedModelName: names are decoded once from the path as sent, as
// TensorFlow Serving's ParseModelInfo does.
func TestEscapedModelName(t *testing.T) {
	base := t.TempDir()
	addVersion(t, base, 1, "half-plus-two-tf1")
	_, hs := start(t, Options{Models: []ModelConfig{{Name: "team/hp", BasePath: base}}})
	code, body := do(t, "POST", hs.URL+"/v1/models/team%2Fhp:predict", `{"instances": [1.0]}`)
	assert.Equal(t, 200, code, body)
	assert.JSONEq(t, `{"predictions": [2.5]}`, body)
	code, body = do(t, "POST", hs.URL+"/v1/models/team/hp:predict", `{"instances": [1.0]}`)
	assert.Equal(t, 400, code, body)
	assert.Contains(t, body, "Malformed request")
}
