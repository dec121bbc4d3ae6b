package serve_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/tfseg/tfseg/baseline"
	"github.com/tfseg/tfseg/serve"
)

// Example serves tfseg's built-in baseline model as version 1 of model
// "circles" and asks for its status, as a TensorFlow Serving client would.
func Example() {
	base, err := os.MkdirTemp("", "models")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(base)
	if err := baseline.WriteModel(filepath.Join(base, "1"), baseline.DefaultCalibration); err != nil {
		log.Fatal(err)
	}
	srv, err := serve.New(serve.Options{
		Models: []serve.ModelConfig{{Name: "circles", BasePath: base}},
		Logf:   func(string, ...any) {},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()

	resp, err := http.Get(hs.URL + "/v1/models/circles")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode)
	fmt.Println(string(body))
	// Output:
	// 200
	// {
	//  "model_version_status": [
	//   {
	//    "version": "1",
	//    "state": "AVAILABLE",
	//    "status": {
	//     "error_code": "OK",
	//     "error_message": ""
	//    }
	//   }
	//  ]
	// }
}

// ExampleReadModelConfigFile reads a TensorFlow Serving model config file.
func ExampleReadModelConfigFile() {
	dir, err := os.MkdirTemp("", "config")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "models.config")
	config := `model_config_list {
  config {
    name: "unet"
    base_path: "/models/unet"
    model_platform: "tensorflow"
    model_version_policy { specific { versions: 3 versions: 4 } }
    version_labels { key: "stable" value: 3 }
    version_labels { key: "canary" value: 4 }
  }
}`
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		log.Fatal(err)
	}
	models, err := serve.ReadModelConfigFile(path)
	if err != nil {
		log.Fatal(err)
	}
	m := models[0]
	fmt.Println(m.Name, m.BasePath, m.Policy.Specific, m.Labels["stable"], m.Labels["canary"])
	// Output:
	// unet /models/unet [3 4] 3 4
}
