package tfseg_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	typespb "github.com/wamuir/graft/tensorflow/core/framework/types_go_proto"
	pb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/dataset"
	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/npy"
	"github.com/tfseg/tfseg/savedmodel"
	"github.com/tfseg/tfseg/tfops"
)

// This file is the table of malformed inputs: truncated files, flipped
// bytes, lying shapes, wrong dtypes and missing signatures, given to the
// readers (npy, dataset, savedmodel), to tfseg.Load and Model.Run, and to
// the tfseg command (built once per test run). Every row expects its own
// error: the sentinel it wraps (package rows) or the exit status (command
// rows), and the text that names what is wrong. No row may panic, and no
// row may leave a file behind: the directory holds after the call exactly
// what the row's setup wrote.

// rbCase is one malformed input.
type rbCase struct {
	name string
	// setup writes the inputs into dir.
	setup func(t *testing.T, dir string)
	// call runs a package function on them (package rows).
	call func(dir string) error
	// args are the tfseg command's arguments (command rows).
	args func(dir string) []string
	// is is the sentinel the error of a package row wraps.
	is error
	// exit is the exit status of a command row.
	exit int
	// want are substrings of the error (package rows) or of stderr
	// (command rows); "{dir}" stands for the row's directory.
	want []string
	// maxAlloc, when set, bounds the bytes the call may allocate: the
	// input claims far more, which must be refused before allocation.
	maxAlloc uint64
}

func TestMalformedInputs(t *testing.T) {
	cases := rbCases()
	require.GreaterOrEqual(t, len(cases), 40)
	bin := rbBinary(t, t.TempDir())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			before := rbListing(t, dir)
			var msg string
			switch {
			case tc.call != nil:
				var ms0, ms1 runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&ms0)
				err := rbNoPanic(t, func() error { return tc.call(dir) })
				runtime.ReadMemStats(&ms1)
				require.Error(t, err)
				require.ErrorIs(t, err, tc.is)
				msg = err.Error()
				if tc.maxAlloc > 0 {
					require.Less(t, ms1.TotalAlloc-ms0.TotalAlloc, tc.maxAlloc, "allocated before refusing: %v", err)
				}
			default:
				cmd := exec.Command(bin, tc.args(dir)...)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				code := 0
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
				} else {
					require.NoError(t, err)
				}
				msg = stderr.String()
				require.Equal(t, tc.exit, code, "exit status; stderr:\n%s", msg)
				require.NotContains(t, msg, "panic")
				require.NotContains(t, msg, "internal error")
			}
			t.Logf("error: %s", strings.TrimSpace(msg))
			for _, w := range tc.want {
				require.Contains(t, msg, strings.ReplaceAll(w, "{dir}", dir))
			}
			require.Equal(t, before, rbListing(t, dir), "files left behind")
		})
	}
}

// rbNoPanic calls f and fails the test if it panics.
func rbNoPanic(t *testing.T, f func() error) (err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic: %v", r)
		}
	}()
	return f()
}

// rbListing lists every file and directory under dir with its size.
func rbListing(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, fmt.Sprintf("%s %v %d", rel, d.IsDir(), info.Size()))
		return nil
	}))
	sort.Strings(out)
	return out
}

// rbBinary builds cmd/tfseg into dir.
func rbBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "tfseg")
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/tfseg").CombinedOutput()
	require.NoError(t, err, "go build ./cmd/tfseg:\n%s", out)
	return bin
}

// rbWrite writes data to dir/name, creating parent directories.
func rbWrite(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, data, 0o644))
}

// rbNpy is a valid .npy file of t.
func rbNpy(t *testing.T, x *tfops.Tensor) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, npy.Write(&b, x))
	return b.Bytes()
}

// rbNpyRaw is a version 1.0 .npy file with the given header fields and
// data, whatever they say.
func rbNpyRaw(descr, shape string, data []byte) []byte {
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
	for (10+len(dict)+1)%64 != 0 {
		dict += " "
	}
	dict += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(dict)), byte(len(dict)>>8))
	b = append(b, dict...)
	return append(b, data...)
}

