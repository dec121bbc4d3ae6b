package savedmodel

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	pb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// File and directory names inside a SavedModel directory
// (tensorflow/cc/saved_model/constants.h).
const (
	// ModelFilename is the binary SavedModel protobuf.
	ModelFilename = "saved_model.pb"
	// ModelTextFilename is the text-format SavedModel protobuf.
	ModelTextFilename = "saved_model.pbtxt"
	// VariablesDirectory holds the variables bundle.
	VariablesDirectory = "variables"
	// VariablesFilename is the bundle prefix inside VariablesDirectory.
	VariablesFilename = "variables"
	// AssetsDirectory holds asset files.
	AssetsDirectory = "assets"
	// ServeTag is the tag of the MetaGraphDef used for serving.
	ServeTag = "serve"
	// DefaultSignatureKey is the key of the default serving signature.
	DefaultSignatureKey = "serving_default"
	// assetsCollection is where TF1 exports list their AssetFileDefs.
	assetsCollection = "saved_model_assets"
)

// maxModelFileBytes is protobuf's 2 GiB message limit.
const maxModelFileBytes = 2<<30 - 1

// ReadOptions configures Read. The zero value selects the "serve" graph.
type ReadOptions struct {
	// Tags selects the MetaGraphDef whose tag set equals these tags (order
	// and duplicates do not matter), as TensorFlow's loader does. Nil or
	// empty means {"serve"}.
	Tags []string
}

// SavedModel is a parsed SavedModel directory with one MetaGraphDef selected.
type SavedModel struct {
	// Dir is the SavedModel directory.
	Dir string
	// File is the path of the protobuf file that was read.
	File string
	// Proto is the whole file: every MetaGraphDef (do not modify).
	Proto *pb.SavedModel
	// MetaGraph is the MetaGraphDef selected by the tags (do not modify).
	MetaGraph *pb.MetaGraphDef
	// Tags are the selected MetaGraphDef's tags.
	Tags []string

	signatures map[string]Signature
}

