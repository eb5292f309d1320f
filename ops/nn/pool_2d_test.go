package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"stride/graph"
)

// poolCases are 1-D and 2-D windows: the CNN ones (3x3 s2 p1, 3x3 s2
// ceil, 3x3 s1 p1, 2x2 s2) and odd ones (dilations, asymmetric pads, wide
// kernels, windows wholly in the padding).
var poolCases = []struct {
	name string
	x    []int
	w    window
}{
	{"3x3 s2 p1", []int{2, 3, 17, 40}, window{kernel: []int{3, 3}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}}},
	{"3x3 s2 ceil", []int{1, 4, 13, 27}, window{kernel: []int{3, 3}, strides: []int{2, 2}, ceil: true}},
	{"3x3 s1 p1", []int{1, 2, 9, 35}, window{kernel: []int{3, 3}, strides: []int{1, 1}, pads: []int{1, 1, 1, 1}}},
	{"3x3 s1 empty windows", []int{2, 2, 5, 6}, window{kernel: []int{3, 3}, strides: []int{2, 1}, pads: []int{2, 0, 3, 3}}},
	{"2x2 s2", []int{1, 3, 10, 37}, window{kernel: []int{2, 2}, strides: []int{2, 2}}},
	{"2x2 s2 ceil", []int{1, 3, 9, 33}, window{kernel: []int{2, 2}, strides: []int{2, 2}, ceil: true}},
	{"dilated", []int{1, 2, 12, 14}, window{kernel: []int{2, 3}, dilations: []int{2, 2}, pads: []int{1, 2, 0, 1}}},
	{"wide", []int{1, 1, 6, 20}, window{kernel: []int{5, 7}, strides: []int{3, 1}, pads: []int{2, 3, 2, 3}}},
	{"pad only", []int{1, 1, 4, 4}, window{kernel: []int{2, 2}, strides: []int{2, 2}, pads: []int{3, 3, 0, 0}}},
	{"1d", []int{2, 3, 31}, window{kernel: []int{3}, strides: []int{2}, pads: []int{1, 1}}},
	{"1x1 s2", []int{1, 2, 7, 9}, window{kernel: []int{1, 1}, strides: []int{2, 2}}},
}

func TestPool2DAgainstGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for _, pc := range poolCases {
		g, err := pc.w.poolGeometry(pc.x)
		if err != nil {
			t.Fatalf("%s: %v", pc.name, err)
		}
		p, ok := g.as2D()
		if !ok {
			t.Fatalf("%s: not 2-D", pc.name)
		}
		x := randF32(r, product(pc.x))
		n := g.planes * product(g.out)
		want, got := make([]float32, n), make([]float32, n)
		maxPool(testCtx(), g, x, want, nil, false)
		maxPool2D(testCtx(), g, &p, x, got)
		same(t, pc.name+" max", got, want, 0)
		for _, padded := range [][][]int{nil, g.paddedCounts()} {
			avgPool(testCtx(), g, x, want, padded)
			avgPool2D(testCtx(), g, &p, x, got, padded)
			same(t, fmt.Sprintf("%s avg (include pad %v)", pc.name, padded != nil), got, want, 1e-6)
		}
	}
}

// same compares float32 slices; NaN equals NaN, and a window wholly in
// the padding is 0/0 in both.
func same(t *testing.T, name string, got, want []float32, tol float64) {
	t.Helper()
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) != math.IsNaN(w) || math.Abs(g-w) > tol*(1+math.Abs(w)) {
			t.Fatalf("%s: element %d is %v, want %v", name, i, g, w)
		}
	}
}

func TestMaxPoolNaN(t *testing.T) {
	x := randTensor(rand.New(rand.NewPCG(43, 44)), 1, 1, 6, 6)
	x.F32()[2*6+3] = float32(math.NaN())
	attrs := map[string]*graph.Attr{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "pads": ints(1, 1, 1, 1)}
	y := mustRun(t, "MaxPool", attrs, 1, x)[0].F32()
	// Input (2,3) is in the windows of outputs (1,1) and (1,2) only.
	for i, v := range y {
		if nan := i == 1*3+1 || i == 1*3+2; nan != math.IsNaN(float64(v)) {
			t.Errorf("output %d = %v", i, v)
		}
	}
}

