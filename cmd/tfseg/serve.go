package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/serve"
)

func init() {
	register(&command{name: "serve",
		args:    "--model_base_path DIR --model_name NAME | --model_config_file FILE [--port 8501] [--enable_batching] [--batching_parameters_file FILE] ...",
		summary: "serve SavedModels over TensorFlow Serving's REST API (predict, status, metadata), with :evaluate and loss endpoints",
		run:     runServe})
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["serve"])
	base := fs.String("model_base_path", "", "`DIR` holding numbered version subdirectories (DIR/1, DIR/2, ...), each a SavedModel")
	name := fs.String("model_name", "default", "model `NAME` in URLs (/v1/models/NAME)")
	configFile := fs.String("model_config_file", "", "ModelServerConfig in text format listing several models (instead of --model_base_path)")
	port := fs.Int("port", 8501, "HTTP port of the REST API")
	restPort := fs.Int("rest_api_port", 0, "same as --port (TensorFlow Serving's name); wins when set")
	host := fs.String("host", "", "address to listen on (default all interfaces)")
	eng := fs.String("engine", engine.Default, "engine: "+strings.Join(engine.Names(), ", "))
	threads := fs.Int("threads", 0, "goroutines per model run (0: all cores)")
	poll := fs.Int("file_system_poll_wait_seconds", 1, "seconds between scans for new versions (0: never)")
	batching := fs.Bool("enable_batching", false, "merge concurrent predict requests into batches")
	batchFile := fs.String("batching_parameters_file", "", "BatchingParameters in text format (max_batch_size { value: 32 } batch_timeout_micros { value: 1000 } ...)")
	maxBatch := fs.Int("max_batch_size", 0, "batching: most rows per run (overrides the parameters file; default 32)")
	batchTimeout := fs.Int("batch_timeout_micros", -1, "batching: microseconds a batch waits to fill (overrides the parameters file; default 0)")
	batchThreads := fs.Int("num_batch_threads", 0, "batching: batches run at once (default 1)")
	timeout := fs.Int("rest_api_timeout_in_ms", 30000, "per-request timeout in milliseconds")
	maxBody := fs.Int64("max_body_bytes", 64<<20, "largest request body accepted (HTTP 413 beyond)")
	maxTensor := fs.Int64("max_tensor_bytes", 0, "largest tensor a request or a model run may make (0: engine default, 4 GiB)")
	concurrent := fs.Int("max_concurrent_requests", 64, "model runs in progress at once; others wait")
	drain := fs.Duration("drain_timeout", 30*time.Second, "on SIGTERM/SIGINT, how long requests in flight may take to finish")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("serve takes no arguments, got %q", pos)
	}
	var models []serve.ModelConfig
	switch {
	case *configFile != "" && *base != "":
		return usagef("give --model_config_file or --model_base_path, not both")
	case *configFile != "":
		if models, err = serve.ReadModelConfigFile(*configFile); err != nil {
			return err
		}
	case *base != "":
		models = []serve.ModelConfig{{Name: *name, BasePath: *base}}
	default:
		return usagef("serve needs --model_base_path DIR (with --model_name) or --model_config_file FILE")
	}
	opts := serve.Options{Models: models, Engine: *eng, Threads: *threads,
		Limits:       engine.Limits{MaxTensorBytes: *maxTensor},
		PollInterval: time.Duration(*poll) * time.Second, MaxBodyBytes: *maxBody,
		RequestTimeout: time.Duration(*timeout) * time.Millisecond, MaxConcurrent: *concurrent,
		Logf: func(format string, args ...any) { fmt.Fprintf(e.stderr, "tfseg serve: "+format+"\n", args...) }}
	if *poll <= 0 {
		opts.PollInterval = -1
	}
	if *batchFile != "" && !*batching {
		return usagef("--batching_parameters_file needs --enable_batching")
	}
	if *batching {
		b := serve.BatchingOptions{}
		if *batchFile != "" {
			if b, err = serve.ReadBatchingParametersFile(*batchFile); err != nil {
				return err
			}
		}
		if *maxBatch > 0 {
			b.MaxBatchSize = *maxBatch
		}
		if *batchTimeout >= 0 {
			b.BatchTimeout = time.Duration(*batchTimeout) * time.Microsecond
		}
		if *batchThreads > 0 {
			b.NumBatchThreads = *batchThreads
		}
		opts.Batching = &b
	}
	if *restPort != 0 {
		*port = *restPort
	}
	for _, m := range models {
		// A base path that is not a directory is bad input, said once
		// (TensorFlow Serving also refuses to start on it).
		if fi, err := os.Stat(m.BasePath); err != nil || !fi.IsDir() {
			if err == nil {
				err = fmt.Errorf("not a directory")
			}
			return fmt.Errorf("model %q: base path %s: %w", m.Name, m.BasePath, err)
		}
	}
	srv, err := serve.New(opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	l, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "tfseg serve: exporting HTTP/REST API at %s\n", l.Addr())
	sctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()
	if err := srv.Serve(sctx, l, *drain); err != nil {
		return err
	}
	fmt.Fprintln(e.stderr, "tfseg serve: stopped; the requests in flight finished")
	return nil
}
