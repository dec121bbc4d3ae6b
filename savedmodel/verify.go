package savedmodel

import (
	"fmt"
	"strings"

	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"

	"github.com/tfseg/tfseg/tfops"
)

// VerifyVariables checks, without running anything, that the variables a
// loader restores are there: the bundle exists when the restore op reads
// one, its index and every entry it holds parse, every checkpoint key the
// restore op's RestoreV2 ops read is in it, and the variables that the
// functions capture (Keras 3 exports, see CapturedVariables) can be found
// through the object graph. It returns those captured variables (what
// CapturedVariables returns; a loader restores them with
// CaptureRestoreGraph), reading the bundle's index once, and the first
// problem, wrapping ErrNoVariables, ErrFormat, ErrChecksum or ErrNotFound.
func (m *SavedModel) VerifyVariables() ([]CapturedVariable, error) {
	keys, err := m.restoreKeys()
	if err != nil {
		return nil, err
	}
	if !m.HasVariables() {
		if len(keys) > 0 {
			return nil, fmt.Errorf("%w: %s: the restore op reads %d variables (the first %q) but %s does not exist",
				ErrNoVariables, m.Dir, len(keys), keys[0], IndexFilename(m.VariablesPrefix()))
		}
		return m.CapturedVariables(nil)
	}
	b, err := m.OpenVariables(BundleOptions{})
	if err != nil {
		return nil, err
	}
	defer b.Close()
	for _, k := range b.Keys() {
		if _, err := b.Entry(k); err != nil {
			return nil, err
		}
	}
	for _, k := range keys {
		if !b.Has(k) {
			return nil, fmt.Errorf("%w: %s: the restore op reads variable %q, which the bundle %s lacks",
				ErrNotFound, m.Dir, k, b.Prefix())
		}
	}
	return m.CapturedVariables(b)
}

// restoreKeys lists the checkpoint keys that the RestoreV2 ops the restore
// op reaches (in the graph and in the functions it calls) read from their
// constant tensor_names.
func (m *SavedModel) restoreKeys() ([]string, error) {
	sd := m.SaverDef()
	if sd == nil || sd.GetRestoreOpName() == "" {
		return nil, nil
	}
	reach := m.Reachable([]string{sd.GetRestoreOpName()}, nil, nil)
	var keys []string
	scan := func(scope string, nodes []*nodepb.NodeDef, inFunction bool) error {
		byName := make(map[string]*nodepb.NodeDef, len(nodes))
		for _, n := range nodes {
			byName[n.GetName()] = n
		}
		for _, n := range nodes {
			if n.GetOp() != "RestoreV2" || len(n.GetInput()) < 2 {
				continue
			}
			if !inFunction && !reach.Nodes[n.GetName()] {
				continue
			}
			ref := n.GetInput()[1]
			name := NodeName(ref)
			if inFunction {
				name, _, _ = strings.Cut(ref, ":")
			}
			c := byName[name]
			if c == nil || c.GetOp() != "Const" {
				continue // names computed at run time: nothing to check statically
			}
			t, err := tfops.FromProto(c.GetAttr()["value"].GetTensor())
			if err != nil || t.DType() != tfops.String {
				return fmt.Errorf("%w: %s: %s node %q: tensor_names is not a string constant", ErrFormat, m.File, scope, c.GetName())
			}
			keys = append(keys, t.Strings()...)
		}
		return nil
	}
	if err := scan("graph", m.Graph().GetNode(), false); err != nil {
		return nil, err
	}
	for _, f := range m.Graph().GetLibrary().GetFunction() {
		if reach.Functions[f.GetSignature().GetName()] {
			if err := scan("function "+f.GetSignature().GetName(), f.GetNodeDef(), true); err != nil {
				return nil, err
			}
		}
	}
	return keys, nil
}
