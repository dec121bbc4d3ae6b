package graphs

import (
	"fmt"

	"github.com/tfseg/tfseg/tfops"
)

// The seed's cross-entropy losses (binary; y_true a mask or soft labels z,
// y_pred probabilities p, NHWC with C = 1).

func init() {
	register(&Spec{
		Name: "ce", Kind: KindLoss,
		Doc: `Binary cross entropy CE(z, p) = -(z log p + (1 - z) log(1 - p)), as Keras' ` +
			`binary_crossentropy: the mean over the last (channel) axis, a (B, H, W) tensor. ` +
			`keras=3.0 and later clip p to [ε, 1-ε] (ε = 1e-7) then apply the formula; keras=2 (tf.keras 2.x) ` +
			`uses log(p + ε) and log(1 - p + ε) after the clip; keras=logits (Keras 2.2.4) is ` +
			`sigmoid_cross_entropy_with_logits(z, log(p'/(1-p'))). For z = 0, p = 1 (float32) they give ` +
			`15.9424, 15.3332 and 15.9424. from_logits takes y_pred as logits x: max(x, 0) - x z + log1p(exp(-|x|)). ` +
			`The default reduction is Keras' (sum_over_batch_size: one number); reduction=none gives the (B, H, W) tensor.`,
		Params:   []Param{pKeras, pFromLogits, pSigmoidLogits, pReduction("sum_over_batch_size", false)},
		validate: kerasAvailable("ce"),
		build:    buildCE,
	})
	register(&Spec{
		Name: "wce", Kind: KindLoss,
		Doc: `Weighted cross entropy WCE(z, p) = -(β z log p + (1 - z) log(1 - p)), the seed's graph: ` +
			`reduce_mean(weighted_cross_entropy_with_logits(z, convert_to_logits(p), β)) with ` +
			`convert_to_logits(p) = log(p'/(1-p')), p' = clip(p, ε, 1-ε), ε = 1e-7. β > 1 lowers false ` +
			`negatives, β < 1 false positives.`,
		Params: []Param{{Name: "beta", Kind: KindFloat, Required: true, Doc: "positive-class weight β > 0"}},
		validate: func(v Values) error {
			if v.Float("beta") <= 0 {
				return fmt.Errorf("beta = %g; want beta > 0", v.Float("beta"))
			}
			return nil
		},
		build: buildWCE,
	})
	register(&Spec{
		Name: "balanced_ce", Kind: KindLoss,
		Doc: `Balanced cross entropy BCE(z, p) = -(β z log p + (1 - β)(1 - z) log(1 - p)), the seed's graph: ` +
			`reduce_mean((1 - β) · weighted_cross_entropy_with_logits(z, convert_to_logits(p), β/(1 - β))). ` +
			`beta=auto estimates β from the batch as HED does (Xie and Tu 2015): β = Σ(1 - z)/(N·H·W), ` +
			`with ε = 1e-7 added to the denominator 1 - β of the positive weight. β = 1 is rejected.`,
		Params: []Param{{Name: "beta", Kind: KindFloat, Required: true, Choices: []string{"auto"},
			Doc: "β in (0, 1), or auto (the fraction of background pixels in the batch)"}},
		validate: betaOpen,
		build:    buildBalancedCE,
	})
	register(&Spec{
		Name: "focal", Kind: KindLoss,
		Doc: `Focal loss (Lin et al. 2017) FL(z, p) = -(α (1 - p)^γ z log p + (1 - α) p^γ (1 - z) log(1 - p)), ` +
			`the seed's focal_loss_with_logits graph: with p' = clip(p, ε, 1-ε) and x = log(p'/(1-p')), ` +
			`a = α (1 - p')^γ z, b = (1 - α) p'^γ (1 - z), loss = (log1p(exp(-|x|)) + relu(-x)) (a + b) + x b, ` +
			`then reduce_mean. γ = 0 gives balanced cross entropy with β = α.`,
		Params: []Param{
			{Name: "alpha", Kind: KindFloat, Default: 0.25, Doc: "weight α of the positive class, in [0, 1]"},
			{Name: "gamma", Kind: KindFloat, Default: 2.0, Doc: "focusing parameter γ >= 0"},
		},
		validate: allOf(inUnit("alpha"), nonNegative("gamma")),
		build:    buildFocal,
	})
	register(&Spec{
		Name: "distance_ce", Kind: KindLoss,
		Doc: `Distance-weighted cross entropy (U-Net, Ronneberger et al. 2015), the seed's variant of ` +
			`balanced_ce with pos_weight = β/(1 - β) + exp(-w²), w the per-pixel distance input "weights" ` +
			`(computed ahead, e.g. by package weightmap): reduce_mean((1 - β) · ` +
			`weighted_cross_entropy_with_logits(z, convert_to_logits(p), pos_weight)).`,
		Params:   []Param{{Name: "beta", Kind: KindFloat, Required: true, Doc: "β in (0, 1)"}},
		Inputs:   []string{InputTrue, InputPred, InputWeights},
		validate: betaOpen,
		build:    buildDistanceCE,
	})
}

func buildCE(b *builder) tfops.Output {
	z, p := b.yTrue, b.yPred
	var v out
	switch {
	case b.v.Bool("from_logits"):
		v = b.sigmoidCE(z, p)
	case b.v.Word("keras") == "logits":
		v = b.sigmoidCE(z, b.convertToLogits(p))
	default:
		if x, ok := b.opInput(p, "Sigmoid", "sigmoid_logits"); ok {
			v = b.sigmoidCE(z, x)
		} else if b.kerasBefore("3.0") {
			v = b.bceKeras2(z, p)
		} else {
			v = b.bceKeras3(z, p)
		}
	}
	return b.seedReduce(b.mean(v, []int{-1}, false), out{})
}

func buildWCE(b *builder) tfops.Output {
	x := b.convertToLogits(b.yPred)
	return b.mean(b.weightedCE(b.yTrue, x, b.c(b.v.Float("beta"))), nil, false)
}

func buildBalancedCE(b *builder) tfops.Output {
	z := b.yTrue
	x := b.convertToLogits(b.yPred)
	var beta, pw out
	if b.v.Word("beta") == "auto" {
		beta = b.mean(b.oneMinus(z), nil, false)
		pw = b.div(beta, b.add(b.oneMinus(beta), b.c(Epsilon)))
	} else {
		f := b.v.Float("beta")
		beta, pw = b.c(f), b.c(f/(1-f))
	}
	return b.mean(b.mul(b.weightedCE(z, x, pw), b.oneMinus(beta)), nil, false)
}

func buildFocal(b *builder) tfops.Output {
	z := b.yTrue
	alpha, gamma := b.v.Float("alpha"), b.v.Float("gamma")
	pc := b.clip(b.yPred)
	x := b.log(b.div(pc, b.oneMinus(pc)))
	wa := b.mul(b.mul(b.c(alpha), b.pow(b.oneMinus(pc), gamma)), z)
	wb := b.mul(b.mul(b.c(1-alpha), b.pow(pc, gamma)), b.oneMinus(z))
	loss := b.add(b.mul(b.softplusNeg(x), b.add(wa, wb)), b.mul(x, wb))
	return b.mean(loss, nil, false)
}

func buildDistanceCE(b *builder) tfops.Output {
	beta := b.v.Float("beta")
	w := b.extra[InputWeights]
	pw := b.add(b.c(beta/(1-beta)), b.exp(b.neg(tfops.Square(b.s, w))))
	x := b.convertToLogits(b.yPred)
	return b.mean(b.mul(b.weightedCE(b.yTrue, x, pw), b.c(1-beta)), nil, false)
}
