//go:build !amd64 || purego

package kern

// Without assembly the dispatch tables are empty and never consulted.
const useAVX2 = false

var (
	unaryAVX2 [numUnary]func(dst, x *float32, n int, p0, p1 float32)
	vvAVX2    [numOps]func(dst, a, b *float32, n int)
	vsAVX2    [numOps]func(dst, a *float32, n int, s float32)
	svAVX2    [numOps]func(dst, a *float32, n int, s float32)
	poolAVX2  [numPool]func(dst, v *float32, n int)
)

func sumAVX2(x *float32, n int) float64 { panic("kern: no assembly") }
func maxAVX2(x *float32, n int) float32 { panic("kern: no assembly") }
