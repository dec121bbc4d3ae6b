// Command tfseg-beam evaluates a segmentation SavedModel on a dataset with
// Apache Beam: the per-image values and the summary of tfseg eval, computed
// by many workers.
//
//	tfseg-beam eval --model DIR --images DIR|GLOB --masks DIR|GLOB --out DIR [flags] [Beam runner flags]
//
// The runner is Prism, in this process, unless --runner says otherwise
// (--runner=universal --endpoint=HOST:PORT --environment_type=... for a
// Flink or Spark job server, --runner=dataflow with Dataflow's flags). The
// same binary is the worker: Beam starts it with --worker.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"

	// The reflection-optimised runtime, the filesystems and the runners.
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec/optimized"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/dataflow"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/flink"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/spark"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"

	"github.com/tfseg/tfseg/beam/tfsegbeam"
)

// listFlag collects a repeated flag.
type listFlag struct{ list []string }

func (l *listFlag) String() string     { return strings.Join(l.list, " ") }
func (l *listFlag) Set(v string) error { l.list = append(l.list, v); return nil }

// flags are registered on flag.CommandLine, beside Beam's runner flags.
var (
	cfg        tfsegbeam.Config
	losses     listFlag
	metricList listFlag
	progress   = flag.Duration("progress", 10*time.Second, "print a progress line (from Beam's metrics) this often; 0: never")
)

