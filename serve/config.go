package serve

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ModelConfig is one served model: TensorFlow Serving's ModelConfig
// (tensorflow_serving/config/model_server_config.proto).
type ModelConfig struct {
	// Name is the model's name in URLs (/v1/models/NAME).
	Name string
	// BasePath holds the versions, one numbered subdirectory each
	// (BasePath/1, BasePath/2, ...), each a SavedModel.
	BasePath string
	// Policy picks the versions to serve (default: the latest one).
	Policy VersionPolicy
	// Labels map version labels ("stable", "canary") to versions.
	Labels map[string]int64
}

// VersionPolicy is FileSystemStoragePathSourceConfig.ServableVersionPolicy:
// serve the Latest N versions (the default, N = 1), All versions, or the
// Specific versions listed.
type VersionPolicy struct {
	// Latest, when positive, serves the newest Latest versions.
	Latest int
	// All serves every version.
	All bool
	// Specific serves exactly these versions.
	Specific []int64
}

// aspired returns the versions the policy wants out of those on disk
// (sorted ascending).
func (p VersionPolicy) aspired(onDisk []int64) []int64 {
	switch {
	case p.All:
		return onDisk
	case len(p.Specific) > 0:
		var out []int64
		for _, v := range onDisk {
			for _, w := range p.Specific {
				if v == w {
					out = append(out, v)
				}
			}
		}
		return out
	}
	n := max(p.Latest, 1)
	if len(onDisk) <= n {
		return onDisk
	}
	return onDisk[len(onDisk)-n:]
}

// BatchingOptions are TensorFlow Serving's batching parameters
// (tensorflow_serving/servables/tensorflow/session_bundle_config.proto,
// BatchingParameters): requests that arrive together are run as one batch
// of at most MaxBatchSize rows, waiting at most BatchTimeout for the batch
// to fill.
type BatchingOptions struct {
	// MaxBatchSize is the most rows (first-dimension entries) in one run
	// (default 32).
	MaxBatchSize int
	// BatchTimeout is how long a batch waits for more requests once its
	// first is queued (0: run with whatever is queued).
	BatchTimeout time.Duration
	// NumBatchThreads is the number of batches run at once (default 1).
	NumBatchThreads int
	// MaxEnqueuedBatches bounds the queue, in batches (default 64); a
	// request beyond it is refused with RESOURCE_EXHAUSTED (HTTP 429).
	MaxEnqueuedBatches int
}

func (b BatchingOptions) withDefaults() BatchingOptions {
	if b.MaxBatchSize <= 0 {
		b.MaxBatchSize = 32
	}
	if b.NumBatchThreads <= 0 {
		b.NumBatchThreads = 1
	}
	if b.MaxEnqueuedBatches <= 0 {
		b.MaxEnqueuedBatches = 64
	}
	return b
}

// ReadModelConfigFile reads a ModelServerConfig in protobuf text format,
// as TensorFlow Serving's --model_config_file takes it:
//
//	model_config_list {
//	  config {
//	    name: "unet"
//	    base_path: "/models/unet"
//	    model_platform: "tensorflow"
//	    model_version_policy { specific { versions: 1 versions: 2 } }
//	    version_labels { key: "stable" value: 1 }
//	    version_labels { key: "canary" value: 2 }
//	  }
//	}
//
// Fields tfseg does not use (logging_config, model_platform other than
// "tensorflow") are refused with an error naming them, not ignored.
func ReadModelConfigFile(path string) ([]ModelConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	root, err := parseTextProto(string(data))
	if err != nil {
		return nil, fmt.Errorf("serve: %s: %w", path, err)
	}
	cfgs, err := modelConfigs(root)
	if err != nil {
		return nil, fmt.Errorf("serve: %s: %w", path, err)
	}
	return cfgs, nil
}

