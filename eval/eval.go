package eval

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/tfseg/tfseg/dataset"
	"github.com/tfseg/tfseg/internal/atomicfile"
	"github.com/tfseg/tfseg/tfops"
)

// ErrBadInput is returned (wrapped, with the file named) for an image or
// mask that cannot be evaluated, unless Options.SkipBad is set.
var ErrBadInput = errors.New("eval: bad input")

// Options configure Run. The zero value evaluates DefaultMetrics and
// DefaultLoss in batches of 8 on 2 workers, stopping at the first bad input.
type Options struct {
	// Losses to compute per image; nil means DefaultLoss, an empty
	// non-nil slice none.
	Losses []Measure
	// Metrics to compute per image; nil means DefaultMetrics, an empty
	// non-nil slice none.
	Metrics []Measure
	// BatchSize is the number of images per model run (default 8).
	BatchSize int
	// Workers is the number of batches evaluated at once (default 2).
	// Memory holds at most 2·Workers+1 batches.
	Workers int
	// SkipBad skips images that cannot be evaluated (listing them in
	// Report.Skipped) instead of stopping with an error.
	SkipBad bool
	// Overlays, when set, is a directory that receives the overlay cards
	// (overlay.RenderCard: enlarged, with legend, name and scores) of the
	// OverlayWorst worst images, or of every image with OverlaysAll, as
	// NAME.png. It is filled as a temporary directory beside it and
	// renamed into place (replacing an earlier one) only when Run
	// succeeds: on error or cancellation nothing is left. An existing
	// directory is replaced only when empty or written by an earlier Run
	// (CheckOverlayDir).
	Overlays string
	// OverlaysAll writes a card for every image, not only the worst.
	OverlaysAll bool
	// OverlayWorst is how many worst images get a card (default 20).
	OverlayWorst int
	// Gallery is how many worst images' cards Report.Gallery holds as PNG
	// data (for an HTML page); 0 for none.
	Gallery int
	// Worst is the number of worst images the report lists (default 5).
	Worst int
	// Image and Mask configure how files are read.
	Image dataset.ImageOptions
	Mask  dataset.MaskOptions
	// Progress, when set, is called after each batch with the number of
	// images done (evaluated or skipped) and the total; calls are serialised.
	Progress func(done, total int)
}

