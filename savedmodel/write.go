package savedmodel

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tfseg/tfseg/tfops"
	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	pb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
)

// Export describes a SavedModel to write: one MetaGraphDef holding a graph,
// its signatures and, optionally, variables.
type Export struct {
	// Graph is the GraphDef to export (not modified; Write works on a copy).
	Graph *graphpb.GraphDef
	// Tags of the MetaGraphDef; nil means {"serve"}.
	Tags []string
	// Signatures by key (DefaultSignatureKey for serving). A Signature's
	// Key, when set, must equal its map key. Every tensor must name a node
	// of Graph and carry a dtype.
	Signatures map[string]Signature
	// Variables holds the values to store in variables/, keyed by the name
	// of the Graph node that holds the variable: a VarHandleOp (see
	// VarHandleOp in this package) or a VariableV2, whose dtype and shape
	// attrs must match the value. Unless SaverDef is set, Write adds a
	// TF1-style save/restore subgraph and its SaverDef, so that TensorFlow's
	// loaders restore the variables; the checkpoint keys are the node names.
	Variables map[string]*tfops.Tensor
	// SaverDef, when set, is written as is: Graph must then already hold its
	// filename tensor and restore op, and Variables are stored under their
	// map keys without further checks against Graph.
	SaverDef *pb.SaverDef
	// Replace allows Write to replace an existing, non-empty directory.
	Replace bool
}

// savedModelSchemaVersion is the SavedModel.saved_model_schema_version TensorFlow writes.
const savedModelSchemaVersion = 1

// Write writes e as a SavedModel in dir: saved_model.pb and, when there are
// variables, the bundle variables/variables.{index,data-00000-of-00001}
// (an empty variables/ directory otherwise, as TensorFlow writes it).
//
// The files are written into a new temporary directory next to dir, which
// is then renamed to dir: on error nothing is left behind and an existing
// dir is untouched. dir may be absent or an empty directory; a non-empty dir
// is replaced only when e.Replace is set.
func Write(dir string, e *Export) error {
	sm, index, data, err := e.build()
	if err != nil {
		return fmt.Errorf("savedmodel: write %s: %w", dir, err)
	}
	pbBytes, err := proto.MarshalOptions{Deterministic: true}.Marshal(sm)
	if err != nil {
		return fmt.Errorf("savedmodel: write %s: %w", dir, err)
	}
	exists, err := checkTarget(dir, e.Replace)
	if err != nil {
		return err
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("savedmodel: write %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("savedmodel: write %s: %w", dir, err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("savedmodel: write %s: %w", dir, err)
	}
	files := []fileData{{ModelFilename, pbBytes}}
	if index != nil {
		prefix := filepath.Join(VariablesDirectory, VariablesFilename)
		files = append(files, fileData{DataFilename(prefix, 0, 1), data}, fileData{IndexFilename(prefix), index})
	}
	if err := os.Mkdir(filepath.Join(tmp, VariablesDirectory), 0o755); err != nil {
		return fmt.Errorf("savedmodel: write %s: %w", dir, err)
	}
	for _, f := range files {
		if err := writeFileSynced(filepath.Join(tmp, f.name), f.data); err != nil {
			return fmt.Errorf("savedmodel: write %s: %w", dir, err)
		}
	}
	if err := replaceDir(tmp, dir, exists); err != nil {
		return fmt.Errorf("savedmodel: write %s: %w", dir, err)
	}
	done = true
	return nil
}

// fileData is a file to write, by name relative to the SavedModel directory.
type fileData struct {
	name string
	data []byte
}

// checkTarget reports whether dir exists and refuses a non-empty dir unless
// replace is set.
func checkTarget(dir string, replace bool) (bool, error) {
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("savedmodel: write %s: %w", dir, err)
	}
	if !st.IsDir() {
		return false, fmt.Errorf("%w: %s exists and is not a directory", ErrExport, dir)
	}
	if !replace {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return false, fmt.Errorf("savedmodel: write %s: %w", dir, err)
		}
		if len(ents) > 0 {
			return false, fmt.Errorf("%w: %s exists and is not empty (set Export.Replace to replace it)", ErrExport, dir)
		}
	}
	return true, nil
}

// replaceDir renames tmp to dir. An existing dir is first renamed aside and
// removed only once tmp is in place; if that fails it is moved back.
func replaceDir(tmp, dir string, exists bool) error {
	if !exists {
		return os.Rename(tmp, dir)
	}
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if rerr := os.Rename(old, dir); rerr != nil {
			return errors.Join(err, fmt.Errorf("restoring the previous %s from %s: %w", dir, old, rerr))
		}
		return err
	}
	return os.RemoveAll(old)
}

