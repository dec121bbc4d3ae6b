package graphs

import "github.com/tfseg/tfseg/tfops"

// Keras 3's built-in losses (keras/src/losses/losses.py with the
// TensorFlow backend, keras/src/backend/tensorflow/nn.py), with Keras'
// reductions and sample_weight (keras/src/losses/loss.py). They accept any
// rank, as Keras does; y_true and y_pred first go through Keras'
// squeeze_or_expand_to_same_rank.

var kerasInputs = []string{InputTrue, InputPred, InputSampleWeight}

func kerasSpec(s *Spec) *Spec {
	s.Kind = KindLoss
	s.Inputs = kerasInputs
	s.Optional = []string{InputSampleWeight}
	s.Params = append(s.Params, pReduction("sum_over_batch_size", true), pKerasRelease(""))
	if v := s.validate; v != nil {
		s.validate = allOf(v, kerasAvailable(s.Name))
	} else {
		s.validate = kerasAvailable(s.Name)
	}
	s.Doc += ` Reductions as Keras: sum_over_batch_size (default) divides the sum of the (sample-weighted) ` +
		`values by their number (0 when there are none); mean_with_sample_weight divides by the sum of ` +
		`the weights. sample_weight follows Keras' squeeze_or_expand_to_same_rank, then broadcasts; in an ` +
		`exported graph it has the rank of the unreduced values and defaults to ones. The keras parameter ` +
		`names the Keras release whose numbers to give (default ` + NewestKeras + `): tfseg losses ` + s.Name +
		` lists what changed between releases.`
	return s
}

func init() {
	register(kerasSpec(&Spec{
		Name: "keras_bce",
		Doc: `keras.losses.BinaryCrossentropy: mean over axis of -(z' log p' + (1 - z') log(1 - p')), ` +
			`p' = clip(p, ε, 1-ε), ε = 1e-7, z' = z (1 - ls) + ls/2; from_logits uses ` +
			`sigmoid_cross_entropy_with_logits (no clipping). keras=2 (tf.keras 2.x) takes log(p' + ε) and ` +
			`log(1 - p' + ε) instead (tf.keras keras/backend.py binary_crossentropy).`,
		Params: []Param{pFromLogits, pLabelSmoothing,
			{Name: "axis", Kind: KindInt, Default: -1, Doc: "axis of the mean (Keras' axis)"}, pSigmoidLogits},
		validate: inUnit("label_smoothing"),
		build:    buildKerasBCE,
	}))
	register(kerasSpec(&Spec{
		Name: "keras_focal",
		Doc: `keras.losses.BinaryFocalCrossentropy: mean over axis of (1 - p_t)^γ · bce, p_t = z' p + (1 - z')(1 - p), ` +
			`bce the clipped binary cross entropy, times α z' + (1 - α)(1 - z') with apply_class_balancing. ` +
			`With from_logits, p = sigmoid(x) and bce is sigmoid_cross_entropy_with_logits of the logits ` +
			`(Keras' TensorFlow backend tags sigmoid's output with its logits and binary_crossentropy uses them). ` +
			`keras=2 (tf.keras 2.x) takes bce with log(p' + ε) and log(1 - p' + ε).`,
		Params: []Param{
			{Name: "apply_class_balancing", Kind: KindBool, Default: false, Doc: "weigh class 1 by α and class 0 by 1 - α"},
			{Name: "alpha", Kind: KindFloat, Default: 0.25, Doc: "α in [0, 1]"},
			{Name: "gamma", Kind: KindFloat, Default: 2.0, Doc: "focusing parameter γ >= 0"},
			pFromLogits, pLabelSmoothing,
			{Name: "axis", Kind: KindInt, Default: -1, Doc: "axis of the mean (Keras' axis)"}, pSigmoidLogits},
		validate: allOf(inUnit("alpha", "label_smoothing"), nonNegative("gamma")),
		build:    buildKerasFocal,
	}))
	register(kerasSpec(&Spec{
		Name: "keras_dice",
		Doc: `keras.losses.Dice: 1 - 2 Σ z p / (Σ z + Σ p + ε), ε = 1e-7, sums over axis (all axes: one ` +
			`value for the whole batch; axis=1,2,3: one per image). Both masks empty give 1.`,
		Params: []Param{{Name: "axis", Kind: KindInts, Default: nil, Choices: []string{"none"},
			Doc: "axes of the sums (comma-separated), none for all"}},
		build: buildKerasDice,
	}))
	register(kerasSpec(&Spec{
		Name: "keras_tversky",
		Doc: `keras.losses.Tversky: 1 - TP / (TP + α·FP + β·FN + ε), TP = Σ z p, FP = Σ (1 - z) p, ` +
			`FN = Σ z (1 - p), sums over axis (Salehi et al. 2017). Keras 3.3 to 3.15 swap the two weights ` +
			`(α·Σ z (1 - p) + β·Σ (1 - z) p, against their docstring); keras-team/keras#23333 fixed it for ` +
			`Keras 3.16. keras=3.15 (or older) gives the swapped numbers: Keras' test for alpha=0.2, beta=0.8 ` +
			`gives -0.94444442 from 3.16 on and -0.29629636 before.`,
		Params: []Param{
			{Name: "alpha", Kind: KindFloat, Default: 0.5, Doc: "weight α of the false positives Σ (1 - z) p (keras=3.15 and older: of Σ z (1 - p))"},
			{Name: "beta", Kind: KindFloat, Default: 0.5, Doc: "weight β of the false negatives Σ z (1 - p) (keras=3.15 and older: of Σ (1 - z) p)"},
			{Name: "axis", Kind: KindInts, Default: nil, Choices: []string{"none"},
				Doc: "axes of the sums (comma-separated), none for all"}},
		build: buildKerasTversky,
	}))
	register(kerasSpec(&Spec{
		Name: "keras_cce",
		Doc: `keras.losses.CategoricalCrossentropy over the last axis: -Σ z' log p', p' = clip(p / Σp, ε, 1-ε), ` +
			`z' = z (1 - ls) + ls/C; from_logits: -Σ z' log_softmax(x) (softmax_cross_entropy_with_logits).`,
		Params:   []Param{pFromLogits, pLabelSmoothing, pSoftmaxLogits},
		validate: inUnit("label_smoothing"),
		build:    buildKerasCCE,
	}))
	register(kerasSpec(&Spec{
		Name: "keras_scce", labels: labelsSparse,
		Doc: `keras.losses.SparseCategoricalCrossentropy: y_true class indices (y_pred's shape without the last ` +
			`axis, or with it of size 1), -log_softmax(l)[y] with l = log(clip(p, ε, 1-ε)) (or the logits with ` +
			`from_logits), as sparse_softmax_cross_entropy_with_logits. ignore_class pixels get 0 and leave ` +
			`the mean (Keras' mask: with sum_over_batch_size the valid pixels weigh total/valid; keras=3.0 to 3.12 ` +
			`total/(valid + ε); keras=2, tf.keras 2.x, total/valid unguarded, so NaN when no pixel is valid). ` +
			`Labels outside [0, C) give 0 here (TensorFlow's CPU kernel fails).`,
		Params: []Param{pFromLogits,
			{Name: "ignore_class", Kind: KindInt, Default: nil, Choices: []string{"none"}, Doc: "class index to ignore (e.g. -1 or 255)"},
			pSoftmaxLogits},
		build: buildKerasSCCE,
	}))
}

