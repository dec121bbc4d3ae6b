package goengine_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fpb "github.com/wamuir/graft/tensorflow/core/framework/function_go_proto"
	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	opdefpb "github.com/wamuir/graft/tensorflow/core/framework/op_def_go_proto"
	typespb "github.com/wamuir/graft/tensorflow/core/framework/types_go_proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/tfops"
)

// The limits of engine.Limits, each exceeded by a graph that says so:
// the error wraps engine.ErrLimit, names the limit and its value, and
// comes before the memory is allocated. TestAdversarialGraphs covers the
// ops (Const, Fill, Tile, Range, BroadcastTo, OneHot, Pad, ResizeBilinear)
// and recursion under fuzzLimits; these tests cover the defaults, the
// boundaries and MaxNodes.

func TestLimitDefaults(t *testing.T) {
	l := engine.Limits{}.WithDefaults()
	assert.Equal(t, engine.Limits{MaxTensorBytes: 4 << 30, MaxFunctionDepth: 64, MaxNodes: 1_000_000, MaxLoopIterations: 100_000_000}, l)
	custom := engine.Limits{MaxTensorBytes: 1, MaxFunctionDepth: 2, MaxNodes: 3, MaxLoopIterations: 4}
	assert.Equal(t, custom, custom.WithDefaults(), "set fields are kept")
}

// runLimited opens a session with limits and fetches fetch.
func runLimited(t *testing.T, gd *graphpb.GraphDef, limits engine.Limits, fetch string) ([]*tfops.Tensor, error) {
	t.Helper()
	sess, err := goengine.Engine{}.NewSession(gd, engine.SessionOptions{Limits: limits})
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return sess.Run(ctx, nil, []string{fetch}, nil)
}

// allocated runs f and returns the bytes it allocated.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// fillGraph fills a float32 tensor of dims with 1.
func fillGraph(dims ...int64) *graphpb.GraphDef {
	return gdef(constNode("dims", i64s(dims...)), constNode("v", tfops.FromScalar(float32(1))),
		node("fill", "Fill", []string{"dims", "v"}, map[string]any{"T": tfops.Float, "index_type": tfops.Int64}))
}

func TestLimitMaxTensorBytesBoundary(t *testing.T) {
	const limit = 1 << 20
	limits := engine.Limits{MaxTensorBytes: limit}
	out, err := runLimited(t, fillGraph(limit/4), limits, "fill")
	require.NoError(t, err, "a tensor of exactly MaxTensorBytes is allowed")
	assert.Equal(t, []int{limit / 4}, out[0].Shape())

	_, err = runLimited(t, fillGraph(limit/4+1), limits, "fill")
	require.ErrorIs(t, err, engine.ErrLimit)
	assert.ErrorContains(t, err, "MaxTensorBytes")
	assert.ErrorContains(t, err, fmt.Sprintf("limit %d bytes", limit))
	assert.ErrorContains(t, err, `node "fill" (Fill)`)

	// A Const holding one byte too many.
	c := constNode("c", tfops.MustFromSlice(make([]float32, limit/4+1), limit/4+1))
	_, err = runLimited(t, gdef(c), limits, "c")
	require.ErrorIs(t, err, engine.ErrLimit)
	assert.ErrorContains(t, err, "MaxTensorBytes")
	assert.ErrorContains(t, err, `node "c" (Const)`)
}

// TestLimitDefaultTensorBytes: with the zero Limits, a Fill, a Tile and a
// Const claiming 8 GiB are refused by the 4 GiB default without
// allocating it; a Reshape to 8 GiB of elements is a shape error.
func TestLimitDefaultTensorBytes(t *testing.T) {
	tile := gdef(xConst(), constNode("m", i32s(1<<30)), node("tile", "Tile", []string{"x", "m"}, map[string]any{"T": tfops.Float}))
	reshape := gdef(xConst(), constNode("s", i64s(1<<31, 1<<31)), node("r", "Reshape", []string{"x", "s"}, map[string]any{"T": tfops.Float, "Tshape": tfops.Int64}))
	for _, tc := range []struct {
		name, fetch string
		gd          *graphpb.GraphDef
		is          error
		want        string
	}{
		{"Fill", "fill", fillGraph(1<<30, 2), engine.ErrLimit, "limit 4294967296 bytes"},
		{"Tile", "tile", tile, engine.ErrLimit, "limit 4294967296 bytes"},
		{"Const", "c", gdef(claimConst("c", typespb.DataType_DT_FLOAT, 1<<30, 2)), engine.ErrLimit, "limit 4294967296 bytes"},
		{"Reshape", "r", reshape, engine.ErrKernel, "Reshape"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, err = runLimited(t, tc.gd, engine.Limits{}, tc.fetch) })
			require.ErrorIs(t, err, tc.is)
			assert.ErrorContains(t, err, tc.want)
			assert.Less(t, n, uint64(64<<20), "bytes allocated before refusing")
		})
	}
}