// rbPNG is a 6x5 grey PNG of a small disc (0/255).
func rbPNG(t *testing.T, colour bool) []byte {
	t.Helper()
	var m image.Image
	g := image.NewGray(image.Rect(0, 0, 6, 5))
	c := image.NewNRGBA(image.Rect(0, 0, 6, 5))
	for y := 0; y < 5; y++ {
		for x := 0; x < 6; x++ {
			if (x-3)*(x-3)+(y-2)*(y-2) <= 4 {
				g.SetGray(x, y, color.Gray{255})
				c.SetNRGBA(x, y, color.NRGBA{255, 0, 0, 255})
			} else {
				c.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 255})
			}
		}
	}
	m = g
	if colour {
		m = c
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, m))
	return b.Bytes()
}

// rbPNGHeader is a PNG signature and an IHDR chunk claiming w x h grey
// pixels, with a valid CRC, and nothing else.
func rbPNGHeader(w, h uint32) []byte {
	chunk := []byte("IHDR")
	chunk = binary.BigEndian.AppendUint32(chunk, w)
	chunk = binary.BigEndian.AppendUint32(chunk, h)
	chunk = append(chunk, 8, 0, 0, 0, 0)
	b := []byte("\x89PNG\r\n\x1a\n")
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, chunk...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(chunk))
}

// flip returns a copy of b with byte i inverted.
func flip(b []byte, i int) []byte {
	c := append([]byte{}, b...)
	c[i] ^= 0xff
	return c
}

// rbModel writes dir/model: y = a·x + b with variables a = 0.5, b = 2,
// float32 x of shape (?), signature serving_default.
func rbModel(t *testing.T, dir string) {
	t.Helper()
	s := tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(-1))
	a := savedmodel.VarHandleOp(s, "a", tfops.Float, tfops.ScalarShape())
	b := savedmodel.VarHandleOp(s, "b", tfops.Float, tfops.ScalarShape())
	ax := tfops.Mul(s, savedmodel.ReadVariableOp(s, a, tfops.Float, tfops.ScalarShape()), x)
	y := tfops.Identity(s.WithOpName("y"), tfops.AddV2(s, ax, savedmodel.ReadVariableOp(s, b, tfops.Float, tfops.ScalarShape())))
	gd, err := s.Finalize()
	require.NoError(t, err)
	require.NoError(t, savedmodel.Write(filepath.Join(dir, "model"), &savedmodel.Export{
		Graph: gd,
		Signatures: map[string]savedmodel.Signature{"serving_default": {
			Inputs:  map[string]savedmodel.TensorInfo{"x": {Name: x.Name(), DType: tfops.Float, Shape: tfops.MakeShape(-1)}},
			Outputs: map[string]savedmodel.TensorInfo{"y": {Name: y.Name(), DType: tfops.Float, Shape: tfops.MakeShape(-1)}},
		}},
		Variables: map[string]*tfops.Tensor{"a": tfops.FromScalar(float32(0.5)), "b": tfops.FromScalar(float32(2))},
	}))
}

// rbModelFile paths inside dir/model.
func rbModelFile(dir, name string) string {
	switch name {
	case "pb":
		return filepath.Join(dir, "model", savedmodel.ModelFilename)
	case "index":
		return savedmodel.IndexFilename(filepath.Join(dir, "model", "variables", "variables"))
	case "data":
		return savedmodel.DataFilename(filepath.Join(dir, "model", "variables", "variables"), 0, 1)
	}
	panic(name)
}

// rbDamage rewrites dir/model's file (pb, index or data) with f applied.
func rbDamage(t *testing.T, dir, file string, f func([]byte) []byte) {
	t.Helper()
	p := rbModelFile(dir, file)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, f(b), 0o644))
}

