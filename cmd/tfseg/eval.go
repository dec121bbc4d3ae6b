package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/tfseg/tfseg/dataset"
	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/eval"
)

func init() {
	register(&command{name: "eval",
		args: "--model DIR --images DIR --masks DIR [--loss NAME[:key=value,...]]... [--metric NAME[:key=value,...]]... " +
			"[--signature KEY] [--engine go|tensorflow] [--batch N] [--workers N] [--csv FILE] [--json FILE] [--overlays DIR] [--skip-bad]",
		summary: "evaluate a segmentation SavedModel on a folder of images and masks: losses, metrics, worst images",
		run:     runEval})
}

// measureFlags collects repeated --loss/--metric flags. "none" asks for none.
type measureFlags struct {
	set  bool
	list []eval.Measure
}

func (m *measureFlags) String() string {
	parts := make([]string, len(m.list))
	for i, x := range m.list {
		parts[i] = x.String()
	}
	return strings.Join(parts, " ")
}

func (m *measureFlags) Set(v string) error {
	m.set = true
	if v == "none" {
		return nil
	}
	x, err := eval.ParseMeasure(v)
	if err != nil {
		return err
	}
	m.list = append(m.list, x)
	return nil
}

// measures returns nil when the flag was not given (the defaults), an
// empty list for "none".
func (m *measureFlags) measures() []eval.Measure {
	if !m.set {
		return nil
	}
	if m.list == nil {
		return []eval.Measure{}
	}
	return m.list
}

// evalFlags are the flags eval and demo share.
type evalFlags struct {
	engine, signature, input, output, fromLogits string
	batch, workers, worst                        int
	skipBad                                      bool
	losses, metrics                              measureFlags
}

func (f *evalFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.engine, "engine", engine.Default, "engine: "+strings.Join(engine.Names(), ", "))
	fs.IntVar(&f.batch, "batch", 8, "images per model run")
	fs.IntVar(&f.workers, "workers", 2, "batches evaluated at once (memory holds at most 2*workers+1 batches)")
	fs.IntVar(&f.worst, "worst", 5, "how many worst images the report lists")
	fs.Var(&f.losses, "loss", "loss `NAME[:key=value,...]` to compute per image (repeatable; default keras_bce for one output channel, keras_cce for more; none for no loss); see tfseg losses")
	fs.Var(&f.metrics, "metric", "metric `NAME[:key=value,...]` (repeatable; default iou, dice_coef, precision, recall, pixel_accuracy; none for no metric)")
	fs.StringVar(&f.fromLogits, "from-logits", "auto", "auto: losses with a from_logits parameter read the input of a final Sigmoid/Softmax, as Keras does in training; off: they read the output")
	fs.BoolVar(&f.skipBad, "skip-bad", false, "skip images that cannot be evaluated and list them in the report (default: stop at the first)")
}

func (f *evalFlags) loadOptions() (eval.LoadOptions, error) {
	o := eval.LoadOptions{Engine: f.engine, Signature: f.signature, Input: f.input, Output: f.output}
	switch f.fromLogits {
	case "auto":
	case "off":
		o.FromLogits = eval.LogitsOff
	default:
		return o, usagef("--from-logits is auto or off, not %q", f.fromLogits)
	}
	if f.batch <= 0 || f.workers <= 0 || f.worst < 0 {
		return o, usagef("--batch and --workers must be positive, --worst not negative")
	}
	return o, nil
}

