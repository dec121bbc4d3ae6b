package serve

import (
	"fmt"
	"os"
	"time"

	configpb "github.com/wamuir/graft/tensorflow/serving/config_go_proto"
	sbpb "github.com/wamuir/graft/tensorflow/serving/servables/tensorflow_go_proto"
	"google.golang.org/protobuf/encoding/prototext"
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
// as TensorFlow Serving's --model_config_file takes it, with the
// generated TensorFlow Serving protos of github.com/wamuir/graft and
// prototext, so the syntax accepted is protobuf's own:
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
// Fields tfseg does not implement (logging_config, custom_model_config, a
// model_platform other than "tensorflow") are refused, not ignored.
func ReadModelConfigFile(path string) ([]ModelConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var msc configpb.ModelServerConfig
	if err := prototext.Unmarshal(data, &msc); err != nil {
		return nil, fmt.Errorf("serve: %s: %w", path, err)
	}
	cfgs, err := modelConfigs(&msc)
	if err != nil {
		return nil, fmt.Errorf("serve: %s: %w", path, err)
	}
	return cfgs, nil
}

func modelConfigs(msc *configpb.ModelServerConfig) ([]ModelConfig, error) {
	if msc.GetCustomModelConfig() != nil {
		return nil, fmt.Errorf("custom_model_config is not supported (use model_config_list)")
	}
	var out []ModelConfig
	seen := map[string]bool{}
	for _, c := range msc.GetModelConfigList().GetConfig() {
		mc := ModelConfig{Name: c.GetName(), BasePath: c.GetBasePath()}
		if mc.Name == "" || mc.BasePath == "" {
			return nil, fmt.Errorf("config needs name and base_path")
		}
		if seen[mc.Name] {
			return nil, fmt.Errorf("model %q configured twice", mc.Name)
		}
		seen[mc.Name] = true
		if p := c.GetModelPlatform(); p != "" && p != "tensorflow" {
			return nil, fmt.Errorf("model %q: model_platform %q (tfseg serves tensorflow SavedModels)", mc.Name, p)
		}
		if c.GetLoggingConfig() != nil {
			return nil, fmt.Errorf("model %q: logging_config is not supported", mc.Name)
		}
		pol := c.GetModelVersionPolicy()
		switch {
		case pol.GetLatest() != nil:
			mc.Policy.Latest = int(pol.GetLatest().GetNumVersions())
		case pol.GetAll() != nil:
			mc.Policy.All = true
		case pol.GetSpecific() != nil:
			mc.Policy.Specific = pol.GetSpecific().GetVersions()
			if len(mc.Policy.Specific) == 0 {
				return nil, fmt.Errorf("model %q: model_version_policy { specific {} } lists no version", mc.Name)
			}
		}
		if labels := c.GetVersionLabels(); len(labels) > 0 {
			mc.Labels = map[string]int64{}
			for k, v := range labels {
				mc.Labels[k] = v
			}
		}
		out = append(out, mc)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no model configured (model_config_list { config { ... } })")
	}
	return out, nil
}

// ReadBatchingParametersFile reads TensorFlow Serving's
// --batching_parameters_file: BatchingParameters
// (tensorflow_serving/servables/tensorflow/session_bundle_config.proto) in
// text format, e.g. max_batch_size { value: 32 } batch_timeout_micros {
// value: 1000 } num_batch_threads { value: 4 } max_enqueued_batches {
// value: 100 }. The other fields (allowed_batch_sizes, padding, large batch
// splitting) are refused.
func ReadBatchingParametersFile(path string) (BatchingOptions, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return BatchingOptions{}, err
	}
	var bp sbpb.BatchingParameters
	if err := prototext.Unmarshal(data, &bp); err != nil {
		return BatchingOptions{}, fmt.Errorf("serve: %s: %w", path, err)
	}
	if len(bp.GetAllowedBatchSizes()) > 0 || bp.GetPadVariableLengthInputs() || bp.GetEnableLargeBatchSplitting() != nil ||
		bp.GetMaxExecutionBatchSize() != nil || bp.GetThreadPoolName() != nil {
		return BatchingOptions{}, fmt.Errorf("serve: %s: only max_batch_size, batch_timeout_micros, num_batch_threads and max_enqueued_batches are supported", path)
	}
	return BatchingOptions{
		MaxBatchSize:       int(bp.GetMaxBatchSize().GetValue()),
		BatchTimeout:       time.Duration(bp.GetBatchTimeoutMicros().GetValue()) * time.Microsecond,
		NumBatchThreads:    int(bp.GetNumBatchThreads().GetValue()),
		MaxEnqueuedBatches: int(bp.GetMaxEnqueuedBatches().GetValue()),
	}, nil
}
