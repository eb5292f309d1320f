package conformance

import (
	"context"
	"path/filepath"
	"testing"
)

// TestTorchvision runs the torchvision exports committed in testdata and
// compares them with PyTorch's outputs within 1e-4 absolute.
func TestTorchvision(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/models/torchvision/*_opset*")
	if len(dirs) == 0 {
		t.Fatal("no torchvision models in testdata")
	}
	for _, dir := range dirs {
		dir := dir
		t.Run(filepath.Base(dir), func(t *testing.T) {
			res, err := RunCase(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, set := range res {
				for _, r := range set {
					if r.Diff.MaxAbs > 1e-4 {
						t.Errorf("%s: max abs error %.3g > 1e-4", r.Name, r.Diff.MaxAbs)
					}
					t.Logf("%s: max abs %.3g, max rel %.3g", r.Name, r.Diff.MaxAbs, r.Diff.MaxRel)
				}
			}
		})
	}
}
