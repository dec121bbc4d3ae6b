package tfseg

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"

	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/tfops"
)

// ClassScores are one metric's per-image values.
type ClassScores struct {
	// Mean[n] is image n's value, the number tfseg eval reports in the
	// metric's column ("iou"): for a one-channel (sigmoid) output the
	// foreground class's value, for C channels the mean over the classes
	// (a class with a zero denominator in that image, absent from both the
	// mask and the prediction, is left out, as Keras' MeanIoU does; the
	// mean of nothing is 0).
	Mean []float64
	// PerClass[n][c] is class c's value in image n (NaN for a class with a
	// zero denominator), eval's columns "iou[c]"; nil for a one-channel
	// output.
	PerClass [][]float64
	// Foreground[n] is the mean of PerClass[n][1:] over the values that
	// are not NaN (NaN when all are), eval's column "iou[fg]" (which eval
	// reports for more than two classes); nil for a one-channel output.
	Foreground []float64
}

// Scores are segmentation metrics per image, computed by the graphs
// registry's metrics (iou, dice_coef, precision, recall, pixel_accuracy)
// on each image alone, as tfseg eval computes them.
type Scores struct {
	// Classes is the number of classes scored: 2 for a one-channel
	// output, C otherwise.
	Classes int
	// IoU, Dice, Precision and Recall are TP/(TP+FP+FN), 2TP/(2TP+FP+FN),
	// TP/(TP+FP) and TP/(TP+FN) per class.
	IoU, Dice, Precision, Recall ClassScores
	// PixelAccuracy[n] is the fraction of image n's pixels whose predicted
	// class is the mask's.
	PixelAccuracy []float64
}

// Metrics computes per-image segmentation metrics of a model's output
// against masks, on tensors in memory. Its metric graphs are compiled once
// (per output shape) and reused; Score is safe for concurrent use.
type Metrics struct {
	threshold float64
	opts      []Option
	mu        sync.Mutex
	losses    map[string]*Loss
	closed    bool
}

// NewMetrics returns a Metrics whose binary metrics (a one-channel output)
// count a pixel as predicted foreground when its value is > threshold
// (0.5 for probabilities, as Keras' BinaryIoU and tfseg eval; 0 for
// logits). Options pick the engine as for NewLoss.
func NewMetrics(threshold float64, opts ...Option) (*Metrics, error) {
	if math.IsNaN(threshold) || math.IsInf(threshold, 0) {
		return nil, fmt.Errorf("%w: metrics threshold is %v; want a finite number", graphs.ErrParam, threshold)
	}
	m := &Metrics{threshold: threshold, opts: opts, losses: map[string]*Loss{}}
	// Check the engine now, not at the first Score.
	if _, err := m.loss("pixel_accuracy", "binary", ""); err != nil {
		return nil, err
	}
	return m, nil
}

// loss returns the compiled metric name for task and average.
func (m *Metrics) loss(name, task, average string) (*Loss, error) {
	key := name + "|" + task + "|" + average
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, fmt.Errorf("metrics: %w", ErrClosed)
	}
	if l := m.losses[key]; l != nil {
		return l, nil
	}
	p := Params{"task": task}
	if task == "binary" {
		p["threshold"] = strconv.FormatFloat(m.threshold, 'g', -1, 64)
	} else {
		p["labels"] = "sparse"
	}
	if average != "" {
		p["average"] = average
	}
	l, err := NewLoss(name, p, m.opts...)
	if err != nil {
		return nil, err
	}
	m.losses[key] = l
	return l, nil
}

