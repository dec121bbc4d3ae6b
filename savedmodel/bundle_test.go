package savedmodel

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golang/snappy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tfseg/tfseg/tfops"
)

func TestCRC32CAndMask(t *testing.T) {
	// Check values from RFC 3720 (iSCSI), appendix B.4, and the standard
	// CRC-32C check value of "123456789".
	assert.Equal(t, uint32(0xe3069283), crc32c([]byte("123456789")))
	assert.Equal(t, uint32(0x8a9136aa), crc32c(make([]byte, 32)))
	ones := make([]byte, 32)
	for i := range ones {
		ones[i] = 0xff
	}
	assert.Equal(t, uint32(0x62a8ab43), crc32c(ones))
	for _, c := range []uint32{0, 1, 0xe3069283, 0xffffffff, 0xa282ead8} {
		m := maskCRC(c)
		assert.NotEqual(t, c, m, "mask(%#x) must differ from the crc", c)
		assert.Equal(t, c, unmaskCRC(m), "unmask(mask(%#x))", c)
		assert.NotEqual(t, m, maskCRC(m), "masking twice must differ")
	}
	assert.Equal(t, uint32(0xa282ead8), maskCRC(0))
}

// roundTripTensors covers every dtype the bundle stores, empty and scalar
// shapes, strings (empty, long enough for a two-byte varint length, binary),
// and a tensor large enough to be the only entry of its block.
func roundTripTensors() map[string]*tfops.Tensor {
	big := make([]float32, 3000)
	for i := range big {
		big[i] = float32(math.Sin(float64(i)))
	}
	m := map[string]*tfops.Tensor{
		"f32":         tfops.MustFromSlice([]float32{1, -2.5, float32(math.Inf(1)), 3e-38}, 2, 2),
		"f64":         tfops.MustFromSlice([]float64{math.Pi, math.NaN(), math.Copysign(0, -1)}, 3),
		"i32":         tfops.MustFromSlice([]int32{math.MinInt32, 0, math.MaxInt32}, 3, 1),
		"i64":         tfops.FromScalar(int64(math.MinInt64)),
		"u8":          tfops.MustFromSlice([]uint8{0, 255}, 2),
		"i8":          tfops.MustFromSlice([]int8{-128, 127}, 2),
		"i16":         tfops.MustFromSlice([]int16{-32768, 7}, 1, 2),
		"u16":         tfops.MustFromSlice([]uint16{65535}, 1),
		"u32":         tfops.MustFromSlice([]uint32{math.MaxUint32}, 1),
		"u64":         tfops.MustFromSlice([]uint64{math.MaxUint64, 1}, 2),
		"bool":        tfops.MustFromSlice([]bool{true, false, true}, 3),
		"empty":       tfops.MustFromSlice([]float32{}, 0, 4),
		"str":         tfops.MustFromSlice([]string{"", "a", strings.Repeat("x", 300), "\x00\xff"}, 2, 2),
		"str/scalar":  tfops.FromScalar("model"),
		"str/empty":   tfops.MustFromSlice([]string{}, 0),
		"big/weights": tfops.MustFromSlice(big, 30, 100),
	}
	for i := 0; i < 200; i++ {
		// Many keys sharing prefixes: several data blocks and restart points.
		m[fmt.Sprintf("layer_%03d/kernel/.ATTRIBUTES/VARIABLE_VALUE", i)] = tfops.FromScalar(float32(i))
	}
	return m
}

func TestBundleRoundTrip(t *testing.T) {
	want := roundTripTensors()
	prefix := filepath.Join(t.TempDir(), "sub", "ckpt")
	require.NoError(t, WriteBundle(prefix, want))
	b, err := OpenBundle(prefix, BundleOptions{})
	require.NoError(t, err)
	defer b.Close()
	keys := b.Keys()
	assert.Equal(t, sortedKeys(want), keys)
	assert.EqualValues(t, 1, b.Header().GetNumShards())
	assert.EqualValues(t, bundleVersion, b.Header().GetVersion().GetProducer())
	got, err := b.Tensors()
	require.NoError(t, err)
	for k, w := range want {
		g := got[k]
		require.NotNil(t, g, k)
		assert.Equal(t, w.DType(), g.DType(), k)
		assert.Equal(t, w.Shape(), g.Shape(), k)
		// Compare bytes, so that NaN and -0 count as equal to themselves.
		if w.DType() == tfops.String {
			assert.Equal(t, w.Strings(), g.Strings(), k)
		} else {
			assert.Equal(t, tfops.EncodeContent(w), tfops.EncodeContent(g), k)
		}
	}
	// The table has several data blocks.
	index, err := os.ReadFile(IndexFilename(prefix))
	require.NoError(t, err)
	assert.Greater(t, len(index), 2*targetBlockSize)
	_, err = b.Entry("nope")
	assert.ErrorIs(t, err, ErrNotFound)
	assert.True(t, b.Has("f32"))
	assert.False(t, b.Has(""), "the header is not a tensor")
}

