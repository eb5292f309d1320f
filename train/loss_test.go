package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"stride/proto/caffepb"
	"stride/tensor"
)

// The loss layers' gradients against finite differences, and their values
// against direct formulas.

func randTensor(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.Zeros(tensor.Float32, shape...)
	for i := range t.F32() {
		t.F32()[i] = float32(rng.Float64()*4 - 2)
	}
	return t
}

func checkLossGrad(t *testing.T, name string, fn lossFunc, lp *caffepb.LayerParameter, b []*tensor.Tensor, diff []bool) {
	t.Helper()
	grads := make([][]float32, len(b))
	for i := range b {
		if diff[i] {
			grads[i] = make([]float32, b[i].Len())
		}
	}
	const w = 1.5
	if _, err := fn(lp, b, grads, w); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for i := range b {
		if !diff[i] {
			continue
		}
		x := b[i].F32()
		for j := range x {
			orig := x[j]
			const h = 1e-3
			x[j] = orig + h
			lp1, _ := fn(lp, b, nil, w)
			x[j] = orig - h
			lm, _ := fn(lp, b, nil, w)
			x[j] = orig
			num := w * (lp1 - lm) / (2 * h)
			if d := math.Abs(num - float64(grads[i][j])); d > 2e-3*math.Max(1, math.Abs(num)) {
				t.Fatalf("%s: bottom %d element %d: gradient %g, numeric %g", name, i, j, grads[i][j], num)
			}
		}
	}
}

func TestLossGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	labels := tensor.From([]int{4, 3}, []float32{0, 1, 2, 3, 4, 0, 1, 2, 4, 4, 3, 1})
	for _, norm := range []caffepb.LossParameter_NormalizationMode{caffepb.LossParameter_VALID, caffepb.LossParameter_FULL, caffepb.LossParameter_BATCH_SIZE, caffepb.LossParameter_NONE} {
		lp := &caffepb.LayerParameter{LossParam: &caffepb.LossParameter{Normalization: norm.Enum(), IgnoreLabel: proto.Int32(4)}}
		scores := randTensor(rng, 4, 5, 3) // softmax over axis 1, 3 positions
		checkLossGrad(t, "softmax "+norm.String(), softmaxWithLoss, lp, []*tensor.Tensor{scores, labels}, []bool{true, false})
	}
	a, b := randTensor(rng, 3, 4), randTensor(rng, 3, 4)
	checkLossGrad(t, "euclidean", euclideanLoss, &caffepb.LayerParameter{}, []*tensor.Tensor{a, b}, []bool{true, true})
	targets := tensor.Zeros(tensor.Float32, 3, 4)
	for i := range targets.F32() {
		targets.F32()[i] = float32(rng.Float64())
	}
	checkLossGrad(t, "sigmoid ce", sigmoidCrossEntropyLoss, &caffepb.LayerParameter{}, []*tensor.Tensor{randTensor(rng, 3, 4), targets}, []bool{true, false})
}

func TestLossValues(t *testing.T) {
	// Two samples, two classes: p = softmax([0, ln 3]) = [1/4, 3/4].
	x := tensor.From([]int{2, 2}, []float32{0, float32(math.Log(3)), 0, float32(math.Log(3))})
	y := tensor.From([]int{2}, []float32{1, 0})
	l, err := softmaxWithLoss(&caffepb.LayerParameter{}, []*tensor.Tensor{x, y}, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := (-math.Log(0.75) - math.Log(0.25)) / 2; math.Abs(l-want) > 1e-6 {
		t.Errorf("softmax loss %g, want %g", l, want)
	}
	// ignore_label drops a sample; VALID then divides by 1.
	lp := &caffepb.LayerParameter{LossParam: &caffepb.LossParameter{IgnoreLabel: proto.Int32(0)}}
	if l, _ = softmaxWithLoss(lp, []*tensor.Tensor{x, y}, nil, 1); math.Abs(l+math.Log(0.75)) > 1e-6 {
		t.Errorf("with ignore_label: %g, want %g", l, -math.Log(0.75))
	}
	// The legacy normalize: false means BATCH_SIZE.
	lp = &caffepb.LayerParameter{LossParam: &caffepb.LossParameter{IgnoreLabel: proto.Int32(0), Normalize: proto.Bool(false)}}
	if l, _ = softmaxWithLoss(lp, []*tensor.Tensor{x, y}, nil, 1); math.Abs(l+math.Log(0.75)/2) > 1e-6 {
		t.Errorf("normalize false: %g, want %g", l, -math.Log(0.75)/2)
	}
	a := tensor.From([]int{2, 1}, []float32{1, 2})
	b := tensor.From([]int{2, 1}, []float32{0, 0})
	if l, _ = euclideanLoss(&caffepb.LayerParameter{}, []*tensor.Tensor{a, b}, nil, 1); l != 1.25 {
		t.Errorf("euclidean %g, want 1.25", l)
	}
	if _, err := softmaxWithLoss(&caffepb.LayerParameter{}, []*tensor.Tensor{x, tensor.From([]int{2}, []float32{2, 0})}, nil, 1); err == nil {
		t.Error("a label outside the classes was accepted")
	}
}

func TestAccuracyTopK(t *testing.T) {
	x := tensor.From([]int{3, 4}, []float32{
		0.1, 0.5, 0.3, 0.1, // label 2: second best
		0.4, 0.4, 0.1, 0.1, // label 1: tied with 0, counts against
		0.9, 0.0, 0.05, 0.05, // label 0: best
	})
	y := tensor.From([]int{3}, []float32{2, 1, 0})
	for _, c := range []struct {
		k    uint32
		want float64
	}{{1, 1.0 / 3}, {2, 3.0 / 3}} {
		lp := &caffepb.LayerParameter{AccuracyParam: &caffepb.AccuracyParameter{TopK: proto.Uint32(c.k)}}
		got, err := accuracy(lp, []*tensor.Tensor{x, y})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-c.want) > 1e-9 {
			t.Errorf("top_%d: %g, want %g", c.k, got, c.want)
		}
	}
}