// TestPoolPassTwins compares the assembly max passes with their Go twins
// on every tail length, with NaNs.
func TestPoolPassTwins(t *testing.T) {
	if !usePoolAsm {
		t.Skip("no assembly passes on this machine or build")
	}
	r := rand.New(rand.NewPCG(45, 46))
	nan := float32(math.NaN())
	for n := 1; n <= 80; n++ {
		a, b := randF32(r, n+1), randF32(r, n+1)
		a[n/2], b[n/3] = nan, nan
		want := append([]float32{}, a...)
		maxIntoGo(want[:n], b)
		maxInto(a[:n], b)
		same(t, fmt.Sprintf("maxInto n %d", n), a, want, 0)
		for _, ks := range [][2]int{{3, 1}, {3, 2}, {2, 2}} {
			k, s := ks[0], ks[1]
			line := randF32(r, (n-1)*s+k)
			line[len(line)/2] = nan
			want, got := make([]float32, n+1), make([]float32, n+1)
			want[n], got[n] = 7, 7
			slideMaxGo(want[:n], line, k, s, 1)
			slideMax(got[:n], line, k, s, 1)
			same(t, fmt.Sprintf("slideMax k %d s %d n %d", k, s, n), got, want, 0)
		}
	}
}

// TestMax3RowsTwins compares the 3x3 assembly max-pool kernel with its Go
// twin on every tail length and row steps 1 and 2, with NaNs.
func TestMax3RowsTwins(t *testing.T) {
	if !usePoolAsm {
		t.Skip("no assembly kernels on this machine or build")
	}
	r := rand.New(rand.NewPCG(47, 48))
	for _, vstride := range []int{1, 2} {
		for n := 1; n <= 70; n++ {
			rows := 1 + n%3
			ld := n + 2 + n%2
			step := vstride * ld
			src := randF32(r, (rows-1)*step+2*ld+n+2)
			src[len(src)/2] = float32(math.NaN())
			want, got := make([]float32, rows*n+1), make([]float32, rows*n+1)
			want[rows*n], got[rows*n] = 5, 5 // must stay untouched
			max3RowsGo(want, src, n, rows, ld, step)
			max3Rows(got, src, n, rows, ld, step)
			same(t, fmt.Sprintf("max3Rows row step %d n %d", vstride, n), got, want, 0)
		}
	}
}

func TestPool2DGoTwin(t *testing.T) {
	if !usePoolAsm {
		t.Skip("the Go twins are already the only passes")
	}
	usePoolAsm = false
	defer func() { usePoolAsm = true }()
	TestPool2DAgainstGeneric(t)
}

func BenchmarkMaxPool(b *testing.B) {
	for _, s := range []struct {
		name  string
		x     []int
		attrs map[string]*graph.Attr
	}{
		{"resnet 3x3 s2 112", []int{1, 64, 112, 112}, map[string]*graph.Attr{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "pads": ints(1, 1, 1, 1)}},
		{"googlenet 3x3 s1 28", []int{1, 192, 28, 28}, map[string]*graph.Attr{"kernel_shape": ints(3, 3), "strides": ints(1, 1), "pads": ints(1, 1, 1, 1)}},
		{"googlenet 3x3 s1 14 b8", []int{8, 480, 14, 14}, map[string]*graph.Attr{"kernel_shape": ints(3, 3), "strides": ints(1, 1), "pads": ints(1, 1, 1, 1)}},
		{"googlenet 3x3 s2 ceil 56", []int{1, 64, 112, 112}, map[string]*graph.Attr{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "ceil_mode": graph.IntAttr(1)}},
	} {
		b.Run(s.name, func(b *testing.B) {
			x := randTensor(rand.New(rand.NewPCG(1, 2)), s.x...)
			k := buildNode(b, "", "MaxPool", s.attrs, nil, x)
			c := serialCtx()
			for b.Loop() {
				runKernel(b, k, c, x)
			}
		})
	}
}
