//go:build !amd64 || purego

package vec

// archKernels reports that this build (another architecture, or the
// purego tag) has no assembly vector kernels: genericKernels run.
func archKernels() *Kernels { return nil }

// ArchSets lists no assembly kernels in this build.
func ArchSets() []*Kernels { return nil }
