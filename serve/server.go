package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tfseg/tfseg/engine"
)

// Options configure a Server. The zero value of every field but Models
// has a useful default.
type Options struct {
	// Models are the models to serve (at least one).
	Models []ModelConfig
	// Engine is the engine's registry name (default engine.Default, "go").
	Engine string
	// Threads caps the goroutines one model run uses (0: all cores).
	Threads int
	// Limits bound what a model may make the engine do; MaxTensorBytes
	// also bounds each request input, counted as 4 bytes per element
	// (RESOURCE_EXHAUSTED, HTTP 429, beyond).
	Limits engine.Limits
	// PollInterval is how often base paths are scanned for new versions
	// (TensorFlow Serving's --file_system_poll_wait_seconds, default 1s);
	// negative: never (load once).
	PollInterval time.Duration
	// Batching, when set, merges concurrent predict requests into batches.
	Batching *BatchingOptions
	// MaxBodyBytes bounds a request body (default 64 MiB); a larger body
	// is refused with HTTP 413.
	MaxBodyBytes int64
	// RequestTimeout bounds a request (TensorFlow Serving's
	// --rest_api_timeout_in_ms; default 30s); past it the answer is
	// DEADLINE_EXCEEDED (HTTP 504).
	RequestTimeout time.Duration
	// MaxConcurrent bounds the model runs (predict, evaluate, compute)
	// in progress at once (default 64); others wait for a slot
	// within their timeout.
	MaxConcurrent int
	// Registry receives the Prometheus metrics (default: a new registry
	// with the Go and process collectors).
	Registry *prometheus.Registry
	// Logf logs load and unload events (default log.Printf).
	Logf func(format string, args ...any)
}

// Server is a TensorFlow Serving-compatible REST model server.
type Server struct {
	opts    Options
	models  map[string]*model
	metrics *metrics
	slots   chan struct{}
	cancel  context.CancelFunc
	pollers sync.WaitGroup
	closed  sync.Once
}

