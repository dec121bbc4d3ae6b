//go:build tensorflow

package main

import _ "github.com/tfseg/tfseg/engine/tfengine" // --engine tensorflow