func TestLimitMaxNodes(t *testing.T) {
	chain := []*nodepb.NodeDef{xConst()}
	for i := 0; i < 9; i++ {
		chain = append(chain, node(fmt.Sprintf("id%d", i), "Identity", []string{chain[len(chain)-1].GetName()}, map[string]any{"T": tfops.Float}))
	}
	_, err := goengine.Engine{}.NewSession(gdef(chain...), engine.SessionOptions{Limits: engine.Limits{MaxNodes: 9}})
	require.ErrorIs(t, err, engine.ErrLimit)
	assert.ErrorContains(t, err, "MaxNodes: graph has 10 nodes, limit 9")
	out, err := runLimited(t, gdef(chain...), engine.Limits{MaxNodes: 10}, "id8")
	require.NoError(t, err, "exactly MaxNodes is allowed")
	assert.Equal(t, []float32{1, 2}, out[0].Float32s())

	// The library counts too: 3 functions of 1 node and a 2-node graph.
	lib := withLibrary(gdef(xConst(), callNode("call", "PartitionedCall", "f0", "x")),
		callingFunction("f0", ""), callingFunction("f1", ""), callingFunction("f2", ""))
	_, err = goengine.Engine{}.NewSession(lib, engine.SessionOptions{Limits: engine.Limits{MaxNodes: 2}})
	require.ErrorIs(t, err, engine.ErrLimit)
	assert.ErrorContains(t, err, "MaxNodes: function library has 3 nodes, limit 2")
}

// TestLimitMaxFunctionDepthDefault: a self-recursive function stops at
// the default depth of 64 with an error naming the function and limit.
func TestLimitMaxFunctionDepthDefault(t *testing.T) {
	gd := withLibrary(gdef(xConst(), callNode("call", "PartitionedCall", "self", "x")), callingFunction("self", "self"))
	_, err := runLimited(t, gd, engine.Limits{}, "call")
	require.ErrorIs(t, err, engine.ErrLimit)
	assert.ErrorContains(t, err, `MaxFunctionDepth: calling "self" at depth 65, limit 64`)
}

// binaryCallTree is functions t0..t(depth-1): t_i calls t_(i+1) twice and
// adds the results, so calling t0 makes 2^depth calls.
func binaryCallTree(depth int) []*fpb.FunctionDef {
	var fns []*fpb.FunctionDef
	f32 := map[string]any{"T": tfops.Float}
	for i := 0; i < depth; i++ {
		fd := &fpb.FunctionDef{
			Signature: &opdefpb.OpDef{Name: fmt.Sprintf("t%d", i),
				InputArg:  []*opdefpb.OpDef_ArgDef{{Name: "x", Type: typespb.DataType_DT_FLOAT}},
				OutputArg: []*opdefpb.OpDef_ArgDef{{Name: "y", Type: typespb.DataType_DT_FLOAT}}},
			Ret: map[string]string{"y": "id:output:0"},
		}
		if i == depth-1 {
			fd.NodeDef = []*nodepb.NodeDef{node("id", "Identity", []string{"x"}, f32)}
		} else {
			callee := fmt.Sprintf("t%d", i+1)
			fd.NodeDef = []*nodepb.NodeDef{
				callNode("a", "PartitionedCall", callee, "x"),
				callNode("b", "PartitionedCall", callee, "x"),
				node("id", "AddV2", []string{"a:output:0", "b:output:0"}, f32),
			}
		}
		fns = append(fns, fd)
	}
	return fns
}

// TestContextStopsExponentialCalls: nesting within the depth limit can
// still ask for 2^40 calls; no limit bounds that, the caller's context
// does, and the executor checks it between kernels at every depth.
func TestContextStopsExponentialCalls(t *testing.T) {
	gd := withLibrary(gdef(xConst(), callNode("call", "PartitionedCall", "t0", "x")), binaryCallTree(40)...)
	sess, err := goengine.Engine{}.NewSession(gd, engine.SessionOptions{})
	require.NoError(t, err)
	defer sess.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = sess.Run(ctx, nil, []string{"call"}, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 10*time.Second, "Run returned long after its deadline")
}
