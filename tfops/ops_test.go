package tfops_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/tfops"
)

func ph(s *tfops.Scope, name string, d tfops.DType, dims ...int64) tfops.Output {
	return tfops.Placeholder(s.WithOpName(name), d, tfops.MakeShape(dims...))
}

func i64s(s *tfops.Scope, v ...int64) tfops.Output {
	return tfops.Const(s, tfops.MustFromSlice(v, len(v)))
}

func TestStaticShapes(t *testing.T) {
	f, i := tfops.Float, tfops.Int32
	cases := []struct {
		name  string
		build func(s *tfops.Scope) tfops.Output
		shape string
		dtype tfops.DType
	}{
		{"AddV2 broadcast", func(s *tfops.Scope) tfops.Output {
			return tfops.AddV2(s, ph(s, "a", f, 2, 1, 3), ph(s, "b", f, 4, 3))
		}, "(2, 4, 3)", f},
		{"Mul unknown dim", func(s *tfops.Scope) tfops.Output {
			return tfops.Mul(s, ph(s, "a", f, -1, 3), ph(s, "b", f, 1, 3))
		}, "(?, 3)", f},
		{"Greater", func(s *tfops.Scope) tfops.Output {
			return tfops.Greater(s, ph(s, "a", f, 5), tfops.Scalar(s, f, 0))
		}, "(5,)", tfops.Bool},
		{"IsNan", func(s *tfops.Scope) tfops.Output { return tfops.IsNan(s, ph(s, "a", f, 2)) }, "(2,)", tfops.Bool},
		{"SelectV2", func(s *tfops.Scope) tfops.Output {
			return tfops.SelectV2(s, ph(s, "c", tfops.Bool, 3, 1), ph(s, "a", f, 1, 4), tfops.Scalar(s, f, 0))
		}, "(3, 4)", f},
		{"ClipByValue", func(s *tfops.Scope) tfops.Output {
			return tfops.ClipByValue(s, ph(s, "a", f, 2, 3), tfops.Scalar(s, f, 0), tfops.Scalar(s, f, 1))
		}, "(2, 3)", f},
		{"Cast", func(s *tfops.Scope) tfops.Output { return tfops.Cast(s, ph(s, "a", f, 2), tfops.Int64) }, "(2,)", tfops.Int64},
		{"Sum axes", func(s *tfops.Scope) tfops.Output { return tfops.Sum(s, ph(s, "a", f, 2, 3, 4), []int{1, -1}, false) }, "(2,)", f},
		{"Mean keepdims", func(s *tfops.Scope) tfops.Output { return tfops.Mean(s, ph(s, "a", f, 2, 3, 4), []int{1}, true) }, "(2, 1, 4)", f},
		{"Max all", func(s *tfops.Scope) tfops.Output { return tfops.Max(s, ph(s, "a", f, 2, 3), nil, false) }, "()", f},
		{"Min no axes", func(s *tfops.Scope) tfops.Output { return tfops.Min(s, ph(s, "a", f, 2, 3), []int{}, false) }, "(2, 3)", f},
		{"Sum unknown rank", func(s *tfops.Scope) tfops.Output {
			return tfops.Sum(s, tfops.Placeholder(s, f, tfops.UnknownShape()), nil, false)
		}, "<unknown>", f},
		{"Reduce dynamic keepdims", func(s *tfops.Scope) tfops.Output {
			return tfops.Reduce(s, "Prod", ph(s, "a", f, 2, 3), ph(s, "ax", i, 1), true)
		}, "(?, ?)", f},
		{"Any", func(s *tfops.Scope) tfops.Output { return tfops.Any(s, ph(s, "a", tfops.Bool, 2, 3), []int{0}, false) }, "(3,)", tfops.Bool},
		{"ArgMax", func(s *tfops.Scope) tfops.Output {
			return tfops.ArgMax(s, ph(s, "a", f, 2, 3, 4), tfops.Scalar(s, i, -1), tfops.Int64)
		}, "(2, 3)", tfops.Int64},
		{"Cumsum", func(s *tfops.Scope) tfops.Output {
			return tfops.Cumsum(s, ph(s, "a", f, 2, 3), tfops.Scalar(s, i, 1), true, true)
		}, "(2, 3)", f},
		{"TopKV2", func(s *tfops.Scope) tfops.Output {
			v, _ := tfops.TopKV2(s, ph(s, "a", f, 2, 10), tfops.Scalar(s, i, 3), true)
			return v
		}, "(2, 3)", f},
		{"TopKV2 indices", func(s *tfops.Scope) tfops.Output {
			_, ix := tfops.TopKV2(s, ph(s, "a", f, 2, 10), tfops.Scalar(s, i, 3), true)
			return ix
		}, "(2, 3)", i},
		{"Softmax", func(s *tfops.Scope) tfops.Output { return tfops.Softmax(s, ph(s, "a", f, 2, 5)) }, "(2, 5)", f},
		{"Shape", func(s *tfops.Scope) tfops.Output { return tfops.ShapeOp(s, ph(s, "a", f, 2, -1, 3), tfops.Int64) }, "(3,)", tfops.Int64},
		{"Size", func(s *tfops.Scope) tfops.Output { return tfops.Size(s, ph(s, "a", f, 2), i) }, "()", i},
		{"Rank", func(s *tfops.Scope) tfops.Output { return tfops.Rank(s, ph(s, "a", f, 2)) }, "()", i},
		{"ReshapeTo infer", func(s *tfops.Scope) tfops.Output { return tfops.ReshapeTo(s, ph(s, "a", f, 2, 3, 4), -1, 4) }, "(6, 4)", f},
		{"Reshape dynamic", func(s *tfops.Scope) tfops.Output { return tfops.Reshape(s, ph(s, "a", f, 6), ph(s, "sh", i, 2)) }, "(?, ?)", f},
		{"GatherV2", func(s *tfops.Scope) tfops.Output {
			return tfops.GatherV2(s, ph(s, "p", f, 5, 6, 7), ph(s, "ix", i, 2, 3), tfops.Scalar(s, i, 1), 0)
		}, "(5, 2, 3, 7)", f},
		{"GatherV2 batch_dims", func(s *tfops.Scope) tfops.Output {
			return tfops.GatherV2(s, ph(s, "p", f, 5, 6, 7), ph(s, "ix", tfops.Int64, 5, 3), tfops.Scalar(s, i, -2), -1)
		}, "(5, 3, 7)", f},
		{"OneHot last", func(s *tfops.Scope) tfops.Output {
			return tfops.OneHot(s, ph(s, "ix", i, 2, 3), tfops.Scalar(s, i, 4), tfops.Scalar(s, f, 1), tfops.Scalar(s, f, 0), -1)
		}, "(2, 3, 4)", f},
		{"OneHot axis 0", func(s *tfops.Scope) tfops.Output {
			return tfops.OneHot(s, ph(s, "ix", tfops.Int64, 2, 3), tfops.Scalar(s, i, 4), tfops.Scalar(s, f, 1), tfops.Scalar(s, f, 0), 0)
		}, "(4, 2, 3)", f},
		{"ExpandDims", func(s *tfops.Scope) tfops.Output {
			return tfops.ExpandDims(s, ph(s, "a", f, 2, 3), tfops.Scalar(s, i, -1))
		}, "(2, 3, 1)", f},
		{"Squeeze axes", func(s *tfops.Scope) tfops.Output { return tfops.Squeeze(s, ph(s, "a", f, 1, 2, 1), []int{-1}) }, "(1, 2)", f},
		{"Squeeze all", func(s *tfops.Scope) tfops.Output { return tfops.Squeeze(s, ph(s, "a", f, 1, 2, 1), nil) }, "(2,)", f},
		{"Fill", func(s *tfops.Scope) tfops.Output { return tfops.Fill(s, tfops.Int32s(s, 2, 3), tfops.Scalar(s, f, 7)) }, "(2, 3)", f},
		{"Pack", func(s *tfops.Scope) tfops.Output {
			return tfops.Pack(s, []tfops.Output{ph(s, "a", f, 2, 3), ph(s, "b", f, -1, 3)}, 1)
		}, "(2, 2, 3)", f},
		{"Unpack", func(s *tfops.Scope) tfops.Output { return tfops.Unpack(s, ph(s, "a", f, 2, 3, 4), 3, -2)[2] }, "(2, 4)", f},
		{"ConcatV2", func(s *tfops.Scope) tfops.Output {
			return tfops.ConcatV2(s, []tfops.Output{ph(s, "a", f, 2, 3), ph(s, "b", f, 2, 5)}, tfops.Scalar(s, i, -1))
		}, "(2, 8)", f},
		{"ConcatV2 unknown", func(s *tfops.Scope) tfops.Output {
			return tfops.ConcatV2(s, []tfops.Output{ph(s, "a", f, -1, 3), ph(s, "b", f, 2, -1)}, tfops.Scalar(s, i, 0))
		}, "(?, 3)", f},
		{"StridedSlice plain", func(s *tfops.Scope) tfops.Output {
			return tfops.StridedSlice(s, ph(s, "a", f, 10, 8), tfops.Int32s(s, 1, 0), tfops.Int32s(s, 7, 0), tfops.Int32s(s, 2, 1),
				tfops.StridedSliceMasks{End: 2})
		}, "(3, 8)", f},
		{"StridedSlice reverse", func(s *tfops.Scope) tfops.Output {
			return tfops.StridedSlice(s, ph(s, "a", f, 10), tfops.Int32s(s, 0), tfops.Int32s(s, 0), tfops.Int32s(s, -3),
				tfops.StridedSliceMasks{Begin: 1, End: 1})
		}, "(4,)", f},
		{"StridedSlice ellipsis newaxis shrink", func(s *tfops.Scope) tfops.Output {
			// x[..., tf.newaxis, -1]
			return tfops.StridedSlice(s, ph(s, "a", f, 2, 3, 4), tfops.Int32s(s, 0, 0, -1), tfops.Int32s(s, 0, 0, 0), tfops.Int32s(s, 1, 1, 1),
				tfops.StridedSliceMasks{Ellipsis: 1, NewAxis: 2, ShrinkAxis: 4})
		}, "(2, 3, 1)", f},
		{"StridedSlice unknown dim", func(s *tfops.Scope) tfops.Output {
			return tfops.StridedSlice(s, ph(s, "a", f, -1, 4), tfops.Int32s(s, 0, 1), tfops.Int32s(s, 0, 3), tfops.Int32s(s, 1, 1),
				tfops.StridedSliceMasks{Begin: 1, End: 1})
		}, "(?, 2)", f},
		{"Slice", func(s *tfops.Scope) tfops.Output {
			return tfops.Slice(s, ph(s, "a", f, 5, 6), tfops.Int32s(s, 1, 2), tfops.Int32s(s, -1, 3))
		}, "(4, 3)", f},
		{"Range int", func(s *tfops.Scope) tfops.Output {
			return tfops.Range(s, tfops.Scalar(s, i, 1), tfops.Scalar(s, i, 10), tfops.Scalar(s, i, 4))
		}, "(3,)", i},
		{"Range float down", func(s *tfops.Scope) tfops.Output {
			return tfops.Range(s, tfops.Scalar(s, f, 1), tfops.Scalar(s, f, -1), tfops.Scalar(s, f, -0.5))
		}, "(4,)", f},
		{"Tile", func(s *tfops.Scope) tfops.Output { return tfops.Tile(s, ph(s, "a", f, 2, 3), tfops.Int32s(s, 2, 1)) }, "(4, 3)", f},
		{"Transpose", func(s *tfops.Scope) tfops.Output {
			return tfops.Transpose(s, ph(s, "a", f, 2, 3, 4), tfops.Int32s(s, 2, 0, 1))
		}, "(4, 2, 3)", f},
		{"BroadcastTo", func(s *tfops.Scope) tfops.Output {
			return tfops.BroadcastTo(s, ph(s, "a", f, 3, 1), i64s(s, 2, 3, 4))
		}, "(2, 3, 4)", f},
		{"Pad", func(s *tfops.Scope) tfops.Output {
			return tfops.Pad(s, ph(s, "a", f, 2, 3), tfops.Const(s, tfops.MustFromSlice([]int32{1, 1, 0, 2}, 2, 2)))
		}, "(4, 5)", f},
		{"ZerosLike", func(s *tfops.Scope) tfops.Output { return tfops.ZerosLike(s, ph(s, "a", i, 2)) }, "(2,)", i},
		{"LogicalAnd", func(s *tfops.Scope) tfops.Output {
			return tfops.LogicalAnd(s, ph(s, "a", tfops.Bool, 2, 1), ph(s, "b", tfops.Bool, 3))
		}, "(2, 3)", tfops.Bool},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tfops.NewScope()
			out := tc.build(s)
			require.NoError(t, s.Err())
			assert.Equal(t, tc.shape, out.Shape().String())
			assert.Equal(t, tc.dtype, out.DType())
			_, err := s.Finalize()
			require.NoError(t, err)
		})
	}
}

