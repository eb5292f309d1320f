package train

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"time"

	"stride/tensor"
)

// Feeder fills one data layer's tops for a batch: data (the layer's first
// top) and labels (its second, nil when the layer has none).
type Feeder interface {
	Fill(batch int, data, labels []float32) error
}

// IterStats describes one training iteration.
type IterStats struct {
	Iter int
	// Loss is the iteration's loss (averaged over iter_size passes);
	// Smoothed averages the last average_loss iterations, as Caffe
	// displays.
	Loss, Smoothed float64
	LR             float64
	// Images is the number of samples the iteration processed.
	Images  int
	Elapsed time.Duration
}

// TestStats is one test pass of one test net: every loss and accuracy top,
// averaged over test_iter batches.
type TestStats struct {
	Iter    int
	Net     int
	Outputs []Output
	Elapsed time.Duration
}

// Events are the trainer's callbacks (each may be nil).
type Events struct {
	Iteration func(IterStats)
	Test      func(TestStats)
	Snapshot  func(model, state string)
}

// Trainer runs Caffe's training loop (Solver::Step): test every
// test_interval iterations, accumulate iter_size forward/backward passes,
// update, snapshot every snapshot iterations.
type Trainer struct {
	Solver    *Solver
	Train     *Net
	TrainFeed []Feeder // one per data layer of Train
	Tests     []*Net
	TestFeeds [][]Feeder
	TestIters []int
	// Seed drives every random choice (dropout masks); data loaders have
	// their own.
	Seed uint64
	// Prefix is the snapshot prefix ("" disables snapshots).
	Prefix string
	// FinalTest tests once more at the end when max_iter is not a
	// multiple of test_interval (Caffe would not).
	FinalTest bool
	// StopOnNaN ends training with an error when the loss is not finite
	// (Caffe would go on).
	StopOnNaN bool
	Events    Events

	recent []float64
	bufs   map[*Net][][2]*tensor.Tensor
}

