package runtime_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"

	"stride/importers/onnx"
	"stride/runtime"
	"stride/tensor"
)

// TestConcurrentModelRuns runs a real model from several goroutines with
// different batch sizes at once (so specialised plans are built while
// others run) and requires every result to equal the serial one: kernels
// and their pre-packed weights must be safe to share.
func TestConcurrentModelRuns(t *testing.T) {
	m, err := onnx.Load(filepath.Join("..", "testdata/models/torchvision/shufflenet_v2_x0_5_opset17/model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := runtime.NewSession(m.Graph, runtime.WithThreads(2))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	name := m.Graph.Inputs[0].Name
	inputs := map[int]*tensor.Tensor{}
	want := map[int][]float32{}
	r := rand.New(rand.NewPCG(5, 6))
	for _, b := range []int{1, 2, 3} {
		x := tensor.Zeros(tensor.Float32, b, 3, 224, 224)
		for i := range x.F32() {
			x.F32()[i] = float32(r.Float64()*2 - 1)
		}
		inputs[b] = x
	}
	// Serial references from a separate Session.
	ref, err := runtime.NewSession(m.Graph, runtime.WithThreads(1))
	if err != nil {
		t.Fatal(err)
	}
	for b, x := range inputs {
		out, err := ref.RunList(context.Background(), map[string]*tensor.Tensor{name: x})
		if err != nil {
			t.Fatal(err)
		}
		want[b] = out[0].F32()
	}
	ref.Close()
	var wg sync.WaitGroup
	errs := make(chan string, 12)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2; i++ {
				b := 1 + (g+i)%3
				out, err := s.RunList(context.Background(), map[string]*tensor.Tensor{name: inputs[b]})
				if err != nil {
					errs <- err.Error()
					return
				}
				got := out[0].F32()
				for j := range got {
					if d := got[j] - want[b][j]; d > 1e-4 || d < -1e-4 {
						errs <- "batch " + string(rune('0'+b)) + ": outputs differ from the serial run"
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
