package tensor

import (
	"errors"
	"math"
	"testing"
)

func TestFloat16RoundTrip(t *testing.T) {
	// Every half value converts to float32 and back unchanged.
	for h := 0; h < 1<<16; h++ {
		f := F16ToF32(uint16(h))
		if math.IsNaN(float64(f)) {
			continue
		}
		if back := F32ToF16(f); back != uint16(h) {
			t.Fatalf("half %#04x -> %v -> %#04x", h, f, back)
		}
	}
	cases := map[float32]uint16{1: 0x3c00, -2: 0xc000, 65504: 0x7bff, 1e6: 0x7c00, 5.960464477539063e-08: 0x0001, 1.0009765625: 0x3c01, 1.00048828125: 0x3c00 /* tie to even */}
	for f, want := range cases {
		if got := F32ToF16(f); got != want {
			t.Errorf("F32ToF16(%v) = %#04x, want %#04x", f, got, want)
		}
	}
}

func TestBFloat16(t *testing.T) {
	if got := BF16ToF32(F32ToBF16(1.5)); got != 1.5 {
		t.Fatal(got)
	}
	if got := F32ToBF16(1.00390625); got != 0x3f80 { // tie rounds to even
		t.Fatalf("%#x", got)
	}
	if !math.IsNaN(float64(BF16ToF32(F32ToBF16(float32(math.NaN()))))) {
		t.Fatal("nan lost")
	}
}

func TestConvert(t *testing.T) {
	x := From([]int{5}, []float32{-1.7, 0, 2.5, 300, float32(math.Inf(1))})
	i8, err := Convert(x, Int32)
	if err != nil {
		t.Fatal(err)
	}
	if got := i8.Data.([]int32)[:4]; got[0] != -1 || got[2] != 2 || got[3] != 300 {
		t.Fatalf("float->int32 truncation: %v", got)
	}
	b, _ := Convert(x, Bool)
	if got := b.Data.([]bool); got[0] != true || got[1] != false {
		t.Fatal(got)
	}
	s, _ := Convert(From([]int{2}, []string{"1.5", "-inf"}), Float32)
	if got := s.F32(); got[0] != 1.5 || !math.IsInf(float64(got[1]), -1) {
		t.Fatal(got)
	}
	big := From([]int{1}, []int64{1<<53 + 1})
	u, _ := Convert(big, Uint64)
	if u.Data.([]uint64)[0] != 1<<53+1 {
		t.Fatal("int64->uint64 lost precision")
	}
	if _, err := Convert(From([]int{1}, []string{"abc"}), Float32); err == nil {
		t.Fatal("expected error for a non-numeric string")
	}
}

func TestNumElementsOverflow(t *testing.T) {
	if _, err := NumElements([]int{1 << 30, 1 << 30, 1 << 30}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v", err)
	}
	if _, err := NumElements([]int{2, -1}); err == nil {
		t.Fatal("negative dim accepted")
	}
	if n, err := NumElements([]int{0, 1 << 62}); err != nil || n != 0 {
		t.Fatalf("zero-size: %d %v", n, err)
	}
	if _, err := New(Float32, 1<<20, 1<<20); err == nil {
		t.Fatal("2^40 elements accepted")
	}
}

func TestFloat64ToHalfSingleRounding(t *testing.T) {
	v := 1 + math.Pow(2, -11) + math.Pow(2, -40) // just above a tie: rounds up
	if got := F64ToF16(v); got != 0x3c01 {
		t.Fatalf("F64ToF16(%v) = %#x, want 0x3c01", v, got)
	}
	if got := F64ToF16(1 + math.Pow(2, -11)); got != 0x3c00 { // exact tie: even
		t.Fatalf("tie: %#x", got)
	}
}
