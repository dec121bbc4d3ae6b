package goengine

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine/internal/vec"
	"github.com/tfseg/tfseg/engine/goengine/internal/vec/vectest"
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/tfops"
)

// kernelSetsUnderTest are the assembly kernel sets this CPU runs and the
// pure-Go kernels.
func kernelSetsUnderTest() []*vec.Kernels {
	return append(vec.ArchSets(), vec.Generic())
}

// runBoth runs gd with fusion (threads goroutines) and without, and
// returns both results and the fused session's regions.
func runBoth(t *testing.T, gd *graphpb.GraphDef, feeds map[string]*tfops.Tensor, fetches []string, threads int) (fused, unfused []*tfops.Tensor, regions []*region) {
	t.Helper()
	ctx := context.Background()
	fs, err := Engine{}.NewSession(gd, engine.SessionOptions{Threads: threads})
	require.NoError(t, err)
	defer fs.Close()
	us, err := Engine{Unfused: true}.NewSession(gd, engine.SessionOptions{Threads: threads})
	require.NoError(t, err)
	defer us.Close()
	fused, ferr := fs.Run(ctx, feeds, fetches, nil)
	unfused, uerr := us.Run(ctx, feeds, fetches, nil)
	if uerr != nil {
		require.Error(t, ferr, "unfused failed with %v, fused did not", uerr)
		assert.Equal(t, uerr.Error(), ferr.Error(), "error messages")
		return nil, nil, nil
	}
	require.NoError(t, ferr)
	for _, p := range fs.(*Session).plans {
		regions = append(regions, p.regions...)
		// The rewritten graph no longer runs any member.
		fe := map[edge]*tfops.Tensor{}
		for name, v := range feeds {
			e, err := fs.(*Session).lookup(name, "feed")
			require.NoError(t, err)
			fe[e] = v
		}
		needed := neededNodes(p.g, fe, p.fetches, nil)
		for _, r := range p.regions {
			for _, m := range r.members {
				assert.False(t, needed[m.node], "member %s of %s still runs", m.nd.name, r.name)
			}
		}
	}
	return fused, unfused, regions
}

// requireSameTensors checks that two results are the same bits (all NaNs
// equal).
func requireSameTensors(t *testing.T, what string, got, want []*tfops.Tensor) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for k := range want {
		require.Equal(t, want[k].DType(), got[k].DType(), "%s fetch %d dtype", what, k)
		require.Equal(t, want[k].Shape(), got[k].Shape(), "%s fetch %d shape", what, k)
		switch w := want[k].Data().(type) {
		case []float32:
			g := got[k].Float32s()
			bad := 0
			for i := range w {
				if !vectest.SameBits(g[i], w[i]) {
					if bad < 3 {
						t.Errorf("%s fetch %d element %d: fused %g (%#08x), unfused %g (%#08x)", what, k, i, g[i], f32Bits(g[i]), w[i], f32Bits(w[i]))
					}
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%s fetch %d: %d of %d elements differ", what, k, bad, len(w))
			}
		default:
			assert.Equal(t, want[k].Data(), got[k].Data(), "%s fetch %d", what, k)
		}
	}
}

type goldenFileForFusion struct {
	Cases map[string]map[string]struct {
		Shape []int `json:"shape"`
		Data  []any `json:"data"`
	} `json:"cases"`
	Results []struct {
		Loss   string            `json:"loss"`
		Params map[string]string `json:"params"`
		Case   string            `json:"case"`
		Inputs map[string]string `json:"inputs"`
	} `json:"results"`
}

