package train

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"stride/importers/onnx"
	"stride/runtime"
	"stride/tensor"
)

// CheckExport runs an exported ONNX model with Stride's runtime on the
// first limit test images (as the test data layer prepares them) and
// counts the images whose top-1 class equals the trainer's test net's.
func (s *Session) CheckExport(path string, limit int) (agree, total int, err error) {
	t := s.Trainer
	if len(t.Tests) == 0 {
		return 0, 0, fmt.Errorf("the net has no test phase to compare with")
	}
	net := t.Tests[0]
	score := ""
	for _, l := range net.losses {
		if !l.fed[0] {
			score = l.bottoms[0]
			break
		}
	}
	if score == "" || len(net.Data) == 0 {
		return 0, 0, fmt.Errorf("the test net has no scores to compare")
	}
	m, err := onnx.Load(path)
	if err != nil {
		return 0, 0, err
	}
	sess, err := runtime.NewSession(m.Graph)
	if err != nil {
		return 0, 0, err
	}
	defer sess.Close()
	in := m.Graph.Inputs[0]
	dynamic := in.Type.Ranked && len(in.Type.Shape) > 0 && !in.Type.Shape[0].Known()
	ctx := context.Background()
	for b := 0; total < limit; b++ {
		if err := t.feed(net, t.TestFeeds[0], b); err != nil {
			return 0, 0, err
		}
		if _, _, err := net.Pass(ctx, 0, false); err != nil {
			return 0, 0, err
		}
		x := net.feeds[net.Data[0].Tops[0]]
		want := argmaxRows(net.Value(score))
		n := min(len(want), limit-total)
		var got []int
		if dynamic {
			outs, err := sess.RunList(ctx, map[string]*tensor.Tensor{in.Name: x})
			if err != nil {
				return 0, 0, err
			}
			got = argmaxRows(outs[0])
		} else {
			per := x.Len() / x.Shape[0]
			for i := 0; i < n; i++ {
				xi := tensor.From(append([]int{1}, x.Shape[1:]...), x.F32()[i*per:(i+1)*per])
				outs, err := sess.RunList(ctx, map[string]*tensor.Tensor{in.Name: xi})
				if err != nil {
					return 0, 0, err
				}
				got = append(got, argmaxRows(outs[0])...)
			}
		}
		for i := 0; i < n; i++ {
			if got[i] == want[i] {
				agree++
			}
		}
		total += n
		if b+1 >= t.TestIters[0] && total < limit && b+1 >= (s.TestSet.N+len(want)-1)/len(want) {
			break
		}
	}
	return agree, total, nil
}

// argmaxRows returns the index of the largest value of each row (first
// axis) of t.
func argmaxRows(t *tensor.Tensor) []int {
	if t == nil || len(t.Shape) == 0 {
		return nil
	}
	n := t.Shape[0]
	per := t.Len() / max(n, 1)
	d := t.F32()
	out := make([]int, n)
	for i := 0; i < n; i++ {
		row := d[i*per : (i+1)*per]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		out[i] = best
	}
	return out
}

// WriteTestData writes an exported model with its first n test images in
// the ONNX test-data layout (dir/model.onnx, dir/test_data_set_0/input_0.pb
// and output_0.pb, the output computed by Stride's runtime), so other
// runtimes can be checked against it (see examples/bench/ort_top1.js).
func (s *Session) WriteTestData(dir, onnxPath string, n int) error {
	t := s.Trainer
	if len(t.Tests) == 0 || len(t.Tests[0].Data) == 0 {
		return fmt.Errorf("the net has no test data")
	}
	net := t.Tests[0]
	m, err := onnx.Load(onnxPath)
	if err != nil {
		return err
	}
	in := m.Graph.Inputs[0]
	if !in.Type.Ranked || len(in.Type.Shape) == 0 || in.Type.Shape[0].Known() {
		n = 1
	}
	var images []float32
	var shape []int
	for b := 0; len(images) == 0 || len(images) < n*tensor.Size(shape[1:]); b++ {
		if err := t.feed(net, t.TestFeeds[0], b); err != nil {
			return err
		}
		x := net.feeds[net.Data[0].Tops[0]]
		shape = x.Shape
		images = append(images, x.F32()...)
	}
	per := tensor.Size(shape[1:])
	x := tensor.From(append([]int{n}, shape[1:]...), images[:n*per])
	sess, err := runtime.NewSession(m.Graph)
	if err != nil {
		return err
	}
	defer sess.Close()
	outs, err := sess.RunList(context.Background(), map[string]*tensor.Tensor{in.Name: x})
	if err != nil {
		return err
	}
	set := filepath.Join(dir, "test_data_set_0")
	if err := os.MkdirAll(set, 0o755); err != nil {
		return err
	}
	raw, err := os.ReadFile(onnxPath)
	if err != nil {
		return err
	}
	if err := onnx.WriteFileAtomic(filepath.Join(dir, "model.onnx"), raw); err != nil {
		return err
	}
	if err := onnx.WriteTensorFile(filepath.Join(set, "input_0.pb"), in.Name, x); err != nil {
		return err
	}
	for i, o := range outs {
		if err := onnx.WriteTensorFile(filepath.Join(set, fmt.Sprintf("output_%d.pb", i)), m.Graph.Outputs[i].Name, o); err != nil {
			return err
		}
	}
	return nil
}
