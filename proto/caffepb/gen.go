// Package caffepb holds the Go types generated from Stride's Caffe schema
// (caffe.proto): net definitions, caffemodel weights and solver settings. It
// owns the wire and text formats only; importers/caffe translates nets to the
// op graph.
package caffepb

//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative caffe.proto