// Read parses dir/saved_model.pb (or, when absent, dir/saved_model.pbtxt),
// selects the MetaGraphDef with the requested tags and converts its
// SignatureDefs. The variables are not read; see OpenVariables.
func Read(dir string, opts ReadOptions) (*SavedModel, error) {
	name, data, text, err := readModelFile(dir)
	if err != nil {
		return nil, err
	}
	var sm *pb.SavedModel
	if text {
		sm, err = ParseText(data)
	} else {
		sm, err = Parse(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m, err := newSavedModel(sm, opts.Tags)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m.Dir, m.File = dir, name
	return m, nil
}

// readModelFile reads saved_model.pb or saved_model.pbtxt from dir.
func readModelFile(dir string) (name string, data []byte, text bool, err error) {
	for _, c := range []struct {
		file string
		text bool
	}{{ModelFilename, false}, {ModelTextFilename, true}} {
		name = filepath.Join(dir, c.file)
		f, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", nil, false, fmt.Errorf("savedmodel: %w", err)
		}
		defer f.Close()
		data, err = io.ReadAll(io.LimitReader(f, maxModelFileBytes+1))
		if err != nil {
			return "", nil, false, fmt.Errorf("savedmodel: read %s: %w", name, err)
		}
		if len(data) > maxModelFileBytes {
			return "", nil, false, fmt.Errorf("%w: %s exceeds protobuf's 2 GiB limit", ErrTooBig, name)
		}
		return name, data, c.text, nil
	}
	return "", nil, false, fmt.Errorf("savedmodel: neither %s nor %s exists: %w",
		filepath.Join(dir, ModelFilename), filepath.Join(dir, ModelTextFilename), fs.ErrNotExist)
}

// Parse decodes the bytes of a binary saved_model.pb.
func Parse(data []byte) (*pb.SavedModel, error) {
	sm := &pb.SavedModel{}
	if err := proto.Unmarshal(data, sm); err != nil {
		return nil, fmt.Errorf("%w: not a SavedModel protobuf: %w", ErrFormat, err)
	}
	return sm, nil
}

// ParseText decodes the bytes of a text-format saved_model.pbtxt.
func ParseText(data []byte) (*pb.SavedModel, error) {
	sm := &pb.SavedModel{}
	if err := prototext.Unmarshal(data, sm); err != nil {
		return nil, fmt.Errorf("%w: not a text SavedModel protobuf: %w", ErrFormat, err)
	}
	return sm, nil
}

// newSavedModel selects the MetaGraphDef and converts its signatures.
func newSavedModel(sm *pb.SavedModel, tags []string) (*SavedModel, error) {
	mg, err := SelectMetaGraph(sm, tags)
	if err != nil {
		return nil, err
	}
	m := &SavedModel{Proto: sm, MetaGraph: mg, Tags: append([]string{}, mg.GetMetaInfoDef().GetTags()...),
		signatures: map[string]Signature{}}
	for key, sd := range mg.GetSignatureDef() {
		s, err := SignatureFromProto(key, sd)
		if err != nil {
			return nil, err
		}
		m.signatures[key] = s
	}
	return m, nil
}

// TagSets returns the tag set of every MetaGraphDef in sm, each sorted.
func TagSets(sm *pb.SavedModel) [][]string {
	var out [][]string
	for _, mg := range sm.GetMetaGraphs() {
		out = append(out, normTags(mg.GetMetaInfoDef().GetTags()))
	}
	return out
}

// normTags returns the sorted, de-duplicated tags.
func normTags(tags []string) []string {
	s := append([]string{}, tags...)
	sort.Strings(s)
	out := s[:0]
	for i, t := range s {
		if i == 0 || t != s[i-1] {
			out = append(out, t)
		}
	}
	return out
}

// SelectMetaGraph returns the MetaGraphDef whose tag set equals tags (nil
// or empty means {"serve"}). The error lists the tag sets available.
func SelectMetaGraph(sm *pb.SavedModel, tags []string) (*pb.MetaGraphDef, error) {
	if len(tags) == 0 {
		tags = []string{ServeTag}
	}
	want := strings.Join(normTags(tags), ",")
	var have []string
	for _, mg := range sm.GetMetaGraphs() {
		got := strings.Join(normTags(mg.GetMetaInfoDef().GetTags()), ",")
		if got == want {
			return mg, nil
		}
		have = append(have, "{"+got+"}")
	}
	if len(have) == 0 {
		return nil, fmt.Errorf("%w {%s}: the SavedModel holds no MetaGraphDef", ErrTags, want)
	}
	return nil, fmt.Errorf("%w {%s}; available tag sets: %s", ErrTags, want, strings.Join(have, " "))
}

// SignatureKeys returns the signature keys in sorted order.
func (m *SavedModel) SignatureKeys() []string { return sortedKeys(m.signatures) }

// Signature returns the signature stored under key; the error for an
// unknown key lists the keys there are.
func (m *SavedModel) Signature(key string) (Signature, error) {
	s, ok := m.signatures[key]
	if !ok {
		return Signature{}, fmt.Errorf("%w: %s: signature %q (have %s)", ErrNotFound, m.File, key,
			strings.Join(m.SignatureKeys(), ", "))
	}
	return s, nil
}

// Signatures returns every signature, keyed as in the MetaGraphDef.
func (m *SavedModel) Signatures() map[string]Signature {
	out := make(map[string]Signature, len(m.signatures))
	for k, v := range m.signatures {
		out[k] = v
	}
	return out
}

// Graph returns the selected MetaGraphDef's GraphDef (do not modify).
func (m *SavedModel) Graph() *graphpb.GraphDef { return m.MetaGraph.GetGraphDef() }

// SaverDef returns the selected MetaGraphDef's SaverDef, or nil (do not modify).
func (m *SavedModel) SaverDef() *pb.SaverDef { return m.MetaGraph.GetSaverDef() }

// VariablesDir returns dir/variables.
func (m *SavedModel) VariablesDir() string { return filepath.Join(m.Dir, VariablesDirectory) }

// VariablesPrefix returns the bundle prefix dir/variables/variables, the
// string TensorFlow's loader feeds to the SaverDef's filename tensor.
func (m *SavedModel) VariablesPrefix() string {
	return filepath.Join(m.Dir, VariablesDirectory, VariablesFilename)
}

// HasVariables reports whether the variables bundle's index file exists.
func (m *SavedModel) HasVariables() bool {
	_, err := os.Stat(IndexFilename(m.VariablesPrefix()))
	return err == nil
}

// OpenVariables opens the variables bundle. A SavedModel without one gives
// an error wrapping ErrNoVariables.
func (m *SavedModel) OpenVariables(opts BundleOptions) (*Bundle, error) {
	if !m.HasVariables() {
		return nil, fmt.Errorf("%w: %s does not exist", ErrNoVariables, IndexFilename(m.VariablesPrefix()))
	}
	return OpenBundle(m.VariablesPrefix(), opts)
}

// Asset is one asset file of a SavedModel.
type Asset struct {
	// Filename is the path relative to the assets directory.
	Filename string
	// Path is the file's path (dir/assets/Filename).
	Path string
	// TensorName is the graph tensor TensorFlow feeds the asset's path to,
	// or "" for a file the MetaGraphDef does not reference.
	TensorName string
}

// Assets lists the asset files: those the MetaGraphDef references (its
// asset_file_def, or for TF1 exports its saved_model_assets collection),
// then any other file under dir/assets, sorted by filename. An asset
// filename that leaves the assets directory is an error.
func (m *SavedModel) Assets() ([]Asset, error) {
	defs := append([]*pb.AssetFileDef{}, m.MetaGraph.GetAssetFileDef()...)
	if cd := m.MetaGraph.GetCollectionDef()[assetsCollection]; cd != nil {
		for i, a := range cd.GetAnyList().GetValue() {
			d := &pb.AssetFileDef{}
			if err := a.UnmarshalTo(d); err != nil {
				return nil, fmt.Errorf("%w: %s: collection %s item %d: %w", ErrFormat, m.File, assetsCollection, i, err)
			}
			defs = append(defs, d)
		}
	}
	dir := filepath.Join(m.Dir, AssetsDirectory)
	seen := map[string]int{}
	var out []Asset
	for _, d := range defs {
		fn := d.GetFilename()
		if !filepath.IsLocal(fn) {
			return nil, fmt.Errorf("%w: %s: asset filename %q is not inside %s", ErrFormat, m.File, fn, dir)
		}
		fn = filepath.Clean(fn)
		if i, ok := seen[fn]; ok {
			if out[i].TensorName == "" {
				out[i].TensorName = d.GetTensorInfo().GetName()
			}
			continue
		}
		seen[fn] = len(out)
		out = append(out, Asset{Filename: fn, Path: filepath.Join(dir, fn), TensorName: d.GetTensorInfo().GetName()})
	}
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if de.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if _, ok := seen[rel]; !ok {
			seen[rel] = len(out)
			out = append(out, Asset{Filename: rel, Path: p})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("savedmodel: list assets: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Filename < out[j].Filename })
	return out, nil
}
