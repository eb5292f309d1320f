package nn

import (
	"fmt"
	"math"

	"stride/ops"
	"stride/tensor"
)

func init() {
	// Det computes in float64 whatever the input precision, so it takes
	// float64 natively rather than through float32.
	ops.Register(&ops.Def{Op: "Det", Build: buildDet, Float64: true})
}

func buildDet(b *ops.Build) (ops.Kernel, error) {
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, err := ops.NeedInput(in, 0, "X")
		if err != nil {
			return nil, err
		}
		r := len(x.Shape)
		if r < 2 || x.Shape[r-1] != x.Shape[r-2] {
			return nil, fmt.Errorf("Det needs [..., M, M] input, got %v", x.Shape)
		}
		if x.DType != tensor.Float32 && x.DType != tensor.Float64 {
			return nil, fmt.Errorf("Det does not support element type %v", x.DType)
		}
		n := x.Shape[r-1]
		y, err := c.Alloc(x.DType, x.Shape[:r-2]...)
		if err != nil {
			return nil, err
		}
		vals := x.Float64s()
		c.For(y.Len(), max(1, 4096/max(n*n*n, 1)), func(lo, hi int) {
			a := make([]float64, n*n)
			for i := lo; i < hi; i++ {
				copy(a, vals[i*n*n:(i+1)*n*n])
				d := luDet(a, n)
				switch yd := y.Data.(type) {
				case []float32:
					yd[i] = float32(d)
				case []float64:
					yd[i] = d
				}
			}
		})
		return ops.Outs(y)
	}), nil
}

// luDet returns the determinant of the n x n matrix a (overwritten) by LU
// decomposition with partial pivoting.
func luDet(a []float64, n int) float64 {
	det := 1.0
	for k := 0; k < n; k++ {
		p := k
		for i := k + 1; i < n; i++ {
			if math.Abs(a[i*n+k]) > math.Abs(a[p*n+k]) {
				p = i
			}
		}
		if a[p*n+k] == 0 {
			return 0
		}
		if p != k {
			for j := 0; j < n; j++ {
				a[k*n+j], a[p*n+j] = a[p*n+j], a[k*n+j]
			}
			det = -det
		}
		piv := a[k*n+k]
		det *= piv
		for i := k + 1; i < n; i++ {
			f := a[i*n+k] / piv
			if f == 0 {
				continue
			}
			row, top := a[i*n+k+1:i*n+n], a[k*n+k+1:k*n+n]
			for j := range row {
				row[j] -= f * top[j]
			}
		}
	}
	return det
}
