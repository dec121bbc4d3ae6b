//go:build !amd64 || purego

package goengine

// archVecKernels reports that this build (another architecture, or the
// purego tag) has no assembly vector kernels: genericKernels run.
func archVecKernels() *vecKernels { return nil }

// archKernelSets lists no assembly kernels in this build.
func archKernelSets() []*vecKernels { return nil }
