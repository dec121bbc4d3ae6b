package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/container/tools"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/util/grpcx"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

var provisionEndpoint = flag.String("provision_endpoint", "", "(worker) the runner's provisioning service: set by a runner that starts this binary in a PROCESS environment")

// startPrism starts Prism's job server in this process on a free port, as
// the prism runner does, but with a known endpoint (for the progress line),
// and selects LOOPBACK workers unless an environment was given.
func startPrism(ctx context.Context) (stop func(), err error) {
	if *jobopts.Endpoint != "" {
		return func() {}, nil // a Prism job server elsewhere
	}
	l, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithCancel(ctx)
	if _, err := prism.CreateJobServer(ctx, prism.Options{Port: port}); err != nil {
		cancel()
		return nil, fmt.Errorf("prism job server: %w", err)
	}
	*jobopts.Endpoint = fmt.Sprintf("localhost:%d", port)
	if *jobopts.EnvironmentType == "" {
		*jobopts.EnvironmentType = "loopback"
	}
	return cancel, nil
}

// counters returns tfseg's images_done and images_skipped counters.
func counters(cs []metrics.CounterResult) (done, skipped int64) {
	for _, c := range cs {
		if c.Namespace() != "tfseg" {
			continue
		}
		switch c.Name() {
		case "images_done":
			done += c.Result()
		case "images_skipped":
			skipped += c.Result()
		}
	}
	return done, skipped
}

// watchProgress polls the job service's metrics for the job named name
// and prints a progress line every period: images done, images per second
// and, once the files are matched, the total (the image files matched: an
// upper bound, as it counts files that are not images) and the time left.
func watchProgress(ctx context.Context, endpoint, name string, period time.Duration, w io.Writer) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return
		}
		defer conn.Close()
		cli := jobpb.NewJobServiceClient(conn)
		start := time.Now()
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			done, skipped, total, ok := jobCounters(ctx, cli, name)
			if !ok {
				continue
			}
			rate := float64(done) / time.Since(start).Seconds()
			line := fmt.Sprintf("tfseg-beam: %d images done (%d skipped), %.1f images/s", done, skipped, rate)
			if total > 0 && rate > 0 {
				eta := time.Duration(float64(total-done) / rate * float64(time.Second))
				line = fmt.Sprintf("tfseg-beam: %d/%d images done (%d skipped), %.1f images/s, ETA %s", done, total, skipped, rate, eta.Round(time.Second))
			}
			fmt.Fprintln(w, line)
		}
	}()
	return func() { cancel(); <-finished }
}

// jobCounters reads the user counters of the running job named name.
func jobCounters(ctx context.Context, cli jobpb.JobServiceClient, name string) (done, skipped, total int64, ok bool) {
	jobs, err := cli.GetJobs(ctx, &jobpb.GetJobsRequest{})
	if err != nil {
		return 0, 0, 0, false
	}
	for _, j := range jobs.GetJobInfo() {
		if j.GetJobName() != name {
			continue
		}
		m, err := cli.GetJobMetrics(ctx, &jobpb.GetJobMetricsRequest{JobId: j.GetJobId()})
		if err != nil {
			return 0, 0, 0, false
		}
		for _, mi := range m.GetMetrics().GetAttempted() {
			l := mi.GetLabels()
			if l["NAMESPACE"] != "tfseg" {
				continue
			}
			v, err := coder.DecodeVarInt(bytes.NewReader(mi.GetPayload()))
			if err != nil {
				continue
			}
			switch l["NAME"] {
			case "images_done":
				done += v
			case "images_skipped":
				skipped += v
			case "images_matched":
				total += v
			}
		}
		return done, skipped, total, true
	}
	return 0, 0, 0, false
}

// bootProcessWorker is the boot program of a PROCESS environment: a runner
// (Prism, Flink, Spark) starts this binary with --id and
// --provision_endpoint; it fetches the endpoints and pipeline options from
// the provisioning service and runs the worker harness (beam.Init's worker
// mode), as the Go SDK container's boot program does before it starts the
// worker binary.
func bootProcessWorker() bool {
	if *provisionEndpoint == "" {
		return false
	}
	// Prism passes --id='ID' (quotes included); its worker pool knows ID.
	id := strings.Trim(flag.Lookup("id").Value.String(), "'")
	ctx := grpcx.WriteWorkerID(context.Background(), id)
	info, err := tools.ProvisionInfo(ctx, *provisionEndpoint)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tfseg-beam worker: provisioning: %v\n", err)
		os.Exit(1)
	}
	options, err := tools.ProtoToJSON(info.GetPipelineOptions())
	if err != nil {
		fmt.Fprintf(os.Stderr, "tfseg-beam worker: pipeline options: %v\n", err)
		os.Exit(1)
	}
	for k, v := range map[string]string{"worker": "true", "id": id, "logging_endpoint": info.GetLoggingEndpoint().GetUrl(),
		"control_endpoint": info.GetControlEndpoint().GetUrl(), "options": options} {
		if err := flag.Set(k, v); err != nil {
			fmt.Fprintf(os.Stderr, "tfseg-beam worker: %v\n", err)
			os.Exit(1)
		}
	}
	if v := os.Getenv("TFSEG_BEAM_WORKER_GOMEMLIMIT"); v != "" {
		// GOMEMLIMIT for the worker only (the runner that starts it shares
		// its environment).
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			debug.SetMemoryLimit(n << 20)
		}
	}
	if path := os.Getenv("TFSEG_BEAM_WORKER_RSS"); path != "" {
		recordPeakRSS(path)
	}
	initHarness()
	return true
}
