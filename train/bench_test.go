package train

import (
	"math/rand/v2"
	"os"
	"sort"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"stride/importers/caffe"
	"stride/internal/parallel"
	"stride/proto/caffepb"
	"stride/tensor"
)

// benchNets are the nets timed against PyTorch (examples/bench).
var benchNets = map[string]string{
	"lenet": "", // the trace's LeNet
	"cifar": "[(conv3x3x32same-relu)*2-pool2]*2-fc256-relu-dropout-fc10",
}

// benchNet builds a training net and feeds it random 28x28 images.
func benchNet(tb testing.TB, name string, batch int) (*Net, *Solver) {
	if name == "lenet" {
		net, s, _, _ := loadLenet(tb, batch)
		feedRandom(net, batch)
		return net, s
	}
	tp := &caffepb.TransformationParameter{Scale: proto.Float32(1.0 / 256)}
	np, err := ParseArch(benchNets[name], ArchData{Source: "-", Batch: batch, TestBatch: batch, Transform: tp})
	if err != nil {
		tb.Fatal(err)
	}
	cn, err := caffe.ImportProto(np, nil, caffe.Options{Phase: caffe.Train, Seed: 1,
		InputShapes: map[string][]int{"data": {batch, 1, 28, 28}, "label": {batch}}})
	if err != nil {
		tb.Fatal(err)
	}
	pool := parallel.New(0)
	tb.Cleanup(pool.Close)
	net, err := NewNet(cn, TrainMode, nil, pool)
	if err != nil {
		tb.Fatal(err)
	}
	sp := &caffepb.SolverParameter{BaseLr: proto.Float32(0.01), Momentum: proto.Float32(0.9), WeightDecay: proto.Float32(5e-4), LrPolicy: proto.String("fixed")}
	s, err := NewSolver(sp, net.Params)
	if err != nil {
		tb.Fatal(err)
	}
	feedRandom(net, batch)
	return net, s
}

func feedRandom(net *Net, batch int) {
	rng := rand.New(rand.NewPCG(1, 1))
	data := tensor.Zeros(tensor.Float32, batch, 1, 28, 28)
	label := tensor.Zeros(tensor.Float32, batch)
	for i := range data.F32() {
		data.F32()[i] = rng.Float32()
	}
	for i := range label.F32() {
		label.F32()[i] = float32(rng.IntN(10))
	}
	net.Feed("data", data)
	net.Feed("label", label)
}

func iteration(tb testing.TB, net *Net, s *Solver, i int) {
	net.ClearDiffs()
	if _, _, err := net.Pass(nil, uint64(i), true); err != nil {
		tb.Fatal(err)
	}
	s.ApplyUpdate()
}

// BenchmarkLenetIteration is one LeNet training iteration at batch 64
// (forward, backward, SGD update).
func BenchmarkLenetIteration(b *testing.B) {
	net, s := benchNet(b, "lenet", 64)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		iteration(b, net, s, i)
	}
}

// BenchmarkCifarIteration is one iteration of the CIFAR-style net at
// batch 64.
func BenchmarkCifarIteration(b *testing.B) {
	net, s := benchNet(b, "cifar", 64)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		iteration(b, net, s, i)
	}
}

// TestIterationTiming prints the median and fastest iteration of
// STRIDE_TIMING (lenet or cifar), in the format of
// examples/bench/torch_iteration.py, for side-by-side runs.
func TestIterationTiming(t *testing.T) {
	name := os.Getenv("STRIDE_TIMING")
	if name == "" {
		t.Skip("set STRIDE_TIMING=lenet or cifar")
	}
	net, s := benchNet(t, name, 64)
	for i := 0; i < 10; i++ {
		iteration(t, net, s, i)
	}
	var times []time.Duration
	for i := 0; i < 50; i++ {
		start := time.Now()
		iteration(t, net, s, i)
		times = append(times, time.Since(start))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	t.Logf("stride %s batch=64 median_ms=%.3f min_ms=%.3f", name, float64(times[25].Microseconds())/1000, float64(times[0].Microseconds())/1000)
}
