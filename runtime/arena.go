package runtime

import (
	"sync"
	"unsafe"

	"stride/tensor"
)

// state is the memory of one Run: the value slots and an arena of buffers.
// Buffers freed in one Run are kept for the next, so in steady state a
// Session allocates only what it hands back to the caller.
type state struct {
	mu   sync.Mutex // kernels may allocate from parallel loops
	vals []*tensor.Tensor
	free map[bufKey][]any
	// refs counts the live values that share an arena buffer (views such as
	// Reshape return their input's buffer).
	refs map[unsafe.Pointer]int
}

type bufKey struct {
	dt tensor.DType
	n  int
}

func (s *plan) getState() *state {
	if v := s.states.Get(); v != nil {
		st := v.(*state)
		clear(st.vals)
		return st
	}
	return &state{
		vals: make([]*tensor.Tensor, len(s.consts)),
		free: map[bufKey][]any{},
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
	k := bufKey{dt, n}
	st.mu.Lock()
	defer st.mu.Unlock()
	var data any
	if l := st.free[k]; len(l) > 0 {
		data = l[len(l)-1]
		st.free[k] = l[:len(l)-1]
	} else {
		data = tensor.MakeSlice(dt, n)
	}
	if p := dataPtr(data); p != nil {
		st.refs[p] = 0 // owned by the arena, not yet referenced by a slot
	}
	return &tensor.Tensor{DType: dt, Shape: append([]int(nil), shape...), Data: data}, nil
}

// Release implements ops.Releaser: a kernel's temporary goes back to the
// free list unless a slot holds it.
func (st *state) Release(t *tensor.Tensor) {
	st.mu.Lock()
	defer st.mu.Unlock()
	p := dataPtr(t.Data)
	if c, ok := st.refs[p]; ok && c == 0 && p != nil {
		delete(st.refs, p)
		k := bufKey{t.DType, t.Len()}
		st.free[k] = append(st.free[k], t.Data)
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
	k := bufKey{t.DType, t.Len()}
	st.free[k] = append(st.free[k], t.Data)
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
