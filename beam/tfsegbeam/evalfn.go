package tfsegbeam

import (
	"context"
	"fmt"
	"reflect"
	"sort"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/tfseg/tfseg/dataset"
	_ "github.com/tfseg/tfseg/engine/goengine" // the engine the workers run (no libtensorflow)
	"github.com/tfseg/tfseg/eval"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*matchFn)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*keyFn)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*pairFn)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*evalFn)(nil)).Elem())
}

// matchFn lists the files a glob matches on its Beam filesystem; with
// Images set it counts them (images_matched: the progress line's total,
// known before the evaluation starts since matching is a stage of its own).
type matchFn struct {
	Glob   string
	Images bool
}

var matched = beam.NewCounter("tfseg", "images_matched")

func (f *matchFn) ProcessElement(ctx context.Context, _ []byte, emit func(string)) error {
	fs, err := filesystem.New(ctx, f.Glob)
	if err != nil {
		return err
	}
	defer fs.Close()
	files, err := fs.List(ctx, f.Glob)
	if err != nil {
		return fmt.Errorf("tfsegbeam: match %s: %w", f.Glob, err)
	}
	if len(files) == 0 {
		return fmt.Errorf("tfsegbeam: no file matches %s", f.Glob)
	}
	for _, p := range files {
		emit(p)
	}
	if f.Images {
		matched.Inc(ctx, int64(len(files)))
	}
	return nil
}

// keyFn keys a file by the name it pairs by (dataset.Pairing.Key).
type keyFn struct {
	Cfg  Config
	Mask bool
}

func (f *keyFn) ProcessElement(path string) (string, string) {
	pg, _ := f.Cfg.pairing()
	return pg.Key(path, f.Mask), path
}

// pairFn pairs the images and masks that share a key with
// dataset.Pairing.Pair, the function tfseg eval's listing uses.
type pairFn struct {
	Cfg Config
}

var paired = beam.NewCounter("tfseg", "images_paired")

func (f *pairFn) ProcessElement(ctx context.Context, key string, images, masks func(*string) bool, emit func(dataset.Pair), note func(Note)) error {
	pg, err := f.Cfg.pairing()
	if err != nil {
		return err
	}
	var im, ma []string
	var p string
	for images(&p) {
		im = append(im, p)
	}
	for masks(&p) {
		ma = append(ma, p)
	}
	l, err := pg.Pair(im, ma)
	if err != nil {
		return err
	}
	for _, p := range l.Pairs {
		emit(p)
	}
	paired.Inc(ctx, int64(len(l.Pairs)))
	for _, m := range l.MasksWithoutImage {
		note(Note{Kind: "mask", Path: m})
	}
	for _, i := range l.Ignored {
		note(Note{Kind: "ignored", Path: i})
	}
	return nil
}

// evalFn reads and evaluates pairs in batches of up to Cfg.Batch images of
// one size within a bundle, Cfg.Workers batches at once, and writes the
// rows to the bundle's part files in TempDir (emitting their names when
// the bundle finishes). The model is loaded once per worker process
// (shared by the DoFn instances), and so are its Cfg.Workers evaluators
// (acquireEvaluators): Cfg.Workers batches are evaluated at once in a
// worker process, whatever the number of bundles it runs.
type evalFn struct {
	Cfg     Config
	TempDir string

	pool     *evalPool
	cols     []eval.Column
	opts     eval.Options
	slicer   *slicer
	pending  map[[3]int][]*dataset.Sample
	parts    *partWriter
	inflight int
	results  chan result
	index    int
	done     beam.Counter
	skipped  beam.Counter
}

// result is a batch evaluated by a worker goroutine, with the header of
// its evaluator.
type result struct {
	rows   *eval.Rows
	header *eval.Report
	err    error
}

func (f *evalFn) Setup(ctx context.Context) error {
	m, err := loadModel(ctx, f.Cfg)
	if err != nil {
		return err
	}
	if f.opts, err = f.Cfg.evalOptions(); err != nil {
		return err
	}
	if f.pool, err = acquireEvaluators(m, f.Cfg, f.opts); err != nil {
		return err
	}
	f.results = make(chan result, f.Cfg.withDefaults().Workers)
	if f.slicer, err = newSlicer(ctx, f.Cfg); err != nil {
		return err
	}
	f.done = beam.NewCounter("tfseg", "images_done")
	f.skipped = beam.NewCounter("tfseg", "images_skipped")
	return nil
}

func (f *evalFn) StartBundle(_ context.Context, _ func(Outcome), _ func(Header), _ func(int, string)) error {
	f.pending = map[[3]int][]*dataset.Sample{}
	if f.parts != nil {
		_ = f.parts.close(true, nil) // the parts of a bundle that failed
	}
	var err error
	f.parts, err = newPartWriter(f.TempDir, f.Cfg.withDefaults().Shards)
	return err
}

// ProcessElement evaluates the pairs of a chunk file, in order.
func (f *evalFn) ProcessElement(ctx context.Context, c Chunk, emit func(Outcome), header func(Header), _ func(int, string)) error {
	pairs, err := readChunk(ctx, c)
	if err != nil {
		return err
	}
	for _, p := range pairs {
		if err := f.evalPair(ctx, p, emit, header); err != nil {
			return err
		}
	}
	return nil
}

