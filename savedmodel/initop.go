package savedmodel

import "strings"

// InitOp returns the node TensorFlow's loader runs after restoring the
// variables: the output of the "__saved_model_init_op" signature (TF2),
// else the first node of collection "saved_model_main_op", else of
// "legacy_init_op" (TF1); "" when the model has none.
func (m *SavedModel) InitOp() string {
	mg := m.MetaGraph
	if sd, ok := mg.GetSignatureDef()[InitOpSignatureKey]; ok {
		if ti, ok := sd.GetOutputs()[InitOpSignatureKey]; ok && ti.GetName() != "" {
			return NodeName(ti.GetName())
		}
	}
	for _, key := range []string{"saved_model_main_op", "legacy_init_op"} {
		if nl := mg.GetCollectionDef()[key].GetNodeList().GetValue(); len(nl) > 0 {
			return NodeName(nl[0])
		}
	}
	return ""
}

// InitOpSignatureKey is the signature TF2 SavedModels use to name their
// init op; it is not a callable signature.
const InitOpSignatureKey = "__saved_model_init_op"

// NodeName returns the node of a tensor or control-input name: it strips a
// ":index" suffix and a "^" prefix ("^init", "save/Const:0" -> "save/Const").
func NodeName(s string) string {
	s = strings.TrimPrefix(s, "^")
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	return s
}
