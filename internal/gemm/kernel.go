package gemm

import "unsafe"

// kargs is the argument block of a microkernel. The assembly kernels read it
// by fixed offsets (asmgen/main.go); TestKargsLayout keeps the two in sync.
// Strides are in bytes so the kernels need no scaling.
type kargs struct {
	a, b, c   unsafe.Pointer // packed A micro-panel, B micro-panel, C tile
	bias, res unsafe.Pointer // bias at this tile's row or column, residual tile
	k         int            // depth
	bstride   int            // bytes between consecutive k rows of B
	ldc       int            // bytes between rows of C
	ldr       int            // bytes between rows of the residual
	flags     uint32
	alpha     float32
	beta      float32
	lo, hi    float32 // ActClip bounds
	leak      float32 // ActLeakyRelu slope
	kmask     [4]uint16
	mr, n     int // rows and valid columns (the assembly kernels ignore mr)
	ymask     [8]int32
	astride   int // bytes between k steps of A, for the column-tail kernels
}

// Kernel flag bits (mirrored in asmgen).
const (
	flagAlpha   = 1 << 0 // multiply the sum by alpha
	flagBeta1   = 1 << 1 // add C
	flagBetaAny = 1 << 2 // add beta*C
	flagBiasRow = 1 << 3
	flagBiasCol = 1 << 4
	flagRes     = 1 << 5
	flagMask    = 1 << 6 // AVX2: the last vector of a row is partial
	actShift    = 8
	flagActMask = 3 << actShift
)

// kernelSet is one family of register-tiled microkernels. fns[nv][mr]
// computes an mr x (nv*vl) tile with mr <= ks.mr, nv*vl <= nr; every
// kernel masks columns beyond kargs.n, so any tile shape is handled without
// a scratch tile.
type kernelSet struct {
	name string
	isa  string // "avx512", "avx2" or "go"
	mr   int    // rows of the largest tile
	nr   int    // columns of the largest tile (the B panel width)
	vl   int    // vector length in floats; a partial B panel is padded to it
	fns  [][]func(*kargs)
	// tails[r] (r < vl), when present, computes the raw sums of r columns
	// with vectors along M (see asmgen columnTail).
	tails []func(*kargs)
}

// panelWidth is the padded width of a B panel holding nc (<= nr) columns.
func (ks *kernelSet) panelWidth(nc int) int {
	return (nc + ks.vl - 1) / ks.vl * ks.vl
}

// kernel prepares the column masks of p for an mr x n tile and returns the
// kernel that computes it.
func (ks *kernelSet) kernel(p *kargs, mr, n int) func(*kargs) {
	p.mr, p.n = mr, n
	nv := (n + ks.vl - 1) / ks.vl
	switch ks.isa {
	case "avx512":
		for v := range p.kmask {
			lanes := min(max(n-16*v, 0), 16)
			p.kmask[v] = uint16(1<<lanes - 1)
		}
	case "avx2":
		p.flags &^= flagMask
		lanes := n - (nv-1)*8
		if lanes < 8 {
			p.flags |= flagMask
		}
		for i := range p.ymask {
			p.ymask[i] = 0
			if i < lanes {
				p.ymask[i] = -1
			}
		}
	}
	return ks.fns[nv][mr]
}

// active is the kernel set used by new calls; kernelSets lists every set
// usable on this machine, best first.
var (
	kernelSets []*kernelSet
	active     *kernelSet
)

func init() {
	kernelSets = platformKernelSets()
	kernelSets = append(kernelSets, goKernels)
	active = kernelSets[0]
}

// useKernels switches the active kernel set by name and reports whether it
// exists. It is for tests and benchmarks; it must not race with GEMM calls.
func useKernels(name string) bool {
	for _, ks := range kernelSets {
		if ks.name == name {
			active = ks
			return true
		}
	}
	return false
}
