package graphs

import (
	"fmt"
	"regexp"
	"strconv"
)

// Keras' numbers, release by release. The losses that reproduce a Keras
// function take a "keras" parameter naming the release whose numbers they
// give; the default is NewestKeras. KerasChanges lists every change tfseg
// models, with the release that first shipped it, its source and the test
// that checks both sides.

// NewestKeras is the default of every keras parameter: Keras 3.16, the
// version of keras-team/keras' master branch since 2026-06-24 (commit
// fcb5e695, "Update dev version to 3.16.0") and the first release to carry
// the Tversky alpha/beta fix (keras-team/keras#23333). The newest tag in
// the repository snapshot read for this (2026-08-21) is v3.15.1, cut from
// the r3.15 branch without the fix; a release newer than 3.16 gives the
// 3.16 numbers here.
const NewestKeras = "3.16"

// KerasChange is one change in what a Keras loss computes, or accepts,
// between releases.
type KerasChange struct {
	// ID names the change; the test that checks it is TestKerasVersions/ID.
	ID string
	// Losses are the registry names whose keras parameter selects it.
	Losses []string
	// What is the behaviour that changed.
	What string
	// Since is the first release with the new behaviour ("3.16", "3.0").
	Since string
	// Before is the behaviour in the releases before Since (which those are).
	Before string
	// After is the behaviour from Since on.
	After string
	// Source cites the Keras files, commits and pull requests.
	Source string

	// uses, for a change that made something available, reports whether
	// the parameters use it (then a keras release before Since is an error).
	uses func(v Values) bool
}

// Test is the name of the test that checks both sides of the change.
func (c KerasChange) Test() string { return "TestKerasVersions/" + c.ID }

var kerasChanges = []KerasChange{
	{
		ID: "tversky_alpha_beta", Losses: []string{"keras_tversky"},
		What:  "which sums alpha and beta weigh in keras.losses.Tversky",
		Since: "3.16",
		Before: "3.3 to 3.15: alpha weighs Σ z (1 - p) (the false negatives) and beta Σ (1 - z) p " +
			"(the false positives), the reverse of the docstring; Keras' test: alpha=0.2, beta=0.8 gives -0.29629636",
		After: "alpha weighs the false positives Σ (1 - z) p and beta the false negatives Σ z (1 - p), " +
			"as documented (Salehi et al. 2017); Keras' test gives -0.94444442",
		Source: "keras-team/keras#23333, commit fa9afd5a (2026-07-28, keras/src/losses/losses.py tversky: " +
			"inputs = y_pred, targets = y_true) on master, version 3.16.0; v3.15.1 (2026-07-29, branch r3.15) and every " +
			"earlier tag have inputs = y_true; keras/src/losses/losses_test.py TverskyTest at v3.15.1 and at fa9afd5a",
	},
	{
		ID: "bce_log_epsilon", Losses: []string{"keras_bce", "keras_focal", "ce", "ce_dice"},
		What:  "binary cross entropy of probabilities (BinaryCrossentropy, BinaryFocalCrossentropy, binary_crossentropy)",
		Since: "3.0",
		Before: "tf.keras 2.x: p' = clip(p, ε, 1-ε), then -(z log(p' + ε) + (1 - z) log(1 - p' + ε)): " +
			"15.3332 for z = 0, p = 1 (float32); Keras' test: 3.833",
		After: "clip, then -(z log p' + (1 - z) log(1 - p')): 15.9424 for z = 0, p = 1; Keras' test: 3.98559",
		Source: "tf.keras keras/backend.py binary_crossentropy (tag v2.15.0, line 5830) and keras/losses_test.py " +
			"BinaryCrossentropyTest.test_unweighted (3.833, v2.15.0); Keras 3 keras/src/backend/tensorflow/nn.py " +
			"binary_crossentropy and keras/src/losses/losses_test.py (3.98559)",
	},
	{
		ID: "scce_ignore_all", Losses: []string{"keras_scce"},
		What:  "SparseCategoricalCrossentropy(ignore_class) with reduction sum_over_batch_size when no pixel is valid",
		Since: "3.0",
		Before: "tf.keras 2.10 to 2.15: the valid pixels' weight is total/valid (no guard), so a batch " +
			"with every pixel ignored gives NaN",
		After: "0: the weight is total/(valid + ε) (3.0 to 3.12), then divide_no_nan(total, valid)",
		Source: "tf.keras keras/utils/losses_utils.py apply_valid_mask (tag v2.15.0, line 432: mask *= total / valid); " +
			"Keras 3 keras/src/losses/loss.py apply_mask",
	},
	{
		ID: "scce_ignore_epsilon", Losses: []string{"keras_scce"},
		What:  "SparseCategoricalCrossentropy(ignore_class) with reduction sum_over_batch_size: the valid pixels' weight",
		Since: "3.13",
		Before: "3.0 to 3.12: total/(valid + ε), ε = 1e-7: the mean over the valid pixels times valid/(valid + ε) " +
			"(in float32 a difference only when one pixel is valid: 1 ulp)",
		After:  "divide_no_nan(total, valid): the mean over the valid pixels",
		Source: "keras-team/keras#21908, commit 8074733a (2025-12-14), first in v3.13.0 (keras/src/losses/loss.py apply_mask)",
	},
	{
		ID: "reduction_mean", Losses: []string{"keras_bce", "keras_focal", "keras_dice", "keras_tversky", "keras_cce", "keras_scce"},
		What:  "the reductions mean and mean_with_sample_weight",
		Since: "3.7",
		Before: "not accepted: 3.0 to 3.6 know none, sum and sum_over_batch_size (tf.keras 2.x also auto); " +
			"an error here",
		After: "mean (the same as sum_over_batch_size) and mean_with_sample_weight (the weighted sum over the " +
			"sum of the weights)",
		Source: "keras-team/keras#20352 (commit 813fbc54) and #20410 (commit 093b055a), first in v3.7.0 (keras/src/losses/loss.py)",
		uses: func(v Values) bool {
			r := v.Word("reduction")
			return r == "mean" || r == "mean_with_sample_weight"
		},
	},
	{
		ID: "dice_since", Losses: []string{"keras_dice"},
		What:   "keras.losses.Dice",
		Since:  "3.2",
		Before: "absent (tf.keras 2.x, Keras 3.0 and 3.1): an error here",
		After:  "1 - 2 Σ z p / (Σ z + Σ p + ε) over the whole batch",
		Source: "keras-team/keras#19409, commit 6c591d7d, first in v3.2.0",
		uses:   func(Values) bool { return true },
	},
	{
		ID: "dice_axis", Losses: []string{"keras_dice"},
		What:   "Dice's axis argument",
		Since:  "3.4",
		Before: "absent (3.2, 3.3: the sums run over every axis): axis is an error here",
		After:  "the sums run over axis",
		Source: "keras-team/keras#19673, commit 097673fe, first in v3.4.0",
		uses:   func(v Values) bool { return v.Ints("axis") != nil },
	},
	{
		ID: "tversky_since", Losses: []string{"keras_tversky"},
		What:   "keras.losses.Tversky",
		Since:  "3.3",
		Before: "absent (tf.keras 2.x, Keras 3.0 to 3.2): an error here",
		After:  "1 - TP / (TP + α·FP + β·FN + ε) (with alpha and beta swapped until 3.15)",
		Source: "keras-team/keras#19511, commit 61bbff59, first in v3.3.0",
		uses:   func(Values) bool { return true },
	},
	{
		ID: "tversky_axis", Losses: []string{"keras_tversky"},
		What:   "Tversky's axis argument",
		Since:  "3.8",
		Before: "absent (3.3 to 3.7: the sums run over every axis): axis is an error here",
		After:  "the sums run over axis",
		Source: "keras-team/keras#20563, commit 1d5774e1, first in v3.8.0",
		uses:   func(v Values) bool { return v.Ints("axis") != nil },
	},
}

