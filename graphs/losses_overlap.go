package graphs

import "github.com/tfseg/tfseg/tfops"

// The seed's overlap losses (Dice, Tversky) and CE + Dice, binary, NHWC.

var imageAxes = []int{1, 2, 3}

func init() {
	register(&Spec{
		Name: "dice", Kind: KindLoss,
		Doc: `Dice loss per pixel (the seed's tensor form): DL(z, p) = 1 - (2 z p + 1)/(z + p + 1). ` +
			`The +1 gives 0 for z = p = 0 and keeps the loss from being 0 when z = 0, p > 0. ` +
			`DC = 2TP/(2TP + FP + FN) = 2·IoU/(1 + IoU) (Milletari et al. 2016).`,
		Params: []Param{pReduction("none", false)},
		build: func(b *builder) tfops.Output {
			z, p := b.yTrue, b.yPred
			one := b.c(1)
			v := b.oneMinus(b.div(b.add(b.mul(b.c(2), b.mul(z, p)), one), b.add(b.add(z, p), one)))
			return b.seedReduce(v, out{})
		},
	})
	register(&Spec{
		Name: "dice_image", Kind: KindLoss, needsRank: 4,
		Doc: `Dice loss per image, one value per batch item: DL = 1 - 2 Σ z p / Σ (z + p), sums over ` +
			`axes (1, 2, 3), no smoothing term. When both masks of an image are empty (Σ(z + p) = 0) the ` +
			`empty parameter decides: one (the default: Keras' Dice gives 1 - 0/(0 + ε) = 1), zero, nan, or ` +
			`skip (the image is left out of sum_over_batch_size/mean; 0 in the none and sum results).`,
		Params: []Param{pEmpty("one"), pReduction("none", false)},
		build: func(b *builder) tfops.Output {
			v, keep := b.diceImage(b.yTrue, b.yPred, b.v.Word("empty"))
			return b.seedReduce(v, keep)
		},
	})
	register(&Spec{
		Name: "tversky", Kind: KindLoss,
		Doc: `Tversky loss per pixel (Salehi et al. 2017): TL = 1 - (1 + z p)/(1 + z p + β (1 - z) p + ` +
			`(1 - β) z (1 - p)); β weighs false positives, 1 - β false negatives; β = 1/2 gives Dice.`,
		Params:   []Param{{Name: "beta", Kind: KindFloat, Default: 0.5, Doc: "weight β of false positives, in [0, 1]"}, pReduction("none", false)},
		validate: inUnit("beta"),
		build: func(b *builder) tfops.Output {
			z, p := b.yTrue, b.yPred
			one := b.c(1)
			v := b.oneMinus(b.div(b.add(one, b.mul(z, p)), b.add(one, b.tverskyDen(z, p, b.v.Float("beta")))))
			return b.seedReduce(v, out{})
		},
	})
	register(&Spec{
		Name: "tversky_image", Kind: KindLoss, needsRank: 4,
		Doc: `Tversky loss per image: TL = 1 - (1 + Σ z p)/(1 + Σ (z p + β (1 - z) p + (1 - β) z (1 - p))), ` +
			`sums over axes (1, 2, 3). The denominator's sum is computed as β Σp + (1 - β) Σz, which it equals ` +
			`term by term (z p + β (1 - z) p + (1 - β) z (1 - p) = β p + (1 - β) z), and an image is empty ` +
			`when Σz + Σp = 0 (labels and probabilities are non-negative). The +1 makes an image whose masks ` +
			`are both empty give 0, the default empty policy (zero); one, nan and skip override it as for dice_image.`,
		Params: []Param{{Name: "beta", Kind: KindFloat, Default: 0.5, Doc: "weight β of false positives, in [0, 1]"},
			pEmpty("zero"), pReduction("none", false)},
		validate: inUnit("beta"),
		build: func(b *builder) tfops.Output {
			z, p := b.yTrue, b.yPred
			one, beta := b.c(1), b.v.Float("beta")
			sz, sp := b.sum(z, imageAxes, false), b.sum(p, imageAxes, false)
			num := b.add(one, b.sum(b.mul(z, p), imageAxes, false))
			// Σ(z p + β (1 - z) p + (1 - β) z (1 - p)) = β Σp + (1 - β) Σz:
			// three sums over the inputs, no per-pixel terms.
			den := b.add(one, b.add(b.mul(b.c(beta), sp), b.mul(b.c(1-beta), sz)))
			empty := tfops.Equal(b.s, b.add(sz, sp), b.c(0))
			v, keep := b.applyEmpty(b.oneMinus(b.div(num, den)), empty, b.v.Word("empty"), 1)
			return b.seedReduce(v, keep)
		},
	})
	register(&Spec{
		Name: "ce_dice", Kind: KindLoss, needsRank: 4,
		Doc: `CE + Dice ("popular in data competitions"): Keras' binary_crossentropy(z, p), a (B, H, W) ` +
			`tensor (the mean over the channel axis), plus the per-image Dice loss (dice_image) reshaped ` +
			`to (B, 1, 1), broadcast-added: local (CE) and global (Dice) information.`,
		Params: []Param{pKeras, pSigmoidLogits, pEmpty("one", "one", "zero", "nan"), pReduction("none", false)},
		build: func(b *builder) tfops.Output {
			z, p := b.yTrue, b.yPred
			var ce out
			if x, ok := b.opInput(p, "Sigmoid", "sigmoid_logits"); ok && b.v.Word("keras") != "logits" {
				ce = b.sigmoidCE(z, x)
			} else {
				switch {
				case b.v.Word("keras") == "logits":
					ce = b.sigmoidCE(z, b.convertToLogits(p))
				case b.kerasBefore("3.0"):
					ce = b.bceKeras2(z, p)
				default:
					ce = b.bceKeras3(z, p)
				}
			}
			d, _ := b.diceImage(z, p, b.v.Word("empty"))
			v := b.add(b.mean(ce, []int{-1}, false), b.reshape(d, b.i32(-1), b.i32(1), b.i32(1)))
			return b.seedReduce(v, out{})
		},
	})
}

// diceImage is 1 - 2 Σzp / Σ(z + p) over axes 1..3 with the empty policy.
func (b *builder) diceImage(z, p out, policy string) (v, keep out) {
	num := b.mul(b.c(2), b.sum(b.mul(z, p), imageAxes, false))
	den := b.sum(b.add(z, p), imageAxes, false)
	empty := tfops.Equal(b.s, den, b.c(0))
	return b.applyEmpty(b.oneMinus(b.div(num, den)), empty, policy, 1)
}

// tverskyDen is z p + β (1 - z) p + (1 - β) z (1 - p).
func (b *builder) tverskyDen(z, p out, beta float64) out {
	fp := b.mul(b.c(beta), b.mul(b.oneMinus(z), p))
	fn := b.mul(b.c(1-beta), b.mul(z, b.oneMinus(p)))
	return b.add(b.add(b.mul(z, p), fp), fn)
}
