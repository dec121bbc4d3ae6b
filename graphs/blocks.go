package graphs

import (
	"math"

	"github.com/tfseg/tfseg/tfops"
)

// Building blocks shared by the losses: short names for the tfops
// constructors (the loss code then reads like its formula), TensorFlow's
// composite functions (sigmoid and weighted cross entropy with logits, the
// seed's convert_to_logits), Keras' clipping, reductions and rank rule, and
// the empty-mask policy.

// Epsilon is Keras' backend epsilon, ε = 1e-7, used for clipping
// probabilities to [ε, 1-ε] and in the Keras Dice and Tversky denominators.
const Epsilon = 1e-7

type out = tfops.Output

func (b *builder) c(v float64) out  { return tfops.Scalar(b.s, b.dt, v) }
func (b *builder) add(x, y out) out { return tfops.AddV2(b.s, x, y) }
func (b *builder) sub(x, y out) out { return tfops.Sub(b.s, x, y) }
func (b *builder) mul(x, y out) out { return tfops.Mul(b.s, x, y) }
func (b *builder) div(x, y out) out { return tfops.RealDiv(b.s, x, y) }
func (b *builder) divNoNan(x, y out) out {
	return tfops.DivNoNan(b.s, x, y)
}
func (b *builder) neg(x out) out  { return tfops.Neg(b.s, x) }
func (b *builder) log(x out) out  { return tfops.Log(b.s, x) }
func (b *builder) exp(x out) out  { return tfops.Exp(b.s, x) }
func (b *builder) abs(x out) out  { return tfops.Abs(b.s, x) }
func (b *builder) relu(x out) out { return tfops.Relu(b.s, x) }
func (b *builder) pow(x out, y float64) out {
	return tfops.Pow(b.s, x, b.c(y))
}
func (b *builder) oneMinus(x out) out { return b.sub(b.c(1), x) }
func (b *builder) sum(x out, axes []int, keep bool) out {
	return tfops.Sum(b.s, x, axes, keep)
}
func (b *builder) mean(x out, axes []int, keep bool) out {
	return tfops.Mean(b.s, x, axes, keep)
}
func (b *builder) cast(x out, to tfops.DType) out { return tfops.Cast(b.s, x, to) }
func (b *builder) castF(x out) out                { return tfops.Cast(b.s, x, b.dt) }
func (b *builder) sel(cond, x, y out) out         { return tfops.SelectV2(b.s, cond, x, y) }
func (b *builder) size(x out) out                 { return b.castF(tfops.Size(b.s, x, tfops.Int32)) }

// clip is Keras' clip of probabilities to [ε, 1-ε] (float32 bounds).
func (b *builder) clip(p out) out {
	return tfops.ClipByValue(b.s, p, b.c(Epsilon), b.c(1-Epsilon))
}

// convertToLogits is the seed's convert_to_logits: log(p'/(1-p')) with
// p' = clip(p, ε, 1-ε).
func (b *builder) convertToLogits(p out) out {
	pc := b.clip(p)
	return b.log(b.div(pc, b.oneMinus(pc)))
}

// softplusNeg is log1p(exp(-|x|)) + max(-x, 0) = log(1 + e^-x), the stable
// form TensorFlow's cross entropies with logits use.
func (b *builder) softplusNeg(x out) out {
	return b.add(tfops.Log1p(b.s, b.exp(b.neg(b.abs(x)))), b.relu(b.neg(x)))
}

// sigmoidCE is tf.nn.sigmoid_cross_entropy_with_logits:
// max(x, 0) - x z + log1p(exp(-|x|)).
func (b *builder) sigmoidCE(z, x out) out {
	return b.add(b.sub(b.relu(x), b.mul(x, z)), tfops.Log1p(b.s, b.exp(b.neg(b.abs(x)))))
}

