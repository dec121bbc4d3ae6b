// Package protowarn relaxes the protobuf registration conflict policy for
// the test binaries of package tfgobridge, which link two generated copies
// of TensorFlow's .proto files (graft's and galeone/tensorflow's): imported
// for its side effect, it sets GOLANG_PROTOBUF_REGISTRATION_CONFLICT=ignore
// unless the environment already sets it ("ignore" rather than "warn": the
// conflict is known, and a warning per .proto file would bury test output).
//
// It works because google.golang.org/protobuf reads the variable when a
// conflict happens, not when it starts, and because Go initializes packages
// in import-path order among those whose imports are initialized: this
// package (imports only os) is initialized before github.com/wamuir/graft's
// generated packages, whose registration is the one that conflicts (the
// galeone copy, sorting first, registers first). Programs should set the
// variable or the linker flag instead (see package tfgobridge); this is for
// `go test` without either.
package protowarn

import "os"

func init() {
	const env = "GOLANG_PROTOBUF_REGISTRATION_CONFLICT"
	if _, ok := os.LookupEnv(env); !ok {
		os.Setenv(env, "ignore")
	}
}
