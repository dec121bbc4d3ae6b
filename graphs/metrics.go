package graphs

import (
	"fmt"
	"math"

	"github.com/tfseg/tfseg/tfops"
)

// Segmentation metrics as graphs: IoU (Jaccard), Dice coefficient,
// precision, recall and pixel accuracy, per class or their mean, from the
// confusion counts over the whole batch.

func metricParams(extra ...Param) []Param {
	return append(extra,
		Param{Name: "task", Kind: KindWord, Default: "binary", Choices: []string{"binary", "multiclass"},
			Doc: "binary: y_true a 0/1 mask, y_pred a probability (NHWC, C = 1), the foreground class scored; multiclass: y_pred (B, H, W, C) scored by its argmax, every class scored"},
		Param{Name: "threshold", Kind: KindFloat, Default: 0.5, Doc: "binary: a pixel is predicted foreground when y_pred >= threshold for iou and dice_coef " +
			"(Keras' BinaryIoU rule), y_pred > threshold for precision, recall and pixel_accuracy (Keras' Precision, Recall, " +
			"BinaryAccuracy); y_true when > 0.5"},
		pLabels, pIgnore)
}

// atThresholdIsForeground lists the binary metrics that count y_pred equal
// to the threshold as foreground: Keras' BinaryIoU does (>=); its
// Precision, Recall and BinaryAccuracy do not (>).
var atThresholdIsForeground = map[string]bool{"iou": true, "dice_coef": true}

const metricDocTail = ` Counts are float sums over the batch (exact up to 2^24 pixels in float32). Pixels labelled ` +
	`ignore count nowhere.`

func init() {
	type ratio struct{ name, doc string }
	for _, m := range []ratio{
		{"iou", "IoU (Jaccard index) per class: TP / (TP + FP + FN). Binary: a pixel is predicted foreground when " +
			"y_pred >= threshold, Keras' BinaryIoU rule in Keras 3 (keras/src/metrics/iou_metrics.py, BinaryIoU.update_state: " +
			"y_pred >= self.threshold) and tf.keras 2.x (keras/metrics/iou_metrics.py, tag v2.15.0) alike."},
		{"dice_coef", "Dice coefficient (F1) per class: 2 TP / (2 TP + FP + FN) = 2 IoU / (1 + IoU). Binary: on iou's rule " +
			"(y_pred >= threshold). Keras has no Dice metric; counting the pixels at the threshold as iou does keeps " +
			"Dice = 2 IoU / (1 + IoU) true on every input, so a Dice and an IoU column never disagree about a pixel."},
		{"precision", "Precision per class: TP / (TP + FP). Binary: y_pred > threshold, as Keras' Precision " +
			"(keras/src/metrics/metrics_utils.py update_confusion_matrix_variables: ops.greater)."},
		{"recall", "Recall (sensitivity, per-class accuracy) per class: TP / (TP + FN). Binary: y_pred > threshold, as " +
			"Keras' Recall (ops.greater)."},
	} {
		name := m.name
		register(&Spec{
			Name: name, Kind: KindMetric, labels: labelsParam,
			Doc: m.doc + ` average=mean gives the mean over classes, average=none the per-class vector. A class ` +
				`whose denominator is 0 follows the empty policy: skip (default: left out of the mean as Keras' ` +
				`MeanIoU does, NaN in the vector; the mean of nothing is 0), one, zero or nan.` + metricDocTail,
			Params: metricParams(
				Param{Name: "average", Kind: KindWord, Default: "mean", Choices: []string{"mean", "none"},
					Doc: "mean over classes, or none for the per-class vector"},
				Param{Name: "empty", Kind: KindWord, Default: "skip", Choices: []string{"skip", "one", "zero", "nan"},
					Doc: "value for a class with a zero denominator: skip (left out of the mean), one, zero or nan"}),
			validate: metricValidate,
			build:    func(b *builder) tfops.Output { return b.ratioMetric(name) },
		})
	}
	register(&Spec{
		Name: "pixel_accuracy", Kind: KindMetric, labels: labelsParam,
		Doc: `Pixel accuracy: correctly classified valid pixels / valid pixels (binary: foreground and ` +
			`background both count; binary: y_pred > threshold, as Keras' binary_accuracy, keras/src/metrics/accuracy_metrics.py). ` +
			`With no valid pixel the empty policy gives the value (skip: 0).` + metricDocTail,
		Params: metricParams(Param{Name: "empty", Kind: KindWord, Default: "skip", Choices: []string{"skip", "one", "zero", "nan"},
			Doc: "value when there is no valid pixel: skip or zero (0), one, nan"}),
		validate: metricValidate,
		build: func(b *builder) tfops.Output {
			t, q, valid := b.metricInputs()
			var correct out
			if b.v.Word("task") == "binary" {
				correct = b.add(b.mul(t, q), b.mul(b.oneMinus(t), b.oneMinus(q)))
			} else {
				correct = b.sum(b.mul(t, q), []int{-1}, true)
			}
			n := b.sum(b.masked(tfops.OnesLike(b.s, correct), valid), nil, false)
			acc := b.div(b.sum(b.masked(correct, valid), nil, false), n)
			v, _ := b.applyEmpty(acc, tfops.Equal(b.s, n, b.c(0)), b.v.Word("empty"), 1)
			return v
		},
	})
}