// weightedCE is tf.nn.weighted_cross_entropy_with_logits with pos_weight q:
// (1 - z) x + (1 + (q - 1) z) (log1p(exp(-|x|)) + max(-x, 0)).
func (b *builder) weightedCE(z, x, q out) out {
	logWeight := b.add(b.c(1), b.mul(b.sub(q, b.c(1)), z))
	return b.add(b.mul(b.oneMinus(z), x), b.mul(logWeight, b.softplusNeg(x)))
}

// bceKeras3 is Keras 3's binary cross entropy of probabilities:
// p' = clip(p), -(z log p' + (1 - z) log(1 - p')).
func (b *builder) bceKeras3(z, p out) out {
	pc := b.clip(p)
	return b.neg(b.add(b.mul(z, b.log(pc)), b.mul(b.oneMinus(z), b.log(b.oneMinus(pc)))))
}

// bceKeras2 is tf.keras 2.x's: p' = clip(p),
// -(z log(p' + ε) + (1 - z) log(1 - p' + ε)), evaluated as written:
// (1 - p') + ε. This ε enters through a PlaceholderWithDefault (never fed)
// because TensorFlow's graph optimizer (grappler's constant push-down)
// would otherwise rewrite (1 - p') + ε as (1 + ε) - p', which in float32
// gives 15.2492 instead of 15.3332 for z = 0, p = 1.
func (b *builder) bceKeras2(z, p out) out {
	pc := b.clip(p)
	e := tfops.PlaceholderWithDefault(b.s.WithOpName("epsilon"), b.c(Epsilon), tfops.ScalarShape())
	return b.neg(b.add(b.mul(z, b.log(b.add(pc, e))), b.mul(b.oneMinus(z), b.log(b.add(b.oneMinus(pc), e)))))
}

// bceKeras is the binary cross entropy of probabilities of the Keras
// release the keras parameter names: tf.keras 2.x's before 3.0, else Keras 3's.
func (b *builder) bceKeras(z, p out) out {
	if b.kerasBefore("3.0") {
		return b.bceKeras2(z, p)
	}
	return b.bceKeras3(z, p)
}

// opInput returns the input of x's producing op when that op is typ and
// the parameter param (sigmoid_logits, softmax_logits) is set: Keras'
// graph-mode shortcut from a Sigmoid or Softmax output back to its logits.
func (b *builder) opInput(x out, typ, param string) (out, bool) {
	if !b.v.Bool(param) || x.Op == nil || x.Op.Type() != typ {
		return out{}, false
	}
	return x.Op.Input(0)
}

// dim returns dimension i of x (negative counts from the end) as an int32
// scalar: a constant when static, else read from Shape(x) at run time.
func (b *builder) dim(x out, i int) out {
	sh := x.Shape()
	if sh.RankKnown() {
		j := i
		if j < 0 {
			j += sh.Rank()
		}
		if j >= 0 && j < sh.Rank() && sh.Dim(j) >= 0 {
			return tfops.Scalar(b.s, tfops.Int32, float64(sh.Dim(j)))
		}
	}
	m := tfops.StridedSliceMasks{ShrinkAxis: 1}
	end := int32(i + 1)
	if i == -1 {
		m.End = 1
		end = 0
	}
	return tfops.StridedSlice(b.s, tfops.ShapeOp(b.s, x, tfops.Int32), tfops.Int32s(b.s, int32(i)),
		tfops.Int32s(b.s, end), tfops.Int32s(b.s, 1), m)
}

// reshape reshapes x to dims, each an int32 scalar (use b.i32(-1) once).
func (b *builder) reshape(x out, dims ...out) out {
	return tfops.Reshape(b.s, x, tfops.Pack(b.s, dims, 0))
}

func (b *builder) i32(v int) out { return tfops.Scalar(b.s, tfops.Int32, float64(v)) }