func (o Options) withDefaults() Options {
	if o.BatchSize <= 0 {
		o.BatchSize = 8
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.Worst <= 0 {
		o.Worst = 5
	}
	if o.OverlayWorst <= 0 {
		o.OverlayWorst = 20
	}
	return o
}

// ImageResult is one evaluated image.
type ImageResult struct {
	// Index is the image's position in the listing (sorted by name).
	Index int
	// Name is the file name without extension; Image and Mask the paths.
	Name, Image, Mask string
	// Height and Width are the model output's (the size scored).
	Height, Width int
	// Cropped is set when the mask was center-cropped to the output.
	Cropped bool
	// Values holds one number per Report.Columns.
	Values []float64
	// Overlay is the file name of the image's overlay card in
	// Report.OverlayDir ("" when it has none).
	Overlay string
}

// Skipped is an image left out with SkipBad.
type Skipped struct {
	Name, Image, Mask string
	// Reason is the error, naming the file.
	Reason string
}

// Run evaluates m on the pairs of l. Images are read, batched and run as
// they come (memory bounded by the batches in flight). Every image gets
// one value per loss and metric, computed by graphs on m's engine on that
// image alone (a batch of one), so per-image numbers do not depend on the
// batch size; the summary is over images.
//
// A bad input (an image without a mask, an unreadable file, a mask whose
// size fits neither the image nor the output, classes the model does not
// have, an image the model cannot take) stops the run with an error
// wrapping ErrBadInput and naming the file, or with opts.SkipBad is listed
// in Report.Skipped.
func Run(ctx context.Context, m *Model, l *dataset.Listing, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	if opts.Overlays == "" {
		return runAll(ctx, m, l, opts, "")
	}
	if err := CheckOverlayDir(opts.Overlays); err != nil {
		return nil, err
	}
	var rep *Report
	err := atomicfile.Dir(opts.Overlays, func(tmp string) (err error) {
		if err := os.WriteFile(filepath.Join(tmp, OverlayMarker), []byte("overlay cards written by tfseg eval; a later run may replace this directory\n"), 0o644); err != nil {
			return fmt.Errorf("eval: overlays: %w", err)
		}
		rep, err = runAll(ctx, m, l, opts, tmp)
		return err
	})
	if err != nil {
		return nil, err
	}
	rep.OverlayDir = opts.Overlays
	return rep, nil
}

// runAll is Run writing the overlay cards to overlayDir (none when "").
func runAll(ctx context.Context, m *Model, l *dataset.Listing, opts Options, overlayDir string) (*Report, error) {
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &run{m: m, opts: opts, total: len(l.Pairs), crops: map[string]int{}, overlayDir: overlayDir}
	if c := m.outputChannels(); c > 0 {
		if err := r.setup(c); err != nil {
			return nil, err
		}
	}
	defer r.closeMeasures()

	batches := make(chan *dataset.Batch, opts.Workers)
	go func() {
		defer close(batches)
		for b := range dataset.Batches(l.Pairs, dataset.BatchOptions{Size: opts.BatchSize, Image: opts.Image, Mask: opts.Mask}) {
			select {
			case batches <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				if ctx.Err() != nil {
					continue // drain
				}
				if err := r.batch(ctx, b); err != nil {
					r.fail(err)
					cancel()
				}
			}
		}()
	}
	wg.Wait()
	if r.err != nil {
		return nil, r.err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep := r.report(l, time.Since(start))
	if err := r.cards(rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// run is the state of one evaluation, shared by the workers.
type run struct {
	m     *Model
	opts  Options
	total int

	setupOnce sync.Once
	setupErr  error
	ms        *measureSet
	channels  int

	mu      sync.Mutex
	results []ImageResult
	skipped []Skipped
	crops   map[string]int
	done    int
	err     error
	notes   []string

	// overlayDir receives the cards; worst holds the images that may get
	// one (ranked as the report ranks them); confusion counts pixels by
	// (true, predicted) class.
	overlayDir   string
	rankKey      int
	lowerIsWorse bool
	worst        []*candidate
	confusion    []int64
}

func (m *Model) outputChannels() int {
	if sh := m.Output.Shape; sh.RankKnown() && sh.Rank() == 4 {
		return int(sh.Dim(3))
	}
	return -1
}

// setup builds the measures once the output's channel count is known.
func (r *run) setup(channels int) error {
	r.setupOnce.Do(func() {
		losses, metrics := r.opts.Losses, r.opts.Metrics
		if losses == nil {
			losses = []Measure{DefaultLoss(channels)}
		}
		if metrics == nil {
			metrics = DefaultMetrics
		}
		r.channels = channels
		r.ms, r.setupErr = buildMeasures(r.m.eng, losses, metrics, channels, r.m.Logits != nil)
		if r.setupErr == nil {
			cl := max(channels, 2)
			r.confusion = make([]int64, cl*cl)
			ranking := &Report{Classes: cl, Columns: r.columns()}
			r.rankKey, r.lowerIsWorse = ranking.rankColumn()
		}
	})
	return r.setupErr
}

func (r *run) closeMeasures() {
	if r.ms != nil {
		r.ms.close()
	}
}

func (r *run) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

// bad records s as skipped (SkipBad) or returns the error that stops the run.
func (r *run) bad(s *dataset.Sample, err error) error {
	if !errors.Is(err, ErrBadInput) {
		err = fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	if !r.opts.SkipBad {
		return err
	}
	r.mu.Lock()
	r.skipped = append(r.skipped, Skipped{Name: s.Name, Image: s.Pair.Image, Mask: s.Pair.Mask, Reason: err.Error()})
	r.mu.Unlock()
	return nil
}

func (r *run) progress(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done += n
	if r.opts.Progress != nil {
		r.opts.Progress(r.done, r.total)
	}
}

// batch evaluates one batch and reports its progress.
func (r *run) batch(ctx context.Context, b *dataset.Batch) error {
	defer r.progress(len(b.Samples) + len(b.Failed))
	for _, s := range b.Failed {
		if err := r.bad(s, s.Err); err != nil {
			return err
		}
	}
	var good []*dataset.Sample
	want := r.m.InputChannels()
	for _, s := range b.Samples {
		if want > 0 && s.Image.Channels != want {
			err := fmt.Errorf("image %s has %d channels; the model's input %q takes %d (convert with --channels %d)",
				s.Pair.Image, s.Image.Channels, r.m.InputKey, want, want)
			if err := r.bad(s, err); err != nil {
				return err
			}
			continue
		}
		good = append(good, s)
	}
	return r.samples(ctx, good)
}

// samples runs the model on images of one size and scores each. When the
// model fails on several images, they are retried one by one to find the
// image at fault.
func (r *run) samples(ctx context.Context, good []*dataset.Sample) error {
	if len(good) == 0 {
		return nil
	}
	out, logits, err := r.runModel(ctx, good)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if len(good) == 1 {
			return r.bad(good[0], r.modelError(good[0], err))
		}
		for _, s := range good {
			if err := r.samples(ctx, []*dataset.Sample{s}); err != nil {
				return err
			}
		}
		return nil
	}
	for i, s := range good {
		if err := r.sample(ctx, s, slice(out, i), slice(logits, i)); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) modelError(s *dataset.Sample, err error) error {
	return fmt.Errorf("image %s (%dx%d, %d channels): the model failed on it: %w", s.Pair.Image, s.Image.Height, s.Image.Width, s.Image.Channels, err)
}

// runModel stacks the images and runs the model; it checks the output shape.
func (r *run) runModel(ctx context.Context, samples []*dataset.Sample) (out, logits *tfops.Tensor, err error) {
	b := &dataset.Batch{Samples: samples}
	out, logits, err = r.m.Run(ctx, b.Tensor())
	if err != nil {
		return nil, nil, err
	}
	for _, t := range []*tfops.Tensor{out, logits} {
		if t == nil {
			continue
		}
		sh := t.Shape()
		if len(sh) != 4 || sh[0] != len(samples) || t.DType() != tfops.Float {
			return nil, nil, fmt.Errorf("%w: output of shape %v (%v) for an input of shape %v; want float32 (N, H, W, C)", ErrModel, sh, t.DType(), b.Shape())
		}
	}
	if logits != nil && !slices.Equal(logits.Shape(), out.Shape()) {
		return nil, nil, fmt.Errorf("%w: logits of shape %v but output of shape %v", ErrModel, logits.Shape(), out.Shape())
	}
	if err := r.setup(out.Shape()[3]); err != nil {
		return nil, nil, err
	}
	if out.Shape()[3] != r.channels {
		return nil, nil, fmt.Errorf("%w: output has %d channels, earlier batches had %d", ErrModel, out.Shape()[3], r.channels)
	}
	return out, logits, nil
}

// slice returns item i of a batch tensor as a (1, H, W, C) tensor (nil for nil).
func slice(t *tfops.Tensor, i int) *tfops.Tensor {
	if t == nil {
		return nil
	}
	sh := t.Shape()
	n := sh[1] * sh[2] * sh[3]
	return tfops.MustFromSlice(t.Float32s()[i*n:(i+1)*n], 1, sh[1], sh[2], sh[3])
}

// predicted returns the predicted class per pixel: p > 0.5 for one
// channel, the argmax otherwise.
func predicted(prob *tfops.Tensor) []int32 {
	sh := prob.Shape()
	C := sh[3]
	p := prob.Float32s()
	out := make([]int32, sh[1]*sh[2])
	for i := range out {
		if C == 1 {
			if p[i] > 0.5 {
				out[i] = 1
			}
			continue
		}
		best := 0
		for c := 1; c < C; c++ {
			if p[i*C+c] > p[i*C+best] {
				best = c
			}
		}
		out[i] = int32(best)
	}
	return out
}

// sample scores one image.
func (r *run) sample(ctx context.Context, s *dataset.Sample, prob, logits *tfops.Tensor) error {
	sh := prob.Shape()
	oh, ow, C := sh[1], sh[2], sh[3]
	mask, cropped, err := s.Mask.Fit(s.Image.Height, s.Image.Width, oh, ow)
	if err != nil {
		return r.bad(s, fmt.Errorf("mask %s: %w", s.Pair.Mask, err))
	}
	classes := int32(max(C, 2))
	if mx := mask.MaxLabel(); mx >= classes {
		hint := ""
		if C == 1 {
			hint = " (the model is binary: one sigmoid channel; --mask-encoding binary maps every non-zero value to 1)"
		}
		return r.bad(s, fmt.Errorf("mask %s has class %d but the model outputs %d classes%s", s.Pair.Mask, mx, classes, hint))
	}
	vals, err := r.ms.compute(ctx, mask.Labels, prob, logits)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return r.bad(s, fmt.Errorf("image %s: %w", s.Pair.Image, err))
	}
	pred := predicted(prob)
	var nt, np int
	for i, t := range mask.Labels {
		if t != 0 {
			nt++
		}
		if pred[i] != 0 {
			np++
		}
	}
	n := float64(len(pred))
	vals = append(vals, float64(nt)/n, float64(np)/n)
	res := ImageResult{Index: s.Index, Name: s.Name, Image: s.Pair.Image, Mask: s.Pair.Mask,
		Height: oh, Width: ow, Cropped: cropped, Values: vals}
	c := r.candidate(s, &res, mask, pred)
	if c != nil && r.opts.OverlaysAll && r.overlayDir != "" {
		if err := r.writeCard(c); err != nil {
			return err
		}
		res.Overlay = cardFile(s.Name)
	}
	cl := int32(max(C, 2))
	conf := make([]int64, cl*cl)
	for i, t := range mask.Labels {
		conf[t*cl+pred[i]]++
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, v := range conf {
		r.confusion[i] += v
	}
	if cropped {
		r.crops[fmt.Sprintf("%dx%d -> %dx%d", s.Image.Height, s.Image.Width, oh, ow)]++
	}
	r.results = append(r.results, res)
	r.keepWorst(c)
	return nil
}

// columns lists the report's columns: the measures', then the fractions.
func (r *run) columns() []Column {
	var cols []Column
	if r.ms != nil {
		for _, c := range r.ms.columns {
			cols = append(cols, Column{Name: c.name, Kind: string(c.kind), FromLogits: c.logits})
		}
	}
	return append(cols,
		Column{Name: ColumnTrueFraction, Kind: "fraction"},
		Column{Name: ColumnPredFraction, Kind: "fraction"})
}

// report assembles the Report.
func (r *run) report(l *dataset.Listing, elapsed time.Duration) *Report {
	sort.Slice(r.results, func(i, j int) bool { return r.results[i].Index < r.results[j].Index })
	sort.Slice(r.skipped, func(i, j int) bool { return r.skipped[i].Name < r.skipped[j].Name })
	rep := &Report{
		Model:             r.m.info(),
		Classes:           max(r.channels, 2),
		Images:            r.results,
		Skipped:           r.skipped,
		MasksWithoutImage: l.MasksWithoutImage,
		Ignored:           l.Ignored,
		Elapsed:           elapsed,
		Notes:             append([]string{}, r.notes...),
	}
	rep.Columns = r.columns()
	if r.confusion != nil {
		cl := rep.Classes
		rep.Confusion = make([][]int64, cl)
		for t := range cl {
			rep.Confusion[t] = r.confusion[t*cl : (t+1)*cl]
		}
	}
	keys := make([]string, 0, len(r.crops))
	for k := range r.crops {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		rep.Notes = append(rep.Notes, CropNote(k, r.crops[k]))
	}
	if r.channels > 1 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d classes (softmax): a metric's plain column is its mean over all classes, background (class 0) included, as Keras' MeanIoU; NAME[c] is class c, and the worst images are ranked on the foreground", r.channels))
	}
	rep.summarise(r.opts.Worst)
	return rep
}
