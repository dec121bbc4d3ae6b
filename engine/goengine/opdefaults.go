package goengine

import (
	"bufio"
	_ "embed"
	"fmt"
	"strings"
	"sync"

	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	fpb "github.com/wamuir/graft/tensorflow/core/framework/function_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	"google.golang.org/protobuf/encoding/prototext"
)

// TensorFlow's OpDefs give many attrs a default value, and a NodeDef may
// omit such an attr: TensorFlow adds the defaults when it imports a graph
// (AddDefaultAttrsToGraphDef in tensorflow/core/framework/graph_def_util.cc)
// and kernels then read every attr. The Go engine does the same before it
// compiles a graph or a function, from opdefaults.txt, the attr defaults of
// every op in libtensorflow's op registry (TF_GetAllOpList), and from
// opdefaults_extra.txt for ops newer than that library. A kernel
// therefore never guesses a default: ArgMax without output_type gives
// int64, as TensorFlow's OpDef says, not whatever the kernel assumed.
//
// opdefaults.txt is generated: TestOpDefaultsMatchTensorFlow (-tags
// tensorflow) compares it with the linked libtensorflow's registry and
// rewrites it with -update-opdefaults.

//go:embed opdefaults.txt
var opDefaultsText string

//go:embed opdefaults_extra.txt
var opDefaultsExtraText string

var (
	opDefaultsOnce sync.Once
	opDefaultsMap  map[string]map[string]*attrpb.AttrValue
	opDefaultsErr  error
)

// OpDefaults returns the default value of each attr of op that has one in
// TensorFlow's OpDef (nil when op has none or is unknown to the table).
// The map is shared: do not modify it.
func OpDefaults(op string) map[string]*attrpb.AttrValue {
	opDefaultsOnce.Do(func() { opDefaultsMap, opDefaultsErr = parseOpDefaults(opDefaultsText + "\n" + opDefaultsExtraText) })
	if opDefaultsErr != nil {
		panic(opDefaultsErr) // the embedded table is generated; a parse error is a build defect
	}
	return opDefaultsMap[op]
}

// parseOpDefaults reads lines "Op attr <AttrValue in text format>"; lines
// starting with # are comments.
func parseOpDefaults(text string) (map[string]map[string]*attrpb.AttrValue, error) {
	out := map[string]map[string]*attrpb.AttrValue{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		op, rest, ok1 := strings.Cut(s, " ")
		attr, val, ok2 := strings.Cut(rest, " ")
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("goengine: opdefaults.txt:%d: want \"Op attr value\", got %q", line, s)
		}
		var av attrpb.AttrValue
		if err := prototext.Unmarshal([]byte(val), &av); err != nil {
			return nil, fmt.Errorf("goengine: opdefaults.txt:%d: %w", line, err)
		}
		if out[op] == nil {
			out[op] = map[string]*attrpb.AttrValue{}
		}
		out[op][attr] = &av
	}
	return out, sc.Err()
}

// FormatOpDefault formats one line of opdefaults.txt.
func FormatOpDefault(op, attr string, v *attrpb.AttrValue) string {
	b, _ := prototext.MarshalOptions{}.Marshal(v)
	return op + " " + attr + " " + strings.Join(strings.Fields(string(b)), " ")
}

// withDefaults returns nodes with every attr their OpDef defaults and the
// NodeDef omits filled in. Nodes that need nothing are returned as they
// are; the others are copied (the caller's protos are never modified).
func withDefaults(nodes []*nodepb.NodeDef) (_ []*nodepb.NodeDef, changed bool) {
	var out []*nodepb.NodeDef
	for i, n := range nodes {
		defs := OpDefaults(n.GetOp())
		var add map[string]*attrpb.AttrValue
		for name, v := range defs {
			if _, ok := n.GetAttr()[name]; !ok {
				if add == nil {
					add = map[string]*attrpb.AttrValue{}
				}
				add[name] = v
			}
		}
		if add == nil {
			if out != nil {
				out[i] = n
			}
			continue
		}
		if out == nil {
			out = make([]*nodepb.NodeDef, len(nodes))
			copy(out, nodes[:i])
		}
		attrs := make(map[string]*attrpb.AttrValue, len(n.GetAttr())+len(add))
		for k, v := range n.GetAttr() {
			attrs[k] = v
		}
		for k, v := range add {
			attrs[k] = v
		}
		out[i] = &nodepb.NodeDef{Name: n.GetName(), Op: n.GetOp(), Input: n.GetInput(), Device: n.GetDevice(),
			Attr: attrs, ExperimentalDebugInfo: n.GetExperimentalDebugInfo(), ExperimentalType: n.GetExperimentalType()}
	}
	if out == nil {
		return nodes, false
	}
	return out, true
}

// functionWithDefaults is withDefaults for a function body; fd is returned
// unchanged when no node needs a default.
func functionWithDefaults(fd *fpb.FunctionDef) *fpb.FunctionDef {
	nodes, changed := withDefaults(fd.GetNodeDef())
	if !changed {
		return fd
	}
	c := &fpb.FunctionDef{Signature: fd.GetSignature(), Attr: fd.GetAttr(), ArgAttr: fd.GetArgAttr(),
		ResourceArgUniqueId: fd.GetResourceArgUniqueId(), NodeDef: nodes, Ret: fd.GetRet(), ControlRet: fd.GetControlRet()}
	return c
}
