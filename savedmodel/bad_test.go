package savedmodel

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tfseg/tfseg/tfops"
	shapepb "github.com/wamuir/graft/tensorflow/core/framework/tensor_shape_go_proto"
	tensorslicepb "github.com/wamuir/graft/tensorflow/core/framework/tensor_slice_go_proto"
	typespb "github.com/wamuir/graft/tensorflow/core/framework/types_go_proto"
	pb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
)

// craftBundle writes a bundle at a fresh prefix from raw parts: a header
// (nil for none), entries keyed by tensor name and the data shard's bytes.
func craftBundle(t *testing.T, header *pb.BundleHeaderProto, entries map[string]*pb.BundleEntryProto, data []byte) string {
	t.Helper()
	var tab []tableEntry
	if header != nil {
		h, err := proto.Marshal(header)
		require.NoError(t, err)
		tab = append(tab, tableEntry{key: []byte{}, value: h})
	}
	for _, k := range sortedKeys(entries) {
		v, err := proto.Marshal(entries[k])
		require.NoError(t, err)
		tab = append(tab, tableEntry{key: []byte(k), value: v})
	}
	prefix := filepath.Join(t.TempDir(), "variables")
	require.NoError(t, os.WriteFile(IndexFilename(prefix), buildTable(tab), 0o644))
	require.NoError(t, os.WriteFile(DataFilename(prefix, 0, 1), data, 0o644))
	return prefix
}

func shapeProto(dims ...int64) *shapepb.TensorShapeProto { return tfops.MakeShape(dims...).Proto() }

func okHeader() *pb.BundleHeaderProto { return &pb.BundleHeaderProto{NumShards: 1} }

// fourFloats is a valid data shard of one float32 [4] tensor at offset 0.
var fourFloats = tfops.EncodeContent(tfops.MustFromSlice([]float32{1, 2, 3, 4}, 4))

func floatEntry(mut func(e *pb.BundleEntryProto)) map[string]*pb.BundleEntryProto {
	e := &pb.BundleEntryProto{Dtype: typespb.DataType_DT_FLOAT, Shape: shapeProto(4), Size: 16, Crc32C: maskCRC(crc32c(fourFloats))}
	if mut != nil {
		mut(e)
	}
	return map[string]*pb.BundleEntryProto{"w": e}
}