// kerasInputs applies Keras' squeeze_or_expand_to_same_rank to the labels
// and predictions, and label smoothing towards 1/2 (binary).
func (b *builder) kerasPair() (z, p out) {
	z, p = b.squeezeOrExpand(b.yTrue, b.yPred)
	if ls := b.v.Float("label_smoothing"); ls != 0 {
		z = b.add(b.mul(z, b.c(1-ls)), b.c(0.5*ls))
	}
	return z, p
}

func (b *builder) checkAxis(x out, axis int) bool {
	if r := x.Shape().Rank(); r >= 0 && (axis < -r || axis >= r) {
		b.fail("axis %d out of range for y_pred of shape %v", axis, x.Shape())
		return false
	}
	return true
}

func buildKerasBCE(b *builder) tfops.Output {
	z, p := b.kerasPair()
	axis, _ := b.v.Int("axis")
	if !b.checkAxis(p, axis) {
		return out{}
	}
	var v out
	if b.v.Bool("from_logits") {
		v = b.sigmoidCE(z, p)
	} else if x, ok := b.opInput(p, "Sigmoid", "sigmoid_logits"); ok {
		v = b.sigmoidCE(z, x)
	} else {
		v = b.bceKeras(z, p)
	}
	return b.kerasReduce(b.mean(v, []int{axis}, false), out{})
}

