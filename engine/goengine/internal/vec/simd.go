package vec

import (
	"math"
	"sync/atomic"
	"unsafe"
)

// simd_gen.go writes simd_amd64.s, vecops_gen.go and vecops_amd64_gen.go
// (in every build, so that the check of generated files runs anywhere).
//
//go:generate go run simd_gen.go

// Kernels is one implementation of the vector kernels: the pure-Go one
// (Generic) or an assembly one (ArchSets). The methods of the table's ops
// (Add, Exp, Clip, ...: vecops_gen.go) document the loop each computes;
// every set computes the same bits.
type Kernels struct {
	// Name names the set ("go", "avx512", "avx2"); it keys the runner code
	// compiled for the set.
	Name string
	// The table ops' kernels (vecops_gen.go, from simd_gen.go's vecOps):
	// k.add(dst, a, b), k.exp(dst, x), k.clip(dst, x, lo, hi), ...
	opKernels
	// sumLanes is SumLanes.
	sumLanes func(x []float32, lanes *[SumLaneCount]float64)
	// Prog, when set, runs a sequence of the kernels on one chunk in one
	// call: code holds ninstr instructions of 5 int32s (a ProgOp, then the
	// dst, a, b and c indices into ptrs), each applied to n elements from
	// the pointers of ptrs; ProgSum adds its operand into the 32 lanes at
	// ptrs[dst] as SumLanes does, ProgCopy copies the bits.
	Prog func(code *int32, ninstr int, ptrs *unsafe.Pointer, n int)
	// Tiles, when set, runs ninstr tile instructions (5 int32s: a TileOp,
	// the dst and a indices into ptrs, two unused) on ntiles tiles of
	// TileElems elements from the pointers of ptrs, the running value in
	// registers: TileLoad loads ptrs[a]'s tile, TileStore stores it into
	// ptrs[dst]'s, the arithmetic ops combine it with ptrs[a]'s tile (the
	// R forms with the operands reversed), TileSum adds it into the lanes
	// at ptrs[dst].
	Tiles func(code *int32, ninstr int, ptrs *unsafe.Pointer, ntiles int)
	// Chunks, when set, runs runner code that may hold tile blocks (a
	// ProgTileBlock header whose next two int32s are m and f, m tile
	// instructions, then f runner instructions for the elements after the
	// whole tiles, skipped here) on nchunks consecutive chunks of n
	// elements (a multiple of TileElems): between chunks, ptrs[i] +=
	// steps[i] (bytes) for i < ntab. Before each instruction, while the
	// chunk's bytes last, it asks for the next pfBytes bytes of the next
	// chunk of each of the npf operands pf (software prefetch, spread over
	// the chunk so that the core never has more than a few lines in
	// flight for it).
	Chunks func(code *int32, ninstr int, ptrs *unsafe.Pointer, n, nchunks int, steps *int64, ntab int, pf *int32, npf, pfBytes int)
}

// TileElems is the number of elements in a tile of Kernels.Tiles (16
// registers of 16).
const TileElems = 256

// vk is the implementation in use: the assembly kernels when the CPU has
// them (archKernels), else genericKernels.
var vk atomic.Pointer[Kernels]

func init() {
	if k := archKernels(); k != nil {
		vk.Store(k)
	} else {
		vk.Store(&genericKernels)
	}
}

// Current returns the kernels in use: the fastest assembly set the CPU
// runs, else the pure-Go kernels (always those with the purego build tag
// or on other architectures).
func Current() *Kernels { return vk.Load() }

// Generic returns the pure-Go kernels, which define the results.
func Generic() *Kernels { return &genericKernels }

// UseGeneric makes the pure-Go kernels the ones in use until the returned
// function is called (tests force the fallback with it).
func UseGeneric() (restore func()) { return Use(&genericKernels) }

// Use makes k the kernels in use until restore is called (tests).
func Use(k *Kernels) (restore func()) {
	old := vk.Swap(k)
	return func() { vk.Store(old) }
}

// Canonical float32 summation. A run of float32 values (all the elements
// one Sum or Mean output reduces, when they are contiguous) is summed in
// float64 in a fixed order that does not depend on the number of threads
// or on fusion: the run is cut into blocks of SumBlock elements from its
// start; within a block, lane j (of SumLaneCount) accumulates the elements
// at offsets ≡ j (mod SumLaneCount) in order, and the lanes are combined
// pairwise (lane j += lane j+w for w = 16, 8, 4, 2, 1); the block sums are
// added in order. The float64 result is rounded once, so it is the sum to
// within float64 rounding, far below float32 resolution.
const (
	SumBlock     = 1024
	SumLaneCount = 32
)

// SumLanes adds x (at most SumBlock elements) into lanes, in float64, in
// order of i, with denormals read as zeros:
//
//	for i := range x {
//		lanes[i%SumLaneCount] += float64(Flush32(x[i]))
//	}
func (k *Kernels) SumLanes(x []float32, lanes *[SumLaneCount]float64) { k.sumLanes(x, lanes) }

// CombineLanes returns the pairwise sum of the lanes,
//
//	for w := SumLaneCount / 2; w >= 1; w /= 2 {
//		for j := 0; j < w; j++ {
//			l[j] += l[j+w]
//		}
//	}
//	return l[0]
//
// written out so that the partial sums stay in registers (l is not
// changed).
func CombineLanes(l *[SumLaneCount]float64) float64 {
	// b_k is (l[k] + l[k+16]) + (l[k+8] + l[k+24]): the first two rounds
	// (w = 16, 8) for lane k, computed together so that only eight partial
	// sums are live (no spills, no stack array).
	b0 := (l[0] + l[16]) + (l[8] + l[24])
	b1 := (l[1] + l[17]) + (l[9] + l[25])
	b2 := (l[2] + l[18]) + (l[10] + l[26])
	b3 := (l[3] + l[19]) + (l[11] + l[27])
	b4 := (l[4] + l[20]) + (l[12] + l[28])
	b5 := (l[5] + l[21]) + (l[13] + l[29])
	b6 := (l[6] + l[22]) + (l[14] + l[30])
	b7 := (l[7] + l[23]) + (l[15] + l[31])
	c0, c1, c2, c3 := b0+b4, b1+b5, b2+b6, b3+b7
	d0, d1 := c0+c2, c1+c3
	return d0 + d1
}

// BlockSum returns the canonical sum of one block (len(x) <= SumBlock):
//
//	var lanes [SumLaneCount]float64
//	k.SumLanes(x, &lanes)
//	return CombineLanes(&lanes)
func (k *Kernels) BlockSum(x []float32) float64 {
	var lanes [SumLaneCount]float64
	k.sumLanes(x, &lanes)
	return CombineLanes(&lanes)
}

// f32Bits and f32From are short names for the conversions the kernels use.
func f32Bits(x float32) uint32 { return math.Float32bits(x) }
func f32From(b uint32) float32 { return math.Float32frombits(b) }
func f64Bits(x float64) uint64 { return math.Float64bits(x) }

// combineLanesGo is CombineLanesN in Go.
func combineLanesGo(lanes, out []float64) {
	for i := range out {
		out[i] = CombineLanes((*[SumLaneCount]float64)(lanes[i*SumLaneCount:]))
	}
}
