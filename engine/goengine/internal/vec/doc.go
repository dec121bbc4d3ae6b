// Package vec holds goengine's float32 vector kernels: the elementwise
// arithmetic and transcendental functions that fused regions and the
// float32 Exp, Log, Log1p, Sigmoid and Sum kernels are built from, the
// canonical float32 summation order, and the assembly runners that execute
// a fused program's instructions in one call.
//
// # What is here
//
//   - Kernels: one implementation of the kernels, pure Go (Generic) or
//     AVX-512 / AVX2 with FMA assembly (ArchSets); Current is the one in
//     use. Each table op is a method (Add, Sub, ..., Exp, Clip) whose doc
//     comment gives the loop it computes, as gonum's internal/asm/f32
//     does; SumLanes, BlockSum and CombineLanes give the summation order
//     (SumBlock), CombineLanesN combines many blocks' lanes at once (AVX
//     assembly, combine_amd64.s, same bits); Prog, Tiles and Chunks run
//     runner code.
//   - The instruction set (isa.go, vecops_gen.go): Op, the fusible ops,
//     with TFOps from TensorFlow op names; ProgOp, the runner opcodes; and
//     TileOp, the tile runner opcodes. goengine's fusion planner and
//     program compiler (fuse.go, fuse_program.go, fuse_runner.go,
//     fuse_tiles.go) decide what to fuse and emit code in these terms.
//   - Scalar functions the kernels are built from, which goengine's
//     unfused kernels share: Exp32, Log32, Log1p32, Sigmoid32, Rint32,
//     MaxNaN, MinNaN, and the flush-to-zero helpers Round32, Flush32,
//     IsDenormal32 and HasDenormal.
//
// # Flush-to-zero
//
// TensorFlow runs its CPU kernels with the processor's flush-to-zero and
// denormals-are-zero modes on. Every kernel here does the same: operands
// that are denormal read as zeros of their sign (Flush32) and denormal
// results become signed zeros (Round32), except where TensorFlow keeps
// the bits (Abs clears the sign bit of whatever it gets; Log1p returns ±0
// and denormal arguments as they are). The doc comment of each method
// shows where the loop flushes.
//
// # Assembly and Go compute the same bits
//
// The pure-Go kernels (simd_generic.go, simd_math.go) define the results.
// The assembly kernels (simd_amd64.s) run the same float32 operations in
// the same order, with MXCSR's flush bits set for the call, on the same
// coefficients (read from the Go variables expC, logP, simdF32, simdU32);
// the runners execute the kernels' own code for each opcode. So every set
// gives the Go code's bits for every input, NaN payloads aside: the tests
// check it on special values, every input class and every length up to
// two vectors (TestArchKernelsMatchGo), against each method's documented
// loop (TestReferenceLoops), and goengine's tests compare fused and
// unfused runs of whole graphs under each set (vec.Use). The build tag
// purego, or UseGeneric in tests, makes the Go code the only one that
// runs; other architectures have only the Go code.
//
// # Adding an op
//
// An op is one entry in the vecOps table of simd_gen.go: its name, the
// TensorFlow ops it computes, its operands, its pure-Go kernel (goRef,
// usually a scalar function wrapped by unaryGo or binaryGo), its reference
// loop (the method's doc comment and the generated test's reference), its
// tile forms if any, and its AVX-512 and AVX2 bodies. Then run
// `go generate` here: it rewrites simd_amd64.s, vecops_gen.go,
// vecops_amd64_gen.go and vecops_ref_test.go, including the Op, ProgOp
// and method of the new op, so goengine's planner fuses it (fuseClasses
// reads TFOps) with nothing else to change. scripts/check-generated.sh
// fails when a generated file is not what the generator writes.
package vec
