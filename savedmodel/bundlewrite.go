package savedmodel

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/tfseg/tfseg/tfops"
	versionspb "github.com/wamuir/graft/tensorflow/core/framework/versions_go_proto"
	pb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
)

// WriteBundle writes tensors as a one-shard tensor bundle at prefix:
// prefix.index and prefix.data-00000-of-00001, as TensorFlow's BundleWriter
// does (sorted keys after the header entry, uncompressed blocks, masked
// CRC32C of every block and tensor). String tensors use TensorFlow's
// length-prefixed layout. Keys must be non-empty (the empty key is the
// header's); dtypes without a fixed size other than string are refused.
// Both files are written to temporary names and renamed into place.
func WriteBundle(prefix string, tensors map[string]*tfops.Tensor) error {
	index, data, err := encodeBundle(tensors)
	if err != nil {
		return fmt.Errorf("savedmodel: write bundle %s: %w", prefix, err)
	}
	if err := os.MkdirAll(filepath.Dir(prefix), 0o755); err != nil {
		return fmt.Errorf("savedmodel: write bundle: %w", err)
	}
	if err := writeFileAtomic(DataFilename(prefix, 0, 1), data); err != nil {
		return err
	}
	return writeFileAtomic(IndexFilename(prefix), index)
}

// encodeBundle returns the index and data file contents for tensors.
func encodeBundle(tensors map[string]*tfops.Tensor) (index, data []byte, err error) {
	keys := make([]string, 0, len(tensors))
	for k := range tensors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	header, err := proto.Marshal(&pb.BundleHeaderProto{
		NumShards:  1,
		Endianness: pb.BundleHeaderProto_LITTLE,
		Version:    &versionspb.VersionDef{Producer: bundleVersion},
	})
	if err != nil {
		return nil, nil, err
	}
	entries := []tableEntry{{key: []byte{}, value: header}}
	for _, k := range keys {
		t := tensors[k]
		if k == "" {
			return nil, nil, fmt.Errorf("%w: the empty key is reserved for the bundle header", ErrExport)
		}
		if t == nil {
			return nil, nil, fmt.Errorf("%w: tensor %q is nil", ErrExport, k)
		}
		var b []byte
		var crc uint32
		switch {
		case t.DType() == tfops.String:
			b, crc = encodeStrings(t.Strings())
		case t.DType().Size() == 0 || t.DType() == tfops.Half:
			return nil, nil, fmt.Errorf("%w: tensor %q: cannot store dtype %v", ErrUnsupported, k, t.DType())
		default:
			b = tfops.EncodeContent(t)
			crc = crc32c(b)
		}
		if len(b) > 0 && int64(len(data)) > math.MaxInt64-int64(len(b)) {
			return nil, nil, fmt.Errorf("%w: bundle data overflows", ErrTooBig)
		}
		e := &pb.BundleEntryProto{
			Dtype:  t.DType().Proto(),
			Shape:  t.StaticShape().Proto(),
			Offset: int64(len(data)),
			Size:   int64(len(b)),
			Crc32C: maskCRC(crc),
		}
		v, err := proto.Marshal(e)
		if err != nil {
			return nil, nil, err
		}
		data = append(data, b...)
		entries = append(entries, tableEntry{key: []byte(k), value: v})
	}
	return buildTable(entries), data, nil
}

// encodeStrings lays out a string tensor as decodeStrings reads it and
// returns the bytes and the (unmasked) CRC32C the entry records.
func encodeStrings(strs []string) ([]byte, uint32) {
	var b []byte
	var crc uint32
	for _, s := range strs {
		b = binary.AppendUvarint(b, uint64(len(s)))
		crc = extendLengthCRC(crc, uint64(len(s)))
	}
	b = binary.LittleEndian.AppendUint32(b, maskCRC(crc))
	crc = extendCRC(crc, b[len(b)-4:])
	for _, s := range strs {
		b = append(b, s...)
		crc = extendCRC(crc, []byte(s))
	}
	return b, crc
}

// writeFileAtomic writes data to a temporary file beside name, syncs it and
// renames it to name, so that name never holds a partial file.
func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return fmt.Errorf("savedmodel: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("savedmodel: write %s: %w", name, err)
	}
	return nil
}