func TestBuildErrors(t *testing.T) {
	f, i := tfops.Float, tfops.Int32
	cases := []struct {
		name  string
		build func(s *tfops.Scope)
		base  error
		want  []string
	}{
		{"dtype mismatch", func(s *tfops.Scope) { tfops.AddV2(s, ph(s, "a", f, 2), ph(s, "b", tfops.Double, 2)) },
			tfops.ErrDType, []string{`AddV2 "AddV2"`, "x (a:0) is float32", "y (b:0) is float64"}},
		{"not broadcastable", func(s *tfops.Scope) { tfops.Mul(s.WithOpName("m"), ph(s, "a", f, 2, 3), ph(s, "b", f, 4)) },
			tfops.ErrShape, []string{`Mul "m"`, "(2, 3)", "(4,)", "not broadcastable"}},
		{"float op on int", func(s *tfops.Scope) { tfops.Exp(s, ph(s, "a", i, 2)) },
			tfops.ErrDType, []string{"Exp", "x (a:0) is int32", "float32"}},
		{"logical on float", func(s *tfops.Scope) { tfops.LogicalOr(s, ph(s, "a", f), ph(s, "b", f)) },
			tfops.ErrDType, []string{"LogicalOr", "want one of bool"}},
		{"axis out of range", func(s *tfops.Scope) { tfops.Sum(s, ph(s, "a", f, 2, 3), []int{2}, false) },
			tfops.ErrShape, []string{"Sum", "axis 2 out of range", "(2, 3)"}},
		{"bad reduction", func(s *tfops.Scope) { tfops.Reduce(s, "Median", ph(s, "a", f, 2), tfops.Int32s(s, 0), false) },
			tfops.ErrArg, []string{"Median"}},
		{"all on float", func(s *tfops.Scope) { tfops.All(s, ph(s, "a", f, 2), nil, false) },
			tfops.ErrDType, []string{"All", "float32", "bool"}},
		{"reshape count", func(s *tfops.Scope) { tfops.ReshapeTo(s, ph(s, "a", f, 2, 3), 4, 2) },
			tfops.ErrShape, []string{"Reshape", "(2, 3)", "6 elements", "[4 2]"}},
		{"reshape two -1", func(s *tfops.Scope) { tfops.ReshapeTo(s, ph(s, "a", f, 2, 3), -1, -1) },
			tfops.ErrShape, []string{"more than one -1"}},
		{"select cond dtype", func(s *tfops.Scope) { tfops.SelectV2(s, ph(s, "c", f, 2), ph(s, "a", f, 2), ph(s, "b", f, 2)) },
			tfops.ErrDType, []string{"SelectV2", "condition (c:0) is float32"}},
		{"clip shape", func(s *tfops.Scope) {
			tfops.ClipByValue(s, ph(s, "a", f, 2, 3), ph(s, "lo", f, 3), tfops.Scalar(s, f, 1))
		}, tfops.ErrShape, []string{"clip_value_min (lo:0) has shape (3,)"}},
		{"topk too big", func(s *tfops.Scope) { tfops.TopKV2(s, ph(s, "a", f, 2, 3), tfops.Scalar(s, i, 4), true) },
			tfops.ErrShape, []string{"TopKV2", "k = 4", "(2, 3)"}},
		{"gather axis", func(s *tfops.Scope) {
			tfops.GatherV2(s, ph(s, "p", f, 2, 3), ph(s, "ix", i, 4), tfops.Scalar(s, i, 2), 0)
		},
			tfops.ErrShape, []string{"GatherV2", "axis 2 out of range"}},
		{"gather batch", func(s *tfops.Scope) {
			tfops.GatherV2(s, ph(s, "p", f, 2, 3), ph(s, "ix", i, 3, 4), tfops.Scalar(s, i, 1), 1)
		},
			tfops.ErrShape, []string{"batch dimension 0 differs"}},
		{"onehot on/off", func(s *tfops.Scope) {
			tfops.OneHot(s, ph(s, "ix", i, 2), tfops.Scalar(s, i, 3), tfops.Scalar(s, f, 1), tfops.Scalar(s, tfops.Double, 0), -1)
		}, tfops.ErrDType, []string{"OneHot", "on_value", "off_value"}},
		{"squeeze non-1", func(s *tfops.Scope) { tfops.Squeeze(s, ph(s, "a", f, 1, 2), []int{1}) },
			tfops.ErrShape, []string{"cannot squeeze axis 1 of size 2"}},
		{"pack shapes", func(s *tfops.Scope) { tfops.Pack(s, []tfops.Output{ph(s, "a", f, 2), ph(s, "b", f, 3)}, 0) },
			tfops.ErrShape, []string{"values[1] (b:0) has shape (3,)"}},
		{"unpack num", func(s *tfops.Scope) { tfops.Unpack(s, ph(s, "a", f, 2, 3), 3, 0) },
			tfops.ErrShape, []string{"num = 3", "(2, 3)"}},
		{"concat dims", func(s *tfops.Scope) {
			tfops.ConcatV2(s, []tfops.Output{ph(s, "a", f, 2, 3), ph(s, "b", f, 3, 3)}, tfops.Scalar(s, i, 1))
		}, tfops.ErrShape, []string{"values[1] (b:0) has shape (3, 3)", "dimension 0 must be 2"}},
		{"concat dtypes", func(s *tfops.Scope) {
			tfops.ConcatV2(s, []tfops.Output{ph(s, "a", f, 2, 3), ph(s, "b", i, 2, 3)}, tfops.Scalar(s, i, 1))
		}, tfops.ErrDType, []string{"values[1] (b:0) is int32"}},
		{"strided shrink out of range", func(s *tfops.Scope) {
			tfops.StridedSlice(s, ph(s, "a", f, 3), tfops.Int32s(s, 3), tfops.Int32s(s, 4), tfops.Int32s(s, 1), tfops.StridedSliceMasks{ShrinkAxis: 1})
		}, tfops.ErrArg, []string{"StridedSlice", "out of bounds"}},
		{"strided zero stride", func(s *tfops.Scope) {
			tfops.StridedSlice(s, ph(s, "a", f, 3), tfops.Int32s(s, 0), tfops.Int32s(s, 2), tfops.Int32s(s, 0), tfops.StridedSliceMasks{})
		}, tfops.ErrArg, []string{"stride 0 is 0"}},
		{"slice bounds", func(s *tfops.Scope) { tfops.Slice(s, ph(s, "a", f, 3), tfops.Int32s(s, 2), tfops.Int32s(s, 2)) },
			tfops.ErrShape, []string{"Slice", "out of bounds"}},
		{"range sign", func(s *tfops.Scope) {
			tfops.Range(s, tfops.Scalar(s, i, 5), tfops.Scalar(s, i, 1), tfops.Scalar(s, i, 1))
		},
			tfops.ErrArg, []string{"start <= limit"}},
		{"transpose perm", func(s *tfops.Scope) { tfops.Transpose(s, ph(s, "a", f, 2, 3), tfops.Int32s(s, 0, 0)) },
			tfops.ErrShape, []string{"not a permutation"}},
		{"broadcast_to", func(s *tfops.Scope) { tfops.BroadcastTo(s, ph(s, "a", f, 3), tfops.Int32s(s, 2, 4)) },
			tfops.ErrShape, []string{"cannot broadcast to (2, 4)"}},
		{"pad shape", func(s *tfops.Scope) {
			tfops.Pad(s, ph(s, "a", f, 3), tfops.Const(s, tfops.MustFromSlice([]int32{1, 1, 0, 0}, 2, 2)))
		},
			tfops.ErrShape, []string{"want (1, 2)"}},
		{"argmax out type", func(s *tfops.Scope) { tfops.ArgMax(s, ph(s, "a", f, 3), tfops.Scalar(s, i, 0), f) },
			tfops.ErrDType, []string{"output_type is float32"}},
		{"softmax scalar", func(s *tfops.Scope) { tfops.Softmax(s, ph(s, "a", f)) },
			tfops.ErrShape, []string{"Softmax", "rank >= 1"}},
		{"invalid input", func(s *tfops.Scope) { tfops.Neg(s, tfops.Output{}) },
			tfops.ErrScope, []string{"Neg", "not a valid output"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tfops.NewScope()
			tc.build(s)
			err := s.Err()
			require.Error(t, err)
			assert.True(t, errors.Is(err, tc.base), "error %v is not %v", err, tc.base)
			for _, w := range tc.want {
				assert.ErrorContains(t, err, w)
			}
			_, ferr := s.Finalize()
			assert.Equal(t, err, ferr)
		})
	}
}

