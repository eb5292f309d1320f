package train

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"stride/importers/caffe"
	"stride/internal/parallel"
	"stride/tensor"
)

// TestNetGradients checks the gradient of a whole imported Caffe net (one
// of every trainable layer type, three losses) with respect to its
// parameters against finite differences: the importer's graph, the
// gradient rules and the loss layers together.
// gradStep is small enough that no ReLU, max or pooling switch falls inside
// the step for the checked elements.
var gradStep = 3e-3

func TestNetGradients(t *testing.T) {
	cn, err := caffe.Import("../testdata/train/gradnet.prototxt", caffe.Options{Phase: caffe.Train, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	pool := parallel.New(2)
	defer pool.Close()
	net, err := NewNet(cn, TrainMode, nil, pool)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	data := tensor.Zeros(tensor.Float32, 2, 3, 9, 9)
	for i := range data.F32() {
		data.F32()[i] = float32(rng.NormFloat64())
	}
	target := tensor.From([]int{2, 3}, []float32{0.2, 0.5, 0.9, 0.1, 0.7, 0.4})
	for name, v := range map[string]*tensor.Tensor{"data": data, "label": tensor.From([]int{2}, []float32{1, 4}), "target": target} {
		if err := net.Feed(name, v); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	loss := func() float64 {
		l, _, err := net.Pass(ctx, 7, false)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	net.ClearDiffs()
	if _, _, err := net.Pass(ctx, 7, true); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, p := range net.Params {
		if !p.Learnable() {
			continue
		}
		grad := append([]float32{}, p.Diff...)
		w := p.Data.F32()
		for k := 0; k < min(6, len(w)); k++ {
			i := rng.IntN(len(w))
			orig := w[i]
			h := float32(gradStep)
			w[i] = orig + h
			lp := loss()
			w[i] = orig - h
			lm := loss()
			w[i] = orig
			num := (lp - lm) / float64(2*h)
			if d := math.Abs(num - float64(grad[i])); d > 2e-2*math.Max(0.05, math.Abs(num)) {
				t.Errorf("%s element %d: gradient %.5g, numeric %.5g", p.Name(), i, grad[i], num)
			}
			checked++
		}
	}
	if checked < 40 {
		t.Errorf("only %d elements checked", checked)
	}
}
