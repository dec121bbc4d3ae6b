package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
			"[--signature KEY] [--engine go|tensorflow] [--batch N] [--workers N] [--csv FILE] [--json FILE] [--html FILE] [--overlays DIR] [--fail-under [min:]COLUMN=VALUE]... [--skip-bad]",
		summary: "evaluate a segmentation SavedModel on a folder of images and masks: losses, metrics, worst images",
		run:     runEval})
}

// measureFlags collects repeated --loss/--metric flags, parsed by
// measures after the flags (an unknown name is bad input, exit 1, as in
// tfseg loss). "none" asks for none.
type measureFlags struct {
	set  bool
	list []string
}

func (m *measureFlags) String() string { return strings.Join(m.list, " ") }

func (m *measureFlags) Set(v string) error {
	m.set = true
	if v != "none" {
		m.list = append(m.list, v)
	}
	return nil
}

// measures returns nil when the flag was not given (the defaults), an
// empty list for "none".
func (m *measureFlags) measures() ([]eval.Measure, error) {
	if !m.set {
		return nil, nil
	}
	out := []eval.Measure{}
	for _, v := range m.list {
		x, err := eval.ParseMeasure(v)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// evalFlags are the flags eval and demo share.
type evalFlags struct {
	engine, signature, input, output, fromLogits string
	batch, workers, worst, overlayWorst          int
	skipBad, overlaysAll                         bool
	losses, metrics                              measureFlags
	failUnder                                    thresholdFlags
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
	fs.IntVar(&f.overlayWorst, "overlays-worst", 20, "how many worst images get an overlay card with --overlays")
	fs.BoolVar(&f.overlaysAll, "overlays-all", false, "with --overlays: a card for every image, not only the worst")
	fs.Var(&f.failUnder, "fail-under", "`[min:]COLUMN=VALUE` (repeatable): exit 4 when the column's mean (with min:, its per-image minimum) is below VALUE, e.g. dice_coef[1]=0.8, min:iou=0.5")
}

// options returns the eval options the shared flags set.
func (f *evalFlags) options() (eval.Options, error) {
	losses, err := f.losses.measures()
	if err != nil {
		return eval.Options{}, err
	}
	metrics, err := f.metrics.measures()
	if err != nil {
		return eval.Options{}, err
	}
	if f.overlayWorst <= 0 {
		return eval.Options{}, usagef("--overlays-worst must be positive")
	}
	return eval.Options{Losses: losses, Metrics: metrics, BatchSize: f.batch, Workers: f.workers,
		SkipBad: f.skipBad, Worst: f.worst, OverlaysAll: f.overlaysAll, OverlayWorst: f.overlayWorst}, nil
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
	var out reportPaths
	fs.StringVar(&out.csv, "csv", "", "write per-image values to `FILE` (CSV)")
	fs.StringVar(&out.json, "json", "", "write the whole report to `FILE` (JSON; tfseg compare reads it)")
	fs.StringVar(&out.html, "html", "", "write the report as one self-contained HTML page to `FILE`")
	fs.StringVar(&out.overlays, "overlays", "", "write overlay cards of the worst images (--overlays-worst, --overlays-all) to `DIR`: enlarged, mask outline yellow, false positives vermillion, false negatives blue")
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
	opts, err := f.options()
	if err != nil {
		return err
	}
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
	if err := checkPairs(l, *suffix, f.skipBad); err != nil {
		return err
	}
	page := eval.HTMLPage{Title: "tfseg eval: " + filepath.Base(filepath.Clean(*modelDir)), Images: *images, Masks: *masks}
	return evalAndWrite(ctx, e, *modelDir, l, lo, opts, out, page, f.failUnder)
}

// reportPaths are the outputs of an evaluation ("" for none).
type reportPaths struct{ csv, json, html, overlays string }

// evalAndWrite runs the evaluation with every output staged, prints the
// report, checks the thresholds, and puts the outputs in place when the
// run succeeded (also when a threshold failed: exit 4 with the outputs).
func evalAndWrite(ctx context.Context, e *env, modelDir string, l *dataset.Listing, lo eval.LoadOptions, opts eval.Options,
	paths reportPaths, page eval.HTMLPage, checks thresholdFlags) (err error) {
	var st outputs
	defer st.cleanup()
	staged := map[*string]string{}
	for _, p := range []*string{&paths.csv, &paths.json, &paths.html} {
		if *p != "" {
			if staged[p], err = st.file(*p); err != nil {
				return err
			}
		}
	}
	if paths.overlays != "" {
		if err := eval.CheckOverlayDir(paths.overlays); err != nil {
			return err
		}
		if opts.Overlays, err = st.dir(paths.overlays); err != nil {
			return err
		}
	}
	if paths.html != "" {
		opts.Gallery = htmlGallery
	}
	rep, err := evaluate(ctx, e, modelDir, l, lo, opts)
	if err != nil {
		return err
	}
	if paths.overlays != "" {
		rep.OverlayDir = paths.overlays // where the cards will be once committed
	}
	results, err := checks.check(rep)
	if err != nil {
		return err
	}
	if err := rep.WriteText(e.stdout); err != nil {
		return err
	}
	writers := map[*string]func(io.Writer) error{&paths.csv: rep.WriteCSV, &paths.json: rep.WriteJSON,
		&paths.html: func(w io.Writer) error { return rep.WriteHTML(w, page) }}
	for p, tmp := range staged {
		if err := writeFile(tmp, writers[p]); err != nil {
			return fmt.Errorf("write %s: %w", *p, err)
		}
	}
	if err := st.commit(); err != nil {
		return err
	}
	var failed []string
	if len(results) > 0 {
		fmt.Fprintln(e.stdout)
	}
	for _, r := range results {
		fmt.Fprintf(e.stdout, "fail-under %s\n", r.text)
		if !r.ok {
			failed = append(failed, r.text)
		}
	}
	if len(failed) > 0 {
		return &thresholdError{failed}
	}
	return nil
}

// htmlGallery is how many worst images the HTML page shows.
const htmlGallery = 12

// writeFile writes a staged file.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// checkPairs stops on images without a mask (unless skipBad), suggesting
// --mask-suffix when masks named IMAGE+SUFFIX are there.
func checkPairs(l *dataset.Listing, suffix string, skipBad bool) error {
	unpaired := l.Unpaired()
	if len(unpaired) == 0 || skipBad {
		return nil
	}
	hint := ""
	for _, p := range unpaired {
		for _, m := range l.MasksWithoutImage {
			stem := strings.TrimSuffix(filepath.Base(m), filepath.Ext(m))
			if rest, ok := strings.CutPrefix(stem, p.Name); ok && rest != "" {
				hint = fmt.Sprintf("; mask %s looks like %s's: add --mask-suffix %s", m, p.Image, suffix+rest)
				break
			}
		}
		if hint != "" {
			break
		}
	}
	return fmt.Errorf("%w: image %s has no mask (%d of %d images have none; --skip-bad skips them)%s", dataset.ErrUnpaired, unpaired[0].Image, len(unpaired), len(l.Pairs), hint)
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
