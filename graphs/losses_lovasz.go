package graphs

import (
	"math"

	"github.com/tfseg/tfseg/tfops"
)

// The Lovász losses (Berman, Rannen Triki and Blaschko, "The Lovász-Softmax
// loss", CVPR 2018), sorted with TopKV2 (k = n), batched over images.

func init() {
	register(&Spec{
		Name: "lovasz_hinge", Kind: KindLoss,
		Doc: `Lovász hinge (Berman et al. 2018), binary, y_pred logits x (negative: background), y_true ` +
			`labels z: signs = 2z - 1, errors = 1 - x·signs, sorted descending (TopKV2 with k = n), z carried ` +
			`along (gt); inter = Σgt - cumsum(gt), union = Σgt + cumsum(1 - gt), J = 1 - inter/union, ` +
			`grad = [J0, J1 - J0, ...], loss = relu(errors_sorted)·grad (variant elu: elu(errors_sorted) + 1). ` +
			`per_image averages the per-image losses over the batch; false flattens the batch. Pixels whose ` +
			`label equals ignore are left out; an image with no valid pixel contributes 0.`,
		Params: []Param{pPerImage(true), pIgnore,
			{Name: "variant", Kind: KindWord, Default: "relu", Choices: []string{"relu", "elu"},
				Doc: "relu (the paper) or elu (elu(e) + 1, smooth, common in practice)"}},
		build: buildLovaszHinge,
	})
	register(&Spec{
		Name: "lovasz_softmax", Kind: KindLoss, labels: labelsSparse,
		Doc: `Lovász-Softmax (Berman et al. 2018), multi-class: y_pred probabilities (B, H, W, C) (softmax ` +
			`of logits with from_logits), y_true class indices (B, H, W). For each class c, fg = (label == c), ` +
			`errors = |fg - p_c| sorted descending, loss_c = errors_sorted · lovasz_grad(fg_sorted); the ` +
			`result is the (class_weights-weighted) mean over the classes present in the labels (classes=present) ` +
			`or all classes. per_image averages per-image results over the batch. Pixels labelled ignore ` +
			`are left out. When no class is present (all pixels ignored) the result is 0, not the NaN ` +
			`of the TensorFlow reference.`,
		Params: []Param{
			{Name: "classes", Kind: KindWord, Default: "present", Choices: []string{"present", "all"},
				Doc: "average over the classes present in the labels, or all classes"},
			pPerImage(false), pIgnore, pClassWeights, pFromLogits},
		validate: positiveWeights,
		build:    buildLovaszSoftmax,
	})
}

func buildLovaszHinge(b *builder) tfops.Output {
	z, x := b.yTrue, b.yPred
	rows := b.i32(1)
	if b.v.Bool("per_image") {
		if r := x.Shape().Rank(); r >= 0 && r < 2 {
			b.fail("per_image needs a batch axis: y_pred has shape %v", x.Shape())
			return out{}
		}
		rows = b.dim(x, 0)
	}
	z = b.reshape(z, rows, b.i32(-1))
	x = b.reshape(x, rows, b.i32(-1))
	signs := b.sub(b.mul(b.c(2), z), b.c(1))
	errors := b.oneMinus(b.mul(x, signs))
	gt := z
	if ign, ok := b.v.Int("ignore"); ok {
		valid := tfops.NotEqual(b.s, z, b.c(float64(ign)))
		// Ignored pixels sort last with error -inf: relu and elu + 1 make
		// them contribute 0, and with gt = 0 they change no valid position.
		errors = b.sel(valid, errors, b.c(math.Inf(-1)))
		gt = b.sel(valid, z, b.c(0))
	}
	sorted, idx := tfops.TopKV2(b.s, errors, b.dim(errors, 1), true)
	gtSorted := tfops.GatherV2(b.s, gt, idx, b.i32(1), 1)
	act := b.relu(sorted)
	if b.v.Word("variant") == "elu" {
		act = b.add(tfops.Elu(b.s, sorted), b.c(1))
	}
	perRow := b.sum(b.mul(act, b.lovaszGrad(gtSorted)), []int{1}, false)
	return b.mean(perRow, nil, false)
}

