package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

func TestDet(t *testing.T) {
	x := tensor.From([]int{2, 3, 3}, []float64{
		0, 1, 2, 1, 0, 3, 4, -3, 8, // needs a row swap; det -2
		2, 0, 0, 0, 3, 0, 0, 0, 0.5, // diagonal; det 3
	})
	y := mustRun(t, "Det", nil, 1, x)[0]
	if got := y.Data.([]float64); y.DType != tensor.Float64 || !slices.Equal(y.Shape, []int{2}) || got[0] != -2 || got[1] != 3 {
		t.Errorf("Det = %v", y)
	}
	y = mustRun(t, "Det", nil, 1, tensor.From([]int{2, 2}, []float32{1, 2, 3, 4}))[0]
	checkClose(t, "Det 2x2", y, []int{}, []float64{-2}, 1e-6)
	y = mustRun(t, "Det", nil, 1, tensor.From([]int{2, 2}, []float32{1, 2, 2, 4}))[0]
	checkClose(t, "singular", y, []int{}, []float64{0}, 0)
	if _, err := runOp("Det", nil, 1, tensor.From([]int{2, 3}, make([]float32, 6))); err == nil {
		t.Error("Det accepted a non-square matrix")
	}
}

func TestDropout(t *testing.T) {
	x := tensor.From([]int{2, 2}, []float32{1, 2, 3, 4})
	out := mustRun(t, "Dropout", nil, 2, x)
	if !slices.Equal(out[0].F32(), x.F32()) || !slices.Equal(out[1].Data.([]bool), []bool{true, true, true, true}) {
		t.Errorf("Dropout = %v, %v", out[0], out[1])
	}
	ratio, on := tensor.Scalar(float32(0.3)), tensor.Scalar(true)
	if _, err := runOp("Dropout", nil, 1, x, ratio, on); err == nil {
		t.Error("training mode with ratio 0.3 was accepted")
	}
	if _, err := runOp("Dropout", nil, 1, x, nil, on); err == nil {
		t.Error("training mode with the default ratio was accepted")
	}
	out = mustRun(t, "Dropout", nil, 1, x, tensor.Scalar(float32(0)), on)
	if !slices.Equal(out[0].F32(), x.F32()) {
		t.Error("training mode with ratio 0 changed the data")
	}
	out = mustRun(t, "Dropout", nil, 1, x, ratio, tensor.Scalar(false))
	if !slices.Equal(out[0].F32(), x.F32()) || len(out) != 1 {
		t.Error("inference Dropout changed the data")
	}
}

func infer(t *testing.T, op string, attrs map[string]*graph.Attr, in ...graph.Type) []graph.Type {
	t.Helper()
	def, _ := ops.Lookup("", op)
	n := &graph.Node{Op: op, Attrs: attrs, Outputs: []string{"y", "i"}}
	for range in {
		n.Inputs = append(n.Inputs, "x")
	}
	out, err := def.Infer(&ops.Build{Node: n, Types: in}, in)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out
}

func typ(dims ...graph.Dim) graph.Type {
	return graph.Type{DType: tensor.Float32, Shape: dims, Ranked: true}
}

func fx(n int) graph.Dim { return graph.Fixed(n) }