// TestFusedLossesMatchUnfused runs every loss and metric golden case of
// graphs/testdata (clip boundaries, logits of ±100, empty and full masks,
// soft labels, ...) fused and unfused, on the vector kernels and on the
// forced pure-Go fallback: the results must be the same bits.
func TestFusedLossesMatchUnfused(t *testing.T) {
	data, err := os.ReadFile("../../graphs/testdata/goldens.json")
	if os.IsNotExist(err) {
		t.Skip("graphs/testdata/goldens.json not found")
	}
	require.NoError(t, err)
	var gf goldenFileForFusion
	require.NoError(t, json.Unmarshal(data, &gf))
	require.NotEmpty(t, gf.Results)
	for _, k := range kernelSetsUnderTest() {
		t.Run("kernels="+k.Name, func(t *testing.T) {
			defer vec.Use(k)()
			fusedLosses := map[string]bool{}
			for _, r := range gf.Results {
				g, err := graphs.Build(r.Loss, graphs.Config(r.Params))
				require.NoError(t, err, r.Loss)
				feeds := map[string]*tfops.Tensor{}
				for in, src := range r.Inputs {
					arr := gf.Cases[r.Case][src]
					f := make([]float32, len(arr.Data))
					for i, v := range arr.Data {
						switch x := v.(type) {
						case float64:
							f[i] = float32(x)
						case string:
							f[i] = map[string]float32{"NaN": float32(math.NaN()), "Inf": float32(math.Inf(1)), "-Inf": float32(math.Inf(-1))}[x]
						}
					}
					feeds[g.Inputs[in]] = tfops.MustFromSlice(f, arr.Shape...)
				}
				name := fmt.Sprintf("%s(%v)/%s", r.Loss, r.Params, r.Case)
				fused, unfused, regions := runBoth(t, g.GraphDef, feeds, []string{g.Output}, 2)
				if fused != nil {
					requireSameTensors(t, name, fused, unfused)
				}
				if len(regions) > 0 {
					fusedLosses[r.Loss] = true
				}
			}
			for _, name := range []string{"ce", "focal", "dice_image", "tversky_image", "lovasz_hinge", "keras_bce", "ce_dice"} {
				assert.True(t, fusedLosses[name], "%s: no region fused", name)
			}
		})
	}
}

// lossFeeds makes y_true (a 0/1 mask with runs) and y_pred (probabilities
// in (0, 1), or logits) of the given dims.
func lossFeeds(g *graphs.Graph, dims []int, logits bool, seed uint64) map[string]*tfops.Tensor {
	n := tfops.NumElements(dims)
	r := rand.New(rand.NewPCG(seed, 1))
	z, p := make([]float32, n), make([]float32, n)
	on := false
	for i := range z {
		if r.IntN(32) == 0 {
			on = !on
		}
		v := r.Float64()
		if on {
			z[i] = 1
		}
		if logits {
			v = (v - 0.5) * 20
		}
		p[i] = float32(v)
	}
	return map[string]*tfops.Tensor{
		g.Inputs[graphs.InputTrue]: tfops.MustFromSlice(z, dims...),
		g.Inputs[graphs.InputPred]: tfops.MustFromSlice(p, dims...),
	}
}

// TestFusedBenchLosses checks the benchmark losses at sizes that span
// several chunks (and end in partial ones), with 1, 2 and 3 threads: fused
// equals unfused and does not depend on the thread count, and the regions
// are the ones the speed depends on.
func TestFusedBenchLosses(t *testing.T) {
	// The largest region's member count, and the most reductions one
	// region ends in.
	want := map[string]struct{ minMembers, sinks int }{
		"ce":            {10, 0},
		"focal":         {24, 1},
		"dice_image":    {4, 2},
		"tversky_image": {4, 3},
		"lovasz_hinge":  {4, 1},
		"keras_bce":     {14, 1},
		"ce_dice":       {12, 2},
	}
	// ce as bench/ measures it: the (B, H, W) tensor (reduction=none; its
	// default is Keras' one number).
	cfg := map[string]graphs.Config{"ce": {"reduction": "none"}}
	for name, w := range want {
		g, err := graphs.Build(name, cfg[name])
		require.NoError(t, err)
		for _, dims := range [][]int{{3, 67, 61, 1}, {2, 64, 32, 1}} {
			feeds := lossFeeds(g, dims, name == "lovasz_hinge", 5)
			var first []*tfops.Tensor
			for _, threads := range []int{1, 2, 3} {
				fused, unfused, regions := runBoth(t, g.GraphDef, feeds, []string{g.Output}, threads)
				what := fmt.Sprintf("%s %v threads=%d", name, dims, threads)
				requireSameTensors(t, what, fused, unfused)
				if first == nil {
					first = fused
				} else {
					requireSameTensors(t, what+" vs 1 thread", fused, first)
				}
				best, sinks := 0, 0
				for _, r := range regions {
					best = max(best, len(r.members))
					n := 0
					for _, m := range r.members {
						if m.kind == kindReduce {
							n++
						}
					}
					sinks = max(sinks, n)
				}
				assert.GreaterOrEqual(t, best, w.minMembers, "%s: largest region", what)
				assert.Equal(t, w.sinks, sinks, "%s: most reductions in a region", what)
			}
		}
	}
}