// evalPair reads a pair and queues it for its size's batch, or emits its
// failure.
func (f *evalFn) evalPair(ctx context.Context, p dataset.Pair, emit func(Outcome), header func(Header)) error {
	s := dataset.ReadWith(p, func(path string) ([]byte, error) { return readFile(ctx, path) }, f.opts.Image, f.opts.Mask)
	s.Index = f.index
	f.index++
	if s.Err != nil {
		return f.submit(ctx, &dataset.Batch{Failed: []*dataset.Sample{s}}, emit, header)
	}
	k := [3]int{s.Image.Height, s.Image.Width, s.Image.Channels}
	f.pending[k] = append(f.pending[k], s)
	if len(f.pending[k]) >= f.Cfg.withDefaults().Batch {
		b := &dataset.Batch{Samples: f.pending[k]}
		delete(f.pending, k)
		return f.submit(ctx, b, emit, header)
	}
	return nil
}

func (f *evalFn) FinishBundle(ctx context.Context, emit func(Outcome), header func(Header), part func(int, string)) error {
	keys := make([][3]int, 0, len(f.pending))
	for k := range f.pending {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	var first error
	for _, k := range keys {
		if first == nil {
			first = f.submit(ctx, &dataset.Batch{Samples: f.pending[k]}, emit, header)
		}
	}
	f.pending = map[[3]int][]*dataset.Sample{}
	for f.inflight > 0 {
		if err := f.collect(ctx, <-f.results, emit, header); err != nil && first == nil {
			first = err
		}
	}
	if err := f.parts.close(first != nil, part); err != nil && first == nil {
		first = err
	}
	return first
}

// submit starts the evaluation of b on a free evaluator of the process
// (waiting for one when all are busy) and emits the results of finished
// batches. Emitting happens here, in the bundle's goroutine, as Beam
// requires. An evaluator goes back to the pool as soon as its batch is
// evaluated, so that bundles sharing the pool never wait on each other's
// emitting.
func (f *evalFn) submit(ctx context.Context, b *dataset.Batch, emit func(Outcome), header func(Header)) error {
	for f.inflight >= cap(f.results) {
		if err := f.collect(ctx, <-f.results, emit, header); err != nil {
			return f.drain(err)
		}
	}
	var ev *eval.Evaluator
	for ev == nil {
		select {
		case ev = <-f.pool.free:
		case r := <-f.results:
			if err := f.collect(ctx, r, emit, header); err != nil {
				return f.drain(err)
			}
		}
	}
	f.inflight++
	needHeader := f.cols == nil
	go func() {
		rows, err := ev.Evaluate(context.Background(), b)
		r := result{rows: rows, err: err}
		if needHeader && err == nil {
			r.header, _ = ev.Header()
		}
		f.pool.free <- ev
		f.results <- r
	}()
	for {
		select {
		case r := <-f.results:
			if err := f.collect(ctx, r, emit, header); err != nil {
				return f.drain(err)
			}
		default:
			return nil
		}
	}
}

// drain waits for the batches in flight after an error.
func (f *evalFn) drain(err error) error {
	for f.inflight > 0 {
		<-f.results
		f.inflight--
	}
	return err
}

// collect writes the rows of one finished batch to the bundle's parts and
// emits its outcomes (and, the first time, the header).
func (f *evalFn) collect(ctx context.Context, r result, emit func(Outcome), header func(Header)) error {
	f.inflight--
	if r.err != nil {
		return r.err
	}
	if h := r.header; h != nil && f.cols == nil {
		f.cols = h.Columns
		header(Header{Model: h.Model, Classes: h.Classes, Columns: h.Columns, Notes: h.Notes})
	}
	rows := r.rows
	crop := ""
	for k := range rows.Crops {
		crop = k // one batch: one image size, one output size
	}
	if len(rows.Images) > 0 && f.cols == nil {
		return fmt.Errorf("tfsegbeam: no header after a batch of %d images", len(rows.Images))
	}
	for _, im := range rows.Images {
		if err := f.parts.write(ctx, f.cols, im); err != nil {
			return err
		}
	}
	for _, im := range rows.Images {
		o := Outcome{Name: im.Name, Image: im.Image, Mask: im.Mask, Height: im.Height, Width: im.Width, Cropped: im.Cropped,
			Values: im.Values, Slice: f.slicer.slice(dataset.Pair{Name: im.Name, Image: im.Image, Mask: im.Mask})}
		if im.Cropped {
			o.Crop = crop
		}
		emit(o)
	}
	for _, s := range rows.Skipped {
		emit(Outcome{Name: s.Name, Image: s.Image, Mask: s.Mask, Reason: s.Reason,
			Slice: f.slicer.slice(dataset.Pair{Name: s.Name, Image: s.Image, Mask: s.Mask})})
	}
	f.done.Inc(ctx, int64(len(rows.Images)+len(rows.Skipped)))
	f.skipped.Inc(ctx, int64(len(rows.Skipped)))
	return nil
}

func (f *evalFn) Teardown() {
	if f.pool != nil {
		releaseEvaluators(f.Cfg)
		f.pool = nil
	}
}
