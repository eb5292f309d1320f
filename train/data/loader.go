package data

import (
	"fmt"
	"math/rand/v2"
	"sync"
)

// Loader makes batches from a data set: batch b holds samples
// [b*Batch, (b+1)*Batch) of the endless sequence of epochs, each epoch
// the whole set in order or, with Shuffle, in a permutation drawn from the
// seed and the epoch number. Every random choice depends only on the seed
// and the sample's position in that sequence.
type Loader struct {
	Set       *Dataset
	Batch     int
	Shuffle   bool
	Train     bool // random crops and shifts (centre crops otherwise)
	Transform Transform
	Seed      uint64

	mu    sync.Mutex
	perms map[int][]int
}

// NewLoader checks the settings.
func NewLoader(set *Dataset, batch int, t Transform, train, shuffle bool, seed uint64) (*Loader, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("batch size must be positive (it is %d)", batch)
	}
	if t.Scale == 0 {
		t.Scale = 1
	}
	if err := t.check(set); err != nil {
		return nil, fmt.Errorf("%s: %w", set.Name, err)
	}
	return &Loader{Set: set, Batch: batch, Shuffle: shuffle, Train: train, Transform: t, Seed: seed, perms: map[int][]int{}}, nil
}

// Shape is the shape of a data batch: Batch x C x H x W after the crop.
func (l *Loader) Shape() []int {
	h, w := l.Transform.outSize(l.Set.H, l.Set.W)
	return []int{l.Batch, l.Set.C, h, w}
}

// BatchesPerEpoch is the number of batches that cover the set once
// (rounded up).
func (l *Loader) BatchesPerEpoch() int { return (l.Set.N + l.Batch - 1) / l.Batch }

func (l *Loader) perm(epoch int) []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p, ok := l.perms[epoch]; ok {
		return p
	}
	rng := rand.New(rand.NewPCG(l.Seed^0x5DEECE66D, uint64(epoch)))
	p := rng.Perm(l.Set.N)
	if len(l.perms) > 4 {
		clear(l.perms)
	}
	l.perms[epoch] = p
	return p
}

// Index returns the data set index of sample s of the sequence.
func (l *Loader) Index(s int) int {
	n := l.Set.N
	if !l.Shuffle {
		return s % n
	}
	return l.perm(s / n)[s%n]
}

// Fill writes batch b: data (Batch x C x H x W floats) and labels (Batch
// floats, nil to skip).
func (l *Loader) Fill(b int, data, labels []float32) error {
	shape := l.Shape()
	per := shape[1] * shape[2] * shape[3]
	if len(data) != l.Batch*per {
		return fmt.Errorf("data buffer holds %d values, a batch needs %d", len(data), l.Batch*per)
	}
	if labels != nil && len(labels) != l.Batch {
		return fmt.Errorf("label buffer holds %d values, a batch needs %d", len(labels), l.Batch)
	}
	d := l.Set
	random := l.Train && (l.Transform.CropSize > 0 || l.Transform.Shift > 0) || l.Transform.Mirror
	for j := 0; j < l.Batch; j++ {
		s := b*l.Batch + j
		i := l.Index(s)
		var rng *rand.Rand
		if random {
			rng = rand.New(rand.NewPCG(l.Seed, uint64(s)))
		}
		l.Transform.apply(d.Image(i), d.C, d.H, d.W, data[j*per:(j+1)*per], l.Train, rng)
		if labels != nil {
			labels[j] = float32(d.Labels[i])
		}
	}
	return nil
}
