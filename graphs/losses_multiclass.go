package graphs

import "github.com/tfseg/tfseg/tfops"

// Multi-class (softmax) forms of Dice, Tversky and focal loss: y_pred
// probabilities (B, H, W, C) (softmax of logits with from_logits), y_true
// one-hot (B, H, W, C) or class indices (B, H, W); class weights, an ignore
// label (class indices only), per-image or whole-batch reduction.

func multiclassParams(extra ...Param) []Param {
	return append(extra, pLabels, pFromLogits, pClassWeights, pIgnore, pPerImage(false))
}

func init() {
	register(&Spec{
		Name: "multiclass_dice", Kind: KindLoss, labels: labelsParam, needsRank: 4,
		Doc: `Multi-class Dice loss: for each class c (and image b with per_image, else the whole batch), ` +
			`L = 1 - 2 Σ z_c p_c / (Σ z_c + Σ p_c) over the valid pixels; the result is the normalised ` +
			`weighted mean Σ w_c L / Σ w_c over the (image, class) pairs kept. A pair with Σ z_c + Σ p_c = 0 ` +
			`follows the empty policy (one: L = 1, Keras' value; zero; nan; skip: left out). ` +
			`0 when every pair is skipped.`,
		Params:   multiclassParams(pEmpty("one")),
		validate: allOf(ignoreNeedsSparse, positiveWeights),
		build:    func(b *builder) tfops.Output { return b.multiclassOverlap(false) },
	})
	register(&Spec{
		Name: "multiclass_tversky", Kind: KindLoss, labels: labelsParam, needsRank: 4,
		Doc: `Multi-class Tversky loss (Salehi et al. 2017): per class (and image with per_image), ` +
			`L = 1 - TP / (TP + β FP + (1 - β) FN), TP = Σ z_c p_c, FP = Σ (1 - z_c) p_c, FN = Σ z_c (1 - p_c) ` +
			`over the valid pixels; weighted mean over the pairs as multiclass_dice, the same empty policy ` +
			`when the denominator is 0.`,
		Params: multiclassParams(
			Param{Name: "beta", Kind: KindFloat, Default: 0.5, Doc: "weight β of false positives, in [0, 1]"},
			pEmpty("one")),
		validate: allOf(ignoreNeedsSparse, positiveWeights, inUnit("beta")),
		build:    func(b *builder) tfops.Output { return b.multiclassOverlap(true) },
	})
	register(&Spec{
		Name: "multiclass_focal", Kind: KindLoss, labels: labelsParam, needsRank: 4,
		Doc: `Multi-class focal loss (Lin et al. 2017) with Keras' categorical focal form: q = clip(p / Σ_c p, ε, 1-ε), ` +
			`per pixel FL = Σ_c w_c z_c (1 - q_c)^γ (-log q_c), normalised by Σ_c w_c z_c: the result is ` +
			`Σ FL / Σ Σ_c w_c z_c over the valid pixels (PyTorch's weighted mean; γ = 0 is weighted cross entropy). ` +
			`per_image averages the per-image ratios over the images with a nonzero weight. 0 when nothing counts.`,
		Params: multiclassParams(
			Param{Name: "gamma", Kind: KindFloat, Default: 2.0, Doc: "focusing parameter γ >= 0"}),
		validate: allOf(ignoreNeedsSparse, positiveWeights, nonNegative("gamma")),
		build:    buildMulticlassFocal,
	})
}

// multiclassInputs returns probabilities, one-hot labels (zero rows for
// ignored pixels) and the valid-pixel mask (B, H, W, 1) as floats (or
// invalid when every pixel counts).
func (b *builder) multiclassInputs() (p, z, valid out) {
	p = b.yPred
	if b.v.Bool("from_logits") {
		p = tfops.Softmax(b.s, p)
	}
	if b.v.Word("labels") != "sparse" {
		return p, b.yTrue, out{}
	}
	lab := b.squeezeLabels(b.yTrue, p)
	z, v := b.oneHotLabels(lab, b.dim(p, -1))
	if v.Valid() {
		valid = tfops.ExpandDims(b.s, b.castF(v), b.i32(-1))
	}
	return p, z, valid
}

// masked multiplies x by the valid mask when there is one.
func (b *builder) masked(x, valid out) out {
	if valid.Valid() {
		return b.mul(x, valid)
	}
	return x
}

func (b *builder) multiclassOverlap(tversky bool) out {
	p, z, valid := b.multiclassInputs()
	axes := []int{0, 1, 2}
	if b.v.Bool("per_image") {
		axes = []int{1, 2}
	}
	pv := b.masked(p, valid)
	inter := b.sum(b.mul(z, pv), axes, false)
	var num, den out
	if tversky {
		beta := b.v.Float("beta")
		fp := b.sum(b.mul(b.oneMinus(z), pv), axes, false)
		fn := b.sum(b.mul(z, b.masked(b.oneMinus(p), valid)), axes, false)
		num = inter
		den = b.add(b.add(inter, b.mul(b.c(beta), fp)), b.mul(b.c(1-beta), fn))
	} else {
		num = b.mul(b.c(2), inter)
		den = b.add(b.sum(z, axes, false), b.sum(pv, axes, false))
	}
	empty := tfops.Equal(b.s, den, b.c(0))
	l, keep := b.applyEmpty(b.oneMinus(b.div(num, den)), empty, b.v.Word("empty"), 1)
	if w := b.v.Floats("class_weights"); w != nil {
		keep = b.mul(keep, b.classWeights(w, b.yPred))
	}
	return b.divNoNan(b.sum(b.mul(l, keep), nil, false), b.sum(keep, nil, false))
}

func buildMulticlassFocal(b *builder) tfops.Output {
	p, z, valid := b.multiclassInputs()
	q := b.clip(b.div(p, b.sum(p, []int{-1}, true)))
	wz := z
	if w := b.v.Floats("class_weights"); w != nil {
		wz = b.mul(z, b.classWeights(w, b.yPred))
	}
	wz = b.masked(wz, valid)
	fl := b.mul(b.mul(wz, b.pow(b.oneMinus(q), b.v.Float("gamma"))), b.neg(b.log(q)))
	if !b.v.Bool("per_image") {
		return b.divNoNan(b.sum(fl, nil, false), b.sum(wz, nil, false))
	}
	axes := []int{1, 2, 3}
	norm := b.sum(wz, axes, false)
	ratio := b.divNoNan(b.sum(fl, axes, false), norm)
	keep := b.castF(tfops.Greater(b.s, norm, b.c(0)))
	return b.divNoNan(b.sum(b.mul(ratio, keep), nil, false), b.sum(keep, nil, false))
}