func TestBundleWriteRefuses(t *testing.T) {
	half, err := tfops.Zeros(tfops.Half, 2)
	require.NoError(t, err)
	for name, m := range map[string]map[string]*tfops.Tensor{
		"empty key":  {"": tfops.FromScalar(float32(1))},
		"nil tensor": {"a": nil},
		"float16":    {"h": half},
	} {
		t.Run(name, func(t *testing.T) {
			prefix := filepath.Join(t.TempDir(), "ckpt")
			err := WriteBundle(prefix, m)
			require.Error(t, err)
			assert.Contains(t, err.Error(), prefix)
			assert.NoFileExists(t, IndexFilename(prefix))
			assert.NoFileExists(t, DataFilename(prefix, 0, 1))
		})
	}
}

// TestStringLayout checks the on-disk layout of a string tensor against
// tensor_bundle.cc by hand: varint lengths, masked CRC32C of the lengths as
// uint32, then the bytes; the entry CRC covers lengths, that checksum and bytes.
func TestStringLayout(t *testing.T) {
	b, crc := encodeStrings([]string{"ab", "", "cde"})
	lens := []byte{2, 0, 3}
	var words []byte
	for _, l := range lens {
		words = binary.LittleEndian.AppendUint32(words, uint32(l))
	}
	lensCRC := crc32c(words)
	want := append(append([]byte{}, lens...), binary.LittleEndian.AppendUint32(nil, maskCRC(lensCRC))...)
	want = append(want, "abcde"...)
	assert.Equal(t, want, b)
	whole := append(append([]byte{}, words...), want[3:7]...)
	whole = append(whole, "abcde"...)
	assert.Equal(t, crc32c(whole), crc)
	strs, crc2, err := decodeStrings(b, 3)
	require.NoError(t, err)
	assert.Equal(t, []string{"ab", "", "cde"}, strs)
	assert.Equal(t, crc, crc2)
}

// snappyTable builds a table whose blocks are snappy-compressed, as
// TensorFlow's table builder does when compression is on.
func snappyTable(entries []tableEntry) []byte {
	var out []byte
	writeBlock := func(contents []byte) blockHandle {
		c := snappy.Encode(nil, contents)
		h := blockHandle{offset: uint64(len(out)), size: uint64(len(c))}
		out = append(out, c...)
		out = append(out, blockTypeSnappy)
		out = binary.LittleEndian.AppendUint32(out, maskCRC(extendCRC(crc32c(c), []byte{blockTypeSnappy})))
		return h
	}
	data := newBlockBuilder(blockRestartInterval)
	for _, e := range entries {
		data.add(e.key, e.value)
	}
	last := append([]byte{}, data.last...)
	dh := writeBlock(data.finish())
	index := newBlockBuilder(1)
	index.add(last, appendHandle(nil, dh))
	meta := writeBlock(newBlockBuilder(1).finish())
	ih := writeBlock(index.finish())
	footer := appendHandle(appendHandle(nil, meta), ih)
	footer = append(footer, make([]byte, footerLen-8-len(footer))...)
	return append(out, binary.LittleEndian.AppendUint64(footer, tableMagic)...)
}

func TestTableSnappy(t *testing.T) {
	var entries []tableEntry
	for i := 0; i < 50; i++ {
		entries = append(entries, tableEntry{[]byte(fmt.Sprintf("key/%04d", i)), []byte(strings.Repeat("v", i))})
	}
	got, err := parseTable("snappy.index", snappyTable(entries))
	require.NoError(t, err)
	require.Len(t, got, len(entries))
	for i := range entries {
		assert.Equal(t, entries[i].key, got[i].key)
		assert.Equal(t, entries[i].value, got[i].value)
	}
	// The same entries through the uncompressed writer.
	got2, err := parseTable("plain.index", buildTable(entries))
	require.NoError(t, err)
	assert.Equal(t, got, got2)
}

func TestTableEmptyAndUnsorted(t *testing.T) {
	got, err := parseTable("empty.index", buildTable(nil))
	require.NoError(t, err)
	assert.Empty(t, got)
	_, err = parseTable("unsorted.index", buildTable([]tableEntry{{[]byte("b"), nil}, {[]byte("a"), nil}}))
	assert.ErrorIs(t, err, ErrFormat)
	assert.ErrorContains(t, err, "unsorted.index")
	_, err = parseTable("dup.index", buildTable([]tableEntry{{[]byte("a"), nil}, {[]byte("a"), nil}}))
	assert.ErrorIs(t, err, ErrFormat)
}
