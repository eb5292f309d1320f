package train

import (
	"sync"

	"stride/tensor"
)

// arena hands out the tensors of one forward/backward pass. Every pass
// allocates the same buffers in the same sizes, so after the first pass
// reset makes them all available again and nothing is allocated: a
// training loop runs without garbage.
type arena struct {
	mu   sync.Mutex
	bufs map[bufKey]*bufList
}

type bufKey struct {
	dt tensor.DType
	n  int
}

type bufList struct {
	data []any
	next int
}

func newArena() *arena { return &arena{bufs: map[bufKey]*bufList{}} }

// Alloc implements ops.Allocator. The buffer's contents are undefined.
func (a *arena) Alloc(dt tensor.DType, shape []int) (*tensor.Tensor, error) {
	n, err := tensor.NumElements(shape)
	if err != nil {
		return nil, err
	}
	k := bufKey{dt, n}
	a.mu.Lock()
	l := a.bufs[k]
	if l == nil {
		l = &bufList{}
		a.bufs[k] = l
	}
	if l.next == len(l.data) {
		l.data = append(l.data, tensor.MakeSlice(dt, n))
	}
	d := l.data[l.next]
	l.next++
	a.mu.Unlock()
	return &tensor.Tensor{DType: dt, Shape: append([]int(nil), shape...), Data: d}, nil
}

// floats returns a float32 tensor of the given shape, zeroed.
func (a *arena) zeros(shape []int) *tensor.Tensor {
	t, err := a.Alloc(tensor.Float32, shape)
	if err != nil {
		panic(err)
	}
	clear(t.F32())
	return t
}

// reset makes every buffer available again. Tensors handed out before are
// reused by later allocations.
func (a *arena) reset() {
	a.mu.Lock()
	for _, l := range a.bufs {
		l.next = 0
	}
	a.mu.Unlock()
}