func buildKerasFocal(b *builder) tfops.Output {
	z, p := b.kerasPair()
	axis, _ := b.v.Int("axis")
	if !b.checkAxis(p, axis) {
		return out{}
	}
	var bce out
	if b.v.Bool("from_logits") {
		bce = b.sigmoidCE(z, p)
		p = tfops.Sigmoid(b.s, p)
	} else if x, ok := b.opInput(p, "Sigmoid", "sigmoid_logits"); ok {
		bce = b.sigmoidCE(z, x)
	} else {
		bce = b.bceKeras(z, p)
	}
	pt := b.add(b.mul(z, p), b.mul(b.oneMinus(z), b.oneMinus(p)))
	v := b.mul(b.pow(b.oneMinus(pt), b.v.Float("gamma")), bce)
	if b.v.Bool("apply_class_balancing") {
		a := b.v.Float("alpha")
		v = b.mul(b.add(b.mul(z, b.c(a)), b.mul(b.oneMinus(z), b.c(1-a))), v)
	}
	return b.kerasReduce(b.mean(v, []int{axis}, false), out{})
}

// kerasAxes checks the axis parameter against the rank of x.
func (b *builder) kerasAxes(x out) ([]int, bool) {
	axes := b.v.Ints("axis")
	for _, a := range axes {
		if !b.checkAxis(x, a) {
			return nil, false
		}
	}
	return axes, true
}

func buildKerasDice(b *builder) tfops.Output {
	z, p := b.kerasPair()
	axes, ok := b.kerasAxes(p)
	if !ok {
		return out{}
	}
	inter := b.sum(b.mul(z, p), axes, false)
	den := b.add(b.add(b.sum(z, axes, false), b.sum(p, axes, false)), b.c(Epsilon))
	return b.kerasReduce(b.oneMinus(b.div(b.mul(b.c(2), inter), den)), out{})
}

func buildKerasTversky(b *builder) tfops.Output {
	z, p := b.kerasPair()
	axes, ok := b.kerasAxes(p)
	if !ok {
		return out{}
	}
	inter := b.sum(b.mul(z, p), axes, false)
	fp := b.sum(b.mul(b.oneMinus(z), p), axes, false)
	fn := b.sum(b.mul(z, b.oneMinus(p)), axes, false)
	if b.kerasBefore("3.16") {
		// Keras 3.3 to 3.15: inputs = y_true, targets = y_pred, so its
		// "fp" is Σ z (1 - p) and its "fn" Σ p (1 - z).
		fp = b.sum(b.mul(b.oneMinus(p), z), axes, false)
		fn = b.sum(b.mul(p, b.oneMinus(z)), axes, false)
	}
	den := b.add(b.add(b.add(inter, b.mul(fp, b.c(b.v.Float("alpha")))), b.mul(fn, b.c(b.v.Float("beta")))), b.c(Epsilon))
	return b.kerasReduce(b.oneMinus(b.div(inter, den)), out{})
}

func buildKerasCCE(b *builder) tfops.Output {
	z, p := b.squeezeOrExpand(b.yTrue, b.yPred)
	if r := p.Shape().Rank(); r == 0 {
		b.fail("y_pred must have rank >= 1, got shape %v", p.Shape())
		return out{}
	}
	if ls := b.v.Float("label_smoothing"); ls != 0 {
		C := b.castF(b.dim(p, -1))
		z = b.add(b.mul(z, b.c(1-ls)), b.div(b.c(ls), C))
	}
	var v out
	x, fromLogits := p, b.v.Bool("from_logits")
	if !fromLogits {
		x, fromLogits = b.opInput(p, "Softmax", "softmax_logits")
	}
	if fromLogits {
		v = b.neg(b.sum(b.mul(z, tfops.LogSoftmax(b.s, x)), []int{-1}, false))
	} else {
		q := b.clip(b.div(p, b.sum(p, []int{-1}, true)))
		v = b.neg(b.sum(b.mul(z, b.log(q)), []int{-1}, false))
	}
	return b.kerasReduce(v, out{})
}

func buildKerasSCCE(b *builder) tfops.Output {
	p := b.yPred
	lab := b.squeezeLabels(b.yTrue, p)
	var valid out
	if ign, ok := b.v.Int("ignore_class"); ok {
		valid = tfops.NotEqual(b.s, lab, b.c(float64(ign)))
		vf := b.castF(valid)
		lab = b.mul(lab, vf)
		p = b.mul(p, tfops.ExpandDims(b.s, vf, b.i32(-1)))
	}
	x, fromLogits := p, b.v.Bool("from_logits")
	if !fromLogits && !valid.Valid() {
		x, fromLogits = b.opInput(p, "Softmax", "softmax_logits")
	}
	if !fromLogits {
		x = b.log(b.clip(p))
	}
	onehot := tfops.OneHot(b.s, b.cast(lab, tfops.Int32), b.dim(p, -1), b.c(1), b.c(0), -1)
	v := b.neg(b.sum(b.mul(onehot, tfops.LogSoftmax(b.s, x)), []int{-1}, false))
	if valid.Valid() {
		v = b.sel(valid, v, b.c(0))
	}
	return b.kerasReduce(v, valid)
}
