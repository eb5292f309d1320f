package tensorops

import (
	"math"
	"testing"

	"stride/graph"
	"stride/tensor"
)

func TestSlice(t *testing.T) {
	x := iota32(10)
	for _, tc := range []struct {
		starts, ends, steps int64
		want                []float32
	}{
		{-1, math.MinInt64, -1, []float32{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{20, -20, -3, []float32{9, 6, 3, 0}},
		{math.MinInt64, math.MaxInt64, 4, []float32{0, 4, 8}},
		{2, 5, math.MaxInt64, []float32{2}},
		{5, 2, 1, []float32{}},
		{5, 5, -1, []float32{}},
		{3, -11, math.MinInt64, []float32{3}},
	} {
		y := run1(t, "Slice", nil, x, ints(tc.starts), ints(tc.ends), ints(0), ints(tc.steps))
		expect(t, y, []int{len(tc.want)}, tc.want)
	}
	// Contiguous rows of a 3-D tensor, negative axes, omitted axes input.
	y := run1(t, "Slice", nil, iota32(2, 3, 2), ints(1), ints(3), ints(-2))
	expect(t, y, []int{2, 2, 2}, []float32{2, 3, 4, 5, 8, 9, 10, 11})
	y = run1(t, "Slice", nil, iota32(3, 2), ints(1, 1), ints(3, 2), nil, ints(1, 1))
	expect(t, y, []int{2, 1}, []float32{3, 5})
	wantErr(t, "step", "Slice", nil, 1, x, ints(0), ints(5), ints(0), ints(0))
	wantErr(t, "repeated", "Slice", nil, 1, iota32(2, 2), ints(0, 0), ints(1, 1), ints(0, -2))
	wantErr(t, "ends", "Slice", nil, 1, x, ints(0, 1), ints(5))
}

func TestGather(t *testing.T) {
	x := iota32(3, 2)
	y := run1(t, "Gather", nil, x, ints(2, -3))
	expect(t, y, []int{2, 2}, []float32{4, 5, 0, 1})
	y = run1(t, "Gather", attrs("axis", graph.IntAttr(1)), x, tensor.From([]int{1, 2}, []int32{1, 0}))
	expect(t, y, []int{3, 1, 2}, []float32{1, 0, 3, 2, 5, 4})
	y = run1(t, "Gather", nil, x, tensor.Scalar(int64(1)))
	expect(t, y, []int{2}, []float32{2, 3})
	wantErr(t, "out of range", "Gather", nil, 1, x, ints(3))
	wantErr(t, "out of range", "Gather", nil, 1, x, ints(-4))
	wantErr(t, "int32 or int64", "Gather", nil, 1, x, tensor.From([]int{1}, []float32{0}))

	y = run1(t, "GatherElements", attrs("axis", graph.IntAttr(1)), x, tensor.From([]int{3, 1}, []int64{1, -2, 1}))
	expect(t, y, []int{3, 1}, []float32{1, 2, 5})
	wantErr(t, "out of range", "GatherElements", nil, 1, x, tensor.From([]int{1, 1}, []int64{3}))
	wantErr(t, "exceeds", "GatherElements", nil, 1, x, tensor.From([]int{1, 3}, []int64{0, 0, 0}))

	// GatherND with a batch dim: batch b picks row idx[b] of data[b].
	d := iota32(2, 3, 2)
	y = run1(t, "GatherND", attrs("batch_dims", graph.IntAttr(1)), d, tensor.From([]int{2, 1}, []int64{2, -3}))
	expect(t, y, []int{2, 2}, []float32{4, 5, 6, 7})
	y = run1(t, "GatherND", nil, d, tensor.From([]int{2, 3}, []int64{0, 1, 1, 1, 2, 0}))
	expect(t, y, []int{2}, []float32{3, 10})
	wantErr(t, "out of range", "GatherND", nil, 1, d, tensor.From([]int{1, 2}, []int64{2, 0}))
	wantErr(t, "too long", "GatherND", nil, 1, d, tensor.From([]int{1, 4}, []int64{0, 0, 0, 0}))
}

func TestScatter(t *testing.T) {
	x := tensor.From([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	ind := tensor.From([]int{2, 2}, []int64{0, 0, -1, 2})
	upd := tensor.From([]int{2, 2}, []float32{10, 20, 30, 40})
	for _, tc := range []struct {
		mode string
		want []float32
	}{
		{"none", []float32{20, 2, 3, 4, 5, 40}},
		{"add", []float32{31, 2, 3, 4, 5, 76}},
		{"mul", []float32{200, 2, 3, 4, 5, 7200}},
		{"max", []float32{20, 2, 3, 4, 5, 40}},
		{"min", []float32{1, 2, 3, 4, 5, 6}},
	} {
		y := run1(t, "ScatterElements", attrs("axis", graph.IntAttr(1), "reduction", graph.StringAttr(tc.mode)), x, ind, upd)
		expect(t, y, []int{2, 3}, tc.want)
	}
	if x.F32()[0] != 1 {
		t.Fatal("ScatterElements modified its input")
	}
	wantErr(t, "out of range", "ScatterElements", nil, 1, x, tensor.From([]int{1, 1}, []int64{2}), tensor.From([]int{1, 1}, []float32{0}))
	wantErr(t, "unknown reduction", "ScatterElements", attrs("reduction", graph.StringAttr("avg")), 1, x, ind, upd)
	b := tensor.From([]int{2}, []bool{true, false})
	wantErr(t, "numeric", "ScatterElements", attrs("reduction", graph.StringAttr("add")), 1, b, ints(0), tensor.From([]int{1}, []bool{true}))

	// Float16 add rounds once per element.
	h := tensor.FromBits(tensor.Float16, []int{2}, []uint16{0x3c00, 0x4000}) // 1, 2
	hu := tensor.FromBits(tensor.Float16, []int{1}, []uint16{0x3800})        // 0.5
	y := run1(t, "ScatterElements", attrs("reduction", graph.StringAttr("add")), h, ints(1), hu)
	expect(t, y, []int{2}, []uint16{0x3c00, 0x4100}) // 1, 2.5

	// ScatterND with a duplicate index and each reduction.
	d := tensor.From([]int{4}, []int32{1, 2, 3, 4})
	ndi := tensor.From([]int{3, 1}, []int64{1, 3, 1})
	ndu := tensor.From([]int{3}, []int32{5, 6, 7})
	for _, tc := range []struct {
		mode string
		want []int32
	}{
		{"none", []int32{1, 7, 3, 6}},
		{"add", []int32{1, 14, 3, 10}},
		{"mul", []int32{1, 70, 3, 24}},
		{"max", []int32{1, 7, 3, 6}},
		{"min", []int32{1, 2, 3, 4}},
	} {
		y := run1(t, "ScatterND", attrs("reduction", graph.StringAttr(tc.mode)), d, ndi, ndu)
		expect(t, y, []int{4}, tc.want)
	}
	// Slices: index tuples shorter than the rank replace whole rows.
	y = run1(t, "ScatterND", nil, iota32(2, 2), tensor.From([]int{1, 1}, []int64{-1}), tensor.From([]int{1, 2}, []float32{9, 8}))
	expect(t, y, []int{2, 2}, []float32{0, 1, 9, 8})
	wantErr(t, "updates shape", "ScatterND", nil, 1, d, ndi, ints(1))
}

func TestExpandTile(t *testing.T) {
	x := tensor.From([]int{3, 1}, []int32{1, 2, 3})
	y := run1(t, "Expand", nil, x, ints(2, 1, 2))
	expect(t, y, []int{2, 3, 2}, []int32{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3})
	y = run1(t, "Expand", nil, x, ints(1))
	expect(t, y, []int{3, 1}, []int32{1, 2, 3})
	wantErr(t, "broadcast", "Expand", nil, 1, x, ints(2, 2))
	wantErr(t, "too large", "Expand", nil, 1, x, ints(1<<40, 1<<40, 1))
	wantErr(t, "negative", "Expand", nil, 1, x, ints(-1))

	y = run1(t, "Tile", nil, tensor.From([]int{2, 2}, []string{"a", "b", "c", "d"}), ints(2, 2))
	expect(t, y, []int{4, 4}, []string{"a", "b", "a", "b", "c", "d", "c", "d", "a", "b", "a", "b", "c", "d", "c", "d"})
	y = run1(t, "Tile", nil, x, ints(0, 3))
	expect(t, y, []int{0, 3}, []int32{})
	wantErr(t, "too large", "Tile", nil, 1, x, ints(1<<40, 1<<40))
	wantErr(t, "one entry per", "Tile", nil, 1, x, ints(2))
}

func TestPad(t *testing.T) {
	x := tensor.From([]int{2, 3}, []int32{1, 2, 3, 4, 5, 6})
	mode := func(m string) map[string]*graph.Attr { return attrs("mode", graph.StringAttr(m)) }
	y := run1(t, "Pad", nil, x, ints(1, 0, 0, 1), tensor.Scalar(int32(9)))
	expect(t, y, []int{3, 4}, []int32{9, 9, 9, 9, 1, 2, 3, 9, 4, 5, 6, 9})
	// Negative pads crop; an axes input selects the padded axes.
	y = run1(t, "Pad", nil, x, ints(-1, 1), nil, ints(1))
	expect(t, y, []int{2, 3}, []int32{2, 3, 0, 5, 6, 0})
	y = run1(t, "Pad", mode("reflect"), x, ints(3, 2), nil, ints(-1))
	expect(t, y, []int{2, 8}, []int32{2, 3, 2, 1, 2, 3, 2, 1, 5, 6, 5, 4, 5, 6, 5, 4})
	y = run1(t, "Pad", mode("edge"), x, ints(1, 1, 0, 2))
	expect(t, y, []int{3, 6}, []int32{1, 1, 2, 3, 3, 3, 1, 1, 2, 3, 3, 3, 4, 4, 5, 6, 6, 6})
	y = run1(t, "Pad", mode("wrap"), x, ints(0, 4, 1, 0))
	expect(t, y, []int{3, 7}, []int32{3, 1, 2, 3, 1, 2, 3, 6, 4, 5, 6, 4, 5, 6, 3, 1, 2, 3, 1, 2, 3})
	s := tensor.From([]int{2}, []string{"a", "b"})
	expect(t, run1(t, "Pad", nil, s, ints(1, 1)), []int{4}, []string{"", "a", "b", ""})
	expect(t, run1(t, "Pad", mode("reflect"), s, ints(1, 1)), []int{4}, []string{"b", "a", "b", "a"})
	wantErr(t, "crop more", "Pad", nil, 1, x, ints(0, -4, 0, 0))
	wantErr(t, "size 0", "Pad", mode("edge"), 1, tensor.Zeros(tensor.Float32, 0), ints(1, 1))
	wantErr(t, "entries", "Pad", nil, 1, x, ints(1, 1))
	wantErr(t, "unknown pad mode", "Pad", mode("mirror"), 1, x, ints(1, 1, 1, 1))
	wantErr(t, "too large", "Pad", nil, 1, x, ints(1<<40, 0, 0, 1<<40))
}

func TestSelect(t *testing.T) {
	// NonZero: -0 in float16 is zero; a scalar counts as a vector.
	h := tensor.FromBits(tensor.Float16, []int{2, 2}, []uint16{0x8000, 0x3c00, 0, 0x7e00})
	expect(t, run1(t, "NonZero", nil, h), []int{2, 2}, []int64{0, 1, 1, 1})
	expect(t, run1(t, "NonZero", nil, tensor.Scalar(int32(5))), []int{1, 1}, []int64{0})
	expect(t, run1(t, "NonZero", nil, tensor.From([]int{3}, []string{"", "x", ""})), []int{1, 1}, []int64{1})

	x := iota32(3, 2)
	cond := tensor.From([]int{2}, []bool{false, true})
	expect(t, run1(t, "Compress", attrs("axis", graph.IntAttr(-1)), x, cond), []int{3, 1}, []float32{1, 3, 5})
	expect(t, run1(t, "Compress", nil, x, cond), []int{1}, []float32{1})
	wantErr(t, "selects position", "Compress", nil, 1, iota32(1), cond)

	oh := run1(t, "OneHot", attrs("axis", graph.IntAttr(0)),
		tensor.From([]int{3}, []float32{1, -1, 7}), tensor.Scalar(int64(3)), tensor.From([]int{2}, []string{"off", "on"}))
	expect(t, oh, []int{3, 3}, []string{"off", "off", "off", "on", "off", "off", "off", "on", "off"})

	m := tensor.From([]int{2, 3}, []int64{1, 2, 3, 4, 5, 6})
	expect(t, run1(t, "Trilu", nil, m, tensor.Scalar(int64(math.MinInt64))), []int{2, 3}, []int64{1, 2, 3, 4, 5, 6})
	expect(t, run1(t, "Trilu", nil, m, tensor.Scalar(int64(math.MaxInt64))), []int{2, 3}, []int64{0, 0, 0, 0, 0, 0})
	expect(t, run1(t, "Trilu", attrs("upper", graph.IntAttr(0)), m, tensor.Scalar(int64(1))), []int{2, 3}, []int64{1, 2, 0, 4, 5, 6})

	// ReverseSequence with batch on axis 0.
	seq := tensor.From([]int{2, 3}, []int64{1, 2, 3, 4, 5, 6})
	y := run1(t, "ReverseSequence", attrs("batch_axis", graph.IntAttr(0), "time_axis", graph.IntAttr(1)), seq, ints(2, 0))
	expect(t, y, []int{2, 3}, []int64{2, 1, 3, 4, 5, 6})
	wantErr(t, "out of range", "ReverseSequence", nil, 1, seq, ints(1, 1, 3))
	wantErr(t, "entries", "ReverseSequence", nil, 1, seq, ints(1))
}