// rbTable is an independent writer of the LevelDB table format
// TensorFlow's tensor bundle index uses (one uncompressed data block, a
// restart at every entry, an empty metaindex block): entries must be
// sorted by key.
func rbTable(entries [][2][]byte) []byte {
	var out []byte
	crc := crc32.MakeTable(crc32.Castagnoli)
	block := func(kvs [][2][]byte) []byte {
		var b []byte
		var restarts []uint32
		for _, kv := range kvs {
			restarts = append(restarts, uint32(len(b)))
			b = binary.AppendUvarint(b, 0)
			b = binary.AppendUvarint(b, uint64(len(kv[0])))
			b = binary.AppendUvarint(b, uint64(len(kv[1])))
			b = append(append(b, kv[0]...), kv[1]...)
		}
		if len(restarts) == 0 {
			restarts = []uint32{0}
		}
		for _, r := range restarts {
			b = binary.LittleEndian.AppendUint32(b, r)
		}
		return binary.LittleEndian.AppendUint32(b, uint32(len(restarts)))
	}
	write := func(contents []byte) []byte { // returns the block handle
		h := binary.AppendUvarint(binary.AppendUvarint(nil, uint64(len(out))), uint64(len(contents)))
		c := crc32.Update(crc32.Checksum(contents, crc), crc, []byte{0})
		out = append(append(out, contents...), 0)
		out = binary.LittleEndian.AppendUint32(out, ((c>>15)|(c<<17))+0xa282ead8)
		return h
	}
	data := write(block(entries))
	meta := write(block(nil))
	index := write(block([][2][]byte{{entries[len(entries)-1][0], data}}))
	footer := append(append([]byte{}, meta...), index...)
	footer = append(footer, make([]byte, 40-len(footer))...)
	return binary.LittleEndian.AppendUint64(append(out, footer...), 0xdb4775248b80fb57)
}

// rbClaim2GiB replaces dir/model's variables index by one whose entry for
// "a" claims a float32 tensor of 2 GiB (shape [536870912], size 2^31) at
// offset 0 of the data shard; "b" is left as it was.
func rbClaim2GiB(t *testing.T, dir string) {
	t.Helper()
	b, err := savedmodel.OpenBundle(filepath.Join(dir, "model", "variables", "variables"), savedmodel.BundleOptions{})
	require.NoError(t, err)
	eb, err := b.Entry("b")
	require.NoError(t, err)
	require.NoError(t, b.Close())
	enc := func(m proto.Message) []byte {
		out, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		require.NoError(t, err)
		return out
	}
	ea := &pb.BundleEntryProto{Dtype: typespb.DataType_DT_FLOAT, Shape: tfops.MakeShape(1 << 29).Proto(), Size: 1 << 31}
	index := rbTable([][2][]byte{
		{[]byte(""), enc(&pb.BundleHeaderProto{NumShards: 1})},
		{[]byte("a"), enc(ea)},
		{[]byte("b"), enc(eb)},
	})
	require.NoError(t, os.WriteFile(rbModelFile(dir, "index"), index, 0o644))
}

// rbLoadRun loads dir/model and runs it on x = [1, 2, 3].
func rbLoadRun(dir string, opts ...tfseg.Option) error {
	m, err := tfseg.Load(filepath.Join(dir, "model"), opts...)
	if err != nil {
		return err
	}
	defer m.Close()
	_, err = m.Run(context.Background(), "serving_default", map[string]*tfops.Tensor{"x": tfops.MustFromSlice([]float32{1, 2, 3}, 3)})
	return err
}

// rbRun runs signature key of dir/model on inputs.
func rbRun(dir, key string, inputs map[string]*tfops.Tensor) error {
	m, err := tfseg.Load(filepath.Join(dir, "model"))
	if err != nil {
		return err
	}
	defer m.Close()
	_, err = m.Run(context.Background(), key, inputs)
	return err
}

