package runtime_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"stride/importers/onnx"
	"stride/runtime"
	"stride/tensor"
)

// BenchmarkModels runs the models committed in testdata (batch 1) with one
// and two threads. allocs/op shows what a steady-state Run allocates.
func BenchmarkModels(b *testing.B) {
	dirs, _ := filepath.Glob("../testdata/models/torchvision/*_opset*")
	for _, dir := range dirs {
		m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
		if err != nil {
			b.Fatal(err)
		}
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", filepath.Base(dir), threads), func(b *testing.B) {
				s, err := runtime.NewSession(m.Graph, runtime.WithThreads(threads))
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				x := tensor.Zeros(tensor.Float32, 1, 3, 224, 224)
				in := map[string]*tensor.Tensor{m.Graph.Inputs[0].Name: x}
				ctx := context.Background()
				if _, err := s.RunList(ctx, in); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := s.RunList(ctx, in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
