// Command ortcheck prepares the ONNX Runtime check of the Caffe converter
// (run it through ../ort_check.sh). It writes, under -out:
//
//   - ref_<net>/: for every Caffe reference net in testdata/caffe/reference,
//     the converted model.onnx with Caffe's own input and Caffe's own
//     outputs in the ONNX test-data layout, so ONNX Runtime is compared with
//     BVLC Caffe directly;
//   - weights/<net>.caffemodel: for published nets without trained weights,
//     random weights of a plausible scale (deploy files have no fillers, so
//     their filler weights are all zero) with plausible BatchNorm
//     statistics, for `convert --verify --test-data` to use.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"stride/importers/caffe"
	"stride/importers/onnx"
	"stride/tensor/npy"
)

func main() {
	out := flag.String("out", "/tmp/stride-caffe-ort", "output folder")
	root := flag.String("root", ".", "the Stride repository")
	flag.Parse()
	if err := run(*root, *out); err != nil {
		fmt.Fprintln(os.Stderr, "ortcheck:", err)
		os.Exit(1)
	}
}

func run(root, out string) error {
	refs := filepath.Join(root, "testdata/caffe/reference")
	for _, name := range []string{"layer_zoo", "lenet", "cifar10_quick", "cifar10_full", "caffenet", "googlenet"} {
		if err := reference(filepath.Join(refs, name), filepath.Join(out, "ref_"+name)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	nets := filepath.Join(root, "testdata/caffe/nets")
	for _, rel := range strings.Fields(os.Getenv("ORTCHECK_NETS")) {
		n, err := caffe.Import(filepath.Join(nets, rel), caffe.Options{Seed: 3})
		if err != nil {
			return err
		}
		randomWeights(n, rand.New(rand.NewPCG(3, 4)))
		dst := filepath.Join(out, "weights", strings.NewReplacer("/", "_", "+", "_").Replace(strings.TrimSuffix(rel, ".prototxt"))+".caffemodel")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := caffe.SaveCaffemodel(n, dst); err != nil {
			return err
		}
	}
	return nil
}

// randomWeights gives every parameter a random value of a sensible scale:
// He-normal weights, small biases, Scale factors near 1 and BatchNorm
// statistics near those of normalised data.
func randomWeights(n *caffe.Net, rng *rand.Rand) {
	for _, L := range n.Layers {
		for j, p := range L.Params {
			d := p.Data.F32()
			shape := p.Data.Shape
			for i := range d {
				switch {
				case L.Type == "BatchNorm" && j == 0:
					d[i] = float32(0.2 * rng.NormFloat64())
				case L.Type == "BatchNorm" && j == 1:
					d[i] = float32(0.5 + rng.Float64())
				case L.Type == "BatchNorm":
					d[i] = 1
				case L.Type == "Scale" && j == 0:
					d[i] = float32(0.8 + 0.4*rng.Float64())
				case len(shape) >= 2:
					fanIn := len(d) / shape[0]
					if L.Type == "Deconvolution" || L.Type == "InnerProduct" && L.Proto.GetInnerProductParam().GetTranspose() {
						fanIn = len(d) / shape[1]
					}
					d[i] = float32(math.Sqrt(2/float64(fanIn)) * rng.NormFloat64())
				default:
					d[i] = float32(0.1 * rng.NormFloat64())
				}
			}
		}
	}
}

type manifest struct {
	InputBlob string   `json:"input_blob"`
	Weights   *string  `json:"weights"`
	HashGain2 *float64 `json:"hash_gain2"`
	Outputs   map[string]struct {
		File string `json:"file"`
	} `json:"outputs"`
}

// reference writes a reference net's model with Caffe's input and outputs.
func reference(dir, out string) error {
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return err
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	opts := caffe.Options{}
	if m.Weights != nil {
		opts.Weights = filepath.Join(dir, *m.Weights)
	}
	n, err := caffe.Import(filepath.Join(dir, "deploy.prototxt"), opts)
	if err != nil {
		return err
	}
	if m.HashGain2 != nil {
		hashWeights(n, *m.HashGain2)
	}
	set := filepath.Join(out, "test_data_set_0")
	if err := os.MkdirAll(set, 0o755); err != nil {
		return err
	}
	if err := onnx.Save(n.Graph, filepath.Join(out, "model.onnx")); err != nil {
		return err
	}
	x, err := npy.Read(filepath.Join(dir, "input.npy"))
	if err != nil {
		return err
	}
	if err := onnx.WriteTensorFile(filepath.Join(set, "input_0.pb"), m.InputBlob, x); err != nil {
		return err
	}
	for i, v := range n.Graph.Outputs {
		ref, ok := m.Outputs[v.Name]
		if !ok {
			return fmt.Errorf("no Caffe output for %q", v.Name)
		}
		t, err := npy.Read(filepath.Join(dir, ref.File))
		if err != nil {
			return err
		}
		if err := onnx.WriteTensorFile(filepath.Join(set, fmt.Sprintf("output_%d.pb", i)), v.Name, t); err != nil {
			return err
		}
	}
	return nil
}

// hashWeights sets the closed-form parameters of the reference README.
func hashWeights(n *caffe.Net, gain float64) {
	k := 0
	for _, L := range n.Layers {
		for j, p := range L.Params {
			k++
			d := p.Data.F32()
			for i := range d {
				x := uint32(uint64(i) + uint64(k)*0x9E3779B9)
				x ^= x >> 16
				x *= 0x7feb352d
				x ^= x >> 15
				x *= 0x846ca68b
				x ^= x >> 16
				u := float64(x) / (1 << 32)
				bound := 0.1
				if j == 0 {
					bound = math.Sqrt(gain / float64(len(d)/p.Data.Shape[0]))
				}
				d[i] = float32((2*u - 1) * bound)
			}
		}
	}
}
