package gemm

import "unsafe"

// The portable microkernel: a 4x4 tile held in named locals (the Go
// compiler keeps those in registers, not an array). It is the only kernel
// on non-amd64 and under the purego tag, and the reference the assembly
// kernels are tested against.
const (
	goMR = 4
	goNR = 4
)

var goKernels = func() *kernelSet {
	ks := &kernelSet{name: "go-4x4", isa: "go", mr: goMR, nr: goNR, vl: 1}
	ks.fns = make([][]func(*kargs), goNR+1)
	for nv := 1; nv <= goNR; nv++ {
		ks.fns[nv] = make([]func(*kargs), goMR+1)
		for mr := 1; mr <= goMR; mr++ {
			ks.fns[nv][mr] = kernelGo
		}
	}
	return ks
}()

func kernelGo(p *kargs) {
	mr, n, k := p.mr, p.n, p.k
	bs := p.bstride / 4
	var acc [goMR * goNR]float32
	if k > 0 {
		a := unsafe.Slice((*float32)(p.a), k*mr)
		b := unsafe.Slice((*float32)(p.b), (k-1)*bs+n)
		if mr == goMR && n == goNR {
			kernelGo4x4(a, b, bs, &acc)
		} else {
			for l := 0; l < k; l++ {
				al := a[l*mr : l*mr+mr]
				bl := b[l*bs : l*bs+n]
				for i, av := range al {
					row := acc[i*goNR : i*goNR+n]
					for j, bv := range bl {
						row[j] += av * bv
					}
				}
			}
		}
	}
	finishTile(p, acc[:], goNR, 1)
}

func kernelGo4x4(a, b []float32, bs int, acc *[goMR * goNR]float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	for len(a) >= 4 && len(b) >= 4 {
		a0, a1, a2, a3 := a[0], a[1], a[2], a[3]
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		a = a[4:]
		if len(b) <= bs {
			break
		}
		b = b[bs:]
	}
	*acc = [goMR * goNR]float32{
		c00, c01, c02, c03, c10, c11, c12, c13,
		c20, c21, c22, c23, c30, c31, c32, c33,
	}
}

// finishTile applies the kernel epilogue described by p to an mr x n tile
// of sums, sum (i,j) being acc[i*rs+j*cs], and writes it to C.
func finishTile(p *kargs, acc []float32, rs, cs int) {
	mr, n := p.mr, p.n
	ldc, ldr := p.ldc/4, p.ldr/4
	f := p.flags
	c := unsafe.Slice((*float32)(p.c), (mr-1)*ldc+n)
	var bias, res []float32
	switch {
	case f&flagBiasRow != 0:
		bias = unsafe.Slice((*float32)(p.bias), mr)
	case f&flagBiasCol != 0:
		bias = unsafe.Slice((*float32)(p.bias), n)
	}
	if f&flagRes != 0 {
		res = unsafe.Slice((*float32)(p.res), (mr-1)*ldr+n)
	}
	act := Act(f & flagActMask >> actShift)
	for i := 0; i < mr; i++ {
		for j := 0; j < n; j++ {
			v := acc[i*rs+j*cs]
			if f&flagAlpha != 0 {
				v *= p.alpha
			}
			if f&flagBeta1 != 0 {
				v += c[i*ldc+j]
			} else if f&flagBetaAny != 0 {
				v += p.beta * c[i*ldc+j]
			}
			if f&flagBiasRow != 0 {
				v += bias[i]
			} else if f&flagBiasCol != 0 {
				v += bias[j]
			}
			if f&flagRes != 0 {
				v += res[i*ldr+j]
			}
			c[i*ldc+j] = activate(v, act, p.lo, p.hi, p.leak)
		}
	}
}

// activate applies act to v. NaN passes through every activation.
func activate(v float32, act Act, lo, hi, leak float32) float32 {
	switch act {
	case ActRelu:
		if v < 0 {
			v = 0
		}
	case ActClip:
		if v < lo {
			v = lo
		}
		if v > hi {
			v = hi
		}
	case ActLeakyRelu:
		if v < 0 {
			v *= leak
		}
	}
	return v
}
