package parallel

import (
	"testing"
	"time"
)

func spinFor(d time.Duration) {
	t0 := time.Now()
	for time.Since(t0) < d {
	}
}

// BenchmarkTasksOverhead measures a parallel region of two 20 µs tasks:
// ideally 20 µs with two threads, 40 µs with one.
func BenchmarkTasksOverhead(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(map[int]string{1: "threads=1", 2: "threads=2"}[threads], func(b *testing.B) {
			p := New(threads)
			defer p.Close()
			for i := 0; i < b.N; i++ {
				p.Tasks(2, func(int) { spinFor(20 * time.Microsecond) })
			}
		})
	}
}
