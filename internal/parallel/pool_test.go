package parallel

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestForCoversRangeOnce(t *testing.T) {
	p := New(3)
	defer p.Close()
	for _, n := range []int{0, 1, 2, 7, 100, 1001} {
		hits := make([]int32, n)
		p.For(n, 3, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				atomic.AddInt32(&hits[i], 1)
			}
		})
		for i, h := range hits {
			if h != 1 {
				t.Fatalf("n=%d: index %d visited %d times", n, i, h)
			}
		}
	}
}

func TestNestedAndConcurrent(t *testing.T) {
	p := New(2)
	defer p.Close()
	var total atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Tasks(10, func(int) {
				p.For(50, 1, func(lo, hi int) { total.Add(int64(hi - lo)) })
			})
		}()
	}
	wg.Wait()
	if got := total.Load(); got != 8*10*50 {
		t.Fatalf("total %d, want %d", got, 8*10*50)
	}
}

func TestNilPoolSerial(t *testing.T) {
	var p *Pool
	sum := 0
	p.For(10, 1, func(lo, hi int) { sum += hi - lo })
	if sum != 10 || p.Threads() != 1 {
		t.Fatal("nil pool")
	}
}

func TestPanicReachesCaller(t *testing.T) {
	p := New(2)
	defer p.Close()
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("panic in a task was lost")
		}
	}()
	p.Tasks(64, func(i int) {
		if i == 37 {
			panic("boom")
		}
	})
}
