package runtime

import (
	"sort"
	"sync"
	"unsafe"

	"stride/tensor"
)

// state is the memory of one Run: the value slots and an arena of buffers.
// A buffer is freed as soon as the last reader of its value has run, and
// the next allocation takes the smallest free buffer large enough (best
// fit), so the peak stays near the largest set of live values even when
// sizes vary (DenseNet's growing concatenations). Buffers freed in one Run
// are kept for the next, so in steady state a Session allocates only what
// it hands back to the caller.
type state struct {
	mu   sync.Mutex // kernels may allocate from parallel loops
	vals []*tensor.Tensor
	// free holds released buffers per element type, sorted by capacity.
	free map[tensor.DType][]any
	// refs counts the live values that share an arena buffer (views such as
	// Reshape return their input's buffer).
	refs map[unsafe.Pointer]int
	// hdrs are tensor headers reused run after run: a header lives only as
	// long as its Run (outputs are handed out as copies).
	hdrs [][]tensor.Tensor
	hn   int
}

const hdrChunk = 64

// header returns a reusable tensor header.
func (st *state) header() *tensor.Tensor {
	c, i := st.hn/hdrChunk, st.hn%hdrChunk
	if c == len(st.hdrs) {
		st.hdrs = append(st.hdrs, make([]tensor.Tensor, hdrChunk))
	}
	st.hn++
	return &st.hdrs[c][i]
}

func (s *plan) getState() *state {
	if v := s.states.Get(); v != nil {
		st := v.(*state)
		clear(st.vals)
		st.hn = 0
		return st
	}
	return &state{
		vals: make([]*tensor.Tensor, len(s.consts)),
		free: map[tensor.DType][]any{},
		refs: map[unsafe.Pointer]int{},
	}
}

func (s *plan) putState(st *state) {
	clear(st.vals)
	clear(st.refs)
	s.states.Put(st)
}

// Alloc implements ops.Allocator.
func (st *state) Alloc(dt tensor.DType, shape []int) (*tensor.Tensor, error) {
	n := tensor.Size(shape)
	st.mu.Lock()
	defer st.mu.Unlock()
	data := st.take(dt, n)
	if data == nil {
		data = tensor.MakeSlice(dt, n)
	}
	if p := dataPtr(data); p != nil {
		st.refs[p] = 0 // owned by the arena, not yet referenced by a slot
	}
	h := st.header()
	h.DType, h.Shape, h.Data = dt, append(h.Shape[:0], shape...), data
	return h, nil
}

// take removes the best-fitting free buffer for n elements and returns it
// resliced to n, or nil. Small requests do not take much larger buffers,
// which a later large value would then miss.
func (st *state) take(dt tensor.DType, n int) any {
	l := st.free[dt]
	i := sort.Search(len(l), func(i int) bool { return capOf(l[i]) >= n })
	if i == len(l) || n == 0 {
		return nil
	}
	if c := capOf(l[i]); c > 4*n+4096 {
		return nil
	}
	data := l[i]
	st.free[dt] = append(l[:i], l[i+1:]...)
	return reslice(data, n)
}

// put returns a buffer to the free list, at its capacity.
func (st *state) put(dt tensor.DType, data any) {
	data = reslice(data, capOf(data))
	c := capOf(data)
	l := st.free[dt]
	i := sort.Search(len(l), func(i int) bool { return capOf(l[i]) >= c })
	l = append(l, nil)
	copy(l[i+1:], l[i:])
	l[i] = data
	st.free[dt] = l
}

// Release implements ops.Releaser: a kernel's temporary goes back to the
// free list unless a slot holds it.
func (st *state) Release(t *tensor.Tensor) {
	st.mu.Lock()
	defer st.mu.Unlock()
	p := dataPtr(t.Data)
	if c, ok := st.refs[p]; ok && c == 0 && p != nil {
		delete(st.refs, p)
		st.put(t.DType, t.Data)
	}
}

func (st *state) retain(t *tensor.Tensor) {
	if p := dataPtr(t.Data); p != nil {
		if c, ok := st.refs[p]; ok {
			st.refs[p] = c + 1
		}
	}
}

func (st *state) release(t *tensor.Tensor) {
	if t == nil {
		return
	}
	p := dataPtr(t.Data)
	c, ok := st.refs[p]
	if p == nil || !ok {
		return
	}
	if c > 1 {
		st.refs[p] = c - 1
		return
	}
	delete(st.refs, p)
	st.put(t.DType, t.Data)
}

// detach hands a buffer to the caller: the arena forgets it.
func (st *state) detach(t *tensor.Tensor) {
	if p := dataPtr(t.Data); p != nil {
		delete(st.refs, p)
	}
}

func dataPtr(d any) unsafe.Pointer {
	switch s := d.(type) {
	case []float32:
		return ptr(s)
	case []float64:
		return ptr(s)
	case []uint16:
		return ptr(s)
	case []int8:
		return ptr(s)
	case []int16:
		return ptr(s)
	case []int32:
		return ptr(s)
	case []int64:
		return ptr(s)
	case []uint8:
		return ptr(s)
	case []uint32:
		return ptr(s)
	case []uint64:
		return ptr(s)
	case []bool:
		return ptr(s)
	case []string:
		return ptr(s)
	}
	return nil
}

func ptr[T any](s []T) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(s))
}

func capOf(d any) int {
	switch s := d.(type) {
	case []float32:
		return cap(s)
	case []float64:
		return cap(s)
	case []uint16:
		return cap(s)
	case []int8:
		return cap(s)
	case []int16:
		return cap(s)
	case []int32:
		return cap(s)
	case []int64:
		return cap(s)
	case []uint8:
		return cap(s)
	case []uint32:
		return cap(s)
	case []uint64:
		return cap(s)
	case []bool:
		return cap(s)
	case []string:
		return cap(s)
	}
	return 0
}

func reslice(d any, n int) any {
	switch s := d.(type) {
	case []float32:
		return s[:n]
	case []float64:
		return s[:n]
	case []uint16:
		return s[:n]
	case []int8:
		return s[:n]
	case []int16:
		return s[:n]
	case []int32:
		return s[:n]
	case []int64:
		return s[:n]
	case []uint8:
		return s[:n]
	case []uint32:
		return s[:n]
	case []uint64:
		return s[:n]
	case []bool:
		return s[:n]
	case []string:
		return s[:n]
	}
	return d
}