// TestBadBundleEntries damages one thing of an otherwise valid bundle and
// expects Tensor("w") (or OpenBundle) to fail with the given error, naming
// the file at fault, without panicking or allocating what the entry claims.
func TestBadBundleEntries(t *testing.T) {
	twoGiB := int64(2 << 30)
	cases := []struct {
		name     string
		header   *pb.BundleHeaderProto
		entries  map[string]*pb.BundleEntryProto
		data     []byte
		openErr  error // expected from OpenBundle, else from Tensor
		err      error
		contains []string
	}{
		{name: "valid", header: okHeader(), entries: floatEntry(nil), data: fourFloats},
		{name: "lying shape", header: okHeader(), entries: floatEntry(func(e *pb.BundleEntryProto) { e.Shape = shapeProto(1000) }),
			data: fourFloats, err: ErrFormat, contains: []string{"size 16 does not match", "variables.index", `"w"`}},
		{name: "lying size", header: okHeader(), entries: floatEntry(func(e *pb.BundleEntryProto) { e.Size = 12 }),
			data: fourFloats, err: ErrFormat, contains: []string{"size 12"}},
		{name: "offset beyond file", header: okHeader(), entries: floatEntry(func(e *pb.BundleEntryProto) { e.Offset = 8 }),
			data: fourFloats, err: ErrFormat, contains: []string{"beyond the end", "variables.data-00000-of-00001"}},
		{name: "huge offset", header: okHeader(), entries: floatEntry(func(e *pb.BundleEntryProto) { e.Offset = 1 << 62 }),
			data: fourFloats, err: ErrFormat, contains: []string{"beyond the end"}},
		{name: "negative offset", header: okHeader(), entries: floatEntry(func(e *pb.BundleEntryProto) { e.Offset = -4 }),
			data: fourFloats, err: ErrFormat, contains: []string{"offset -4"}},
		{name: "claims 2 GiB", header: okHeader(), entries: floatEntry(func(e *pb.BundleEntryProto) {
			e.Shape, e.Size = shapeProto(twoGiB/4), twoGiB
		}), data: fourFloats, err: ErrTooBig, contains: []string{"2147483648"}},
		{name: "shape overflows", header: okHeader(), entries: floatEntry(func(e *pb.BundleEntryProto) {
			e.Shape = shapeProto(1<<31-1, 1<<31-1, 1<<31-1)
		}), data: fourFloats, err: ErrTooBig},
		{name: "dimension too large", header: okHeader(), entries: floatEntry(func(e *pb.BundleEntryProto) { e.Shape = shapeProto(1 << 40) }),
			data: fourFloats, err: ErrTooBig},
		{name: "negative dimension", header: okHeader(), entries: floatEntry(func(e *pb.BundleEntryProto) { e.Shape = shapeProto(-1, 4) }),
			data: fourFloats, err: ErrFormat, contains: []string{"shape"}},
		{name: "unknown rank", header: okHeader(), entries: floatEntry(func(e *pb.BundleEntryProto) { e.Shape = &shapepb.TensorShapeProto{UnknownRank: true} }),
			data: fourFloats, err: ErrFormat},
		{name: "crc mismatch", header: okHeader(), entries: floatEntry(func(e *pb.BundleEntryProto) { e.Crc32C++ }),
			data: fourFloats, err: ErrChecksum, contains: []string{"variables.data-00000-of-00001", `"w"`}},
		{name: "shard out of range", header: okHeader(), entries: floatEntry(func(e *pb.BundleEntryProto) { e.ShardId = 3 }),
			data: fourFloats, err: ErrFormat, contains: []string{"shard 3 of 1"}},
		{name: "variant dtype", header: okHeader(), entries: floatEntry(func(e *pb.BundleEntryProto) { e.Dtype = typespb.DataType_DT_VARIANT }),
			data: fourFloats, err: ErrUnsupported},
		{name: "float16 dtype", header: okHeader(), entries: floatEntry(func(e *pb.BundleEntryProto) { e.Dtype = typespb.DataType_DT_HALF; e.Shape = shapeProto(8) }),
			data: fourFloats, err: ErrUnsupported},
		{name: "strings that cannot fit", header: okHeader(), entries: floatEntry(func(e *pb.BundleEntryProto) { e.Dtype = typespb.DataType_DT_STRING; e.Shape = shapeProto(100) }),
			data: fourFloats, err: ErrFormat, contains: []string{"100 strings"}},
		{name: "string lengths crc", header: okHeader(), entries: floatEntry(func(e *pb.BundleEntryProto) {
			e.Dtype, e.Shape, e.Size = typespb.DataType_DT_STRING, shapeProto(2), 16
		}), data: append([]byte{5, 5, 0, 0, 0, 0}, "abcdefghij"...), err: ErrChecksum, contains: []string{"lengths"}},
		{name: "string length beyond entry", header: okHeader(), entries: floatEntry(func(e *pb.BundleEntryProto) {
			e.Dtype, e.Shape, e.Size = typespb.DataType_DT_STRING, shapeProto(1), 8
		}), data: []byte{0xff, 0xff, 0x03, 0, 0, 0, 0, 0}, err: ErrFormat, contains: []string{"exceeds"}},
		{name: "no header", entries: floatEntry(nil), data: fourFloats, openErr: ErrFormat, contains: []string{"no header"}},
		{name: "zero shards", header: &pb.BundleHeaderProto{}, entries: floatEntry(nil), data: fourFloats, openErr: ErrFormat, contains: []string{"0 shards"}},
		{name: "big endian", header: &pb.BundleHeaderProto{NumShards: 1, Endianness: pb.BundleHeaderProto_BIG},
			entries: floatEntry(nil), data: fourFloats, openErr: ErrUnsupported, contains: []string{"BIG"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prefix := craftBundle(t, tc.header, tc.entries, tc.data)
			b, err := OpenBundle(prefix, BundleOptions{})
			if tc.openErr != nil {
				require.ErrorIs(t, err, tc.openErr)
				assert.Contains(t, err.Error(), IndexFilename(prefix))
				for _, s := range tc.contains {
					assert.Contains(t, err.Error(), s)
				}
				return
			}
			require.NoError(t, err)
			defer b.Close()
			w, err := b.Tensor("w")
			if tc.err == nil {
				require.NoError(t, err)
				assert.Equal(t, []float32{1, 2, 3, 4}, w.Float32s())
				return
			}
			require.ErrorIs(t, err, tc.err)
			assert.Nil(t, w)
			assert.Contains(t, err.Error(), prefix)
			for _, s := range tc.contains {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestBundleSliced(t *testing.T) {
	prefix := craftBundle(t, okHeader(), floatEntry(func(e *pb.BundleEntryProto) {
		e.Slices = append(e.Slices, &tensorslicepb.TensorSliceProto{})
	}), fourFloats)
	b, err := OpenBundle(prefix, BundleOptions{})
	require.NoError(t, err)
	defer b.Close()
	_, err = b.Tensor("w")
	assert.ErrorIs(t, err, ErrUnsupported)
}

func TestBundleLimit(t *testing.T) {
	prefix := craftBundle(t, okHeader(), floatEntry(nil), fourFloats)
	b, err := OpenBundle(prefix, BundleOptions{MaxTensorBytes: 15})
	require.NoError(t, err)
	defer b.Close()
	_, err = b.Tensor("w")
	assert.ErrorIs(t, err, ErrTooBig)
	require.NoError(t, b.Close())
	_, err = b.Tensor("w")
	assert.Error(t, err, "reading after Close")
}

// damage is a change to a copy of a fixture directory.
type damage func(t *testing.T, dir string)

func truncate(rel string, keep func(n int) int) damage {
	return func(t *testing.T, dir string) {
		p := filepath.Join(dir, rel)
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(p, b[:keep(len(b))], 0o644))
	}
}

func flip(rel string, at func(n int) int) damage {
	return func(t *testing.T, dir string) {
		p := filepath.Join(dir, rel)
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		b[at(len(b))] ^= 0x40
		require.NoError(t, os.WriteFile(p, b, 0o644))
	}
}

func remove(rel string) damage {
	return func(t *testing.T, dir string) { require.NoError(t, os.Remove(filepath.Join(dir, rel))) }
}

func write(rel, content string) damage {
	return func(t *testing.T, dir string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, rel), []byte(content), 0o644))
	}
}

// TestBadSavedModels damages a copy of the half-plus-two-tf1 fixture and
// checks that reading it (the model, then every variable) fails with a
// clear error that names the damaged file.
func TestBadSavedModels(t *testing.T) {
	const (
		pbFile = ModelFilename
		index  = "variables/variables.index"
		data   = "variables/variables.data-00000-of-00001"
	)
	cases := []struct {
		name  string
		harm  []damage
		tags  []string
		err   error
		file  string // the file the error must name
		where string // "read", "open" (OpenVariables) or "tensor"
	}{
		{"missing saved_model.pb", []damage{remove(pbFile)}, nil, fs.ErrNotExist, pbFile, "read"},
		{"empty saved_model.pb", []damage{truncate(pbFile, func(int) int { return 0 })}, nil, ErrTags, pbFile, "read"},
		{"truncated saved_model.pb", []damage{truncate(pbFile, func(n int) int { return n / 2 })}, nil, ErrFormat, pbFile, "read"},
		{"truncated saved_model.pb by one byte", []damage{truncate(pbFile, func(n int) int { return n - 1 })}, nil, ErrFormat, pbFile, "read"},
		{"garbage saved_model.pbtxt", []damage{remove(pbFile), write(ModelTextFilename, "meta_graphs { nope: 1 }")}, nil, ErrFormat, ModelTextFilename, "read"},
		{"unknown tags", nil, []string{"serve", "gpu"}, ErrTags, pbFile, "read"},
		{"missing index", []damage{remove(index)}, nil, ErrNoVariables, index, "open"},
		{"empty index", []damage{truncate(index, func(int) int { return 0 })}, nil, ErrFormat, index, "open"},
		{"truncated index", []damage{truncate(index, func(n int) int { return n - 10 })}, nil, ErrFormat, index, "open"},
		{"truncated index footer only", []damage{truncate(index, func(n int) int { return 47 })}, nil, ErrFormat, index, "open"},
		{"bad magic", []damage{flip(index, func(n int) int { return n - 1 })}, nil, ErrFormat, index, "open"},
		{"flipped byte in index data block", []damage{flip(index, func(int) int { return 10 })}, nil, ErrChecksum, index, "open"},
		{"flipped byte in index block trailer", []damage{flip(index, func(n int) int { return n - footerLen - 1 })}, nil, ErrChecksum, index, "open"},
		{"flipped byte in footer handle", []damage{flip(index, func(n int) int { return n - footerLen + 1 })}, nil, ErrFormat, index, "open"},
		{"flipped byte in data", []damage{flip(data, func(int) int { return 1 })}, nil, ErrChecksum, data, "tensor"},
		{"truncated data", []damage{truncate(data, func(n int) int { return n - 2 })}, nil, ErrFormat, data, "tensor"},
		{"missing data", []damage{remove(data)}, nil, fs.ErrNotExist, data, "tensor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyFixture(t, "half-plus-two-tf1")
			for _, h := range tc.harm {
				h(t, dir)
			}
			err := readAll(dir, tc.tags, tc.where)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.err)
			assert.Contains(t, err.Error(), filepath.Join(dir, tc.file), "the error must name the file")
		})
	}
}

