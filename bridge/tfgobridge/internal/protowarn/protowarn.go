// Package protowarn lets a binary that links package tfgobridge start: such
// a binary links two generated copies of TensorFlow's .proto files
// (github.com/wamuir/graft's, which tfseg builds graphs with, and
// github.com/galeone/tensorflow's, which tfgo uses), both registered under
// the same file names, and google.golang.org/protobuf panics on the second
// registration unless GOLANG_PROTOBUF_REGISTRATION_CONFLICT says otherwise.
// Package tfgobridge imports this package, whose init sets that variable
// to "ignore" when the environment does not set it, so that a tfgo program
// importing tfgobridge needs no step of its own and prints nothing
// ("warn" would print a warning per conflicting file, about 500).
//
// It works because google.golang.org/protobuf reads the variable when a
// conflict happens, not when it starts (reflect/protoregistry's
// ignoreConflict), and because Go initializes packages in import-path
// order among those whose imports are initialized (the Go spec, "Package
// initialization", since Go 1.21): this package imports only os, so it is
// ready as soon as os is, which protoregistry itself imports; graft's
// generated packages, which need protoregistry and whose paths
// ("github.com/wamuir/...") sort after this one's, are therefore
// initialized after it. The galeone copy, sorting first, may register
// before: the conflict is raised by whichever copy registers second.
//
// A variable the environment already sets is left alone: set it to "panic"
// to see the conflict, or to "warn" to list it.
package protowarn

import "os"

// Env is the environment variable google.golang.org/protobuf reads.
const Env = "GOLANG_PROTOBUF_REGISTRATION_CONFLICT"

func init() {
	if _, ok := os.LookupEnv(Env); !ok {
		os.Setenv(Env, "ignore")
	}
}