// New loads every model's aspired versions and starts polling their base
// paths. It fails when a model has no version that loads, as TensorFlow
// Serving does not start without one.
func New(opts Options) (*Server, error) {
	if len(opts.Models) == 0 {
		return nil, errors.New("serve: no model to serve")
	}
	if opts.Engine == "" {
		opts.Engine = engine.Default
	}
	if _, err := engine.Get(opts.Engine); err != nil {
		return nil, err
	}
	opts.Limits = opts.Limits.WithDefaults()
	if opts.PollInterval == 0 {
		opts.PollInterval = time.Second
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 64 << 20
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 30 * time.Second
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 64
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
		opts.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if opts.Batching != nil {
		b := opts.Batching.withDefaults()
		opts.Batching = &b
	}
	s := &Server{opts: opts, models: map[string]*model{}, metrics: newMetrics(opts.Registry),
		slots: make(chan struct{}, opts.MaxConcurrent)}
	for _, c := range opts.Models {
		if _, dup := s.models[c.Name]; dup {
			return nil, fmt.Errorf("serve: model %q configured twice", c.Name)
		}
		s.models[c.Name] = &model{cfg: c, serving: map[int64]*servable{}, statuses: map[int64]*versionStatus{}}
	}
	for _, m := range s.models {
		s.poll(m)
		if len(m.serving) == 0 {
			s.unloadAll()
			return nil, fmt.Errorf("serve: model %q: no version of %s could be loaded: %s", m.cfg.Name, m.cfg.BasePath, failures(m))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if opts.PollInterval > 0 {
		s.pollers.Add(1)
		go func() {
			defer s.pollers.Done()
			s.pollLoop(ctx, opts.PollInterval)
		}()
	}
	return s, nil
}

func failures(m *model) string {
	if len(m.statuses) == 0 {
		return "no numbered version directory"
	}
	msg := ""
	for v, st := range m.statuses {
		if st.errMsg != "" {
			msg += fmt.Sprintf("version %d: %s; ", v, st.errMsg)
		}
	}
	return msg
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// Poll scans every base path once now (new versions load, old ones
// unload), without waiting for the next poll.
func (s *Server) Poll() {
	for _, m := range s.models {
		s.poll(m)
	}
}

// Close stops polling and unloads every version once its requests finish.
func (s *Server) Close() error {
	s.closed.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		s.pollers.Wait()
		s.unloadAll()
	})
	return nil
}

func (s *Server) unloadAll() {
	for _, m := range s.models {
		m.loadMu.Lock()
		m.mu.Lock()
		drop := m.serving
		m.serving = map[int64]*servable{}
		m.mu.Unlock()
		for _, sv := range drop {
			sv.close()
		}
		m.loadMu.Unlock()
	}
}

// Serve answers HTTP requests on l until ctx is done, then stops accepting
// connections, lets the requests in flight finish (at most drain), and
// returns. It does not Close the Server.
func (s *Server) Serve(ctx context.Context, l net.Listener, drain time.Duration) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := hs.Shutdown(sctx)
	<-errc
	return err
}

// Paths, as tensorflow_serving/model_servers/http_rest_api_util.cc matches
// them (kPredictionApiGegex, kModelStatusApiRegex), with :evaluate added to
// the POST methods, and tfseg's loss endpoint.
var (
	postPath   = regexp.MustCompile(`(?i)^/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict|evaluate)$`)
	getPath    = regexp.MustCompile(`(?i)^/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?$`)
	lossPath   = regexp.MustCompile(`^/v1/losses/([^/:]+):compute$`)
	apiPathAll = regexp.MustCompile(`(?i)^/v1/`)
)

// Handler returns the server's HTTP handler: the REST API under /v1/,
// /healthz, and Prometheus metrics at /metrics (and at TensorFlow
// Serving's usual /monitoring/prometheus/metrics).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	metricsHandler := promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{})
	mux.Handle("/metrics", metricsHandler)
	mux.Handle("/monitoring/prometheus/metrics", metricsHandler)
	mux.HandleFunc("/healthz", s.healthz)
	mux.HandleFunc("/", s.api)
	return mux
}

