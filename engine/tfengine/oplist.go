//go:build tensorflow

package tfengine

// #cgo LDFLAGS: -ltensorflow
// #include <stdlib.h>
// #include <string.h>
// #include "tensorflow/c/c_api.h"
import "C"

import (
	"fmt"
	"unsafe"

	opdefpb "github.com/wamuir/graft/tensorflow/core/framework/op_def_go_proto"
	"google.golang.org/protobuf/proto"
)

// OpList returns the op registry of the linked libtensorflow
// (TF_GetAllOpList in tensorflow/c/c_api.h): every op with its inputs,
// outputs and attrs, and each attr's default value. Tests use it to check
// that the Go engine assumes TensorFlow's defaults for attrs a NodeDef omits.
func OpList() (*opdefpb.OpList, error) {
	buf := C.TF_GetAllOpList()
	if buf == nil {
		return nil, fmt.Errorf("tfengine: TF_GetAllOpList returned nil")
	}
	defer C.TF_DeleteBuffer(buf)
	data := C.GoBytes(unsafe.Pointer(buf.data), C.int(buf.length))
	var ol opdefpb.OpList
	if err := proto.Unmarshal(data, &ol); err != nil {
		return nil, fmt.Errorf("tfengine: decoding TF_GetAllOpList: %w", err)
	}
	return &ol, nil
}