func TestInfer(t *testing.T) {
	batch := graph.Sym("N")
	cases := []struct {
		name string
		got  graph.Type
		want string
	}{
		{"conv", infer(t, "Conv", map[string]*graph.Attr{"strides": ints(2, 2), "pads": ints(3, 3, 3, 3)},
			typ(batch, fx(3), fx(224), fx(224)), typ(fx(64), fx(3), fx(7), fx(7)))[0], "float32[N,64,112,112]"},
		{"conv same", infer(t, "Conv", map[string]*graph.Attr{"auto_pad": graph.StringAttr("SAME_UPPER"), "strides": ints(2, 2)},
			typ(batch, fx(3), graph.Unknown, fx(15)), typ(fx(8), fx(3), fx(3), fx(3)))[0], "float32[N,8,?,8]"},
		{"convtranspose", infer(t, "ConvTranspose", map[string]*graph.Attr{"strides": ints(2, 2), "group": graph.IntAttr(2)},
			typ(batch, fx(4), fx(5), fx(5)), typ(fx(4), fx(3), fx(3), fx(3)))[0], "float32[N,6,11,11]"},
		{"maxpool", infer(t, "MaxPool", map[string]*graph.Attr{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "pads": ints(1, 1, 1, 1)},
			typ(batch, fx(64), fx(112), fx(112)))[1], "int64[N,64,56,56]"},
		{"avgpool ceil", infer(t, "AveragePool", map[string]*graph.Attr{"kernel_shape": ints(3), "strides": ints(2), "ceil_mode": graph.IntAttr(1)},
			typ(batch, fx(2), fx(6)))[0], "float32[N,2,3]"},
		{"global", infer(t, "GlobalAveragePool", nil, typ(batch, fx(2), fx(6), fx(7)))[0], "float32[N,2,1,1]"},
		{"gemm", infer(t, "Gemm", map[string]*graph.Attr{"transB": graph.IntAttr(1)}, typ(batch, fx(512)), typ(fx(10), fx(512)))[0], "float32[N,10]"},
		{"matmul", infer(t, "MatMul", nil, typ(batch, fx(1), fx(5), fx(4)), typ(fx(3), fx(4), fx(6)))[0], "float32[N,3,5,6]"},
		{"maxunpool", infer(t, "MaxUnpool", map[string]*graph.Attr{"kernel_shape": ints(2, 2), "strides": ints(2, 2)},
			typ(batch, fx(3), fx(4), graph.Unknown), graph.Type{DType: tensor.Int64, Shape: []graph.Dim{batch, fx(3), fx(4), graph.Unknown}, Ranked: true})[0], "float32[N,3,8,?]"},
		{"maxroipool", infer(t, "MaxRoiPool", map[string]*graph.Attr{"pooled_shape": ints(6, 6)},
			typ(batch, fx(256), fx(14), fx(14)), typ(graph.Sym("R"), fx(5)))[0], "float32[R,256,6,6]"},
		{"matmul 1d", infer(t, "MatMul", nil, typ(fx(4)), typ(batch, fx(4), fx(6)))[0], "float32[N,6]"},
	}
	for _, c := range cases {
		if c.got.String() != c.want {
			t.Errorf("%s: %v, want %s", c.name, c.got, c.want)
		}
	}
}

// Kernels are shared by concurrent runs: results must not depend on
// interleaving (run with -race to catch shared state).
func TestConcurrentRuns(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	cases := []struct {
		op    string
		attrs map[string]*graph.Attr
		nOut  int
		in    []*tensor.Tensor
	}{
		{"Conv", map[string]*graph.Attr{"pads": ints(1, 1, 1, 1), "group": graph.IntAttr(2)}, 1, []*tensor.Tensor{randTensor(r, 2, 4, 9, 9), randTensor(r, 6, 2, 3, 3)}},
		{"ConvTranspose", map[string]*graph.Attr{"strides": ints(2, 2)}, 1, []*tensor.Tensor{randTensor(r, 1, 3, 5, 5), randTensor(r, 3, 2, 3, 3)}},
		{"MaxPool", map[string]*graph.Attr{"kernel_shape": ints(3, 3)}, 2, []*tensor.Tensor{randTensor(r, 2, 3, 8, 8)}},
		{"LSTM", map[string]*graph.Attr{"hidden_size": graph.IntAttr(4), "direction": graph.StringAttr("bidirectional")}, 3,
			[]*tensor.Tensor{randTensor(r, 5, 2, 3), randTensor(r, 2, 16, 3), randTensor(r, 2, 16, 4)}},
		{"Einsum", map[string]*graph.Attr{"equation": graph.StringAttr("bij,bjk->bik")}, 1, []*tensor.Tensor{randTensor(r, 3, 4, 5), randTensor(r, 3, 5, 6)}},
	}
	for _, tc := range cases {
		n := &graph.Node{Op: tc.op, Attrs: tc.attrs}
		for i := range tc.in {
			n.Inputs = append(n.Inputs, fmt.Sprint("in", i))
		}
		for i := 0; i < tc.nOut; i++ {
			n.Outputs = append(n.Outputs, fmt.Sprint("out", i))
		}
		def, _ := ops.Lookup("", tc.op)
		k, err := def.Build(&ops.Build{Node: n})
		if err != nil {
			t.Fatal(err)
		}
		want, err := k.Run(testCtx(), tc.in)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := k.Run(testCtx(), tc.in)
				if err == nil && !slices.Equal(got[0].Float64s(), want[0].Float64s()) {
					err = fmt.Errorf("%s: concurrent run differs", tc.op)
				}
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}
