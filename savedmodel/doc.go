// Package savedmodel reads and writes TensorFlow SavedModels without
// TensorFlow: saved_model.pb (or saved_model.pbtxt), its MetaGraphDefs and
// SignatureDefs, and the variables checkpoint in TensorFlow's tensor_bundle
// format (variables/variables.index, a LevelDB-style table of
// BundleEntryProtos, plus variables/variables.data-0000S-of-0000N).
//
// Reading:
//
//	m, err := savedmodel.Read(dir, savedmodel.ReadOptions{Tags: []string{"serve"}})
//	sig, err := m.Signature("serving_default")
//	b, err := m.OpenVariables(savedmodel.BundleOptions{})
//	w, err := b.Tensor("dense/kernel/.ATTRIBUTES/VARIABLE_VALUE")
//
// Writing:
//
//	err := savedmodel.Write(dir, &savedmodel.Export{Graph: gd, Signatures: sigs})
//
// Every checksum the formats carry is verified (masked CRC32C of each table
// block and of each tensor's bytes), every size a file claims is checked
// against the file and against a memory limit before anything is allocated,
// and every failure is an error that names the file and, where there is one,
// the tensor, signature or node at fault.
//
// References: tensorflow/core/protobuf/saved_model.proto, meta_graph.proto,
// tensor_bundle.proto; tensorflow/core/util/tensor_bundle/tensor_bundle.cc;
// tensorflow/core/lib/io/{format,block,table}.cc (the LevelDB table format,
// https://github.com/google/leveldb/blob/main/doc/table_format.md);
// tensorflow/cc/saved_model/loader.cc (how a SavedModel's variables are
// restored: the SaverDef's filename tensor is fed the variables prefix and
// its restore op is run).
package savedmodel

import "errors"

// Sentinel errors. Every error this package returns wraps one of them (or an
// error from the os package or from tfops) and names the file at fault.
var (
	// ErrFormat marks a file that is not what it should be: a truncated or
	// unparsable protobuf, a bad table magic, a malformed block or entry.
	ErrFormat = errors.New("savedmodel: malformed file")
	// ErrChecksum marks a CRC32C mismatch in a table block or tensor data.
	ErrChecksum = errors.New("savedmodel: checksum mismatch")
	// ErrTags marks a SavedModel without a MetaGraphDef for the requested tags.
	ErrTags = errors.New("savedmodel: no MetaGraphDef with the requested tags")
	// ErrNotFound marks an unknown signature key, tensor key or asset.
	ErrNotFound = errors.New("savedmodel: not found")
	// ErrUnsupported marks valid TensorFlow data this package cannot handle
	// (sliced or big-endian checkpoints, variant or float16 tensors).
	ErrUnsupported = errors.New("savedmodel: unsupported")
	// ErrTooBig marks a tensor or block larger than the configured limit.
	ErrTooBig = errors.New("savedmodel: too large")
	// ErrNoVariables marks a SavedModel without a variables bundle.
	ErrNoVariables = errors.New("savedmodel: no variables")
	// ErrExport marks an Export that cannot be written as given.
	ErrExport = errors.New("savedmodel: invalid export")
)