func init() {
	flag.StringVar(&cfg.Model, "model", "", "SavedModel `DIR` (local, gs://, s3://)")
	flag.StringVar(&cfg.Images, "images", "", "images `DIR` or glob on a Beam filesystem (PNG, JPEG, .npy)")
	flag.StringVar(&cfg.Masks, "masks", "", "masks `DIR` or glob, paired with the images by file name as tfseg eval pairs them")
	flag.StringVar(&cfg.MaskSuffix, "mask-suffix", "", "mask name = image name + `SUFFIX` (e.g. _mask)")
	flag.StringVar(&cfg.Out, "out", "", "output `DIR` (Beam filesystem): rows-*.csv, rows-*.jsonl, summary.json, slices/, dead-letter.jsonl")
	flag.StringVar(&cfg.Signature, "signature", "", "signature `KEY` (default serving_default)")
	flag.StringVar(&cfg.Input, "input", "", "signature input `NAME` (when it has several)")
	flag.StringVar(&cfg.Output, "output", "", "signature output `NAME` (when it has several)")
	flag.StringVar(&cfg.FromLogits, "from-logits", "auto", "auto: losses with a from_logits parameter read the input of a final Sigmoid/Softmax, as Keras does in training; off: they read the output")
	flag.Var(&losses, "loss", "loss `NAME[:key=value,...]` per image (repeatable; default keras_bce or keras_cce; none for no loss)")
	flag.Var(&metricList, "metric", "metric `NAME[:key=value,...]` (repeatable; default iou, dice_coef, precision, recall, pixel_accuracy; none for none)")
	flag.IntVar(&cfg.Batch, "batch", 8, "images per model run, within a bundle")
	flag.IntVar(&cfg.Workers, "workers", 2, "batches evaluated at once in each worker process, shared by the bundles it runs (as tfseg eval's --workers)")
	flag.BoolVar(&cfg.SkipBad, "skip-bad", false, "write images that cannot be evaluated to dead-letter.jsonl (default: the pipeline fails naming the first)")
	flag.IntVar(&cfg.Worst, "worst", 5, "how many worst images the summary lists")
	flag.StringVar(&cfg.Scale, "scale", "unit", "PNG/JPEG samples: unit (v/255, v/65535) or raw")
	flag.IntVar(&cfg.Channels, "channels", 0, "convert images to 1 (grey) or 3 (RGB) channels; 0 keeps them")
	flag.StringVar(&cfg.MaskEncoding, "mask-encoding", "auto", "masks: auto, binary or index")
	flag.IntVar(&cfg.Shards, "shards", 4, "number of per-image CSV (and JSON Lines) files")
	flag.StringVar(&cfg.SliceBy, "slice-by", "", "per-slice summaries: path:`REGEXP` (its first group on the image path) or meta:COLUMN (with --metadata)")
	flag.StringVar(&cfg.Metadata, "metadata", "", "metadata CSV `FILE` for --slice-by meta:COLUMN, joined on the image file name")
	flag.StringVar(&cfg.MetadataKey, "metadata-key", "file", "the metadata CSV's `COLUMN` holding the image file name")
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: tfseg-beam eval --model DIR --images DIR|GLOB --masks DIR|GLOB --out DIR [flags] [Beam runner flags]\n\n"+
		"Runner flags: --runner (default prism, in process), --endpoint HOST:PORT, --environment_type LOOPBACK|PROCESS|DOCKER|EXTERNAL,\n"+
		"--environment_config, --job_name; Dataflow: --project --region --temp_location --staging_location ...\n\nflags:\n")
	flag.CommandLine.SetOutput(w)
	flag.PrintDefaults()
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "eval" {
		// A worker (Beam starts this binary with --worker ...), or a mistake.
		if err := flag.CommandLine.Parse(args); err != nil {
			return 2
		}
		if bootProcessWorker() {
			return 0
		}
		beam.Init() // runs the worker harness and exits in worker mode
		usage(stderr)
		return 2
	}
	flag.CommandLine.Init("tfseg-beam eval", flag.ContinueOnError)
	flag.CommandLine.SetOutput(stderr)
	if err := flag.CommandLine.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return 0
		}
		return 2
	}
	if flag.NArg() > 0 {
		fmt.Fprintf(stderr, "tfseg-beam eval takes no arguments, got %q\n", flag.Args())
		return 2
	}
	if losses.list != nil {
		cfg.Losses = losses.list
	}
	if metricList.list != nil {
		cfg.Metrics = metricList.list
	}
	cfg.StartUnixNano = time.Now().UnixNano()
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "tfseg-beam: %v\n", err)
		return 2
	}
	beam.Init()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, s := beam.NewPipelineWithRoot()
	if _, err := tfsegbeam.Build(s, cfg); err != nil {
		fmt.Fprintf(stderr, "tfseg-beam: %v\n", err)
		return 2
	}
	runner := *runners.Runner
	if runner == "" {
		runner = "prism"
	}
	if *jobopts.JobName == "" {
		*jobopts.JobName = fmt.Sprintf("tfseg-beam-eval-%d", cfg.StartUnixNano)
	}
	stopProgress := func() {}
	if runner == "prism" || runner == "PrismRunner" {
		stop, err := startPrism(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "tfseg-beam: %v\n", err)
			return 1
		}
		defer stop()
		runner = "universal"
	}
	if *jobopts.WorkerBinary == "" && runtime.GOOS == "linux" && runtime.GOARCH == "amd64" {
		// This static binary is the worker: stage it rather than let Beam
		// cross-compile the sources (which a user's machine may not have).
		if self, err := os.Executable(); err == nil {
			*jobopts.WorkerBinary = self
		}
	}
	if *progress > 0 && *jobopts.Endpoint != "" && runner != "dataflow" {
		stopProgress = watchProgress(ctx, *jobopts.Endpoint, *jobopts.JobName, *progress, stderr)
	}
	start := time.Now()
	res, err := beam.Run(ctx, runner, p)
	stopProgress()
	if !*jobopts.Async {
		// The part files of failed or retried bundles, or of a failed run.
		if cerr := tfsegbeam.Cleanup(ctx, cfg); cerr != nil {
			fmt.Fprintf(stderr, "tfseg-beam: %v\n", cerr)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "tfseg-beam: the pipeline failed: %s\n", cause(err))
		return 1
	}
	done, skipped := int64(-1), int64(-1)
	if res != nil {
		done, skipped = counters(res.Metrics().AllMetrics().Counters())
	}
	elapsed := time.Since(start)
	if done >= 0 {
		fmt.Fprintf(stdout, "tfseg-beam: %d images (%d skipped) in %s, %.1f images/s\n", done, skipped, elapsed.Round(time.Millisecond), float64(done)/elapsed.Seconds())
	} else {
		fmt.Fprintf(stdout, "tfseg-beam: done in %s\n", elapsed.Round(time.Millisecond))
	}
	fmt.Fprintf(stdout, "summary -> %s/%s; per image -> %s/rows-*.csv, rows-*.jsonl\n", strings.TrimRight(cfg.Out, "/"), tfsegbeam.SummaryFile, strings.TrimRight(cfg.Out, "/"))
	return 0
}

// cause shortens a pipeline error to its root cause: Beam's errors carry
// the whole bundle's plan before the DoFn's own error.
func cause(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "failed:\n"); i >= 0 {
		return strings.TrimSpace(msg[i+len("failed:\n"):])
	}
	return msg
}
