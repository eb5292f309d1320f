package caffe

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"stride/runtime"
	"stride/tensor"
	"stride/tensor/npy"
)

// The reference data in testdata/caffe/reference was produced by BVLC
// Caffe (see testdata/caffe/README.md): nets, weights, inputs and the value
// of every top blob after the forward pass.

const refDir = "../../testdata/caffe/reference"

type manifest struct {
	InputBlob  string                `json:"input_blob"`
	InputShape []int                 `json:"input_shape"`
	Weights    *string               `json:"weights"`
	HashGain2  *float64              `json:"hash_gain2"`
	Outputs    map[string]outputInfo `json:"outputs"`
	// Params lists, per layer in net order, the parameter shapes. JSON
	// objects lose their order, so paramOrder keeps it.
	Params     map[string][][]int     `json:"params"`
	HashCheck  map[string][][]float64 `json:"hash_check_first4"`
	paramOrder []string
}

type outputInfo struct {
	File  string `json:"file"`
	Shape []int  `json:"shape"`
}

func readManifest(t *testing.T, dir string) *manifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	m := &manifest{}
	if err := json.Unmarshal(data, m); err != nil {
		t.Fatal(err)
	}
	// Recover the order of the params object's keys.
	var raw struct {
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw.Params)))
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				depth++
			} else {
				depth--
			}
		case string:
			if depth == 1 {
				m.paramOrder = append(m.paramOrder, v)
			}
		}
	}
	return m
}

// hashValue is the closed-form parameter value the reference README
// defines for nets whose caffemodel would be too large to store.
func hashValue(i, k int, count int, shape []int, blob int, gain float64) float32 {
	x := uint32(uint64(i) + uint64(k)*0x9E3779B9)
	x ^= x >> 16
	x *= 0x7feb352d
	x ^= x >> 15
	x *= 0x846ca68b
	x ^= x >> 16
	u := float64(x) / (1 << 32)
	bound := 0.1
	if blob == 0 {
		bound = math.Sqrt(gain / float64(count/shape[0]))
	}
	return float32((2*u - 1) * bound)
}

// setHashWeights overwrites the net's parameters (and so the graph's
// initializers, which share their storage) with the hash formula.
func setHashWeights(t *testing.T, n *Net, m *manifest) {
	t.Helper()
	k := 0
	for _, name := range m.paramOrder {
		L := n.Layer(name)
		if L == nil {
			t.Fatalf("layer %q of the manifest is not in the net", name)
		}
		if len(L.Params) != len(m.Params[name]) {
			t.Fatalf("layer %q: %d params, manifest has %d", name, len(L.Params), len(m.Params[name]))
		}
		for j, p := range L.Params {
			k++
			if !tensor.SameShape(p.Data.Shape, m.Params[name][j]) {
				t.Fatalf("layer %q param %d: shape %v, manifest %v", name, j, p.Data.Shape, m.Params[name][j])
			}
			d := p.Data.F32()
			for i := range d {
				d[i] = hashValue(i, k, len(d), p.Data.Shape, j, *m.HashGain2)
			}
			for i, want := range m.HashCheck[name][j] {
				if float64(d[i]) != want {
					t.Fatalf("hash formula: layer %q blob %d element %d = %v, manifest %v", name, j, i, d[i], want)
				}
			}
		}
	}
}

// loadReferenceNet imports one reference net with its weights.
func loadReferenceNet(t *testing.T, name string) (*Net, *manifest) {
	t.Helper()
	dir := filepath.Join(refDir, name)
	m := readManifest(t, dir)
	opts := Options{}
	if m.Weights != nil {
		opts.Weights = filepath.Join(dir, *m.Weights)
	}
	n, err := Import(filepath.Join(dir, "deploy.prototxt"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if m.HashGain2 != nil {
		setHashWeights(t, n, m)
	}
	return n, m
}

// compareBlob reports the largest difference between got and want: in
// absolute terms and relative to the blob's largest magnitude. It fails
// the test when an element is off by more than 1e-4 relative to itself
// plus 1e-5 of the blob's scale (absolute near zero).
func compareBlob(t *testing.T, name string, got, want *tensor.Tensor) (maxAbs, maxRel float64) {
	t.Helper()
	if !tensor.SameShape(got.Shape, want.Shape) {
		t.Errorf("blob %s: shape %v, Caffe %v", name, got.Shape, want.Shape)
		return math.Inf(1), math.Inf(1)
	}
	g, w := got.Float64s(), want.Float64s()
	scale := 0.0
	for _, v := range w {
		scale = math.Max(scale, math.Abs(v))
	}
	bad := 0
	for i := range w {
		d := math.Abs(g[i] - w[i])
		if math.IsNaN(g[i]) != math.IsNaN(w[i]) {
			d = math.Inf(1)
		}
		maxAbs = math.Max(maxAbs, d)
		if d > 1e-4*math.Abs(w[i])+1e-5*math.Max(scale, 1) {
			if bad < 3 {
				t.Errorf("blob %s element %d: got %g, Caffe %g", name, i, g[i], w[i])
			}
			bad++
		}
	}
	if bad > 3 {
		t.Errorf("blob %s: %d of %d elements differ", name, bad, len(w))
	}
	if scale > 0 {
		maxRel = maxAbs / scale
	}
	return maxAbs, maxRel
}

// runBlobs runs the net and returns the named blobs.
func runBlobs(t *testing.T, n *Net, inputs map[string]*tensor.Tensor, blobs []string) map[string]*tensor.Tensor {
	t.Helper()
	g, err := n.SelectOutputs(blobs)
	if err != nil {
		t.Fatal(err)
	}
	s, err := runtime.NewSession(g)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Run(context.Background(), inputs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var referenceNets = []string{"layer_zoo", "lenet", "cifar10_quick", "cifar10_full", "caffenet", "googlenet"}

// TestAgainstCaffe runs every reference net and compares every stored top
// blob with Caffe's.
func TestAgainstCaffe(t *testing.T) {
	for _, name := range referenceNets {
		t.Run(name, func(t *testing.T) {
			if testing.Short() && (name == "caffenet" || name == "googlenet") {
				t.Skip("large net")
			}
			n, m := loadReferenceNet(t, name)
			dir := filepath.Join(refDir, name)
			x, err := npy.Read(filepath.Join(dir, "input.npy"))
			if err != nil {
				t.Fatal(err)
			}
			var blobs []string
			for b := range m.Outputs {
				blobs = append(blobs, b)
			}
			sort.Strings(blobs)
			out := runBlobs(t, n, map[string]*tensor.Tensor{m.InputBlob: x}, blobs)
			worstName, worstRel, worstAbs := "", 0.0, 0.0
			for _, b := range blobs {
				want, err := npy.Read(filepath.Join(dir, m.Outputs[b].File))
				if err != nil {
					t.Fatal(err)
				}
				abs, rel := compareBlob(t, b, out[b], want)
				if rel >= worstRel {
					worstName, worstRel, worstAbs = b, rel, abs
				}
			}
			t.Logf("%s: %d blobs match Caffe; largest difference %.3g (%.3g of the blob's scale) in %s", name, len(blobs), worstAbs, worstRel, worstName)
		})
	}
}