// writeFileSynced creates name with data and syncs it.
func writeFileSynced(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// build validates e and returns the SavedModel proto and, when e has
// variables, the bundle's index and data bytes.
func (e *Export) build() (sm *pb.SavedModel, index, data []byte, err error) {
	if e == nil || e.Graph == nil {
		return nil, nil, nil, fmt.Errorf("%w: no graph", ErrExport)
	}
	gd := proto.Clone(e.Graph).(*graphpb.GraphDef)
	nodes := map[string]int{}
	for i, n := range gd.GetNode() {
		if n.GetName() == "" {
			return nil, nil, nil, fmt.Errorf("%w: graph node %d has no name", ErrExport, i)
		}
		if _, dup := nodes[n.GetName()]; dup {
			return nil, nil, nil, fmt.Errorf("%w: graph has two nodes named %q", ErrExport, n.GetName())
		}
		nodes[n.GetName()] = i
	}
	tags := e.Tags
	if len(tags) == 0 {
		tags = []string{ServeTag}
	}
	mg := &pb.MetaGraphDef{
		MetaInfoDef:  &pb.MetaGraphDef_MetaInfoDef{Tags: normTags(tags)},
		GraphDef:     gd,
		SignatureDef: map[string]*pb.SignatureDef{},
	}
	for _, key := range sortedKeys(e.Signatures) {
		s := e.Signatures[key]
		if s.Key != "" && s.Key != key {
			return nil, nil, nil, fmt.Errorf("%w: signature stored under %q has Key %q", ErrExport, key, s.Key)
		}
		s.Key = key
		if err := checkSignatureTensors(s, nodes); err != nil {
			return nil, nil, nil, err
		}
		sd, err := s.Proto()
		if err != nil {
			return nil, nil, nil, err
		}
		mg.SignatureDef[key] = sd
	}
	mg.SaverDef = e.SaverDef
	if e.SaverDef != nil {
		for _, n := range []string{e.SaverDef.GetFilenameTensorName(), e.SaverDef.GetRestoreOpName()} {
			node, _, _, perr := tfops.ParseTensorName(n)
			if _, ok := nodes[node]; perr != nil || !ok {
				return nil, nil, nil, fmt.Errorf("%w: SaverDef names %q, which is not a graph node", ErrExport, n)
			}
		}
	} else if len(e.Variables) > 0 {
		var vars []variableNode
		for _, name := range sortedKeys(e.Variables) {
			v, err := checkVariable(gd, nodes, name, e.Variables[name])
			if err != nil {
				return nil, nil, nil, err
			}
			vars = append(vars, v)
		}
		if mg.SaverDef, err = addSaver(gd, vars); err != nil {
			return nil, nil, nil, err
		}
	}
	if len(e.Variables) > 0 {
		if index, data, err = encodeBundle(e.Variables); err != nil {
			return nil, nil, nil, err
		}
	}
	return &pb.SavedModel{SavedModelSchemaVersion: savedModelSchemaVersion, MetaGraphs: []*pb.MetaGraphDef{mg}}, index, data, nil
}

// checkSignatureTensors checks that each tensor of s names a graph node and has a dtype.
func checkSignatureTensors(s Signature, nodes map[string]int) error {
	for _, side := range []struct {
		kind string
		m    map[string]TensorInfo
	}{{"input", s.Inputs}, {"output", s.Outputs}} {
		for _, name := range sortedKeys(side.m) {
			t := side.m[name]
			if t.DType == tfops.Invalid {
				return fmt.Errorf("%w: signature %q %s %q (%s) has no dtype", ErrExport, s.Key, side.kind, name, t.Name)
			}
			tensors := []string{t.Name}
			if t.Encoding == EncodingCOOSparse {
				tensors = append(tensors, t.SparseIndices, t.SparseDenseShape)
			}
			for _, tn := range tensors {
				node, _, ctrl, err := tfops.ParseTensorName(tn)
				if err != nil || ctrl || node == "" {
					return fmt.Errorf("%w: signature %q %s %q: %q is not a tensor name", ErrExport, s.Key, side.kind, name, tn)
				}
				if _, ok := nodes[node]; !ok {
					return fmt.Errorf("%w: signature %q %s %q: tensor %q: no node %q in the graph", ErrExport, s.Key, side.kind, name, tn, node)
				}
			}
		}
	}
	return nil
}

// checkVariable checks that name is a variable node whose dtype and shape
// admit value.
func checkVariable(gd *graphpb.GraphDef, nodes map[string]int, name string, value *tfops.Tensor) (variableNode, error) {
	if value == nil {
		return variableNode{}, fmt.Errorf("%w: variable %q has a nil value", ErrExport, name)
	}
	i, ok := nodes[name]
	if !ok {
		return variableNode{}, fmt.Errorf("%w: variable %q: no such node in the graph", ErrExport, name)
	}
	n := gd.GetNode()[i]
	v := variableNode{name: name, value: value}
	switch n.GetOp() {
	case "VarHandleOp":
		v.resource = true
	case "VariableV2", "Variable":
	default:
		return variableNode{}, fmt.Errorf("%w: variable %q is a %s node, not VarHandleOp or VariableV2", ErrExport, name, n.GetOp())
	}
	if a := n.GetAttr()["dtype"]; a == nil || tfops.DType(a.GetType()) != value.DType() {
		return variableNode{}, fmt.Errorf("%w: variable %q (%s) has dtype %v, its value is %v",
			ErrExport, name, n.GetOp(), tfops.DType(a.GetType()), value.DType())
	}
	if a := n.GetAttr()["shape"]; a != nil {
		if sh := tfops.ShapeFromProto(a.GetShape()); !sh.CompatibleWith(value.StaticShape()) {
			return variableNode{}, fmt.Errorf("%w: variable %q (%s) has shape %v, its value %v",
				ErrExport, name, n.GetOp(), sh, value.StaticShape())
		}
	}
	return v, nil
}