func TestAttrs(t *testing.T) {
	s := tfops.NewScope()
	x := ph(s, "x", tfops.Float, 2, 3)
	b := ph(s, "b", tfops.Bool, 2, 3)
	attrsOf := func(o tfops.Output) map[string]bool {
		m := map[string]bool{}
		for _, k := range []string{"T", "Tidx", "keep_dims", "output_type", "Tshape", "Tparams", "Tindices", "Taxis",
			"batch_dims", "TI", "axis", "Index", "begin_mask", "shrink_axis_mask", "N", "Tperm", "Tmultiples", "Tpaddings",
			"exclusive", "reverse", "sorted", "SrcT", "DstT", "out_type", "index_type", "Tdim", "squeeze_dims", "num"} {
			if o.Op.Attr(k) != nil {
				m[k] = true
			}
		}
		return m
	}
	i := tfops.Int32
	cases := []struct {
		o    tfops.Output
		want []string
	}{
		{tfops.Sum(s, x, []int{0}, false), []string{"T", "Tidx", "keep_dims"}},
		{tfops.All(s, b, []int{0}, true), []string{"Tidx", "keep_dims"}},
		{tfops.LogicalNot(s, b), nil},
		{tfops.ArgMin(s, x, tfops.Scalar(s, i, 0), tfops.Int32), []string{"T", "Tidx", "output_type"}},
		{tfops.ReshapeTo(s, x, 6), []string{"T", "Tshape"}},
		{tfops.GatherV2(s, x, tfops.Int32s(s, 0), tfops.Scalar(s, i, 0), 0), []string{"Tparams", "Tindices", "Taxis", "batch_dims"}},
		{tfops.OneHot(s, tfops.Int32s(s, 0), tfops.Scalar(s, i, 2), tfops.Scalar(s, tfops.Float, 1), tfops.Scalar(s, tfops.Float, 0), -1), []string{"T", "TI", "axis"}},
		{tfops.StridedSlice(s, x, tfops.Int32s(s, 0), tfops.Int32s(s, 1), tfops.Int32s(s, 1), tfops.StridedSliceMasks{}), []string{"T", "Index", "begin_mask", "shrink_axis_mask"}},
		{tfops.ConcatV2(s, []tfops.Output{x, x}, tfops.Scalar(s, i, 0)), []string{"T", "N", "Tidx"}},
		{tfops.Pack(s, []tfops.Output{x, x}, 0), []string{"T", "N", "axis"}},
		{tfops.Transpose(s, x, tfops.Int32s(s, 1, 0)), []string{"T", "Tperm"}},
		{tfops.Tile(s, x, tfops.Int32s(s, 1, 1)), []string{"T", "Tmultiples"}},
		{tfops.Pad(s, x, tfops.Const(s, tfops.MustFromSlice([]int32{0, 0, 0, 0}, 2, 2))), []string{"T", "Tpaddings"}},
		{tfops.Cumsum(s, x, tfops.Scalar(s, i, 0), false, false), []string{"T", "Tidx", "exclusive", "reverse"}},
		{tfops.Cast(s, x, tfops.Double), []string{"SrcT", "DstT"}},
		{tfops.ShapeOp(s, x, i), []string{"T", "out_type"}},
		{tfops.Fill(s, tfops.Int32s(s, 2), tfops.Scalar(s, tfops.Float, 0)), []string{"T", "index_type"}},
		{tfops.ExpandDims(s, x, tfops.Scalar(s, i, 0)), []string{"T", "Tdim"}},
		{tfops.Squeeze(s, x, nil), []string{"T", "squeeze_dims"}},
		{tfops.Unpack(s, x, 2, 0)[0], []string{"T", "num", "axis"}},
		{tfops.Range(s, tfops.Scalar(s, i, 0), tfops.Scalar(s, i, 2), tfops.Scalar(s, i, 1)), []string{"Tidx"}},
	}
	require.NoError(t, s.Err())
	for _, tc := range cases {
		t.Run(tc.o.Op.Type(), func(t *testing.T) {
			want := map[string]bool{}
			for _, k := range tc.want {
				want[k] = true
			}
			assert.Equal(t, want, attrsOf(tc.o))
		})
	}
}

