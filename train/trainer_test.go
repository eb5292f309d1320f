package train

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"stride/proto/caffepb"
)

// writeIDX writes an IDX file of bytes, gzipped.
func writeIDX(t *testing.T, path string, dims []int, data []byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(zw, binary.BigEndian, uint32(d))
	}
	zw.Write(data)
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// synthShapes writes a small MNIST-style data set of 12x12 images of
// three classes (a horizontal bar, a vertical bar, a square) at random
// places, with noise.
func synthShapes(t *testing.T, dir string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	gen := func(prefix string, n int) {
		px := make([]byte, n*144)
		lab := make([]byte, n)
		for i := 0; i < n; i++ {
			c := i % 3
			lab[i] = byte(c)
			img := px[i*144 : (i+1)*144]
			for j := range img {
				img[j] = byte(rng.IntN(40))
			}
			y, x := 2+rng.IntN(6), 2+rng.IntN(6)
			for a := 0; a < 4; a++ {
				for b := 0; b < 4; b++ {
					on := c == 0 && a == 1 || c == 1 && b == 1 || c == 2 && (a == 0 || a == 3 || b == 0 || b == 3)
					if on {
						img[(y+a)*12+x+b] = byte(200 + rng.IntN(55))
					}
				}
			}
		}
		writeIDX(t, filepath.Join(dir, prefix+"-images-idx3-ubyte.gz"), []int{n, 12, 12}, px)
		writeIDX(t, filepath.Join(dir, prefix+"-labels-idx1-ubyte.gz"), []int{n}, lab)
	}
	gen("train", 240)
	gen("t10k", 60)
}

func smallSession(t *testing.T, dir string, maxIter int, prefix string) *Session {
	t.Helper()
	tp := &caffepb.TransformationParameter{Scale: proto.Float32(1.0 / 255), MeanValue: []float32{40}}
	np, err := ParseArch("conv3x3x8same-bn-relu-pool2-conv3x3x8p1-relu-fc16-relu-dropout0.3-fc3",
		ArchData{Source: dir, Batch: 16, TestBatch: 20, Transform: tp})
	if err != nil {
		t.Fatal(err)
	}
	sp := &caffepb.SolverParameter{Type: proto.String("Nesterov"), BaseLr: proto.Float32(0.05), LrPolicy: proto.String("step"),
		Gamma: proto.Float32(0.5), Stepsize: proto.Int32(12), Momentum: proto.Float32(0.9), WeightDecay: proto.Float32(1e-4),
		MaxIter: proto.Int32(int32(maxIter)), TestInterval: proto.Int32(10), TestIter: []int32{3}, Snapshot: proto.Int32(10),
		SnapshotPrefix: proto.String(prefix), RandomSeed: proto.Int64(42), IterSize: proto.Int32(2)}
	sess, err := NewSession(sp, np, "", Setup{Shift: 1, Mirror: true, Shuffle: true, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sess.Close)
	return sess
}

// TestTrainResume trains a small net on synthetic shapes: the loss falls,
// the test accuracy rises, and resuming from a snapshot reproduces the
// uninterrupted run's losses exactly.
func TestTrainResume(t *testing.T) {
	dir := t.TempDir()
	synthShapes(t, dir)
	prefix := filepath.Join(dir, "snap", "shapes")
	full := smallSession(t, dir, 30, prefix)
	var losses []float64
	var acc []float64
	full.Trainer.Events = Events{
		Iteration: func(s IterStats) { losses = append(losses, s.Loss) },
		Test: func(s TestStats) {
			for _, o := range s.Outputs {
				if o.Name == "accuracy" {
					acc = append(acc, o.Value)
				}
			}
		},
	}
	if err := full.Trainer.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(losses) != 30 {
		t.Fatalf("%d iterations ran, want 30", len(losses))
	}
	first, last := (losses[0]+losses[1]+losses[2])/3, (losses[27]+losses[28]+losses[29])/3
	if !(last < 0.7*first) {
		t.Errorf("loss did not fall: %.3f at the start, %.3f at the end", first, last)
	}
	if len(acc) == 0 || acc[len(acc)-1] < 0.6 {
		t.Errorf("test accuracy %v; want above 0.6 at the end", acc)
	}
	_, state := SnapshotPaths(prefix, 10)
	resumed := smallSession(t, dir, 30, filepath.Join(dir, "snap2", "shapes"))
	if err := Restore(resumed.Trainer.Train, resumed.Trainer.Solver, state); err != nil {
		t.Fatal(err)
	}
	var again []float64
	resumed.Trainer.Events.Iteration = func(s IterStats) { again = append(again, s.Loss) }
	if err := resumed.Trainer.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(again) != 20 {
		t.Fatalf("the resumed run did %d iterations, want 20", len(again))
	}
	for i, l := range again {
		if l != losses[10+i] {
			t.Fatalf("iteration %d: resumed loss %.9g, uninterrupted %.9g", 10+i, l, losses[10+i])
		}
	}
	for i, p := range full.Trainer.Train.Params {
		q := resumed.Trainer.Train.Params[i]
		for j, v := range p.Data.F32() {
			if q.Data.F32()[j] != v {
				t.Fatalf("%s differs after resuming", p.Name())
			}
		}
	}
}

// TestInterruptSnapshots cancels training mid-run: a snapshot of the
// iterations done is written.
func TestInterruptSnapshots(t *testing.T) {
	dir := t.TempDir()
	synthShapes(t, dir)
	prefix := filepath.Join(dir, "int")
	sess := smallSession(t, dir, 30, prefix)
	ctx, cancel := context.WithCancel(context.Background())
	sess.Trainer.Events.Iteration = func(s IterStats) {
		if s.Iter == 4 {
			cancel()
		}
	}
	err := sess.Trainer.Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	model, state := SnapshotPaths(prefix, 5)
	for _, p := range []string{model, state} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("no snapshot after the interruption: %v", err)
		}
	}
}

