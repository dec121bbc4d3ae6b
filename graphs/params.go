package graphs

import "fmt"

// Parameters shared by several losses.

func pReduction(def string, keras bool) Param {
	choices := []string{"none", "sum_over_batch_size", "sum", "mean"}
	doc := "none (the tensor the function returns), sum, sum_over_batch_size or mean (the sum over the number of entries; 0 when there are none)"
	if keras {
		choices = append(choices, "mean_with_sample_weight")
		doc = "Keras' reduction: sum_over_batch_size (Keras' default: the weighted sum over the number of elements), mean (the same), sum, mean_with_sample_weight (the weighted sum over the sum of the weights) or none"
	}
	return Param{Name: "reduction", Kind: KindWord, Default: def, Choices: choices, Doc: doc}
}

var (
	pFromLogits = Param{Name: "from_logits", Kind: KindBool, Default: false,
		Doc: "y_pred holds logits rather than probabilities"}
	pSigmoidLogits = Param{Name: "sigmoid_logits", Kind: KindBool, Default: true,
		Doc: "when y_pred is made by a Sigmoid op in the caller's graph (BuildInto), use that op's input as logits, as Keras does in graph mode"}
	pSoftmaxLogits = Param{Name: "softmax_logits", Kind: KindBool, Default: true,
		Doc: "when y_pred is made by a Softmax op in the caller's graph (BuildInto), use that op's input as logits, as Keras does in graph mode"}
	pKeras = pKerasRelease(", or logits (Keras 2.2.4: sigmoid cross entropy with logits of convert_to_logits(p)); "+
		"before 3.0 the cross entropy is tf.keras 2.x's: clip, then log(p + ε) and log(1 - p + ε)", "logits")
	pLabelSmoothing = Param{Name: "label_smoothing", Kind: KindFloat, Default: 0.0,
		Doc: "in [0, 1]: z' = z (1 - ls) + ls/2 (binary) or + ls/C (categorical)"}
	pIgnore = Param{Name: "ignore", Kind: KindInt, Default: nil, Choices: []string{"none"},
		Doc: "label value to ignore (e.g. 255): those pixels count nowhere; none by default"}
	pClassWeights = Param{Name: "class_weights", Kind: KindFloats, Default: nil, Choices: []string{"none"},
		Doc: "one weight per class (comma-separated): the result is the normalised weighted mean Σ w_c L_c / Σ w_c; none means equal weights"}
	pLabels = Param{Name: "labels", Kind: KindWord, Default: "onehot", Choices: []string{"onehot", "sparse"},
		Doc: "y_true is one-hot (NHWC, like y_pred) or sparse class indices (NHW, or NHW1)"}
)

func pEmpty(def string, choices ...string) Param {
	if len(choices) == 0 {
		choices = []string{"one", "zero", "nan", "skip"}
	}
	return Param{Name: "empty", Kind: KindWord, Default: def, Choices: choices,
		Doc: "value when both masks are empty (0/0): one (Keras: loss 1), zero, nan, or skip (left out of the mean; 0 in a tensor result)"}
}

func pPerImage(def bool) Param {
	return Param{Name: "per_image", Kind: KindBool, Default: def,
		Doc: "compute per image and average over the batch (true) or over the whole batch at once (false)"}
}

// betaOpen checks 0 < beta < 1 for a constant beta.
func betaOpen(v Values) error {
	b, ok := v["beta"].(float64)
	if !ok {
		return nil
	}
	if b == 1 {
		return fmt.Errorf("beta = 1 makes the positive weight beta/(1-beta) infinite; want 0 < beta < 1")
	}
	if b <= 0 || b > 1 {
		return fmt.Errorf("beta = %g; want 0 < beta < 1", b)
	}
	return nil
}

// inUnit checks that each named parameter is in [0, 1].
func inUnit(names ...string) func(Values) error {
	return func(v Values) error {
		for _, n := range names {
			if f, ok := v[n].(float64); ok && (f < 0 || f > 1) {
				return fmt.Errorf("%s = %g; want a value in [0, 1]", n, f)
			}
		}
		return nil
	}
}

// allOf runs validators in order.
func allOf(fs ...func(Values) error) func(Values) error {
	return func(v Values) error {
		for _, f := range fs {
			if err := f(v); err != nil {
				return err
			}
		}
		return nil
	}
}

// ignoreNeedsSparse rejects an ignore label with one-hot labels.
func ignoreNeedsSparse(v Values) error {
	if _, set := v.Int("ignore"); set && v.Word("labels") != "sparse" {
		return fmt.Errorf("ignore needs labels=sparse (one-hot labels have no ignore value)")
	}
	return nil
}

// positiveWeights checks the class weights.
func positiveWeights(v Values) error {
	for i, w := range v.Floats("class_weights") {
		if w < 0 {
			return fmt.Errorf("class_weights[%d] = %g; weights must be >= 0", i, w)
		}
	}
	return nil
}

// nonNegative checks that each named parameter is >= 0.
func nonNegative(names ...string) func(Values) error {
	return func(v Values) error {
		for _, n := range names {
			if f, ok := v[n].(float64); ok && f < 0 {
				return fmt.Errorf("%s = %g; want a value >= 0", n, f)
			}
		}
		return nil
	}
}
