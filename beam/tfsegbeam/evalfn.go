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
// one size within a bundle, Cfg.Workers batches at once. The model is
// loaded once per worker process (shared by the DoFn instances), the
// measures once per instance and evaluation worker.
type evalFn struct {
	Cfg Config

	evs      chan *eval.Evaluator
	all      []*eval.Evaluator
	opts     eval.Options
	slicer   *slicer
	pending  map[[3]int][]*dataset.Sample
	inflight int
	results  chan result
	index    int
	header   bool
	done     beam.Counter
	skipped  beam.Counter
}

// result is a batch evaluated by a worker goroutine.
type result struct {
	rows *eval.Rows
	ev   *eval.Evaluator
	err  error
}

func (f *evalFn) Setup(ctx context.Context) error {
	m, err := loadModel(ctx, f.Cfg)
	if err != nil {
		return err
	}
	if f.opts, err = f.Cfg.evalOptions(); err != nil {
		return err
	}
	n := f.Cfg.withDefaults().Workers
	f.evs = make(chan *eval.Evaluator, n)
	f.results = make(chan result, n)
	for range n {
		ev, err := eval.NewEvaluator(m, f.opts)
		if err != nil {
			return err
		}
		f.all = append(f.all, ev)
		f.evs <- ev
	}
	if f.slicer, err = newSlicer(ctx, f.Cfg); err != nil {
		return err
	}
	f.done = beam.NewCounter("tfseg", "images_done")
	f.skipped = beam.NewCounter("tfseg", "images_skipped")
	return nil
}

func (f *evalFn) StartBundle(_ context.Context, _ func(Outcome), _ func(Header)) {
	f.pending = map[[3]int][]*dataset.Sample{}
}

func (f *evalFn) ProcessElement(ctx context.Context, p dataset.Pair, emit func(Outcome), header func(Header)) error {
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

func (f *evalFn) FinishBundle(ctx context.Context, emit func(Outcome), header func(Header)) error {
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
	return first
}

// submit starts the evaluation of b on a free evaluation worker (waiting
// for one when all are busy) and emits the results of finished batches.
// Emitting happens here, in the bundle's goroutine, as Beam requires.
func (f *evalFn) submit(ctx context.Context, b *dataset.Batch, emit func(Outcome), header func(Header)) error {
	for f.inflight >= cap(f.evs) {
		if err := f.collect(ctx, <-f.results, emit, header); err != nil {
			return f.drain(err)
		}
	}
	ev := <-f.evs
	f.inflight++
	go func() {
		rows, err := ev.Evaluate(context.Background(), b)
		f.results <- result{rows: rows, ev: ev, err: err}
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
		r := <-f.results
		f.inflight--
		f.evs <- r.ev
	}
	return err
}

// collect emits one finished batch.
func (f *evalFn) collect(ctx context.Context, r result, emit func(Outcome), header func(Header)) error {
	f.inflight--
	f.evs <- r.ev
	if r.err != nil {
		return r.err
	}
	rows := r.rows
	crop := ""
	for k := range rows.Crops {
		crop = k // one batch: one image size, one output size
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
	if !f.header {
		if h, ok := r.ev.Header(); ok {
			header(Header{Model: h.Model, Classes: h.Classes, Columns: h.Columns, Notes: h.Notes})
			f.header = true
		}
	}
	return nil
}

func (f *evalFn) Teardown() {
	for _, ev := range f.all {
		ev.Close()
	}
}