// randomGraph builds a random DAG of fusible float32 ops over three
// placeholders (full, scalar and broadcast shapes), ending in a mix of
// fetched intermediates, reductions and shape ops.
func randomGraph(t *testing.T, r *rand.Rand, dims []int) (*graphpb.GraphDef, []string, map[string]*tfops.Tensor) {
	s := tfops.NewScope()
	unknown := tfops.UnknownShape()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, unknown)
	y := tfops.Placeholder(s.WithOpName("y"), tfops.Float, unknown)
	small := tfops.Placeholder(s.WithOpName("small"), tfops.Float, unknown)
	vals := []tfops.Output{x, y, small, tfops.Scalar(s, tfops.Float, 2), tfops.Scalar(s, tfops.Float, 0.5)}
	full := []tfops.Output{x, y}
	pick := func(from []tfops.Output) tfops.Output { return from[r.IntN(len(from))] }
	unary := []func(*tfops.Scope, tfops.Output) tfops.Output{
		tfops.Neg, tfops.Abs, tfops.Exp, tfops.Log, tfops.Log1p, tfops.Sigmoid, tfops.Square, tfops.Relu,
		tfops.Tanh, tfops.Sqrt, tfops.OnesLike, tfops.Floor, tfops.Sign, tfops.Elu, tfops.Rint,
		func(s *tfops.Scope, x tfops.Output) tfops.Output { return tfops.Identity(s, x) },
	}
	binary := []func(*tfops.Scope, tfops.Output, tfops.Output) tfops.Output{
		tfops.AddV2, tfops.Sub, tfops.Mul, tfops.RealDiv, tfops.DivNoNan, tfops.Maximum, tfops.Minimum,
		tfops.Pow, tfops.SquaredDifference,
	}
	steps := 4 + r.IntN(10)
	for i := 0; i < steps; i++ {
		var v tfops.Output
		switch k := r.IntN(10); {
		case k < 4:
			v = unary[r.IntN(len(unary))](s, pick(full))
		case k < 9:
			a, b := pick(full), pick(vals)
			if r.IntN(2) == 0 {
				a, b = b, a
			}
			v = binary[r.IntN(len(binary))](s, a, b)
		default:
			lo := tfops.Scalar(s, tfops.Float, -r.Float64())
			hi := tfops.Scalar(s, tfops.Float, r.Float64())
			v = tfops.ClipByValue(s, pick(full), lo, hi)
		}
		vals = append(vals, v)
		full = append(full, v)
	}
	fetch := []tfops.Output{full[len(full)-1]}
	rank := len(dims)
	for i := 0; i < 1+r.IntN(3); i++ {
		v := pick(full[2:])
		switch r.IntN(6) {
		case 0:
			fetch = append(fetch, tfops.Sum(s, v, []int{rank - 1}, r.IntN(2) == 0))
		case 1:
			axes := []int{}
			for a := 0; a < rank; a++ {
				axes = append(axes, a)
			}
			fetch = append(fetch, tfops.Mean(s, v, axes, false))
		case 2:
			fetch = append(fetch, tfops.Sum(s, v, []int{1, 2}, false))
		case 3:
			fetch = append(fetch, tfops.Size(s, v, tfops.Int32))
		case 4:
			fetch = append(fetch, tfops.Mean(s, v, []int{0}, false)) // not contiguous
		default:
			fetch = append(fetch, v)
		}
	}
	gd, err := s.Finalize()
	require.NoError(t, err)
	names := make([]string, len(fetch))
	for i, f := range fetch {
		names[i] = f.Name()
	}
	smallDims := append([]int{}, dims...)
	for i := range smallDims {
		if r.IntN(2) == 0 {
			smallDims[i] = 1
		}
	}
	mk := func(d []int) *tfops.Tensor {
		v := vectest.Inputs(tfops.NumElements(d), r.Uint64())
		// simdInputs starts with its special values; shuffle them in.
		r.Shuffle(len(v), func(i, j int) { v[i], v[j] = v[j], v[i] })
		v = v[:tfops.NumElements(d)]
		return tfops.MustFromSlice(v, d...)
	}
	feeds := map[string]*tfops.Tensor{"x": mk(dims), "y": mk(dims), "small": mk(smallDims)}
	return gd, names, feeds
}

