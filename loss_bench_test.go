package tfseg_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/tfops"
)

// BenchmarkCompiledLoss runs dice_coef on one 64x64 mask three ways: the
// one-shot Eval (graph built and session opened per call), a compiled
// Loss (built once, Run per call) and a raw engine session built once
// with its feeds map reused (the floor the compiled Loss is measured
// against). Run: go test . -run '^$' -bench CompiledLoss -benchtime=200x -count=5
func BenchmarkCompiledLoss(b *testing.B) {
	const name = "dice_coef"
	rng := rand.New(rand.NewPCG(1, 2))
	z, p := make([]float32, 64*64), make([]float32, 64*64)
	for i := range z {
		z[i] = float32(rng.IntN(2))
		p[i] = rng.Float32()
	}
	in := map[string]*tfops.Tensor{
		graphs.InputTrue: tfops.MustFromSlice(z, 1, 64, 64, 1),
		graphs.InputPred: tfops.MustFromSlice(p, 1, 64, 64, 1),
	}
	ctx := context.Background()
	b.Run("eval", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := tfseg.Eval(ctx, nil, name, nil, in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("compiled", func(b *testing.B) {
		l, err := tfseg.NewLoss(name, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		if _, err := l.Run(ctx, in); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := l.Run(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("session", func(b *testing.B) {
		eng, err := engine.Get(engine.Default)
		if err != nil {
			b.Fatal(err)
		}
		g, err := graphs.BuildFor(name, nil, map[string]graphs.InputSpec{
			graphs.InputTrue: {DType: tfops.Float, Shape: tfops.MakeShape(1, 64, 64, 1)},
			graphs.InputPred: {DType: tfops.Float, Shape: tfops.MakeShape(1, 64, 64, 1)},
		})
		if err != nil {
			b.Fatal(err)
		}
		sess, err := eng.NewSession(g.GraphDef, engine.SessionOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer sess.Close()
		feeds := map[string]*tfops.Tensor{g.Inputs[graphs.InputTrue]: in[graphs.InputTrue], g.Inputs[graphs.InputPred]: in[graphs.InputPred]}
		fetches := []string{g.Output}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := sess.Run(ctx, feeds, fetches, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
