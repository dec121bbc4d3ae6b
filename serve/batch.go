package serve

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tfseg/tfseg/tfops"
)

// runFunc runs a signature on a set of inputs.
type runFunc func(ctx context.Context, inputs map[string]*tfops.Tensor) (map[string]*tfops.Tensor, error)

// batchTask is one request waiting in a batcher.
type batchTask struct {
	ctx    context.Context
	inputs map[string]*tfops.Tensor
	rows   int
	key    string // inputs' names, dtypes and shapes past the first dimension
	done   chan batchResult
}

type batchResult struct {
	outputs map[string]*tfops.Tensor
	err     error
}

// batcher merges concurrent requests to one signature of one servable into
// batches along the first dimension, as TensorFlow Serving's
// BatchingSession does (tensorflow_serving/batching/batching_session.cc):
// a batch closes when it holds MaxBatchSize rows or BatchTimeout after its
// first request; the inputs are concatenated, run once, and the outputs
// split back. Requests whose inputs differ past the first dimension are
// never merged; a request larger than MaxBatchSize runs alone.
type batcher struct {
	opts    BatchingOptions
	run     runFunc
	queue   chan *batchTask
	wg      sync.WaitGroup
	observe func(rows int)
}

func newBatcher(opts BatchingOptions, run runFunc, observe func(rows int)) *batcher {
	opts = opts.withDefaults()
	b := &batcher{opts: opts, run: run, queue: make(chan *batchTask, opts.MaxEnqueuedBatches*opts.MaxBatchSize), observe: observe}
	for range opts.NumBatchThreads {
		b.wg.Add(1)
		go b.loop()
	}
	return b
}

// batchKey describes what must agree for two requests to share a batch; ok
// is false when a request cannot be batched (a scalar input, inputs with
// different first dimensions, a dtype concat does not handle).
func batchKey(inputs map[string]*tfops.Tensor) (key string, rows int, ok bool) {
	names := make([]string, 0, len(inputs))
	for n := range inputs {
		names = append(names, n)
	}
	sort.Strings(names)
	var sb strings.Builder
	rows = -1
	for _, n := range names {
		t := inputs[n]
		if t.Rank() == 0 || !concatenable(t) {
			return "", 0, false
		}
		dims := t.Shape()
		if rows >= 0 && dims[0] != rows {
			return "", 0, false
		}
		rows = dims[0]
		fmt.Fprintf(&sb, "%s:%v%v;", n, t.DType(), dims[1:])
	}
	return sb.String(), rows, rows > 0
}