// healthz answers 200 "ok" when every model has a version available,
// else 503 naming those that have none.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	var missing []string
	for name, m := range s.models {
		m.mu.RLock()
		if len(m.serving) == 0 {
			missing = append(missing, name)
		}
		m.mu.RUnlock()
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		http.Error(w, fmt.Sprintf("no version available for: %v", missing), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// request is a parsed API path.
type request struct {
	model      string
	version    int64
	hasVersion bool
	label      string
	method     string // predict, evaluate, ... or metadata / status for GET
}

func parsePath(method, path string) (*request, error) {
	malformed := invalidArgf("Malformed request: %s %s", method, path)
	var m []string
	switch method {
	case http.MethodPost:
		m = postPath.FindStringSubmatch(path)
	case http.MethodGet:
		m = getPath.FindStringSubmatch(path)
	}
	if m == nil {
		return nil, malformed
	}
	r := &request{}
	var err error
	if r.model, err = url.PathUnescape(m[1]); err != nil {
		return nil, invalidArgf("Failed to decode model name:%s", m[1])
	}
	if m[2] != "" {
		if r.version, err = strconv.ParseInt(m[2], 10, 64); err != nil {
			return nil, invalidArgf("Failed to convert version: %s to numeric.", m[2])
		}
		r.hasVersion = true
	}
	if m[3] != "" {
		if r.label, err = url.PathUnescape(m[3]); err != nil {
			return nil, invalidArgf("Failed to decode model version label:%s", m[3])
		}
	}
	r.method = m[4]
	if method == http.MethodGet {
		r.method = "status"
		if m[4] != "" {
			r.method = "metadata"
		}
		if r.model == "" {
			return nil, invalidArgf("Missing model name in request.")
		}
	}
	return r, nil
}

// writeJSON answers with a JSON body (Content-Type: application/json, as
// TensorFlow Serving's AddHeaders sets it).
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// writeError answers {"error": "..."} with the code's HTTP status
// (MakeJsonFromStatus, ToHTTPStatusCode).
func writeError(w http.ResponseWriter, err error) int {
	ae := asAPIError(err)
	body, _ := json.Marshal(map[string]string{"error": ae.msg})
	status := ae.httpStatus()
	writeJSON(w, status, body)
	return status
}

func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	if !apiPathAll.MatchString(r.URL.Path) {
		http.NotFound(w, r)
		return
	}
	s.metrics.inflight.Inc()
	defer s.metrics.inflight.Dec()
	start := time.Now()
	modelName, api := "", "unknown"
	status := http.StatusOK
	defer func() {
		s.metrics.requests.WithLabelValues(modelName, api, strconv.Itoa(status)).Inc()
		if status == http.StatusOK {
			s.metrics.latency.WithLabelValues(modelName, api).Observe(time.Since(start).Seconds())
		}
	}()
	body, err := s.readBody(w, r)
	if err != nil {
		status = writeError(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	var out []byte
	if m := lossPath.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodPost {
		api = "compute"
		out, err = s.computeLoss(ctx, m[1], body)
	} else {
		var req *request
		// Match the path as sent and decode the names once, as
		// ParseModelInfo does (a model name may hold an escaped '/').
		req, err = parsePath(r.Method, r.URL.EscapedPath())
		if err == nil {
			api = req.method
			if _, known := s.models[req.model]; known {
				// Only configured names become label values, so that
				// requests cannot grow the metrics without bound.
				modelName = req.model
			}
			out, err = s.dispatch(ctx, req, body)
		}
	}
	if err != nil {
		status = writeError(w, ctxError(ctx, err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// ctxError turns a context's end into TensorFlow's codes.
func ctxError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &apiError{code: codeDeadlineExceeded, msg: "Deadline Exceeded: " + err.Error()}
	case errors.Is(err, context.Canceled):
		return &apiError{code: codeCancelled, msg: "Cancelled: " + err.Error()}
	}
	return err
}

func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Method != http.MethodPost {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, &apiError{code: codeResourceExhausted, status: http.StatusRequestEntityTooLarge,
			msg: fmt.Sprintf("request body larger than %d bytes (the server's --max_body_bytes)", mbe.Limit)}
	}
	if err != nil {
		return nil, invalidArgf("reading request body: %v", err)
	}
	return body, nil
}

func (s *Server) dispatch(ctx context.Context, req *request, body []byte) ([]byte, error) {
	if req.hasVersion && req.label != "" {
		return nil, invalidArgf("Both model version (%d) and model version label (%s) cannot be supplied.", req.version, req.label)
	}
	switch req.method {
	case "status":
		return s.status(req)
	case "metadata":
		return s.metadata(req)
	case "predict":
		return s.predict(ctx, req, body)
	case "evaluate":
		return s.evaluate(ctx, req, body)
	}
	return nil, &apiError{code: codeUnimplemented, msg: fmt.Sprintf("%s is not implemented by tfseg serve (it needs tf.Example parsing, which the Go engine does not run); use predict", req.method)}
}

// acquire finds the servable a request names.
func (s *Server) acquire(req *request) (*servable, error) {
	m, ok := s.models[req.model]
	if !ok {
		if req.label != "" {
			return nil, invalidArgf("Unrecognized servable version label: %s", req.label)
		}
		if req.hasVersion {
			return nil, notFoundf("Servable not found for request: Specific(%s, %d)", req.model, req.version)
		}
		return nil, notFoundf("Servable not found for request: Latest(%s)", req.model)
	}
	return m.acquire(req.version, req.label, req.hasVersion)
}

// slot waits for a free model-run slot (Options.MaxConcurrent).
func (s *Server) slot(ctx context.Context) (release func(), err error) {
	select {
	case s.slots <- struct{}{}:
		return func() { <-s.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