func rbCases() []rbCase {
	f32 := func(v ...float32) *tfops.Tensor { return tfops.MustFromSlice(v, len(v)) }
	goodNpy := func(t *testing.T) []byte { return rbNpy(t, f32(1, 2, 3, 4)) }
	readNpy := func(dir string) error {
		_, err := npy.ReadFile(filepath.Join(dir, "x.npy"), npy.Options{})
		return err
	}
	readMask := func(name string) func(dir string) error {
		return func(dir string) error {
			_, err := dataset.ReadMask(filepath.Join(dir, name), dataset.MaskOptions{})
			return err
		}
	}
	readImage := func(name string) func(dir string) error {
		return func(dir string) error {
			_, err := dataset.ReadImage(filepath.Join(dir, name), dataset.ImageOptions{})
			return err
		}
	}
	model := func(damage func(t *testing.T, dir string)) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			rbModel(t, dir)
			if damage != nil {
				damage(t, dir)
			}
		}
	}
	load := func(dir string) error { return rbLoadRun(dir) }
	file := func(name string, data func(t *testing.T) []byte) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) { rbWrite(t, dir, name, data(t)) }
	}
	raw := func(b []byte) func(t *testing.T) []byte { return func(*testing.T) []byte { return b } }
	// Losses on the command line: y_true and y_pred (2, 4, 4, 1).
	lossInputs := func(yPred []byte) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			rbWrite(t, dir, "t.npy", rbNpy(t, tfops.MustFromSlice(make([]float32, 32), 2, 4, 4, 1)))
			if yPred == nil {
				yPred = rbNpy(t, tfops.MustFromSlice(make([]float32, 32), 2, 4, 4, 1))
			}
			rbWrite(t, dir, "p.npy", yPred)
		}
	}
	runArgs := func(extra ...string) func(dir string) []string {
		return func(dir string) []string {
			return append([]string{"run", filepath.Join(dir, "model"), "--in", "x=" + filepath.Join(dir, "x.npy"),
				"--out", filepath.Join(dir, "out")}, extra...)
		}
	}
	withX := func(x func(t *testing.T) []byte, damage func(t *testing.T, dir string)) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			model(damage)(t, dir)
			rbWrite(t, dir, "x.npy", x(t))
		}
	}
	pbTruncate := func(t *testing.T, dir string) { rbDamage(t, dir, "pb", func(b []byte) []byte { return b[:len(b)/2] }) }
	return []rbCase{
		// .npy
		{name: "npy/empty file", setup: file("x.npy", raw(nil)), call: readNpy, is: npy.ErrFormat,
			want: []string{"too short for a header"}},
		{name: "npy/flipped magic", setup: file("x.npy", func(t *testing.T) []byte { return flip(goodNpy(t), 1) }), call: readNpy,
			is: npy.ErrFormat, want: []string{"bad magic"}},
		{name: "npy/truncated header", setup: file("x.npy", func(t *testing.T) []byte { return goodNpy(t)[:40] }), call: readNpy,
			is: npy.ErrFormat, want: []string{"truncated header (118 bytes announced)"}},
		{name: "npy/truncated data", setup: file("x.npy", func(t *testing.T) []byte { b := goodNpy(t); return b[:len(b)-1] }), call: readNpy,
			is: npy.ErrFormat, want: []string{"data truncated: shape [4] of float32 needs 16 bytes"}},
		{name: "npy/lying shape", setup: file("x.npy", raw(rbNpyRaw("<f4", "(100, 100)", make([]byte, 16)))), call: readNpy,
			is: npy.ErrFormat, want: []string{"shape [100 100] of float32 needs 40000 bytes"}},
		{name: "npy/16 bytes claiming 1 GiB", setup: file("x.npy", raw(rbNpyRaw("<f4", "(16384, 16384)", make([]byte, 16)))), call: readNpy,
			is: npy.ErrFormat, want: []string{"needs 1073741824 bytes"}, maxAlloc: 64 << 20},
		{name: "npy/shape beyond the limit", setup: file("x.npy", raw(rbNpyRaw("<f4", "(65536, 65536)", nil))), call: readNpy,
			is: tfops.ErrTooBig, want: []string{"[65536 65536]", "limit 1073741824 bytes"}, maxAlloc: 64 << 20},
		{name: "npy/negative dimension", setup: file("x.npy", raw(rbNpyRaw("<f4", "(-1, 4)", make([]byte, 16)))), call: readNpy,
			is: npy.ErrFormat, want: []string{"negative dimension in shape [-1 4]"}},
		{name: "npy/complex dtype", setup: file("x.npy", raw(rbNpyRaw("<c8", "(2,)", make([]byte, 16)))), call: readNpy,
			is: npy.ErrUnsupported, want: []string{`dtype "<c8" (supported: float32/64, (u)int8-64, bool)`}},
		{name: "npy/object dtype", setup: file("x.npy", raw(rbNpyRaw("|O", "(2,)", make([]byte, 16)))), call: readNpy,
			is: npy.ErrUnsupported, want: []string{`dtype "|O"`}},
		{name: "npy/bool byte 7", setup: file("x.npy", raw(rbNpyRaw("|b1", "(2,)", []byte{1, 7}))), call: readNpy,
			is: npy.ErrFormat, want: []string{"bool element 1 holds byte 7"}},
		{name: "npy/garbage header dict", setup: file("x.npy", raw([]byte("\x93NUMPY\x01\x00\x10\x00{'descr': 3}   \n"))), call: readNpy,
			is: npy.ErrFormat, want: []string{"malformed header dictionary"}},

		// PNG, JPEG and .npy masks and images
		{name: "mask/truncated PNG", setup: file("m.png", func(t *testing.T) []byte { return rbPNG(t, false)[:30] }), call: readMask("m.png"),
			is: dataset.ErrFormat, want: []string{"mask {dir}/m.png: dataset: unreadable file: unexpected EOF"}},
		{name: "mask/PNG flipped byte in IDAT", setup: file("m.png", func(t *testing.T) []byte { b := rbPNG(t, false); return flip(b, len(b)-20) }),
			call: readMask("m.png"), is: dataset.ErrFormat, want: []string{"mask {dir}/m.png", "png: invalid format: zlib: invalid checksum"}},
		{name: "image/PNG claims 100000x100000", setup: file("i.png", raw(rbPNGHeader(100000, 100000))), call: readImage("i.png"),
			is: dataset.ErrImage, want: []string{"image {dir}/i.png", "100000x100000 pixels (limit 67108864 pixels)"}, maxAlloc: 64 << 20},
		{name: "mask/colour PNG", setup: file("m.png", func(t *testing.T) []byte { return rbPNG(t, true) }), call: readMask("m.png"),
			is: dataset.ErrMask, want: []string{"colour pixel (255,0,0) at x=3 y=0; want a grey or paletted mask"}},
		{name: "mask/text named .png", setup: file("m.png", raw([]byte("this is not an image\n"))), call: readMask("m.png"),
			is: dataset.ErrFormat, want: []string{"not a PNG or JPEG file"}},
		{name: "mask/truncated JPEG", setup: file("m.jpg", raw([]byte("\xff\xd8\xff\xe0\x00\x10JFIF"))), call: readMask("m.jpg"),
			is: dataset.ErrFormat, want: []string{"mask {dir}/m.jpg: dataset: unreadable file: unexpected EOF"}},
		{name: "mask/unknown extension", setup: file("m.bmp", raw([]byte("BM"))), call: readMask("m.bmp"),
			is: dataset.ErrFormat, want: []string{`unknown extension ".bmp"`}},
		{name: "mask/npy fractional labels", setup: file("m.npy", func(t *testing.T) []byte {
			return rbNpy(t, tfops.MustFromSlice([]float32{0, 1, 0.5, 1}, 2, 2))
		}), call: readMask("m.npy"), is: dataset.ErrMask, want: []string{"value 0.5 at flat index 2 is not a class index"}},
		{name: "mask/npy negative labels", setup: file("m.npy", func(t *testing.T) []byte {
			return rbNpy(t, tfops.MustFromSlice([]int32{0, -3, 1, 1}, 2, 2))
		}), call: readMask("m.npy"), is: dataset.ErrMask, want: []string{"value -3 at flat index 1"}},
		{name: "mask/npy wrong rank", setup: file("m.npy", func(t *testing.T) []byte {
			return rbNpy(t, tfops.MustFromSlice(make([]uint8, 24), 2, 3, 4))
		}), call: readMask("m.npy"), is: dataset.ErrMask, want: []string{".npy array of shape [2 3 4]"}},
		{name: "mask/npy empty", setup: file("m.npy", func(t *testing.T) []byte {
			return rbNpy(t, tfops.MustFromSlice([]uint8{}, 0, 5))
		}), call: readMask("m.npy"), is: dataset.ErrMask, want: []string{"empty .npy array of shape [0 5]"}},
		{name: "image/npy five channels", setup: file("i.npy", func(t *testing.T) []byte {
			return rbNpy(t, tfops.MustFromSlice(make([]float32, 20), 2, 2, 5))
		}), call: readImage("i.npy"), is: dataset.ErrImage, want: []string{"image {dir}/i.npy", "1 to 4 channels"}},
		{name: "image/npy complex dtype", setup: file("i.npy", raw(rbNpyRaw("<c16", "(2, 2)", make([]byte, 64)))),
			call: readImage("i.npy"), is: dataset.ErrFormat, want: []string{"image {dir}/i.npy", "c16"}},
		{name: "image/PNG flipped IHDR", setup: file("i.png", func(t *testing.T) []byte { return flip(rbPNG(t, false), 17) }),
			call: readImage("i.png"), is: dataset.ErrFormat, want: []string{"image {dir}/i.png", "png: invalid format"}},

		// SavedModels: saved_model.pb, variables index and data, signatures
		{name: "model/saved_model.pb missing", setup: model(func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(rbModelFile(dir, "pb")))
		}), call: load, is: fs.ErrNotExist, want: []string{"saved_model.pb"}},
		{name: "model/saved_model.pb truncated", setup: model(pbTruncate), call: load, is: savedmodel.ErrFormat,
			want: []string{"{dir}/model/saved_model.pb: savedmodel: malformed file: not a SavedModel protobuf"}},
		{name: "model/saved_model.pb garbage", setup: model(func(t *testing.T, dir string) {
			rbDamage(t, dir, "pb", func(b []byte) []byte { return bytes.Repeat([]byte{0xff}, 64) })
		}), call: load, is: savedmodel.ErrFormat, want: []string{"{dir}/model/saved_model.pb: savedmodel: malformed file: not a SavedModel protobuf"}},
		{name: "model/saved_model.pb empty", setup: model(func(t *testing.T, dir string) {
			rbDamage(t, dir, "pb", func([]byte) []byte { return nil })
		}), call: load, is: savedmodel.ErrTags, want: []string{"{serve}", "the SavedModel holds no MetaGraphDef"}},
		{name: "model/wrong tags", setup: model(nil), call: func(dir string) error { return rbLoadRun(dir, tfseg.WithTags("train")) },
			is: savedmodel.ErrTags, want: []string{"train"}},
		{name: "model/index truncated", setup: model(func(t *testing.T, dir string) {
			rbDamage(t, dir, "index", func(b []byte) []byte { return b[:len(b)-10] })
		}), call: load, is: savedmodel.ErrFormat, want: []string{"cannot load SavedModel {dir}/model: the variables cannot be restored", "{dir}/model/variables/variables.index: bad table magic"}},
		{name: "model/index flipped byte", setup: model(func(t *testing.T, dir string) {
			rbDamage(t, dir, "index", func(b []byte) []byte { return flip(b, 3) })
		}), call: load, is: savedmodel.ErrChecksum, want: []string{"{dir}/model/variables/variables.index: block at offset 0 (49 bytes): crc32c"}},
		{name: "model/data truncated", setup: model(func(t *testing.T, dir string) {
			rbDamage(t, dir, "data", func(b []byte) []byte { return b[:len(b)-1] })
		}), call: load, is: savedmodel.ErrFormat, want: []string{`variables.data-00000-of-00001: tensor "b" at [4, +4) lies beyond the end of the 7-byte file`}},
		{name: "model/data flipped byte", setup: model(func(t *testing.T, dir string) {
			rbDamage(t, dir, "data", func(b []byte) []byte { return flip(b, 0) })
		}), call: load, is: savedmodel.ErrChecksum, want: []string{`variables.data-00000-of-00001: tensor "a" (float32[] at offset 0): savedmodel: checksum mismatch`}},
		{name: "model/data missing", setup: model(func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(rbModelFile(dir, "data")))
		}), call: load, is: fs.ErrNotExist, want: []string{"open bundle data: open {dir}/model/variables/variables.data-00000-of-00001"}},
		{name: "model/checkpoint claims 2 GiB", setup: model(rbClaim2GiB), call: load, is: savedmodel.ErrFormat,
			want: []string{`tensor "a" at [0, +2147483648) lies beyond the end`}, maxAlloc: 64 << 20},
		{name: "model/checkpoint claims 2 GiB, sparse 2 GiB shard, 1 GiB limit", setup: model(func(t *testing.T, dir string) {
			rbClaim2GiB(t, dir)
			require.NoError(t, os.Truncate(rbModelFile(dir, "data"), 1<<31+64))
		}), call: func(dir string) error {
			return rbLoadRun(dir, tfseg.WithLimits(engine.Limits{MaxTensorBytes: 1 << 30}))
		}, is: savedmodel.ErrTooBig, want: []string{`tensor "a"`, "2147483648", "limit 1073741824"}, maxAlloc: 64 << 20},
		{name: "run/missing signature", setup: model(nil), call: func(dir string) error {
			return rbRun(dir, "predict", map[string]*tfops.Tensor{"x": f32(1)})
		}, is: tfseg.ErrSignature, want: []string{`"predict"`, "the model has: serving_default"}},
		{name: "run/wrong dtype", setup: model(nil), call: func(dir string) error {
			return rbRun(dir, "serving_default", map[string]*tfops.Tensor{"x": tfops.MustFromSlice([]int32{1}, 1)})
		}, is: tfseg.ErrInput, want: []string{`input "x" must be float32, got int32`}},
		{name: "run/lying shape", setup: model(nil), call: func(dir string) error {
			return rbRun(dir, "serving_default", map[string]*tfops.Tensor{"x": tfops.MustFromSlice([]float32{1, 2}, 1, 2)})
		}, is: tfseg.ErrInput, want: []string{`input "x" must have shape (?,), got (1, 2)`}},
		{name: "run/signature names no tensor", setup: model(func(t *testing.T, dir string) {
			rbDamage(t, dir, "pb", func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("y:0"), []byte("q:0")) })
		}), call: load, is: engine.ErrUnknownNode, want: []string{`signature "serving_default"`, `fetch "q:0": no node "q" in the graph`}},

		// The command line: exit 1 for bad input, 2 for usage; no output left behind.
		{name: "cmd/run truncated input", setup: withX(func(t *testing.T) []byte { b := goodNpy(t); return b[:len(b)-3] }, nil),
			args: runArgs(), exit: 1, want: []string{"tfseg run:", "data truncated"}},
		{name: "cmd/run wrong dtype input (int32; float64 is rounded to float32 with a note)", setup: withX(func(t *testing.T) []byte { return rbNpy(t, tfops.MustFromSlice([]int32{1}, 1)) }, nil),
			args: runArgs(), exit: 1, want: []string{`input "x" must be float32, got int32`}},
		{name: "cmd/run missing signature", setup: withX(goodNpy, nil), args: runArgs("--signature", "nope"), exit: 1,
			want: []string{`unknown signature "nope"`}},
		{name: "cmd/run truncated saved_model.pb", setup: withX(goodNpy, pbTruncate), args: runArgs(), exit: 1,
			want: []string{"{dir}/model/saved_model.pb: savedmodel: malformed file: not a SavedModel protobuf"}},
		{name: "cmd/run flipped variables data", setup: withX(goodNpy, func(t *testing.T, dir string) {
			rbDamage(t, dir, "data", func(b []byte) []byte { return flip(b, 2) })
		}), args: runArgs(), exit: 1, want: []string{`variables.data-00000-of-00001: tensor "a" (float32[] at offset 0): savedmodel: checksum mismatch`}},
		{name: "cmd/run checkpoint claims 2 GiB", setup: withX(goodNpy, rbClaim2GiB), args: runArgs(), exit: 1,
			want: []string{`tensor "a" at [0, +2147483648) lies beyond the end`}},
		{name: "cmd/run without --out", setup: withX(goodNpy, nil), args: func(dir string) []string {
			return []string{"run", filepath.Join(dir, "model"), "--in", "x=" + filepath.Join(dir, "x.npy")}
		}, exit: 2, want: []string{"run needs --out DIR"}},
		{name: "cmd/loss truncated y_pred", setup: lossInputs([]byte("\x93NUMPY\x01\x00")), args: func(dir string) []string {
			return []string{"loss", "keras_bce", "--y-true", filepath.Join(dir, "t.npy"), "--y-pred", filepath.Join(dir, "p.npy"), "--out", filepath.Join(dir, "r.npy")}
		}, exit: 1, want: []string{"{dir}/p.npy: npy: invalid file: too short for a header"}},
		{name: "cmd/loss mismatched shapes", setup: func(t *testing.T, dir string) {
			lossInputs(rbNpy(t, tfops.MustFromSlice(make([]float32, 12), 1, 3, 4, 1)))(t, dir)
		}, args: func(dir string) []string {
			return []string{"loss", "dice", "--y-true", filepath.Join(dir, "t.npy"), "--y-pred", filepath.Join(dir, "p.npy"), "--out", filepath.Join(dir, "r.npy")}
		}, exit: 1, want: []string{"y_true has shape (2, 4, 4, 1) but y_pred has shape (1, 3, 4, 1)"}},
		{name: "cmd/loss sample_weight of the wrong shape", setup: func(t *testing.T, dir string) {
			lossInputs(nil)(t, dir)
			rbWrite(t, dir, "s.npy", rbNpy(t, tfops.MustFromSlice(make([]float32, 32), 32)))
		}, args: func(dir string) []string {
			return []string{"loss", "keras_bce", "--y-true", filepath.Join(dir, "t.npy"), "--y-pred", filepath.Join(dir, "p.npy"),
				"--sample-weight", filepath.Join(dir, "s.npy"), "--out", filepath.Join(dir, "r.npy")}
		}, exit: 1, want: []string{"sample_weight has shape (32,), which does not broadcast against the loss values of shape (2, 4, 4)"}},
		{name: "cmd/weightmap PNG flipped byte", setup: file("m.png", func(t *testing.T) []byte { b := rbPNG(t, false); return flip(b, len(b)-20) }),
			args: func(dir string) []string {
				return []string{"weightmap", "--mask", filepath.Join(dir, "m.png"), "--out", filepath.Join(dir, "w.npy"), "--png", filepath.Join(dir, "w.png")}
			}, exit: 1, want: []string{"{dir}/m.png: png: invalid format: zlib: invalid checksum"}},
		{name: "cmd/weightmap non-binary mask", setup: file("m.npy", func(t *testing.T) []byte {
			return rbNpy(t, tfops.MustFromSlice([]float32{0, 1, 2, 1}, 2, 2))
		}), args: func(dir string) []string {
			return []string{"weightmap", "--mask", filepath.Join(dir, "m.npy"), "--out", filepath.Join(dir, "w.npy")}
		}, exit: 1, want: []string{"{dir}/m.npy: weightmap: invalid mask: value 2 at index 2"}},
		{name: "cmd/inspect flipped saved_model.pb", setup: model(func(t *testing.T, dir string) {
			rbDamage(t, dir, "pb", func(b []byte) []byte { return flip(b, 0) })
		}), args: func(dir string) []string { return []string{"inspect", filepath.Join(dir, "model")} },
			exit: 1, want: []string{"{dir}/model/saved_model.pb: savedmodel: malformed file"}},
		{name: "cmd/export unknown loss", args: func(dir string) []string {
			return []string{"export", "no_such_loss", "--out", filepath.Join(dir, "exported")}
		}, exit: 1, want: []string{`unknown loss "no_such_loss"; valid names:`}},
		{name: "cmd/export bad parameter", args: func(dir string) []string {
			return []string{"export", "focal", "--set", "gamma=banana", "--out", filepath.Join(dir, "exported")}
		}, exit: 1, want: []string{`focal: gamma="banana": want a finite number`}},
		{name: "cmd/eval corrupt model", setup: func(t *testing.T, dir string) {
			model(pbTruncate)(t, dir)
			rbWrite(t, dir, "images/a.png", rbPNG(t, false))
			rbWrite(t, dir, "masks/a.png", rbPNG(t, false))
		}, args: func(dir string) []string {
			return []string{"eval", "--model", filepath.Join(dir, "model"), "--images", filepath.Join(dir, "images"),
				"--masks", filepath.Join(dir, "masks"), "--csv", filepath.Join(dir, "r.csv"), "--json", filepath.Join(dir, "r.json")}
		}, exit: 1, want: []string{"tfseg eval: {dir}/model/saved_model.pb: savedmodel: malformed file"}},
		{name: "cmd/unknown command", args: func(string) []string { return []string{"frobnicate"} }, exit: 2,
			want: []string{`unknown command "frobnicate"`}},
	}
}