func runEval(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["eval"])
	var f evalFlags
	f.register(fs)
	modelDir := fs.String("model", "", "SavedModel `DIR`")
	images := fs.String("images", "", "images `DIR` (PNG, JPEG, .npy)")
	masks := fs.String("masks", "", "masks `DIR` (PNG, JPEG, .npy), paired with the images by file name")
	suffix := fs.String("mask-suffix", "", "mask name = image name + `SUFFIX` (e.g. _mask)")
	fs.StringVar(&f.signature, "signature", "", "signature `KEY` (default serving_default)")
	fs.StringVar(&f.input, "input", "", "signature input `NAME` (when it has several)")
	fs.StringVar(&f.output, "output", "", "signature output `NAME` (when it has several)")
	csvPath := fs.String("csv", "", "write per-image values to `FILE` (CSV)")
	jsonPath := fs.String("json", "", "write the whole report to `FILE` (JSON)")
	overlays := fs.String("overlays", "", "write one overlay PNG per image to `DIR` (mask outline; false positives vermillion, false negatives blue)")
	scale := fs.String("scale", "unit", "PNG/JPEG samples: unit (v/255, v/65535) or raw (as stored)")
	channels := fs.Int("channels", 0, "convert images to 1 (grey) or 3 (RGB) channels; 0 keeps them")
	maskEnc := fs.String("mask-encoding", "auto", "masks: auto (0/255 or 0/1 binary, else class indices), binary (non-zero is foreground) or index")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("eval takes no arguments, got %q", pos)
	}
	if *modelDir == "" || *images == "" || *masks == "" {
		return usagef("eval needs --model, --images and --masks")
	}
	lo, err := f.loadOptions()
	if err != nil {
		return err
	}
	opts := eval.Options{Losses: f.losses.measures(), Metrics: f.metrics.measures(), BatchSize: f.batch, Workers: f.workers,
		SkipBad: f.skipBad, Overlays: *overlays, Worst: f.worst}
	switch *scale {
	case "unit":
	case "raw":
		opts.Image.Scale = dataset.ScaleRaw
	default:
		return usagef("--scale is unit or raw, not %q", *scale)
	}
	if *channels != 0 && *channels != 1 && *channels != 3 {
		return usagef("--channels is 0, 1 or 3, not %d", *channels)
	}
	opts.Image.Channels = *channels
	if opts.Mask.Encoding, err = dataset.ParseMaskEncoding(*maskEnc); err != nil {
		return &usageError{err.Error()}
	}
	l, err := dataset.Match(*images, *masks, dataset.MatchOptions{MaskSuffix: *suffix})
	if err != nil {
		return err
	}
	rep, err := evaluate(ctx, e, *modelDir, l, lo, opts)
	if err != nil {
		return err
	}
	return writeReport(e, rep, *csvPath, *jsonPath)
}

// evaluate loads the model and runs the evaluation with progress on stderr.
func evaluate(ctx context.Context, e *env, modelDir string, l *dataset.Listing, lo eval.LoadOptions, opts eval.Options) (*eval.Report, error) {
	if len(l.Pairs) == 0 {
		return nil, fmt.Errorf("no images to evaluate (PNG, JPEG or .npy files)")
	}
	m, err := eval.Load(modelDir, lo)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	p := newProgress(e, len(l.Pairs))
	opts.Progress = p.update
	rep, err := eval.Run(ctx, m, l, opts)
	p.finish()
	return rep, err
}

func writeReport(e *env, rep *eval.Report, csvPath, jsonPath string) error {
	if err := rep.WriteText(e.stdout); err != nil {
		return err
	}
	if csvPath != "" {
		if err := rep.WriteCSVFile(csvPath); err != nil {
			return err
		}
	}
	if jsonPath != "" {
		if err := rep.WriteJSONFile(jsonPath); err != nil {
			return err
		}
	}
	return nil
}

// progress shows a bar on a terminal (github.com/schollz/progressbar) and
// plain lines otherwise: one per tenth of the images, at most one every
// two seconds, and the last.
type progress struct {
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	w     io.Writer
	total int
	last  time.Time
	step  int
}

func newProgress(e *env, total int) *progress {
	p := &progress{w: e.stderr, total: total}
	if e.stderrIsTerminal {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(e.stderr),
			progressbar.OptionSetDescription("eval"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString("images"),
			progressbar.OptionShowIts(),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(100*time.Millisecond))
	}
	return p
}

func (p *progress) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Set(done)
		return
	}
	step := done * 10 / max(total, 1)
	if done == total || (step > p.step && time.Since(p.last) >= 2*time.Second) {
		fmt.Fprintf(p.w, "eval: %d/%d images\n", done, total)
		p.step, p.last = step, time.Now()
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
