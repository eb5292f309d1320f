package imageops

import "math"

// fftPlan computes the forward discrete Fourier transform of a fixed length
// n in float64: radix-2 for powers of two, the direct sum for short odd
// lengths, and Bluestein's chirp-z algorithm (a convolution done with a
// power-of-two FFT) for the rest, so every length costs O(n log n). A plan
// is read-only once made and may be shared by goroutines; each goroutine
// passes its own fftWork.
type fftPlan struct {
	n        int
	cos, sin []float64 // cos/sin(2πk/n), k < n
	rev      []int     // bit reversal permutation (powers of two)

	// Bluestein: the chirp w_k = exp(-iπk²/n), the transform of its
	// conjugate zero-padded to length m, and the plan for m.
	chirpRe, chirpIm []float64
	filtRe, filtIm   []float64
	sub              *fftPlan
}

// fftWork is per-goroutine scratch space for a plan.
type fftWork struct{ re, im, tre, tim []float64 }

const directMax = 32 // lengths up to this use the direct sum when not powers of two

func newFFT(n int) *fftPlan {
	p := &fftPlan{n: n, cos: make([]float64, n), sin: make([]float64, n)}
	for k := range n {
		s, c := math.Sincos(2 * math.Pi * float64(k) / float64(n))
		p.cos[k], p.sin[k] = c, s
	}
	switch {
	case n&(n-1) == 0:
		p.rev = make([]int, n)
		bits := 0
		for 1<<bits < n {
			bits++
		}
		for i := range n {
			r := 0
			for b := range bits {
				r |= (i >> b & 1) << (bits - 1 - b)
			}
			p.rev[i] = r
		}
	case n > directMax:
		m := 1
		for m < 2*n-1 {
			m <<= 1
		}
		p.sub = newFFT(m)
		p.chirpRe, p.chirpIm = make([]float64, n), make([]float64, n)
		for k := range n {
			// k² mod 2n keeps the angle small and exact.
			q := (k * k) % (2 * n)
			s, c := math.Sincos(math.Pi * float64(q) / float64(n))
			p.chirpRe[k], p.chirpIm[k] = c, -s
		}
		p.filtRe, p.filtIm = make([]float64, m), make([]float64, m)
		for k := range n {
			p.filtRe[k], p.filtIm[k] = p.chirpRe[k], -p.chirpIm[k]
			if k > 0 {
				p.filtRe[m-k], p.filtIm[m-k] = p.chirpRe[k], -p.chirpIm[k]
			}
		}
		p.sub.forward(p.filtRe, p.filtIm, p.sub.newWork())
	}
	return p
}

func (p *fftPlan) newWork() *fftWork {
	size := p.n
	if p.sub != nil {
		size = p.sub.n
	}
	return &fftWork{re: make([]float64, size), im: make([]float64, size), tre: make([]float64, size), tim: make([]float64, size)}
}

// transform replaces (re, im) by its DFT, or by the inverse DFT (with the
// 1/n factor) when inverse is set. The inverse is the conjugate of the
// forward transform of the conjugate.
func (p *fftPlan) transform(re, im []float64, inverse bool, w *fftWork) {
	if inverse {
		for i := range im {
			im[i] = -im[i]
		}
	}
	p.forward(re, im, w)
	if inverse {
		s := 1 / float64(p.n)
		for i := range im {
			re[i] *= s
			im[i] *= -s
		}
	}
}

func (p *fftPlan) forward(re, im []float64, w *fftWork) {
	switch {
	case p.n <= 1:
	case p.rev != nil:
		p.radix2(re, im)
	case p.sub == nil:
		p.direct(re, im, w)
	default:
		p.bluestein(re, im, w)
	}
}

// direct is the O(n²) sum; twiddle indices are reduced mod n exactly.
func (p *fftPlan) direct(re, im []float64, w *fftWork) {
	n := p.n
	tre, tim := w.tre[:n], w.tim[:n]
	for k := range n {
		sr, si := 0.0, 0.0
		for j := range n {
			t := (k * j) % n
			c, s := p.cos[t], p.sin[t]
			sr += re[j]*c + im[j]*s
			si += im[j]*c - re[j]*s
		}
		tre[k], tim[k] = sr, si
	}
	copy(re, tre)
	copy(im, tim)
}

// radix2 is the iterative Cooley-Tukey FFT.
func (p *fftPlan) radix2(re, im []float64) {
	n := p.n
	for i, r := range p.rev {
		if i < r {
			re[i], re[r] = re[r], re[i]
			im[i], im[r] = im[r], im[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		half, step := size/2, n/size
		for start := 0; start < n; start += size {
			for j := range half {
				c, s := p.cos[j*step], -p.sin[j*step]
				a, b := start+j, start+j+half
				tr := re[b]*c - im[b]*s
				ti := re[b]*s + im[b]*c
				re[b], im[b] = re[a]-tr, im[a]-ti
				re[a], im[a] = re[a]+tr, im[a]+ti
			}
		}
	}
}

// bluestein writes X_k = w_k Σ_j (x_j w_j) conj(w_{k-j}) as a circular
// convolution of length m.
func (p *fftPlan) bluestein(re, im []float64, w *fftWork) {
	n, m := p.n, p.sub.n
	ar, ai := w.re[:m], w.im[:m]
	clear(ar)
	clear(ai)
	for k := range n {
		ar[k] = re[k]*p.chirpRe[k] - im[k]*p.chirpIm[k]
		ai[k] = re[k]*p.chirpIm[k] + im[k]*p.chirpRe[k]
	}
	p.sub.radix2(ar, ai)
	for k := range m {
		r := ar[k]*p.filtRe[k] - ai[k]*p.filtIm[k]
		ai[k] = ar[k]*p.filtIm[k] + ai[k]*p.filtRe[k]
		ar[k] = r
	}
	p.sub.transform(ar, ai, true, nil)
	for k := range n {
		re[k] = ar[k]*p.chirpRe[k] - ai[k]*p.chirpIm[k]
		im[k] = ar[k]*p.chirpIm[k] + ai[k]*p.chirpRe[k]
	}
}
