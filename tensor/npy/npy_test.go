package npy

import (
	"bytes"
	"testing"

	"stride/tensor"
)

func TestRoundTrip(t *testing.T) {
	cases := []*tensor.Tensor{
		tensor.From([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6.5}),
		tensor.From([]int{3}, []int64{-1, 0, 1 << 40}),
		tensor.From([]int{2}, []bool{true, false}),
		tensor.From([]int{}, []uint8{7}),
		tensor.From([]int{1, 2}, []float64{3.25, -1e300}),
	}
	for _, c := range cases {
		b, err := Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		if (len(b)-len(b)%64)%64 != 0 {
			t.Fatal("alignment")
		}
		got, err := Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		if got.String() != c.String() || !tensor.SameShape(got.Shape, c.Shape) {
			t.Fatalf("got %v want %v", got, c)
		}
	}
}

func TestBadInput(t *testing.T) {
	good, _ := Encode(tensor.From([]int{4}, []float32{1, 2, 3, 4}))
	for name, b := range map[string][]byte{
		"empty":     nil,
		"magic":     []byte("NOTNUMPY........"),
		"truncated": good[:len(good)-3],
		"huge":      bytes.Replace(good, []byte("(4,)"), []byte("(99999999999,99999999999)"), 1),
	} {
		if _, err := Decode(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: expected an error", name)
		}
	}
}
