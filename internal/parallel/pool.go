// Package parallel owns Stride's worker pool: a fixed set of goroutines that
// kernels split their loops over. One pool serves a Session; concurrent Run
// calls share it, and a caller waiting for its own work helps with whatever
// is queued, so nested or concurrent use cannot deadlock.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Pool runs loop chunks on a fixed number of threads.
type Pool struct {
	threads int
	tasks   chan func()
	quit    chan struct{}
	once    sync.Once
}

// New starts a pool of the given size (values < 1 mean GOMAXPROCS). The
// caller of For counts as one of the threads, so threads-1 goroutines run.
func New(threads int) *Pool {
	if threads < 1 {
		threads = runtime.GOMAXPROCS(0)
	}
	p := &Pool{threads: threads, tasks: make(chan func(), 256), quit: make(chan struct{})}
	for i := 1; i < threads; i++ {
		go p.worker()
	}
	return p
}

func (p *Pool) worker() {
	for {
		// Spin briefly before parking: waking a parked thread is slow.
		t0 := time.Now()
		var t func()
		for t == nil && time.Since(t0) < spinTime {
			select {
			case t = <-p.tasks:
			default:
				runtime.Gosched()
			}
		}
		if t != nil {
			t()
			continue
		}
		select {
		case t := <-p.tasks:
			t()
		case <-p.quit:
			return
		}
	}
}

// Threads returns the pool size. A nil pool has one thread.
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// Close stops the workers. Calls to For after Close run serially.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	p.once.Do(func() { close(p.quit) })
}

func (p *Pool) closed() bool {
	select {
	case <-p.quit:
		return true
	default:
		return false
	}
}

// Tasks runs fn(t) for t in [0,n), spreading tasks over the pool, and
// returns when all have finished. A nil pool runs them in order.
func (p *Pool) Tasks(n int, fn func(t int)) {
	if n <= 0 {
		return
	}
	if p == nil || p.threads == 1 || n == 1 || p.closed() {
		for t := 0; t < n; t++ {
			fn(t)
		}
		return
	}
	var next, done atomic.Int64
	var failure atomic.Pointer[panicValue]
	// Each helper claims task indices until none are left, so uneven tasks
	// balance themselves. The caller waits for the count of finished tasks,
	// not for the helpers: a helper woken late finds nothing left and
	// returns at once. A panic in a task is carried back to the caller and
	// re-raised there, so the caller's recover sees it.
	body := func() {
		for {
			t := int(next.Add(1) - 1)
			if t >= n {
				return
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						failure.CompareAndSwap(nil, &panicValue{r})
					}
					done.Add(1)
				}()
				fn(t)
			}()
		}
	}
	helpers := min(p.threads-1, n-1)
	for i := 0; i < helpers; i++ {
		select {
		case p.tasks <- body:
		default:
		}
	}
	body()
	// Spin (helping with queued work) rather than park: the remaining tasks
	// are short, and waking a parked thread costs more than they do.
	for done.Load() < int64(n) {
		select {
		case t := <-p.tasks:
			t()
		default:
			runtime.Gosched()
		}
	}
	if f := failure.Load(); f != nil {
		panic(f.v)
	}
}

type panicValue struct{ v any }

// For splits [0,n) into contiguous chunks of at least grain elements and
// runs fn(lo,hi) on each, in parallel.
func (p *Pool) For(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	chunks := p.Threads() * 4
	if max := (n + grain - 1) / grain; chunks > max {
		chunks = max
	}
	if chunks <= 1 {
		fn(0, n)
		return
	}
	size := (n + chunks - 1) / chunks
	chunks = (n + size - 1) / size
	p.Tasks(chunks, func(t int) {
		lo := t * size
		hi := lo + size
		if hi > n {
			hi = n
		}
		fn(lo, hi)
	})
}

// spinTime is how long an idle worker polls for work before parking. A
// parked worker takes tens of microseconds to wake, which a model's
// smaller parallel ops cannot afford, so workers stay awake across the
// short serial stretches between them (1ms measured a few percent faster
// than 100µs on SqueezeNet, DenseNet and MobileNet with two threads).
const spinTime = time.Millisecond