// feed fills the data layers of net with batch b.
func (t *Trainer) feed(net *Net, feeds []Feeder, b int) error {
	if t.bufs == nil {
		t.bufs = map[*Net][][2]*tensor.Tensor{}
	}
	bufs := t.bufs[net]
	if bufs == nil {
		if len(feeds) != len(net.Data) {
			return fmt.Errorf("%d feeders for %d data layers", len(feeds), len(net.Data))
		}
		for _, d := range net.Data {
			var pair [2]*tensor.Tensor
			for i := 0; i < len(d.Tops) && i < 2; i++ {
				if d.Shapes[i] == nil {
					return fmt.Errorf("%s: the shape of top %q is unknown", d.Layer.Source(), d.Tops[i])
				}
				pair[i] = tensor.Zeros(tensor.Float32, d.Shapes[i]...)
			}
			bufs = append(bufs, pair)
		}
		t.bufs[net] = bufs
	}
	for i, d := range net.Data {
		var labels []float32
		if bufs[i][1] != nil {
			labels = bufs[i][1].F32()
		}
		if err := feeds[i].Fill(b, bufs[i][0].F32(), labels); err != nil {
			return fmt.Errorf("%s: %w", d.Layer.Source(), err)
		}
		for k := 0; k < 2; k++ {
			if bufs[i][k] != nil {
				if err := net.Feed(d.Tops[k], bufs[i][k]); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// passSeed derives the random seed of one pass.
func passSeed(seed uint64, net string, index int) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00%s\x00%d", seed, net, index)
	return h.Sum64()
}

// batchImages counts the samples of one pass.
func batchImages(n *Net) int {
	if len(n.Data) == 0 || len(n.Data[0].Shapes) == 0 || len(n.Data[0].Shapes[0]) == 0 {
		return 0
	}
	return n.Data[0].Shapes[0][0]
}

// Step runs one iteration (without the test and snapshot around it).
func (t *Trainer) Step(ctx context.Context) (IterStats, error) {
	start := time.Now()
	s := t.Solver
	iterSize := int(s.Param.GetIterSize())
	t.Train.ClearDiffs()
	var loss float64
	for k := 0; k < iterSize; k++ {
		b := s.Iter*iterSize + k
		if err := t.feed(t.Train, t.TrainFeed, b); err != nil {
			return IterStats{}, err
		}
		l, _, err := t.Train.Pass(ctx, passSeed(t.Seed, "train", b), true)
		if err != nil {
			return IterStats{}, err
		}
		loss += l
	}
	loss /= float64(iterSize)
	avg := int(max(1, s.Param.GetAverageLoss()))
	t.recent = append(t.recent, loss)
	if len(t.recent) > avg {
		t.recent = t.recent[len(t.recent)-avg:]
	}
	var sm float64
	for _, v := range t.recent {
		sm += v
	}
	st := IterStats{Iter: s.Iter, Loss: loss, Smoothed: sm / float64(len(t.recent)), LR: s.LearningRate(),
		Images: iterSize * batchImages(t.Train)}
	s.ApplyUpdate()
	st.Elapsed = time.Since(start)
	return st, nil
}

// Test runs every test net for its test_iter batches.
func (t *Trainer) Test(ctx context.Context) ([]TestStats, error) {
	var out []TestStats
	for k, net := range t.Tests {
		start := time.Now()
		var sums []Output
		iters := t.TestIters[k]
		for i := 0; i < iters; i++ {
			if err := t.feed(net, t.TestFeeds[k], i); err != nil {
				return nil, err
			}
			_, outs, err := net.Pass(ctx, passSeed(t.Seed, fmt.Sprint("test", k), i), false)
			if err != nil {
				return nil, fmt.Errorf("test net %d: %w", k, err)
			}
			if sums == nil {
				sums = append([]Output{}, outs...)
				continue
			}
			for j := range sums {
				sums[j].Value += outs[j].Value
			}
		}
		for j := range sums {
			sums[j].Value /= float64(max(1, iters))
		}
		ts := TestStats{Iter: t.Solver.Iter, Net: k, Outputs: sums, Elapsed: time.Since(start)}
		if t.Events.Test != nil {
			t.Events.Test(ts)
		}
		out = append(out, ts)
	}
	return out, nil
}

// Snapshot writes a snapshot now (when a prefix is set).
func (t *Trainer) Snapshot() error {
	if t.Prefix == "" {
		return nil
	}
	m, s, err := Snapshot(t.Train, t.Solver, t.Prefix)
	if err != nil {
		return err
	}
	if t.Events.Snapshot != nil {
		t.Events.Snapshot(m, s)
	}
	return nil
}

// Run trains until max_iter. When ctx is cancelled it finishes the
// current iteration, writes a snapshot and returns ctx's error.
func (t *Trainer) Run(ctx context.Context) error {
	s := t.Solver
	p := s.Param
	maxIter := int(p.GetMaxIter())
	interval := int(p.GetTestInterval())
	snap := int(p.GetSnapshot())
	lastSnap := -1
	for s.Iter < maxIter {
		if interval > 0 && s.Iter%interval == 0 && (s.Iter > 0 || p.GetTestInitialization()) && len(t.Tests) > 0 {
			if _, err := t.Test(ctx); err != nil {
				return t.interrupted(ctx, err, lastSnap)
			}
		}
		st, err := t.Step(ctx)
		if err != nil {
			return t.interrupted(ctx, err, lastSnap)
		}
		if t.Events.Iteration != nil {
			t.Events.Iteration(st)
		}
		if t.StopOnNaN && (math.IsNaN(st.Loss) || math.IsInf(st.Loss, 0)) {
			return fmt.Errorf("the loss is %v at iteration %d: training diverged (try a lower learning rate)", st.Loss, st.Iter)
		}
		if snap > 0 && s.Iter%snap == 0 {
			if err := t.Snapshot(); err != nil {
				return err
			}
			lastSnap = s.Iter
		}
		if ctx.Err() != nil {
			return t.interrupted(ctx, ctx.Err(), lastSnap)
		}
	}
	if p.GetSnapshotAfterTrain() && lastSnap != s.Iter {
		if err := t.Snapshot(); err != nil {
			return err
		}
	}
	if interval > 0 && len(t.Tests) > 0 && (s.Iter%interval == 0 || t.FinalTest) {
		if _, err := t.Test(ctx); err != nil {
			return err
		}
	}
	return nil
}

// interrupted writes a snapshot when training stops on cancellation.
func (t *Trainer) interrupted(ctx context.Context, err error, lastSnap int) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		if lastSnap != t.Solver.Iter {
			if serr := t.Snapshot(); serr != nil {
				return fmt.Errorf("%w (and the snapshot failed: %v)", err, serr)
			}
		}
	}
	return err
}
