package gemm

import "testing"

// BenchmarkPackB measures packing a 288x448 block of B for both storage
// orders (bytes/s of packed output).
func BenchmarkPackB(b *testing.B) {
	k, n := 576, 3136
	src := benchRand(k * n)
	ks := active
	kc, nc := 288, 448
	dst := make([]float32, kc*nc)
	for _, tr := range []bool{false, true} {
		name := "N"
		if tr {
			name = "T"
		}
		b.Run(name, func(b *testing.B) {
			j := 0
			for b.Loop() {
				if tr {
					packBBlock(dst, ks, src, k, true, nil, 0, kc, j, j+nc, n)
				} else {
					packBBlock(dst, ks, src, n, false, nil, 0, kc, j, j+nc, n)
				}
				j = (j + nc) % (n - nc)
			}
			b.SetBytes(int64(kc * nc * 4))
		})
	}
}

// BenchmarkPackA measures packing a 1024x288 block of A.
func BenchmarkPackA(b *testing.B) {
	m, k := 1024, 1024
	src := benchRand(m * k)
	ks := active
	kc := 288
	dst := make([]float32, kc*m)
	for _, tr := range []bool{false, true} {
		name := "N"
		if tr {
			name = "T"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				for i := 0; i < m; i += ks.mr {
					packA(dst[kc*i:], src, 1024, tr, i, min(ks.mr, m-i), 0, kc)
				}
			}
			b.SetBytes(int64(kc * m * 4))
		})
	}
}