func modelConfigs(root *textMessage) ([]ModelConfig, error) {
	if err := root.only("model_config_list"); err != nil {
		return nil, err
	}
	var out []ModelConfig
	seen := map[string]bool{}
	for _, list := range root.messages("model_config_list") {
		if err := list.only("config"); err != nil {
			return nil, err
		}
		for _, c := range list.messages("config") {
			if err := c.only("name", "base_path", "model_platform", "model_version_policy", "version_labels"); err != nil {
				return nil, err
			}
			mc := ModelConfig{Name: c.scalar("name"), BasePath: c.scalar("base_path")}
			if mc.Name == "" || mc.BasePath == "" {
				return nil, fmt.Errorf("config needs name and base_path")
			}
			if seen[mc.Name] {
				return nil, fmt.Errorf("model %q configured twice", mc.Name)
			}
			seen[mc.Name] = true
			if p := c.scalar("model_platform"); p != "" && p != "tensorflow" {
				return nil, fmt.Errorf("model %q: model_platform %q (tfseg serves tensorflow SavedModels)", mc.Name, p)
			}
			for _, pol := range c.messages("model_version_policy") {
				if err := pol.only("latest", "all", "specific"); err != nil {
					return nil, err
				}
				for _, l := range pol.messages("latest") {
					n, err := strconv.Atoi(l.scalar("num_versions"))
					if err != nil || n <= 0 {
						return nil, fmt.Errorf("model %q: latest { num_versions } must be a positive integer", mc.Name)
					}
					mc.Policy.Latest = n
				}
				if len(pol.messages("all")) > 0 {
					mc.Policy.All = true
				}
				for _, s := range pol.messages("specific") {
					for _, v := range s.scalars("versions") {
						n, err := strconv.ParseInt(v, 10, 64)
						if err != nil {
							return nil, fmt.Errorf("model %q: specific version %q is not an integer", mc.Name, v)
						}
						mc.Policy.Specific = append(mc.Policy.Specific, n)
					}
				}
			}
			for _, l := range c.messages("version_labels") {
				v, err := strconv.ParseInt(l.scalar("value"), 10, 64)
				if err != nil || l.scalar("key") == "" {
					return nil, fmt.Errorf("model %q: version_labels needs a key and an integer value", mc.Name)
				}
				if mc.Labels == nil {
					mc.Labels = map[string]int64{}
				}
				mc.Labels[l.scalar("key")] = v
			}
			out = append(out, mc)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no model configured (model_config_list { config { ... } })")
	}
	return out, nil
}

// ReadBatchingParametersFile reads TensorFlow Serving's
// --batching_parameters_file (BatchingParameters in text format:
// max_batch_size { value: 32 } batch_timeout_micros { value: 1000 }
// num_batch_threads { value: 4 } max_enqueued_batches { value: 100 }).
func ReadBatchingParametersFile(path string) (BatchingOptions, error) {
	var b BatchingOptions
	data, err := os.ReadFile(path)
	if err != nil {
		return b, err
	}
	root, err := parseTextProto(string(data))
	if err != nil {
		return b, fmt.Errorf("serve: %s: %w", path, err)
	}
	fields := map[string]*int64{}
	var maxBatch, timeout, threads, queued int64
	fields["max_batch_size"] = &maxBatch
	fields["batch_timeout_micros"] = &timeout
	fields["num_batch_threads"] = &threads
	fields["max_enqueued_batches"] = &queued
	for i, name := range root.names {
		dst, ok := fields[name]
		if !ok {
			continue // allowed_batch_sizes, pad_variable_length_inputs, ...: not used
		}
		m := root.values[i].msg
		if m == nil {
			return b, fmt.Errorf("serve: %s: %s must be a message { value: N }", path, name)
		}
		*dst, err = strconv.ParseInt(m.scalar("value"), 10, 64)
		if err != nil {
			return b, fmt.Errorf("serve: %s: %s { value } is not an integer", path, name)
		}
	}
	return BatchingOptions{MaxBatchSize: int(maxBatch), BatchTimeout: time.Duration(timeout) * time.Microsecond,
		NumBatchThreads: int(threads), MaxEnqueuedBatches: int(queued)}, nil
}

// textMessage is a message in protobuf text format: fields in order,
// each a scalar (its text, unquoted) or a nested message.
type textMessage struct {
	names  []string
	values []textValue
}

type textValue struct {
	scalar string
	msg    *textMessage
}

func (m *textMessage) messages(name string) []*textMessage {
	var out []*textMessage
	for i, n := range m.names {
		if n == name && m.values[i].msg != nil {
			out = append(out, m.values[i].msg)
		}
	}
	return out
}

func (m *textMessage) scalars(name string) []string {
	var out []string
	for i, n := range m.names {
		if n == name && m.values[i].msg == nil {
			out = append(out, m.values[i].scalar)
		}
	}
	return out
}

func (m *textMessage) scalar(name string) string {
	s := m.scalars(name)
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// only refuses fields other than those listed.
func (m *textMessage) only(allowed ...string) error {
	for _, n := range m.names {
		ok := false
		for _, a := range allowed {
			ok = ok || a == n
		}
		if !ok {
			return fmt.Errorf("field %q is not supported here (supported: %s)", n, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// parseTextProto parses the subset of protobuf text format that
// configuration files use: `name: scalar`, `name { ... }`, `name: { ... }`,
// `name: [a, b]`, '#' comments, single- or double-quoted strings.
func parseTextProto(s string) (*textMessage, error) {
	p := &textParser{s: s}
	m, err := p.message(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.s) {
		return nil, p.errorf("unexpected %q", p.s[p.pos])
	}
	return m, nil
}

type textParser struct {
	s   string
	pos int
}

func (p *textParser) errorf(format string, args ...any) error {
	line := 1 + strings.Count(p.s[:p.pos], "\n")
	return fmt.Errorf("text proto line %d: %s", line, fmt.Sprintf(format, args...))
}

func (p *textParser) skip() {
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == '#':
			for p.pos < len(p.s) && p.s[p.pos] != '\n' {
				p.pos++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ';':
			p.pos++
		default:
			return
		}
	}
}

func (p *textParser) ident() string {
	start := p.pos
	for p.pos < len(p.s) && (unicode.IsLetter(rune(p.s[p.pos])) || unicode.IsDigit(rune(p.s[p.pos])) || strings.ContainsRune("_.-+", rune(p.s[p.pos]))) {
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *textParser) message(depth int) (*textMessage, error) {
	if depth > 32 {
		return nil, p.errorf("messages nested too deep")
	}
	m := &textMessage{}
	for {
		p.skip()
		if p.pos >= len(p.s) || p.s[p.pos] == '}' || p.s[p.pos] == '>' {
			return m, nil
		}
		name := p.ident()
		if name == "" {
			return nil, p.errorf("expected a field name, got %q", p.s[p.pos])
		}
		p.skip()
		colon := false
		if p.pos < len(p.s) && p.s[p.pos] == ':' {
			colon = true
			p.pos++
			p.skip()
		}
		if p.pos >= len(p.s) {
			return nil, p.errorf("field %q has no value", name)
		}
		switch c := p.s[p.pos]; {
		case c == '{' || c == '<':
			closer := byte('}')
			if c == '<' {
				closer = '>'
			}
			p.pos++
			sub, err := p.message(depth + 1)
			if err != nil {
				return nil, err
			}
			if p.pos >= len(p.s) || p.s[p.pos] != closer {
				return nil, p.errorf("field %q: missing %q", name, closer)
			}
			p.pos++
			m.names = append(m.names, name)
			m.values = append(m.values, textValue{msg: sub})
		case !colon:
			return nil, p.errorf("field %q: expected ':' or '{'", name)
		case c == '[':
			p.pos++
			for {
				p.skip()
				if p.pos < len(p.s) && p.s[p.pos] == ']' {
					p.pos++
					break
				}
				v, err := p.scalar(name)
				if err != nil {
					return nil, err
				}
				m.names = append(m.names, name)
				m.values = append(m.values, textValue{scalar: v})
			}
		default:
			v, err := p.scalar(name)
			if err != nil {
				return nil, err
			}
			m.names = append(m.names, name)
			m.values = append(m.values, textValue{scalar: v})
		}
	}
}

func (p *textParser) scalar(name string) (string, error) {
	if p.pos >= len(p.s) {
		return "", p.errorf("field %q has no value", name)
	}
	if q := p.s[p.pos]; q == '"' || q == '\'' {
		end := p.pos + 1
		for end < len(p.s) && p.s[end] != q {
			if p.s[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(p.s) {
			return "", p.errorf("field %q: unterminated string", name)
		}
		raw := p.s[p.pos+1 : end]
		p.pos = end + 1
		if q == '\'' {
			raw = strings.ReplaceAll(strings.ReplaceAll(raw, `\'`, `'`), `"`, `\"`)
		}
		v, err := strconv.Unquote(`"` + raw + `"`)
		if err != nil {
			return "", p.errorf("field %q: bad string escape", name)
		}
		return v, nil
	}
	v := p.ident()
	if v == "" {
		return "", p.errorf("field %q: expected a value", name)
	}
	return v, nil
}