// lovaszGrad is the gradient of the Lovász extension of the Jaccard loss
// along the last axis of gt (labels sorted by decreasing error):
// inter = Σgt - cumsum(gt), union = Σgt + cumsum(1 - gt),
// J = 1 - inter/union, grad = [J0, J1 - J0, J2 - J1, ...]. union >= 1
// wherever it is used, so there is no division by zero.
func (b *builder) lovaszGrad(gt out) out {
	r := gt.Shape().Rank()
	last := b.i32(-1)
	gts := b.sum(gt, []int{-1}, true)
	inter := b.sub(gts, tfops.Cumsum(b.s, gt, last, false, false))
	union := b.add(gts, tfops.Cumsum(b.s, b.oneMinus(gt), last, false, false))
	j := b.oneMinus(b.div(inter, union))
	// shifted = [0, J0, J1, ...] (J without its last entry, padded in front).
	zeros := make([]int32, r)
	ends := make([]int32, r)
	ones := make([]int32, r)
	pads := make([]int32, 2*r)
	for k := range ones {
		ones[k] = 1
	}
	ends[r-1] = -1
	pads[2*(r-1)] = 1
	head := tfops.StridedSlice(b.s, j, tfops.Int32s(b.s, zeros...), tfops.Int32s(b.s, ends...), tfops.Int32s(b.s, ones...),
		tfops.StridedSliceMasks{Begin: 1<<r - 1, End: 1<<(r-1) - 1})
	shifted := tfops.Pad(b.s, head, tfops.Const(b.s, tfops.MustFromSlice(pads, r, 2)))
	return b.sub(j, shifted)
}

// applyEmpty replaces val where empty is true, as the empty-mask policy
// says: "one" gives oneValue, "zero" 0, "nan" NaN, "skip" 0 and clears
// keep (the entry then counts in no mean). keep is 1 where the entry
// counts, as a float tensor of val's shape.
func (b *builder) applyEmpty(val, empty out, policy string, oneValue float64) (res, keep out) {
	repl := map[string]float64{"one": oneValue, "zero": 0, "nan": math.NaN(), "skip": 0}[policy]
	res = b.sel(empty, b.c(repl), val)
	if policy == "skip" {
		keep = b.castF(tfops.LogicalNot(b.s, empty))
	} else {
		keep = tfops.OnesLike(b.s, val)
	}
	return res, keep
}

// seedReduce applies the reduction parameter of the seed's tensor-valued
// losses: none (the tensor), sum, or sum_over_batch_size / mean (the sum
// over the number of entries that count: keep's sum when given, else all;
// 0 when there are none, as Keras).
func (b *builder) seedReduce(values, keep out) out {
	switch b.v.Word("reduction") {
	case "none":
		return values
	case "sum":
		return b.sum(values, nil, false)
	}
	if keep.Valid() {
		return b.divNoNan(b.sum(values, nil, false), b.sum(keep, nil, false))
	}
	return b.divNoNan(b.sum(values, nil, false), b.size(values))
}

// squeezeOrExpand is Keras' squeeze_or_expand_to_same_rank on static
// ranks: when the ranks differ by one and the longer has a last axis of
// size 1, that axis is dropped, or (when the other has rank 1) the other
// gets one.
func (b *builder) squeezeOrExpand(x1, x2 out) (out, out) {
	s1, s2 := x1.Shape(), x2.Shape()
	if !s1.RankKnown() || !s2.RankKnown() {
		return x1, x2
	}
	r1, r2 := s1.Rank(), s2.Rank()
	switch {
	case r1 == r2+1 && s1.Dim(r1-1) == 1:
		if r2 == 1 {
			x2 = tfops.ExpandDims(b.s, x2, b.i32(-1))
		} else {
			x1 = tfops.Squeeze(b.s, x1, []int{-1})
		}
	case r2 == r1+1 && s2.Dim(r2-1) == 1:
		if r1 == 1 {
			x1 = tfops.ExpandDims(b.s, x1, b.i32(-1))
		} else {
			x2 = tfops.Squeeze(b.s, x2, []int{-1})
		}
	}
	return x1, x2
}

