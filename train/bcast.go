package train

import "fmt"

// bcast walks an output shape together with two operands broadcast to it
// (numpy rules), in runs along the innermost axis. Adjacent axes that
// broadcast the same way are merged first, so a per-channel operand of an
// N x C x H x W output walks runs of H*W.
type bcast struct {
	dims   []int
	sa, sb []int // operand strides per merged axis (0 where broadcast)
}

func newBcast(out, a, b []int) (*bcast, error) {
	r := len(out)
	if len(a) > r || len(b) > r {
		return nil, fmt.Errorf("shapes %v and %v do not broadcast to %v", a, b, out)
	}
	stridesOf := func(s []int) ([]int, error) {
		st := make([]int, r)
		acc := 1
		for i := r - 1; i >= 0; i-- {
			j := i - (r - len(s))
			if j < 0 {
				continue
			}
			switch s[j] {
			case out[i]:
				if s[j] != 1 {
					st[i] = acc
				}
			case 1:
			default:
				return nil, fmt.Errorf("shape %v does not broadcast to %v", s, out)
			}
			acc *= s[j]
		}
		return st, nil
	}
	sa, err := stridesOf(a)
	if err != nil {
		return nil, err
	}
	sb, err := stridesOf(b)
	if err != nil {
		return nil, err
	}
	g := &bcast{}
	for i := 0; i < r; i++ {
		if out[i] == 1 {
			continue
		}
		k := len(g.dims) - 1
		if k >= 0 && g.sa[k] == sa[i]*out[i] && g.sb[k] == sb[i]*out[i] {
			// Contiguous with the previous axis for both operands.
			g.dims[k] *= out[i]
			g.sa[k], g.sb[k] = sa[i], sb[i]
			continue
		}
		g.dims = append(g.dims, out[i])
		g.sa = append(g.sa, sa[i])
		g.sb = append(g.sb, sb[i])
	}
	if len(g.dims) == 0 {
		g.dims, g.sa, g.sb = []int{1}, []int{0}, []int{0}
	}
	return g, nil
}

// each calls fn for every run: the output offset o, the operand offsets a
// and b, the run length n and the operands' strides within the run (the
// output's is 1).
func (g *bcast) each(fn func(o, a, b, n, sa, sb int)) {
	r := len(g.dims)
	n := g.dims[r-1]
	idx := make([]int, r)
	o, a, b := 0, 0, 0
	for {
		fn(o, a, b, n, g.sa[r-1], g.sb[r-1])
		o += n
		k := r - 2
		for ; k >= 0; k-- {
			idx[k]++
			a += g.sa[k]
			b += g.sb[k]
			if idx[k] < g.dims[k] {
				break
			}
			a -= g.sa[k] * g.dims[k]
			b -= g.sb[k] * g.dims[k]
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}
