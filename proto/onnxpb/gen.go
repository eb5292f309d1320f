// Package onnxpb holds the Go types generated from Stride's ONNX schema
// (onnx.proto). It owns the wire format only; importers/onnx translates it
// to and from the op graph.
package onnxpb

//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative onnx.proto