// squeezeOrExpandShapes is squeezeOrExpand on shapes.
func squeezeOrExpandShapes(s1, s2 tfops.Shape) (tfops.Shape, tfops.Shape) {
	r1, r2 := s1.Rank(), s2.Rank()
	switch {
	case r1 == r2+1 && s1.Dim(r1-1) == 1:
		if r2 == 1 {
			s2 = tfops.MakeShape(s2.Dim(0), 1)
		} else {
			s1 = tfops.MakeShape(s1.Dims()[:r1-1]...)
		}
	case r2 == r1+1 && s2.Dim(r2-1) == 1:
		if r1 == 1 {
			s1 = tfops.MakeShape(s1.Dim(0), 1)
		} else {
			s2 = tfops.MakeShape(s2.Dims()[:r2-1]...)
		}
	}
	return s1, s2
}

// sampleWeight returns the sample_weight for loss values: the caller's
// tensor, or (in a standalone graph) a placeholder defaulting to ones of
// the values' shape; false when there is none.
func (b *builder) sampleWeight(values out) (out, bool) {
	if sw, ok := b.extra[InputSampleWeight]; ok {
		return sw, true
	}
	if b.defaultSW == nil {
		return out{}, false
	}
	sh := tfops.UnknownShape()
	if r := values.Shape().Rank(); r >= 0 {
		sh = tfops.UnknownShapeOfRank(r)
	}
	ph := tfops.PlaceholderWithDefault(b.root.WithOpName(InputSampleWeight), tfops.OnesLike(b.s, values), sh)
	if ph.Valid() {
		b.defaultSW(ph)
	}
	return ph, true
}

// kerasReduce is Keras 3's reduce_weighted_values: sample_weight (and a
// mask, as sparse categorical cross entropy's ignore_class makes, weighted
// as the keras parameter's release does: see KerasChanges) weight the values, then the reduction parameter: none; sum; sum_over_batch_size
// and mean (sum over the number of elements, 0 when there are none; with
// a mask, sum over the number of valid elements); mean_with_sample_weight
// (sum over the sum of the weights).
func (b *builder) kerasReduce(values, mask out) out {
	red := b.v.Word("reduction")
	sw, hasSW := b.sampleWeight(values)
	if mask.Valid() {
		m := b.castF(mask)
		if red == "mean" || red == "sum_over_batch_size" {
			total, valid := b.size(m), b.sum(m, nil, false)
			switch {
			case b.kerasBefore("3.0"):
				// tf.keras 2.x's apply_valid_mask: total / valid, NaN
				// weights (so a NaN loss) when no entry is valid.
				m = b.mul(m, b.div(total, valid))
			case b.kerasBefore("3.13"):
				// Keras 3.0 to 3.12: total / (valid + ε).
				m = b.mul(m, b.div(total, b.add(valid, b.c(Epsilon))))
			default:
				m = b.mul(m, b.divNoNan(total, valid))
			}
		}
		if hasSW {
			m2, sw2 := b.squeezeOrExpand(m, sw)
			sw = b.mul(sw2, m2)
		} else {
			sw, hasSW = m, true
		}
	}
	if hasSW {
		values, sw = b.squeezeOrExpand(values, sw)
		if _, err := tfops.BroadcastShapes(values.Shape(), sw.Shape()); err != nil {
			b.fail("sample_weight has shape %v, which does not broadcast against the loss values of shape %v", sw.Shape(), values.Shape())
			return out{}
		}
		values = b.mul(values, sw)
	}
	if red == "none" || (values.Shape().RankKnown() && values.Shape().Rank() == 0) {
		return values
	}
	loss := b.sum(values, nil, false)
	switch red {
	case "sum":
		return loss
	case "mean_with_sample_weight":
		if hasSW {
			return b.divNoNan(loss, b.sum(sw, nil, false))
		}
	}
	return b.divNoNan(loss, b.size(values))
}
