package tfops

import (
	"fmt"

	typespb "github.com/wamuir/graft/tensorflow/core/framework/types_go_proto"
)

// DType is a TensorFlow element type. Its values equal TensorFlow's DataType
// enum (tensorflow/core/framework/types.proto), so a DType converts to and
// from the protobuf enum without a table.
type DType int32

// The element types tfops knows. Values are TensorFlow's.
const (
	Invalid    DType = 0
	Float      DType = 1
	Double     DType = 2
	Int32      DType = 3
	Uint8      DType = 4
	Int16      DType = 5
	Int8       DType = 6
	String     DType = 7
	Int64      DType = 9
	Bool       DType = 10
	Uint16     DType = 17
	Half       DType = 19
	Resource   DType = 20
	Variant    DType = 21
	Uint32     DType = 22
	Uint64     DType = 23
	Float32          = Float
	Float64          = Double
	DTResource       = Resource
)

var dtypeNames = map[DType]string{
	Invalid: "invalid", Float: "float32", Double: "float64", Int32: "int32",
	Uint8: "uint8", Int16: "int16", Int8: "int8", String: "string",
	Int64: "int64", Bool: "bool", Uint16: "uint16", Half: "float16",
	Resource: "resource", Variant: "variant", Uint32: "uint32", Uint64: "uint64",
}

// String returns the NumPy-style name of the type ("float32", "int64", ...).
func (d DType) String() string {
	if n, ok := dtypeNames[d]; ok {
		return n
	}
	if d > 100 && d < 200 {
		return DType(d-100).String() + "_ref"
	}
	return fmt.Sprintf("DType(%d)", int32(d))
}

// Proto returns the protobuf enum value of d.
func (d DType) Proto() typespb.DataType { return typespb.DataType(d) }

// Base strips the reference bit of a TF1 "_ref" type (DT_FLOAT_REF -> DT_FLOAT).
func (d DType) Base() DType {
	if d > 100 && d < 200 {
		return d - 100
	}
	return d
}

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool { return d == Float || d == Double || d == Half }

// IsInteger reports whether d is a (signed or unsigned) integer type.
func (d DType) IsInteger() bool {
	switch d {
	case Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64:
		return true
	}
	return false
}

// Size is the size in bytes of one element, or 0 for types without a fixed
// size (string, resource, variant).
func (d DType) Size() int {
	switch d {
	case Float, Int32, Uint32:
		return 4
	case Double, Int64, Uint64:
		return 8
	case Int16, Uint16, Half:
		return 2
	case Int8, Uint8, Bool:
		return 1
	}
	return 0
}

// ParseDType parses a NumPy-style name ("float32", "int64", "bool", ...).
func ParseDType(name string) (DType, error) {
	for d, n := range dtypeNames {
		if n == name && d != Invalid {
			return d, nil
		}
	}
	switch name {
	case "float":
		return Float, nil
	case "double":
		return Double, nil
	}
	return Invalid, fmt.Errorf("%w: %q", ErrDType, name)
}
