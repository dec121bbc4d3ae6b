package eval

import (
	"context"
	"fmt"
	"sync"

	"github.com/tfseg/tfseg/dataset"
)

// Evaluator evaluates batches of samples one call at a time, with the
// per-image code Run uses (the same values, bit for bit), for callers that
// schedule the work themselves (a distributed pipeline) and summarise the
// results elsewhere. Overlays are not written.
type Evaluator struct {
	mu sync.Mutex
	r  *run
}

// Rows are the results of one Evaluate call.
type Rows struct {
	// Images are the evaluated samples, in the order given.
	Images []ImageResult
	// Skipped are the samples left out with SkipBad.
	Skipped []Skipped
	// Crops maps a crop ("572x572 -> 388x388") to the number of images
	// whose mask was center-cropped so (the note Run's report makes).
	Crops map[string]int
}

// NewEvaluator returns an Evaluator of m with opts (Overlays and Progress
// are ignored). Close it when done; it does not close m.
func NewEvaluator(m *Model, opts Options) (*Evaluator, error) {
	opts = opts.withDefaults()
	opts.Overlays, opts.Progress = "", nil
	r := &run{m: m, opts: opts, crops: map[string]int{}}
	if c := m.outputChannels(); c > 0 {
		if err := r.setup(c); err != nil {
			return nil, err
		}
	}
	return &Evaluator{r: r}, nil
}

// Evaluate evaluates b's samples (and reports b.Failed as bad inputs). A
// bad input stops it with an error wrapping ErrBadInput and naming the
// file, unless Options.SkipBad is set. Calls are serialised.
func (e *Evaluator) Evaluate(ctx context.Context, b *dataset.Batch) (*Rows, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.r
	defer func() {
		r.results, r.skipped, r.crops, r.err = nil, nil, map[string]int{}, nil
	}()
	if err := r.batch(ctx, b); err != nil {
		return nil, err
	}
	return &Rows{Images: r.results, Skipped: r.skipped, Crops: r.crops}, nil
}

// Header returns the report Run would make with no image: the model,
// classes, columns and the notes that do not depend on the images. It is
// known once the output's channel count is (from the signature, or after
// the first batch); ok is false before.
func (e *Evaluator) Header() (rep *Report, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.r.ms == nil {
		return nil, false
	}
	rep = e.r.report(&dataset.Listing{}, 0)
	rep.Images, rep.Summary, rep.Worst, rep.RankedBy, rep.Failing, rep.Ranked = nil, nil, nil, "", -1, 0
	return rep, true
}

// Close releases the evaluator's sessions.
func (e *Evaluator) Close() error {
	e.r.closeMeasures()
	return nil
}

// RankColumn returns the index in r.Columns of the column the worst
// images are ranked by (see Report.RankedBy), and whether a lower value
// is worse (a metric; a loss ranks higher as worse). It is -1 when the
// report has no metric and no loss.
func (r *Report) RankColumn() (index int, lowerIsWorse bool) { return r.rankColumn() }

// CropNote is the note Run's report makes for n images whose mask was
// center-cropped as crop says (a key of Rows.Crops).
func CropNote(crop string, n int) string {
	return fmt.Sprintf("masks center-cropped to the model output (%s) for %d images: the model's output is smaller than its input (valid padding)", crop, n)
}