// KerasChanges returns every change in Keras' numbers between releases
// that a keras parameter selects, in documentation order.
func KerasChanges() []KerasChange {
	return append([]KerasChange(nil), kerasChanges...)
}

// KerasChangesFor returns the changes that concern the loss name.
func KerasChangesFor(name string) []KerasChange {
	var out []KerasChange
	for _, c := range kerasChanges {
		for _, l := range c.Losses {
			if l == name {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

var kerasVersionRE = regexp.MustCompile(`^([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?$`)

// parseKerasVersion reads a Keras release and returns it as "MAJOR.MINOR"
// ("3" is NewestKeras; "2" alone stays "2", tf.keras 2.x).
func parseKerasVersion(raw string) (string, error) {
	m := kerasVersionRE.FindStringSubmatch(raw)
	bad := fmt.Errorf("want a Keras release: %s (the default), 3.15, 3.15.1, 3 (= %s) or 2 (tf.keras 2.x)", NewestKeras, NewestKeras)
	if m == nil {
		return "", bad
	}
	major, _ := strconv.Atoi(m[1])
	switch {
	case major != 2 && major != 3:
		return "", bad
	case m[2] == "" && major == 3:
		return NewestKeras, nil
	case m[2] == "":
		return "2", nil
	}
	minor, err := strconv.Atoi(m[2])
	if err != nil {
		return "", bad
	}
	return fmt.Sprintf("%d.%d", major, minor), nil
}

// kerasBefore reports whether release v (as parseKerasVersion returns it)
// is older than release since ("3.16"). "2" is older than every 3.x.
func kerasBefore(v, since string) bool {
	a, b := releaseNumbers(v), releaseNumbers(since)
	if a[0] != b[0] {
		return a[0] < b[0]
	}
	return a[1] < b[1]
}

func releaseNumbers(v string) [2]int {
	m := kerasVersionRE.FindStringSubmatch(v)
	if m == nil {
		return [2]int{0, 0}
	}
	major, _ := strconv.Atoi(m[1])
	minor := 1 << 20 // "2": any tf.keras 2.x
	if m[2] != "" {
		minor, _ = strconv.Atoi(m[2])
	}
	return [2]int{major, minor}
}

// kerasBefore reports whether the keras parameter names a release older
// than since.
func (b *builder) kerasBefore(since string) bool {
	return kerasBefore(b.v.Word("keras"), since)
}

// kerasAvailable checks that the parameters ask for nothing the chosen
// Keras release did not have (the changes with a uses function).
func kerasAvailable(name string) func(Values) error {
	return func(v Values) error {
		ver := v.Word("keras")
		if ver == "" || ver == "logits" {
			return nil
		}
		for _, c := range KerasChangesFor(name) {
			if c.uses != nil && c.uses(v) && kerasBefore(ver, c.Since) {
				return fmt.Errorf("keras=%s: %s first shipped in Keras %s (%s)", ver, c.What, c.Since, c.Source)
			}
		}
		return nil
	}
}

// pKerasRelease is the keras parameter of the losses that reproduce a
// Keras function: the release whose numbers they give. words are the
// other values accepted (ce's "logits", Keras 2.2.4's form).
func pKerasRelease(doc string, words ...string) Param {
	return Param{Name: "keras", Kind: KindVersion, Default: NewestKeras, Choices: words,
		Doc: "the Keras release whose numbers to give: " + NewestKeras + " (the default, the newest), 3.15, 3.15.1, 3 (= " +
			NewestKeras + ") or 2 (tf.keras 2.x)" + doc + "; tfseg losses NAME lists what changes between releases"}
}