// readAll reads the model and, unless stage says to stop earlier, opens the
// variables and reads every tensor. It checks that the stage that fails is
// the expected one.
func readAll(dir string, tags []string, stage string) error {
	m, err := Read(dir, ReadOptions{Tags: tags})
	if err != nil || stage == "read" {
		return err
	}
	b, err := m.OpenVariables(BundleOptions{})
	if err != nil || stage == "open" {
		return err
	}
	defer b.Close()
	if _, err := b.Tensors(); err != nil {
		return err
	}
	return errors.New("no error")
}

func TestUnknownTagsListsAvailable(t *testing.T) {
	_, err := Read(fixture(t, "half-plus-two-tf1"), ReadOptions{Tags: []string{"train"}})
	require.ErrorIs(t, err, ErrTags)
	assert.Contains(t, err.Error(), "{train}")
	assert.Contains(t, err.Error(), "available tag sets: {serve}")
}

func TestUnknownSignature(t *testing.T) {
	m, err := Read(fixture(t, "half-plus-two-tf1"), ReadOptions{})
	require.NoError(t, err)
	_, err = m.Signature("nope")
	require.ErrorIs(t, err, ErrNotFound)
	assert.Contains(t, err.Error(), "serving_default")
	assert.Contains(t, err.Error(), ModelFilename)
}