func TestComputeStridedSlice(t *testing.T) {
	cases := []struct {
		in, b, e, st []int64
		m            tfops.StridedSliceMasks
		begin, sizes []int64
		shape        []int64
	}{
		{[]int64{10}, []int64{-1}, []int64{0}, []int64{-1}, tfops.StridedSliceMasks{End: 1}, []int64{9}, []int64{10}, []int64{10}},
		{[]int64{10}, []int64{8}, []int64{2}, []int64{-3}, tfops.StridedSliceMasks{}, []int64{8}, []int64{2}, []int64{2}},
		{[]int64{10}, []int64{-100}, []int64{100}, []int64{1}, tfops.StridedSliceMasks{}, []int64{0}, []int64{10}, []int64{10}},
		{[]int64{10}, []int64{5}, []int64{2}, []int64{1}, tfops.StridedSliceMasks{}, []int64{5}, []int64{0}, []int64{0}},
		{[]int64{2, 3}, []int64{0}, []int64{0}, []int64{1}, tfops.StridedSliceMasks{NewAxis: 1}, []int64{0, 0}, []int64{2, 3}, []int64{1, 2, 3}},
		{[]int64{2, 3, 4}, []int64{1, 0}, []int64{2, 0}, []int64{1, 1}, tfops.StridedSliceMasks{Ellipsis: 2, ShrinkAxis: 1},
			[]int64{1, 0, 0}, []int64{1, 3, 4}, []int64{3, 4}},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			spec, err := tfops.ComputeStridedSlice(tc.in, tc.b, tc.e, tc.st, tc.m)
			require.NoError(t, err)
			assert.Equal(t, tc.begin, spec.Begin)
			assert.Equal(t, tc.sizes, spec.Sizes)
			assert.Equal(t, tc.shape, spec.Shape)
		})
	}
	_, err := tfops.ComputeStridedSlice([]int64{3}, []int64{0, 0}, []int64{1}, []int64{1}, tfops.StridedSliceMasks{})
	assert.ErrorIs(t, err, tfops.ErrStridedSlice)
	_, err = tfops.ComputeStridedSlice([]int64{3}, []int64{0}, []int64{1}, []int64{1}, tfops.StridedSliceMasks{Ellipsis: 3})
	assert.ErrorContains(t, err, "more than one ellipsis")
}

