package gemm

import (
	"testing"
	"time"
	"unsafe"
)

func TestShapeSpeed(t *testing.T) {
	for _, ks := range kernelSets {
		for _, kc := range []int{128, 192, 256, 384, 512} {
			nc := 256 / ks.nr * ks.nr
			mpan := 8
			a := make([]float32, mpan*ks.mr*kc)
			b := make([]float32, kc*nc)
			for i := range a {
				a[i] = 1
			}
			for i := range b {
				b[i] = 0.5
			}
			c := make([]float32, mpan*ks.mr*nc)
			var p kargs
			p.k = kc
			p.bstride = ks.nr * 4
			p.ldc = nc * 4
			fn := ks.kernel(&p, ks.mr, ks.nr)
			best := 0.0
			for rep := 0; rep < 7; rep++ {
			reps := 0
			st := time.Now()
			for time.Since(st) < 60*time.Millisecond {
				for i := 0; i < mpan; i++ {
					p.a = unsafe.Pointer(&a[i*ks.mr*kc])
					for j := 0; j < nc; j += ks.nr {
						p.b = unsafe.Pointer(&b[j*kc])
						p.c = unsafe.Pointer(&c[i*ks.mr*nc+j])
						fn(&p)
					}
				}
				reps++
			}
			fl := float64(reps) * float64(mpan*ks.mr*nc*kc*2)
			best = max(best, fl/time.Since(st).Seconds()/1e9)
			}
			t.Logf("%-16s kc=%3d %.1f GFLOP/s", ks.name, kc, best)
		}
	}
}