// TestFusedRandomGraphs compares fused and unfused runs of random
// elementwise graphs on inputs full of special values (denormals, NaN,
// infinities, zeros of both signs).
func TestFusedRandomGraphs(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	shapes := [][]int{{2, 3, 5}, {3, 40, 37}, {2, 33, 64}, {1, 1, 1}, {4, 1, 1025}}
	for _, k := range kernelSetsUnderTest() {
		t.Run("kernels="+k.Name, func(t *testing.T) {
			defer vec.Use(k)()
			fusedRuns := 0
			for i := 0; i < 150; i++ {
				dims := shapes[i%len(shapes)]
				gd, fetches, feeds := randomGraph(t, r, dims)
				fused, unfused, regions := runBoth(t, gd, feeds, fetches, 1+i%3)
				if fused == nil {
					continue
				}
				requireSameTensors(t, fmt.Sprintf("graph %d %v fetches %v", i, dims, fetches), fused, unfused)
				if len(regions) > 0 {
					fusedRuns++
				}
				if t.Failed() {
					var ops []string
					for _, n := range gd.GetNode() {
						ops = append(ops, n.GetName()+"="+n.GetOp()+fmt.Sprint(n.GetInput()))
					}
					sort.Strings(ops)
					t.Fatalf("graph %d:\n%s", i, strings.Join(ops, "\n"))
				}
			}
			assert.Greater(t, fusedRuns, 100, "runs with a fused region")
		})
	}
}

// TestFusedCommonSubexpressions checks that a region computes a repeated
// expression once (tversky_image multiplies y_true by y_pred twice) and
// still returns every value that leaves it.
func TestFusedCommonSubexpressions(t *testing.T) {
	s := tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.UnknownShape())
	y := tfops.Placeholder(s.WithOpName("y"), tfops.Float, tfops.UnknownShape())
	a := tfops.Mul(s, x, y)
	b := tfops.Mul(s, x, y)
	c := tfops.AddV2(s, tfops.Exp(s, a), tfops.Exp(s, b))
	gd, err := s.Finalize()
	require.NoError(t, err)
	mk := func(seed uint64) *tfops.Tensor {
		return tfops.MustFromSlice(vectest.Inputs(3000, seed)[:3000], 3, 1000)
	}
	feeds := map[string]*tfops.Tensor{"x": mk(1), "y": mk(2)}
	fused, unfused, regions := runBoth(t, gd, feeds, []string{c.Name(), b.Name()}, 2)
	requireSameTensors(t, "cse", fused, unfused)
	require.Len(t, regions, 1)
	counts := map[vop]int{}
	for _, p := range regions[0].progs {
		require.NotNil(t, p)
		for _, in := range p.instrs {
			counts[in.op]++
		}
	}
	assert.Equal(t, 1, counts[vMul], "Mul instructions")
	assert.Equal(t, 1, counts[vop(vec.OpExp)], "Exp instructions")
}
