package train

import (
	"strings"
	"testing"

	"stride/proto/caffepb"
)

func TestParseArch(t *testing.T) {
	np, err := ParseArch("[(conv3x3x32same-relu)*2-pool2]*2-fc256-relu-dropout0.4-fc10",
		ArchData{Source: "d", Batch: 8, TestBatch: 4, Transform: &caffepb.TransformationParameter{}})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, l := range np.Layer {
		types = append(types, l.GetType())
	}
	want := "Data Data Convolution ReLU Convolution ReLU Pooling Convolution ReLU Convolution ReLU Pooling InnerProduct ReLU Dropout InnerProduct Accuracy SoftmaxWithLoss"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("layers:\n got %s\nwant %s", got, want)
	}
	c := np.Layer[2].GetConvolutionParam()
	if c.GetNumOutput() != 32 || c.GetKernelH() != 3 || c.GetPadH() != 1 {
		t.Errorf("conv1: %v", c)
	}
	if f := np.Layer[len(np.Layer)-3].GetInnerProductParam().GetWeightFiller().GetType(); f != "xavier" {
		t.Errorf("last layer filler %q, want xavier", f)
	}
	if r := np.Layer[14].GetDropoutParam().GetDropoutRatio(); r != float32(0.4) {
		t.Errorf("dropout ratio %g", r)
	}
	for _, bad := range []string{"", "conv5x5-fc10", "fc", "pool2-", "(fc10", "fc10*0", "wat3", "conv3x3x8q2"} {
		if _, err := ParseArch(bad, ArchData{Source: "d", Batch: 1, TestBatch: 1, Transform: &caffepb.TransformationParameter{}}); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}