func buildLovaszSoftmax(b *builder) tfops.Output {
	p, lab := b.yPred, b.yTrue
	if b.v.Bool("from_logits") {
		p = tfops.Softmax(b.s, p)
	}
	lab = b.squeezeLabels(lab, p)
	C := b.dim(p, -1)
	rows := b.i32(1)
	if b.v.Bool("per_image") {
		rows = b.dim(p, 0)
	}
	p = b.reshape(p, rows, b.i32(-1), C)  // (R, N, C)
	lab = b.reshape(lab, rows, b.i32(-1)) // (R, N)
	fg, valid := b.oneHotLabels(lab, C)   // (R, N, C), (R, N) or invalid
	errs := b.abs(b.sub(fg, p))
	perm := tfops.Int32s(b.s, 0, 2, 1)
	errs = tfops.Transpose(b.s, errs, perm) // (R, C, N)
	fgT := tfops.Transpose(b.s, fg, perm)
	if valid.Valid() {
		// Ignored pixels sort last with error -1; relu zeroes them.
		errs = b.sel(tfops.ExpandDims(b.s, valid, b.i32(1)), errs, b.c(-1))
	}
	sorted, idx := tfops.TopKV2(b.s, errs, b.dim(errs, -1), true)
	fgSorted := tfops.GatherV2(b.s, fgT, idx, b.i32(2), 2)
	lossC := b.sum(b.mul(b.relu(sorted), b.lovaszGrad(fgSorted)), []int{-1}, false) // (R, C)
	var count out
	if b.v.Word("classes") == "present" {
		count = b.castF(tfops.Greater(b.s, b.sum(fgT, []int{-1}, false), b.c(0)))
	} else {
		count = tfops.OnesLike(b.s, lossC)
	}
	if w := b.v.Floats("class_weights"); w != nil {
		count = b.mul(count, b.classWeights(w, b.yPred))
	}
	perRow := b.divNoNan(b.sum(b.mul(lossC, count), []int{-1}, false), b.sum(count, []int{-1}, false))
	return b.mean(perRow, nil, false)
}

// squeezeLabels drops a last axis of size 1 from class-index labels of
// y_pred's rank.
func (b *builder) squeezeLabels(lab, p out) out {
	ls, ps := lab.Shape(), p.Shape()
	if ls.RankKnown() && ps.RankKnown() && ls.Rank() == ps.Rank() && ls.Rank() > 0 && ls.Dim(ls.Rank()-1) == 1 {
		return tfops.Squeeze(b.s, lab, []int{-1})
	}
	return lab
}

// oneHotLabels turns class indices into a one-hot tensor of depth C (the
// class axis last). With an ignore label, the ignored pixels get an
// all-zero row and valid marks the others; labels outside [0, C) also get
// all-zero rows (TensorFlow's OneHot).
func (b *builder) oneHotLabels(lab, C out) (onehot, valid out) {
	idx := b.cast(lab, tfops.Int32)
	onehot = tfops.OneHot(b.s, idx, C, b.c(1), b.c(0), -1)
	if ign, ok := b.v.Int("ignore"); ok {
		valid = tfops.NotEqual(b.s, lab, b.c(float64(ign)))
		onehot = b.mul(onehot, tfops.ExpandDims(b.s, b.castF(valid), b.i32(-1)))
	}
	return onehot, valid
}

// classWeights is the class_weights constant, checked against y_pred's
// class count when it is static.
func (b *builder) classWeights(w []float64, p out) out {
	if sh := p.Shape(); sh.RankKnown() && sh.Rank() > 0 {
		if c := sh.Dim(sh.Rank() - 1); c >= 0 && int(c) != len(w) {
			b.fail("class_weights has %d entries but y_pred has %d classes (shape %v)", len(w), c, sh)
			return out{}
		}
	}
	if b.dt == tfops.Double {
		return tfops.Const(b.s, tfops.MustFromSlice(append([]float64{}, w...), len(w)))
	}
	w32 := make([]float32, len(w))
	for i, x := range w {
		w32[i] = float32(x)
	}
	return tfops.Const(b.s, tfops.MustFromSlice(w32, len(w)))
}
