package graphs

import (
	"context"
	"fmt"
	"math/rand"
	"testing"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/tfops"
)

// BenchmarkLoss runs a few losses on the go engine (graph built and
// session opened once) at growing batch and image sizes.
func BenchmarkLoss(b *testing.B) {
	eng, err := engine.Get("go")
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"ce", "focal", "dice_image", "keras_bce", "lovasz_hinge"} {
		for _, sz := range [][4]int{{4, 64, 64, 1}, {16, 256, 256, 1}} {
			b.Run(fmt.Sprintf("loss=%s/size=%dx%dx%dx%d", name, sz[0], sz[1], sz[2], sz[3]), func(b *testing.B) {
				g, err := Build(name, nil)
				if err != nil {
					b.Fatal(err)
				}
				sess, err := eng.NewSession(g.GraphDef, engine.SessionOptions{})
				if err != nil {
					b.Fatal(err)
				}
				defer sess.Close()
				n := sz[0] * sz[1] * sz[2] * sz[3]
				rng := rand.New(rand.NewSource(1))
				z, p := make([]float32, n), make([]float32, n)
				for i := range z {
					z[i] = float32(rng.Intn(2))
					p[i] = rng.Float32()
				}
				feeds := map[string]*tfops.Tensor{
					g.Inputs[InputTrue]: tfops.MustFromSlice(z, sz[:]...),
					g.Inputs[InputPred]: tfops.MustFromSlice(p, sz[:]...),
				}
				b.SetBytes(int64(8 * n))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := sess.Run(context.Background(), feeds, []string{g.Output}, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
