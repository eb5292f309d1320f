package caffe

import (
	"path/filepath"
	"testing"

	"stride/tensor"
)

// Weights written back (the trainer's snapshots) read back identically,
// in Caffe's format and shapes.
func TestSaveCaffemodelRoundTrip(t *testing.T) {
	dir := filepath.Join(refDir, "layer_zoo")
	n, err := Import(filepath.Join(dir, "deploy.prototxt"), Options{Weights: filepath.Join(dir, "weights.caffemodel")})
	if err != nil {
		t.Fatal(err)
	}
	// The graph's initializers share the blobs' storage: an update through
	// the Param shows in the graph.
	conv := n.Layer("conv1").Params[0]
	conv.Data.F32()[0] = 0.125
	if n.Graph.Initializers[conv.Value].F32()[0] != 0.125 {
		t.Fatal("initializer does not share the blob's storage")
	}
	path := filepath.Join(t.TempDir(), "snap.caffemodel")
	if err := SaveCaffemodel(n, path); err != nil {
		t.Fatal(err)
	}
	blobs, err := LoadWeights(path)
	if err != nil {
		t.Fatal(err)
	}
	n2, err := Import(filepath.Join(dir, "deploy.prototxt"), Options{Weights: path})
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, L := range n.Layers {
		for j, p := range L.Params {
			count++
			saved := blobs[L.Name][j]
			again := n2.Layer(L.Name).Params[j]
			if !tensor.SameShape(saved.Shape, p.Data.Shape) || !again.FromWeights {
				t.Fatalf("layer %s blob %d: saved shape %v, want %v", L.Name, j, saved.Shape, p.Data.Shape)
			}
			for i, v := range p.Data.F32() {
				if saved.F32()[i] != v || again.Data.F32()[i] != v {
					t.Fatalf("layer %s blob %d element %d differs", L.Name, j, i)
				}
			}
		}
	}
	if count != 19 {
		t.Errorf("%d blobs round-tripped, want 19", count)
	}
}
