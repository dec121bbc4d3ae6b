//go:build tensorflow

package goengine_test

import _ "github.com/tfseg/tfseg/engine/tfengine" // TestSelectV1 runs on real TensorFlow too
