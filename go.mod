module github.com/tfseg/tfseg

go 1.24

require github.com/wamuir/graft v0.10.0

require google.golang.org/protobuf v1.34.2 // indirect
