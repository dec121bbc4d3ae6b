package goengine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine/goengine/internal/vec"
	"github.com/tfseg/tfseg/graphs"
)

// TestRunnerPaths checks that the runner's ways through a chunk (one
// chunk per call, several chunks per call, register tiles or not, chunks
// of whole tiles or with a rest) give the unfused kernels' bits, on every
// kernel set: sizes with several whole chunks per reduction run, runs that
// end in a partial chunk, and regions smaller than one tile.
func TestRunnerPaths(t *testing.T) {
	losses := []string{"ce", "focal", "dice_image", "tversky_image", "keras_bce", "ce_dice", "lovasz_hinge",
		"wce", "balanced_ce", "tversky", "dice", "keras_focal", "keras_tversky", "keras_dice"}
	params := map[string]graphs.Config{"wce": {"beta": "2"}, "balanced_ce": {"beta": "0.3"}}
	sizes := [][]int{{8, 128, 64, 1}, {32, 32, 64, 1}, {5, 101, 130, 1}, {4, 64, 64, 1}, {3, 67, 61, 1}, {2, 10, 100, 1}, {1, 9, 11, 1}}
	for _, k := range kernelSetsUnderTest() {
		restore := vec.Use(k)
		for _, tiles := range []bool{true, false} {
			noTiles = !tiles
			for _, name := range losses {
				g, err := graphs.Build(name, params[name])
				require.NoError(t, err, name)
				for _, dims := range sizes {
					feeds := lossFeeds(g, dims, name == "lovasz_hinge", 3)
					fused, unfused, _ := runBoth(t, g.GraphDef, feeds, []string{g.Output}, 2)
					requireSameTensors(t, fmt.Sprintf("%s %v kernels %s tiles %v", name, dims, k.Name, tiles), fused, unfused)
				}
			}
		}
		noTiles = false
		restore()
	}
}

// TestTileCode checks the tile compiler on tversky_image's program: the
// consumer of a value follows it, values read once by the next
// instruction stay in registers, and a value read twice is stored.
func TestTileCode(t *testing.T) {
	// t2 = z*p; sum(t2); t3 = z+p; sum(t3); t4 = t2 + t3 (t2 read twice).
	const z, p, t2, t3, t4, l0, l1 = 0, 1, 2, 3, 4, 10, 11
	run := []rinstr{
		{op: vec.ProgMul, goIdx: -1, dst: t2, a: z, b: p, c: -1},
		{op: vec.ProgAdd, goIdx: -1, dst: t3, a: z, b: p, c: -1},
		{op: vec.ProgSum, goIdx: -1, dst: l0, a: t2, b: -1, c: -1},
		{op: vec.ProgSum, goIdx: -1, dst: l1, a: t3, b: -1, c: -1},
		{op: vec.ProgSub, goIdx: -1, dst: t4, a: t2, b: t3, c: -1},
	}
	sched := tileSchedule(run)
	var order []vec.ProgOp
	for _, r := range sched {
		order = append(order, r.op)
	}
	require.Equal(t, []vec.ProgOp{vec.ProgMul, vec.ProgSum, vec.ProgAdd, vec.ProgSum, vec.ProgSub}, order)
	code := tileCode(sched, func(s int) bool { return s == t4 })
	var ops []vec.TileOp
	for i := 0; i < len(code); i += 5 {
		ops = append(ops, vec.TileOp(code[i]))
	}
	// t2 and t3 have two readers each (stored); the subtraction takes t3
	// from the registers (reversed: t2 - acc); t4 is live after the run.
	require.Equal(t, []vec.TileOp{vec.TileLoad, vec.TileMul, vec.TileStore, vec.TileSum, vec.TileLoad, vec.TileAdd, vec.TileStore, vec.TileSum, vec.TileRSub, vec.TileStore}, ops)
}

// TestRunnerRandomGraphs runs random graphs of fusible ops (randomGraph)
// at sizes where whole chunks go several to a call, with and without
// register tiles, on every kernel set: fused results equal unfused ones.
func TestRunnerRandomGraphs(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	shapes := [][]int{{8, 64, 80}, {2, 128, 257}, {16, 32, 128}}
	n := 45
	if testing.Short() {
		n = 12
	}
	for _, k := range kernelSetsUnderTest() {
		t.Run("kernels="+k.Name, func(t *testing.T) {
			defer vec.Use(k)()
			defer func() { noTiles = false }()
			for i := 0; i < n; i++ {
				dims := shapes[i%len(shapes)]
				gd, fetches, feeds := randomGraph(t, r, dims)
				for _, tiles := range []bool{true, false} {
					noTiles = !tiles
					fused, unfused, _ := runBoth(t, gd, feeds, fetches, 2)
					if fused == nil {
						continue
					}
					requireSameTensors(t, fmt.Sprintf("graph %d %v tiles %v", i, dims, tiles), fused, unfused)
				}
				if t.Failed() {
					t.Fatalf("graph %d failed", i)
				}
			}
		})
	}
}
