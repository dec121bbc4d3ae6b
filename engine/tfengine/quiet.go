//go:build tensorflow

package tfengine

import "os"

// TensorFlow writes info lines (CPU features, XLA service) to stderr on
// every session unless TF_CPP_MIN_LOG_LEVEL says otherwise. It reads the
// variable once, at its first log line (tensorflow/core/platform/default/
// logging.cc, MinLogLevelFromEnv), which comes after this package's init:
// setting it here keeps warnings and errors (level 1) and drops the info
// lines. A value the user set is left alone.
func init() {
	if _, set := os.LookupEnv("TF_CPP_MIN_LOG_LEVEL"); !set {
		os.Setenv("TF_CPP_MIN_LOG_LEVEL", "1")
	}
}