// TestMeanFileAndInputLayer trains a net whose data layer is an Input
// fed through --data, with a mean file, for a few iterations.
func TestMeanFileAndInputLayer(t *testing.T) {
	dir := t.TempDir()
	synthShapes(t, dir)
	mean := &caffepb.BlobProto{Shape: &caffepb.BlobShape{Dim: []int64{1, 1, 12, 12}}, Data: make([]float32, 144)}
	for i := range mean.Data {
		mean.Data[i] = 30
	}
	raw, _ := proto.Marshal(mean)
	meanPath := filepath.Join(dir, "mean.binaryproto")
	os.WriteFile(meanPath, raw, 0o644)
	np, err := ParseArch("conv3x3x4-relu-fc3", ArchData{Source: dir, Batch: 8, TestBatch: 10,
		Transform: &caffepb.TransformationParameter{Scale: proto.Float32(0.01), MeanFile: proto.String(meanPath)}})
	if err != nil {
		t.Fatal(err)
	}
	sp := &caffepb.SolverParameter{BaseLr: proto.Float32(0.05), LrPolicy: proto.String("fixed"), MaxIter: proto.Int32(5),
		TestIter: []int32{2}, TestInterval: proto.Int32(5), RandomSeed: proto.Int64(1)}
	sess, err := NewSession(sp, np, "", Setup{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.Trainer.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	in := &caffepb.NetParameter{Layer: []*caffepb.LayerParameter{{Name: proto.String("in"), Type: proto.String("Input"),
		Top: []string{"data", "label"}, InputParam: &caffepb.InputParameter{Shape: []*caffepb.BlobShape{{Dim: []int64{4, 1, 12, 12}}}}}}}
	in.Layer = append(in.Layer, np.Layer[2:]...)
	sp.TestIter, sp.TestInterval = nil, nil
	if _, err := NewSession(sp, in, "", Setup{}); err == nil || !strings.Contains(err.Error(), "--data") {
		t.Errorf("an Input layer without --data: %v", err)
	}
	sess, err = NewSession(sp, in, "", Setup{Data: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.Trainer.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}