func metricValidate(v Values) error {
	if v.Word("task") == "binary" {
		// A binary mask has no one-hot/sparse choice; ignore works on the mask.
		if v.Word("labels") == "sparse" {
			return fmt.Errorf("labels=sparse needs task=multiclass (task=binary takes a 0/1 mask)")
		}
		return nil
	}
	return ignoreNeedsSparse(v)
}

// metricInputs returns one-hot truth t and prediction q (float, class axis
// last) and the valid mask (B, H, W, 1) or invalid.
func (b *builder) metricInputs() (t, q, valid out) {
	p := b.yPred
	if b.v.Word("task") == "binary" {
		if sh := p.Shape(); sh.RankKnown() && (sh.Rank() == 0 || (sh.Dim(sh.Rank()-1) != 1 && sh.Dim(sh.Rank()-1) >= 0)) {
			b.fail("task=binary needs y_pred with a last axis of size 1 (NHWC, C = 1), got shape %v", sh)
			return out{}, out{}, out{}
		}
		z := b.yTrue
		t = b.castF(tfops.Greater(b.s, z, b.c(0.5)))
		above := tfops.Greater
		if atThresholdIsForeground[b.spec.Name] {
			above = tfops.GreaterEqual
		}
		q = b.castF(above(b.s, p, b.c(b.v.Float("threshold"))))
		if ign, ok := b.v.Int("ignore"); ok {
			valid = b.castF(tfops.NotEqual(b.s, z, b.c(float64(ign))))
		}
		return t, q, valid
	}
	C := b.dim(p, -1)
	q = tfops.OneHot(b.s, tfops.ArgMax(b.s, p, b.i32(-1), tfops.Int32), C, b.c(1), b.c(0), -1)
	if b.v.Word("labels") == "sparse" {
		var v out
		t, v = b.oneHotLabels(b.squeezeLabels(b.yTrue, p), C)
		if v.Valid() {
			valid = tfops.ExpandDims(b.s, b.castF(v), b.i32(-1))
		}
		return t, q, valid
	}
	t = tfops.OneHot(b.s, tfops.ArgMax(b.s, b.yTrue, b.i32(-1), tfops.Int32), C, b.c(1), b.c(0), -1)
	return t, q, valid
}

func (b *builder) ratioMetric(name string) out {
	t, q, valid := b.metricInputs()
	if b.err != nil {
		return out{}
	}
	r := b.yPred.Shape().Rank()
	if r < 1 {
		r = 4
	}
	axes := make([]int, r-1)
	for i := range axes {
		axes[i] = i
	}
	tp := b.sum(b.masked(b.mul(t, q), valid), axes, false)
	fp := b.sum(b.masked(b.mul(b.oneMinus(t), q), valid), axes, false)
	fn := b.sum(b.masked(b.mul(t, b.oneMinus(q)), valid), axes, false)
	var num, den out
	switch name {
	case "iou":
		num, den = tp, b.add(b.add(tp, fp), fn)
	case "dice_coef":
		num = b.mul(b.c(2), tp)
		den = b.add(b.add(num, fp), fn)
	case "precision":
		num, den = tp, b.add(tp, fp)
	case "recall":
		num, den = tp, b.add(tp, fn)
	}
	empty := tfops.Equal(b.s, den, b.c(0))
	policy := b.v.Word("empty")
	v, keep := b.applyEmpty(b.div(num, den), empty, policy, 1)
	if b.v.Word("average") == "none" {
		if policy == "skip" {
			return b.sel(empty, b.c(math.NaN()), v)
		}
		return v
	}
	return b.divNoNan(b.sum(v, nil, false), b.sum(keep, nil, false))
}