// submit queues a request and waits for its share of the batch's outputs.
func (b *batcher) submit(ctx context.Context, inputs map[string]*tfops.Tensor) (map[string]*tfops.Tensor, error) {
	key, rows, ok := batchKey(inputs)
	if !ok || rows > b.opts.MaxBatchSize {
		b.observe(rows)
		return b.run(ctx, inputs)
	}
	t := &batchTask{ctx: ctx, inputs: inputs, rows: rows, key: key, done: make(chan batchResult, 1)}
	select {
	case b.queue <- t:
	default:
		return nil, &apiError{code: codeUnavailable, msg: fmt.Sprintf("The batch scheduling queue to which this task was submitted is full (%d requests queued)", cap(b.queue))}
	}
	select {
	case r := <-t.done:
		return r.outputs, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (b *batcher) close() {
	close(b.queue)
	b.wg.Wait()
}

func (b *batcher) loop() {
	defer b.wg.Done()
	var carry *batchTask
	for {
		first := carry
		carry = nil
		if first == nil {
			t, ok := <-b.queue
			if !ok {
				return
			}
			first = t
		}
		batch := []*batchTask{first}
		rows := first.rows
		var timeout <-chan time.Time
		var timer *time.Timer
		if b.opts.BatchTimeout > 0 {
			timer = time.NewTimer(b.opts.BatchTimeout)
			timeout = timer.C
		}
	fill:
		for rows < b.opts.MaxBatchSize {
			var t *batchTask
			var ok bool
			if timeout == nil {
				select {
				case t, ok = <-b.queue:
				default:
					break fill
				}
			} else {
				select {
				case t, ok = <-b.queue:
				case <-timeout:
					break fill
				}
			}
			if !ok {
				break
			}
			if t.key != first.key || rows+t.rows > b.opts.MaxBatchSize {
				carry = t
				break
			}
			batch = append(batch, t)
			rows += t.rows
		}
		if timer != nil {
			timer.Stop()
		}
		b.runBatch(batch)
	}
}

func (b *batcher) runBatch(batch []*batchTask) {
	live := batch[:0]
	for _, t := range batch {
		if t.ctx.Err() != nil {
			t.done <- batchResult{err: t.ctx.Err()}
			continue
		}
		live = append(live, t)
	}
	if len(live) == 0 {
		return
	}
	rows := 0
	for _, t := range live {
		rows += t.rows
	}
	b.observe(rows)
	if len(live) == 1 {
		out, err := b.run(live[0].ctx, live[0].inputs)
		live[0].done <- batchResult{out, err}
		return
	}
	merged := map[string]*tfops.Tensor{}
	for name := range live[0].inputs {
		parts := make([]*tfops.Tensor, len(live))
		for i, t := range live {
			parts[i] = t.inputs[name]
		}
		m, err := concat0(parts)
		if err != nil {
			for _, t := range live {
				t.done <- batchResult{err: err}
			}
			return
		}
		merged[name] = m
	}
	// The batch runs under the longest-lived request's context: a request
	// that gives up does not cancel the others.
	ctx := context.Background()
	var deadline time.Time
	for _, t := range live {
		if d, ok := t.ctx.Deadline(); !ok {
			deadline = time.Time{}
			break
		} else if d.After(deadline) {
			deadline = d
		}
	}
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	out, err := b.run(ctx, merged)
	if err == nil {
		for name, o := range out {
			if o.Rank() == 0 || o.Shape()[0] != rows {
				err = fmt.Errorf("output %q has shape %v, not %d rows: the model does not batch along the first dimension", name, o.Shape(), rows)
				break
			}
		}
	}
	if err != nil {
		// Run the requests one by one, so that one bad request (or a model
		// that does not batch) fails only itself.
		for _, t := range live {
			out, err := b.run(t.ctx, t.inputs)
			t.done <- batchResult{out, err}
		}
		return
	}
	off := 0
	for _, t := range live {
		part := map[string]*tfops.Tensor{}
		for name, o := range out {
			s, err := slice0(o, off, off+t.rows)
			if err != nil {
				part = nil
				t.done <- batchResult{err: err}
				break
			}
			part[name] = s
		}
		if part != nil {
			t.done <- batchResult{outputs: part}
		}
		off += t.rows
	}
}

func concatenable(t *tfops.Tensor) bool {
	switch t.Data().(type) {
	case []float32, []float64, []int32, []int64, []uint8, []bool, []string, []int8, []int16, []uint16, []uint32, []uint64:
		return true
	}
	return false
}

// concat0 concatenates tensors along the first dimension.
func concat0(parts []*tfops.Tensor) (*tfops.Tensor, error) {
	dims := append([]int{}, parts[0].Shape()...)
	dims[0] = 0
	for _, p := range parts {
		dims[0] += p.Shape()[0]
	}
	var data any
	switch parts[0].Data().(type) {
	case []float32:
		data = concatData[float32](parts)
	case []float64:
		data = concatData[float64](parts)
	case []int32:
		data = concatData[int32](parts)
	case []int64:
		data = concatData[int64](parts)
	case []uint8:
		data = concatData[uint8](parts)
	case []bool:
		data = concatData[bool](parts)
	case []string:
		data = concatData[string](parts)
	case []int8:
		data = concatData[int8](parts)
	case []int16:
		data = concatData[int16](parts)
	case []uint16:
		data = concatData[uint16](parts)
	case []uint32:
		data = concatData[uint32](parts)
	case []uint64:
		data = concatData[uint64](parts)
	default:
		return nil, fmt.Errorf("cannot batch %v tensors", parts[0].DType())
	}
	return tfops.NewTensorRaw(parts[0].DType(), dims, data)
}

func concatData[T any](parts []*tfops.Tensor) []T {
	n := 0
	for _, p := range parts {
		n += p.NumElements()
	}
	out := make([]T, 0, n)
	for _, p := range parts {
		out = append(out, p.Data().([]T)...)
	}
	return out
}

// slice0 returns rows [lo, hi) of t along the first dimension (a copy).
func slice0(t *tfops.Tensor, lo, hi int) (*tfops.Tensor, error) {
	dims := append([]int{}, t.Shape()...)
	inner := 1
	for _, d := range dims[1:] {
		inner *= d
	}
	dims[0] = hi - lo
	var data any
	switch d := t.Data().(type) {
	case []float32:
		data = append([]float32{}, d[lo*inner:hi*inner]...)
	case []float64:
		data = append([]float64{}, d[lo*inner:hi*inner]...)
	case []int32:
		data = append([]int32{}, d[lo*inner:hi*inner]...)
	case []int64:
		data = append([]int64{}, d[lo*inner:hi*inner]...)
	case []uint8:
		data = append([]uint8{}, d[lo*inner:hi*inner]...)
	case []bool:
		data = append([]bool{}, d[lo*inner:hi*inner]...)
	case []string:
		data = append([]string{}, d[lo*inner:hi*inner]...)
	case []int8:
		data = append([]int8{}, d[lo*inner:hi*inner]...)
	case []int16:
		data = append([]int16{}, d[lo*inner:hi*inner]...)
	case []uint16:
		data = append([]uint16{}, d[lo*inner:hi*inner]...)
	case []uint32:
		data = append([]uint32{}, d[lo*inner:hi*inner]...)
	case []uint64:
		data = append([]uint64{}, d[lo*inner:hi*inner]...)
	default:
		return nil, fmt.Errorf("cannot split %v tensors", t.DType())
	}
	return tfops.NewTensorRaw(t.DType(), dims, data)
}