// Building the sum of squared differences: one error check at the end.
func ExampleSquaredDifference() {
	s := tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(-1, 3))
	y := tfops.Placeholder(s.WithOpName("y"), tfops.Float, tfops.MakeShape(1, 3))
	loss := tfops.Mean(s, tfops.SquaredDifference(s, x, y), nil, false)
	if _, err := s.Finalize(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(loss.Op.Type(), loss.Shape())
	// Output: Mean ()
}

// A mismatch is reported once, naming the node and both dtypes.
func ExampleAddV2() {
	s := tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(2))
	y := tfops.Placeholder(s.WithOpName("y"), tfops.Double, tfops.MakeShape(2))
	tfops.AddV2(s.WithOpName("sum"), x, y)
	_, err := s.Finalize()
	fmt.Println(err)
	// Output: tfops: dtype mismatch: AddV2 "sum": x (x:0) is float32 but y (y:0) is float64
}

// StridedSlice with masks: x[..., tf.newaxis, -1].
func ExampleStridedSlice() {
	s := tfops.NewScope()
	x := tfops.Placeholder(s, tfops.Float, tfops.MakeShape(2, 3, 4))
	y := tfops.StridedSlice(s, x, tfops.Int32s(s, 0, 0, -1), tfops.Int32s(s, 0, 0, 0), tfops.Int32s(s, 1, 1, 1),
		tfops.StridedSliceMasks{Ellipsis: 1, NewAxis: 2, ShrinkAxis: 4})
	fmt.Println(y.Shape())
	// Output: (2, 3, 1)
}
