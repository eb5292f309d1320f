package tensorops

import (
	"testing"

	"stride/graph"
	"stride/tensor"
)

func TestInfer(t *testing.T) {
	f := tensor.Float32
	i64 := tensor.Int64
	for _, tc := range []struct {
		name   string
		op     string
		attrs  map[string]*graph.Attr
		in     []graph.Type
		consts []*tensor.Tensor
		want   string
	}{
		{"reshape keeps batch", "Reshape", nil, []graph.Type{sym(f, "N", 3, 4), sym(i64, 2)}, []*tensor.Tensor{nil, ints(0, -1)}, "float32[N,12]"},
		{"reshape unknown", "Reshape", nil, []graph.Type{sym(f, "N", 3, 4), sym(i64, 2)}, []*tensor.Tensor{nil, ints(-1, 6)}, "float32[?,6]"},
		{"reshape static", "Reshape", nil, []graph.Type{sym(f, 2, 3, 4), sym(i64, 2)}, []*tensor.Tensor{nil, ints(4, -1)}, "float32[4,6]"},
		{"flatten", "Flatten", nil, []graph.Type{sym(f, "N", 3, 4)}, nil, "float32[N,12]"},
		{"squeeze", "Squeeze", nil, []graph.Type{sym(f, "N", 1, 4), sym(i64, 1)}, []*tensor.Tensor{nil, ints(1)}, "float32[N,4]"},
		{"unsqueeze", "Unsqueeze", nil, []graph.Type{sym(f, "N", 4), sym(i64, 2)}, []*tensor.Tensor{nil, ints(0, -1)}, "float32[1,N,4,1]"},
		{"transpose", "Transpose", attrs("perm", graph.IntsAttr(0, 2, 3, 1)), []graph.Type{sym(f, "N", 3, 8, 9)}, nil, "float32[N,8,9,3]"},
		{"concat", "Concat", attrs("axis", graph.IntAttr(1)), []graph.Type{sym(f, "N", 3, 8), sym(f, "N", 5, 8)}, nil, "float32[N,8,8]"},
		{"concat unknown", "Concat", attrs("axis", graph.IntAttr(1)), []graph.Type{sym(f, "N", "C"), sym(f, "N", 5)}, nil, "float32[N,?]"},
		{"shape", "Shape", attrs("start", graph.IntAttr(1)), []graph.Type{sym(f, "N", 3, 8)}, nil, "int64[2]"},
		{"gather", "Gather", attrs("axis", graph.IntAttr(1)), []graph.Type{sym(f, "N", 10, 4), sym(i64, 2, 3)}, nil, "float32[N,2,3,4]"},
		{"slice", "Slice", nil, []graph.Type{sym(f, "N", 10, 4), sym(i64, 1), sym(i64, 1), sym(i64, 1)}, []*tensor.Tensor{nil, ints(2), ints(-1), ints(1)}, "float32[N,7,4]"},
		{"slice symbolic axis", "Slice", nil, []graph.Type{sym(f, "N", 10), sym(i64, 1), sym(i64, 1)}, []*tensor.Tensor{nil, ints(1), ints(2)}, "float32[?,10]"},
		{"expand", "Expand", nil, []graph.Type{sym(f, "N", 1), sym(i64, 3)}, []*tensor.Tensor{nil, ints(2, 1, 5)}, "float32[2,N,5]"},
		{"tile", "Tile", nil, []graph.Type{sym(f, "N", 3), sym(i64, 2)}, []*tensor.Tensor{nil, ints(1, 2)}, "float32[N,6]"},
		{"split", "Split", attrs("axis", graph.IntAttr(1)), []graph.Type{sym(f, "N", 6)}, nil, "float32[N,6]"},
		{"pad", "Pad", nil, []graph.Type{sym(f, 2, 3), sym(i64, 4)}, []*tensor.Tensor{nil, ints(1, 0, 1, 2)}, "float32[4,5]"},
		{"constant of shape", "ConstantOfShape", nil, []graph.Type{sym(i64, 2)}, []*tensor.Tensor{ints(3, 4)}, "float32[3,4]"},
		{"depth to space", "DepthToSpace", attrs("blocksize", graph.IntAttr(2)), []graph.Type{sym(f, "N", 8, 3, 4)}, nil, "float32[N,2,6,8]"},
	} {
		got, err := infer(t, tc.op, tc.attrs, tc.in, tc.consts...)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if len(got) == 0 || got[0].String() != tc.want {
			t.Errorf("%s: got %v, want %s", tc.name, got, tc.want)
		}
	}
	// Inference gives up (with an error the runtime ignores) without constants.
	if _, err := infer(t, "Reshape", nil, []graph.Type{sym(f, 2, 3), sym(i64, 2)}); err == nil {
		t.Error("Reshape without a constant shape inferred a type")
	}
}
