package goengine_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/tfops"
)

// TestSoftmaxInPlace checks Softmax and LogSoftmax written over logits
// that die with them (their buffer reused) against the same ops on logits
// that are fetched too (so not reused, and left intact): the same bits,
// and the fetched logits are x·x.
func TestSoftmaxInPlace(t *testing.T) {
	const rows, cols = 300, 37 // above the pool's smallest buffer
	v := make([]float32, rows*cols)
	for i := range v {
		v[i] = float32(i%89)*0.05 - 2
	}
	xt := tfops.MustFromSlice(v, rows, cols)
	for _, op := range []struct {
		name string
		f    func(*tfops.Scope, tfops.Output) tfops.Output
	}{{"Softmax", tfops.Softmax}, {"LogSoftmax", tfops.LogSoftmax}} {
		t.Run(op.name, func(t *testing.T) {
			build := func(fetchLogits bool) func(s *tfops.Scope) ([]tfops.Output, map[tfops.Output]*tfops.Tensor) {
				return func(s *tfops.Scope) ([]tfops.Output, map[tfops.Output]*tfops.Tensor) {
					x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(rows, cols))
					logits := tfops.Mul(s, x, x)
					out := []tfops.Output{op.f(s, logits)}
					if fetchLogits {
						out = append(out, logits)
					}
					return out, map[tfops.Output]*tfops.Tensor{x: xt}
				}
			}
			inPlace, err := runGraph(t, 2, build(false))
			require.NoError(t, err)
			kept, err := runGraph(t, 2, build(true))
			require.NoError(t, err)
			require.Equal(t, kept[0].Float32s(), inPlace[0].Float32s())
			for i, l := range kept[1].Float32s() {
				require.Equal(t, v[i]*v[i], l, "logit %d", i)
			}
		})
	}
}
