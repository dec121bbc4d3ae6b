package goengine

import (
	"math"
	"sync/atomic"
	"unsafe"
)

// simd_gen.go writes simd_amd64.s, vecops_gen.go and vecops_amd64_gen.go
// (in every build, so that the check of generated files runs anywhere).
//
//go:generate go run simd_gen.go

// Vector kernels over float32 slices: the elementwise arithmetic and
// transcendental functions that fused regions (fuse_program.go) and the
// float32 Exp, Log, Log1p, Sigmoid and Sum kernels are built from.
//
// Every kernel has TensorFlow's flush-to-zero semantics (kernels_flush.go)
// and a pure-Go implementation (simd_generic.go, simd_math.go). On amd64
// CPUs with AVX-512 or AVX2 and FMA (simd_amd64.go, simd_amd64.s) the
// assembly versions run instead; they compute the same operations in the
// same order, so their results are bit for bit those of the Go code, which
// tests check on random and special inputs. The build tag purego, or
// useGenericKernels in tests, makes the Go code the only one that runs.
//
// All slices passed to one call have the same length; dst may alias an
// operand.

// vecKernels is one implementation of the vector kernels.
type vecKernels struct {
	name string
	// The table ops' kernels (vecops_gen.go, from simd_gen.go's vecOps):
	// k.add(dst, a, b), k.exp(dst, x), k.clip(dst, x, lo, hi), ...
	vecOpKernels
	// sumLanes adds x (at most sumBlock elements, read with denormals as
	// zeros) into lanes: lanes[j] += x[i] for i ≡ j (mod sumLanes), in
	// float64, in order of i.
	sumLanes func(x []float32, lanes *[sumLaneCount]float64)
	// prog, when set, runs a sequence of these kernels on one chunk in one
	// call (fuse_runner.go): code holds ninstr instructions of 5 int32s
	// (progOp, then the dst, a, b and c indices into ptrs), each applied
	// to n elements.
	prog func(code *int32, ninstr int, ptrs *unsafe.Pointer, n int)
	// tiles, when set, runs ninstr tile instructions (fuse_tiles.go) on
	// ntiles tiles of tileElems elements from the pointers of ptrs.
	tiles func(code *int32, ninstr int, ptrs *unsafe.Pointer, ntiles int)
	// chunks, when set, runs runner code that may hold tile blocks (a
	// pTileBlock header, m tile instructions, then f runner instructions
	// for the elements after the whole tiles, skipped here) on nchunks
	// consecutive chunks of n elements (a multiple of tileElems): between
	// chunks, ptrs[i] += steps[i] (bytes) for i < ntab.
	// Before each instruction, while the chunk's bytes last, it asks for
	// the next pfBytes bytes of the next chunk of each of the npf operands
	// pf (software prefetch, spread over the chunk so that the core never
	// has more than a few lines in flight for it).
	chunks func(code *int32, ninstr int, ptrs *unsafe.Pointer, n, nchunks int, steps *int64, ntab int, pf *int32, npf, pfBytes int)
}

// vk is the implementation in use: the assembly kernels when the CPU has
// them (archVecKernels), else genericKernels.
var vk atomic.Pointer[vecKernels]

func init() {
	if k := archVecKernels(); k != nil {
		vk.Store(k)
	} else {
		vk.Store(&genericKernels)
	}
}

// kernels returns the vector kernels in use.
func kernels() *vecKernels { return vk.Load() }

// useGenericKernels makes the pure-Go kernels the ones in use until the
// returned function is called (tests force the fallback with it).
func useGenericKernels() (restore func()) { return useKernels(&genericKernels) }

// useKernels makes k the kernels in use until restore is called.
func useKernels(k *vecKernels) (restore func()) {
	old := vk.Swap(k)
	return func() { vk.Store(old) }
}

// Canonical float32 summation. A run of float32 values (all the elements
// one Sum or Mean output reduces, when they are contiguous) is summed in
// float64 in a fixed order that does not depend on the number of threads
// or on fusion: the run is cut into blocks of sumBlock elements from its
// start; within a block, lane j (of sumLaneCount) accumulates the elements
// at offsets ≡ j (mod sumLaneCount) in order, and the lanes are combined
// pairwise (lane j += lane j+w for w = 16, 8, 4, 2, 1); the block sums are
// added in order. The float64 result is rounded once, so it is the sum to
// within float64 rounding, far below float32 resolution.
const (
	sumBlock     = 1024
	sumLaneCount = 32
)

// combineLanes returns the pairwise sum of the lanes: lane j += lane j+w
// for w = 16, 8, 4, 2, 1, written out so that the partial sums stay in
// registers.
func combineLanes(l *[sumLaneCount]float64) float64 {
	var a [16]float64
	for j := range a {
		a[j] = l[j] + l[j+16]
	}
	b0, b1, b2, b3 := a[0]+a[8], a[1]+a[9], a[2]+a[10], a[3]+a[11]
	b4, b5, b6, b7 := a[4]+a[12], a[5]+a[13], a[6]+a[14], a[7]+a[15]
	c0, c1, c2, c3 := b0+b4, b1+b5, b2+b6, b3+b7
	d0, d1 := c0+c2, c1+c3
	return d0 + d1
}

// sumBlockOf returns the canonical sum of one block (len(x) <= sumBlock).
func sumBlockOf(k *vecKernels, x []float32) float64 {
	var lanes [sumLaneCount]float64
	k.sumLanes(x, &lanes)
	return combineLanes(&lanes)
}

// f32Bits and f32From are short names for the conversions the kernels use.
func f32Bits(x float32) uint32 { return math.Float32bits(x) }
func f32From(b uint32) float32 { return math.Float32frombits(b) }
func f64Bits(x float64) uint64 { return math.Float64bits(x) }
