package vec

// The instruction set of fused programs and of the assembly runners. The
// constants (OpAdd, ..., ProgAdd, ..., TileLoad, ...) and the tables below
// are generated from simd_gen.go's vecOps (vecops_gen.go), numbered in the
// order the assembly dispatches on.

// Op is one of the table's fusible vector ops: an instruction of a fused
// program that one kernel computes (Kernels.Apply). TFOps maps TensorFlow
// op names to it. Programs number their own instructions from NumOps.
type Op int

// Arity returns the number of operands of op's kernel after dst (1, 2 or
// 3).
func (op Op) Arity() int { return opArity[op] }

// Prog returns the runner opcode that computes op.
func (op Op) Prog() ProgOp { return opProg[op] }

// ProgOp is an opcode of the runner code that Kernels.Prog and
// Kernels.Chunks run: one per table op (ProgAdd, ...), then ProgSum (add
// the operand into the summation lanes, as SumLanes), ProgCopy (copy the
// bits) and ProgTileBlock (the header of a tile block, Kernels.Chunks).
type ProgOp int32

// TileOp is an opcode of the tile code that Kernels.Tiles runs (TileLoad,
// TileStore, the arithmetic on the accumulator, TileSum). TileUnary,
// TileDirect and TileReverse give the tile opcodes of the runner opcodes
// that have one (ProgOp.Tileable).
type TileOp int32