// Score computes the metrics of every image of a batch: pred is the
// model's output (N, H, W, C), float32 or float64 (C = 1: a sigmoid
// output, thresholded; C > 1: class scores, argmax), masks the class
// indices (N, H, W) or (N, H, W, 1) of any integer, bool or float dtype,
// each in [0, max(C, 2)). A wrong rank, dtype or size, or a class the
// output does not have, is a graphs.ErrInput error naming the input and
// what is allowed.
func (m *Metrics) Score(ctx context.Context, pred, masks *tfops.Tensor) (*Scores, error) {
	if pred == nil || masks == nil {
		return nil, fmt.Errorf("%w: metrics: pred and masks must not be nil", graphs.ErrInput)
	}
	n, h, w, c, err := pred.NHWC()
	if err != nil {
		return nil, fmt.Errorf("%w: metrics: pred: %w", graphs.ErrInput, err)
	}
	if pred.DType() != tfops.Float && pred.DType() != tfops.Double {
		return nil, fmt.Errorf("%w: metrics: pred is %v; want float32 or float64", graphs.ErrInput, pred.DType())
	}
	ms := masks.Shape()
	if !(len(ms) == 3 || len(ms) == 4 && ms[3] == 1) || ms[0] != n || ms[1] != h || ms[2] != w {
		return nil, fmt.Errorf("%w: metrics: masks have shape %v, pred %v; want masks of shape [%d %d %d] or [%d %d %d 1]", graphs.ErrInput, ms, pred.Shape(), n, h, w, n, h, w)
	}
	classes := max(c, 2)
	if err := checkLabels(masks, classes); err != nil {
		return nil, err
	}
	yTrue, err := masks.Reshaped(n, h, w, 1)
	if err != nil {
		return nil, err
	}
	in := map[string]*tfops.Tensor{graphs.InputTrue: yTrue, graphs.InputPred: pred}
	task := "binary"
	if c > 1 {
		task = "multiclass"
	}
	s := &Scores{Classes: classes}
	run := func(name, average string) ([]float64, error) {
		l, err := m.loss(name, task, average)
		if err != nil {
			return nil, err
		}
		out, err := l.PerImage(ctx, in)
		if err != nil {
			return nil, err
		}
		return float64s(out), nil
	}
	for _, r := range []struct {
		name string
		cs   *ClassScores
	}{{"iou", &s.IoU}, {"dice_coef", &s.Dice}, {"precision", &s.Precision}, {"recall", &s.Recall}} {
		if r.cs.Mean, err = run(r.name, ""); err != nil {
			return nil, err
		}
		if c == 1 {
			continue
		}
		flat, err := run(r.name, "none")
		if err != nil {
			return nil, err
		}
		r.cs.PerClass = make([][]float64, n)
		r.cs.Foreground = make([]float64, n)
		for i := range n {
			r.cs.PerClass[i] = flat[i*c : (i+1)*c]
			r.cs.Foreground[i] = nanMean(r.cs.PerClass[i][1:])
		}
	}
	if s.PixelAccuracy, err = run("pixel_accuracy", ""); err != nil {
		return nil, err
	}
	return s, nil
}

// Close releases the compiled metrics.
func (m *Metrics) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	var first error
	for _, l := range m.losses {
		if err := l.Close(); err != nil && first == nil {
			first = err
		}
	}
	m.losses = nil
	return first
}

// checkLabels checks that every mask value is a class index below classes.
func checkLabels(masks *tfops.Tensor, classes int) error {
	bad := func(i int, v float64) error {
		hint := ""
		if classes == 2 {
			hint = " (the output has one channel: a binary mask holds 0 and 1)"
		}
		return fmt.Errorf("%w: metrics: masks value %v at flat index %d is not a class index in [0, %d)%s", graphs.ErrInput, v, i, classes, hint)
	}
	check := func(i int, v float64) error {
		if !(v >= 0 && v < float64(classes) && v == math.Trunc(v)) {
			return bad(i, v)
		}
		return nil
	}
	switch d := masks.Data().(type) {
	case []bool:
		return nil
	case []uint8:
		return checkEach(d, check)
	case []int32:
		return checkEach(d, check)
	case []int64:
		return checkEach(d, check)
	case []float32:
		return checkEach(d, check)
	case []float64:
		return checkEach(d, check)
	}
	return fmt.Errorf("%w: metrics: masks are %v; want bool, uint8, int32, int64, float32 or float64", graphs.ErrInput, masks.DType())
}

func checkEach[T uint8 | int32 | int64 | float32 | float64](d []T, check func(int, float64) error) error {
	for i, v := range d {
		if err := check(i, float64(v)); err != nil {
			return err
		}
	}
	return nil
}

// float64s returns a float32 or float64 tensor's values as float64.
func float64s(t *tfops.Tensor) []float64 {
	if v := t.Float64s(); v != nil {
		return v
	}
	f := t.Float32s()
	out := make([]float64, len(f))
	for i, x := range f {
		out[i] = float64(x)
	}
	return out
}

// nanMean is the mean of the values that are not NaN (NaN when none is).
func nanMean(v []float64) float64 {
	var sum float64
	k := 0
	for _, x := range v {
		if !math.IsNaN(x) {
			sum += x
			k++
		}
	}
	if k == 0 {
		return math.NaN()
	}
	return sum / float64(k)
}
