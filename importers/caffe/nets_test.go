package caffe

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"stride/proto/caffepb"
	"stride/runtime"
	"stride/tensor"
)

// The net definitions in testdata/caffe/nets are published Caffe nets (see
// the LICENSE file of each folder). Every one must import, printing its
// per-layer shapes, or fail with a clear error: a layer type Stride does
// not support named with the layer and its line, or a located syntax
// error for files that are not valid net definitions.

const netsDir = "../../testdata/caffe/nets"

// unsupportedNets are expected to fail naming a layer of this type.
var unsupportedNets = map[string]string{
	"BVLC-caffe/examples/pycaffe/linreg.prototxt":                    "Python",
	"chuanqi305+MobileNet-SSD/deploy.prototxt":                       "Permute",
	"chuanqi305+MobileNet-SSD/train.prototxt":                        "AnnotatedData",
	"chuanqi305+MobileNet-SSD/voc/MobileNetSSD_deploy.prototxt":      "Permute",
	"chuanqi305+MobileNet-SSD/voc/MobileNetSSD_test.prototxt":        "AnnotatedData",
	"chuanqi305+MobileNet-SSD/voc/MobileNetSSD_train.prototxt":       "AnnotatedData",
	"rbgirshick+py-faster-rcnn/*/fast_rcnn/test.prototxt":            "ROIPooling",
	"rbgirshick+py-faster-rcnn/*/fast_rcnn/train.prototxt":           "Python",
	"rbgirshick+py-faster-rcnn/*/faster_rcnn_end2end/test.prototxt":  "Python",
	"rbgirshick+py-faster-rcnn/*/faster_rcnn_end2end/train.prototxt": "Python",
}

// invalidNets are not valid net definitions: templates with placeholders
// (a located syntax error is expected) and a label map (not a net).
var invalidNets = map[string]string{
	"chuanqi305+MobileNet-SSD/template/MobileNetSSD_deploy_template.prototxt": "2397:17: invalid value for uint32 type: cls3x",
	"chuanqi305+MobileNet-SSD/template/MobileNetSSD_test_template.prototxt":   "2422:17: invalid value for uint32 type: cls3x",
	"chuanqi305+MobileNet-SSD/template/MobileNetSSD_train_template.prototxt":  "2527:17: invalid value for uint32 type: cls3x",
	"chuanqi305+MobileNet-SSD/create_lmdb/code/labelmap.prototxt":             "1:1: unknown field: item",
}

// forkSolvers use solver fields of the SSD fork.
var forkSolvers = map[string]string{
	"chuanqi305+MobileNet-SSD/solver_test.prototxt":  "22:1: unknown field: eval_type",
	"chuanqi305+MobileNet-SSD/solver_train.prototxt": "22:1: unknown field: eval_type",
	"chuanqi305+MobileNet-SSD/voc/solver.prototxt":   "22:1: unknown field: eval_type",
}

func lookup(m map[string]string, rel string) (string, bool) {
	for pat, v := range m {
		pre, suf, wild := strings.Cut(pat, "*")
		if pat == rel || wild && strings.HasPrefix(rel, pre) && strings.HasSuffix(rel, suf) {
			return v, true
		}
	}
	return "", false
}

// sampleShape gives the per-sample shape of a data layer's top for the
// nets whose data layers read a database.
func sampleShape(rel, top string, lp *caffepb.LayerParameter) []int {
	if crop := int(lp.GetTransformParam().GetCropSize()); crop > 0 {
		return []int{3, crop, crop}
	}
	switch {
	case top == "pair_data":
		return []int{2, 28, 28}
	case strings.Contains(rel, "mnist"):
		return []int{1, 28, 28}
	case strings.Contains(rel, "cifar10"):
		return []int{3, 32, 32}
	case strings.Contains(rel, "hdf5_classification") && top == "data":
		return []int{4}
	case strings.Contains(rel, "hdf5_classification") && top == "label":
		return []int{}
	}
	return nil
}

// netOptions picks the phase a file is meant for and the data shapes its
// data layers read from their databases.
func netOptions(t *testing.T, rel, path string) Options {
	opts := Options{Seed: 1}
	base := filepath.Base(rel)
	if base == "train.prototxt" || strings.HasSuffix(base, "_train.prototxt") {
		opts.Phase = Train
	}
	if strings.Contains(rel, "mnist_autoencoder") {
		opts.Stages = []string{"test-on-test"}
	}
	net, err := ParseNet(path)
	if err != nil {
		return opts
	}
	for _, lp := range net.Layer {
		if !includeLayer(lp, opts) {
			continue
		}
		batch := 0
		switch lp.GetType() {
		case "Data":
			batch = int(lp.GetDataParam().GetBatchSize())
		case "HDF5Data":
			batch = int(lp.GetHdf5DataParam().GetBatchSize())
		default:
			continue
		}
		for _, top := range lp.Top {
			if s := sampleShape(rel, top, lp); s != nil {
				if opts.InputShapes == nil {
					opts.InputShapes = map[string][]int{}
				}
				opts.InputShapes[top] = append([]int{batch}, s...)
			}
		}
	}
	return opts
}

func TestImportEveryNet(t *testing.T) {
	var files []string
	err := filepath.Walk(netsDir, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".prototxt") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 100 {
		t.Fatalf("found %d definitions, want the 111 published ones", len(files))
	}
	imported, expected, solvers := 0, 0, 0
	for _, path := range files {
		rel, _ := filepath.Rel(netsDir, path)
		rel = filepath.ToSlash(rel)
		t.Run(rel, func(t *testing.T) {
			if strings.Contains(filepath.Base(rel), "solver") {
				solvers++
				_, err := ParseSolver(path)
				if want, ok := forkSolvers[rel]; ok {
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Fatalf("got %v, want an error containing %q", err, want)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			n, err := Import(path, netOptions(t, rel, path))
			if want, ok := invalidNets[rel]; ok {
				var se *SyntaxError
				if !errors.As(err, &se) || !strings.Contains(err.Error(), want) {
					t.Fatalf("got %v, want a syntax error containing %q", err, want)
				}
				expected++
				return
			}
			if typ, ok := lookup(unsupportedNets, rel); ok {
				var ue *UnsupportedLayerError
				if !errors.As(err, &ue) || ue.Type != typ || ue.Line <= 0 || ue.Layer == "" {
					t.Fatalf("got %v, want an unsupported %s layer error", err, typ)
				}
				t.Log(err)
				expected++
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			imported++
			var b strings.Builder
			if err := n.WriteSummary(&b); err != nil {
				t.Fatal(err)
			}
			t.Log("\n" + b.String())
		})
	}
	t.Logf("%d definitions: %d solvers parsed, %d nets imported, %d failed with the expected error", len(files), solvers, imported, expected)
}

// TestRunPublishedNets runs the deployable published nets on random input
// with filler weights: the runtime must accept every translated graph and
// agree with the importer on every output shape.
func TestRunPublishedNets(t *testing.T) {
	if testing.Short() {
		t.Skip("runs large nets")
	}
	nets := []string{
		"BVLC-caffe/models/bvlc_alexnet/deploy.prototxt",
		"BVLC-caffe/models/bvlc_reference_rcnn_ilsvrc13/deploy.prototxt",
		"BVLC-caffe/examples/net_surgery/bvlc_caffenet_full_conv.prototxt",
		"BVLC-caffe/examples/siamese/mnist_siamese.prototxt",
		"KaimingHe+deep-residual-networks/prototxt/ResNet-50-deploy.prototxt",
		"forresti+SqueezeNet/SqueezeNet_v1.0/deploy.prototxt",
		"forresti+SqueezeNet/SqueezeNet_v1.1/deploy.prototxt",
		"shicai+DenseNet-Caffe/DenseNet_121.prototxt",
		"shicai+MobileNet-Caffe/mobilenet_deploy.prototxt",
		"shicai+MobileNet-Caffe/mobilenet_v2_deploy.prototxt",
	}
	for _, rel := range nets {
		t.Run(rel, func(t *testing.T) {
			n, err := Import(filepath.Join(netsDir, rel), Options{Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			s, err := runtime.NewSession(n.Graph)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			in := map[string]*tensor.Tensor{}
			for _, v := range n.Graph.Inputs {
				shape, _ := v.Type.Static()
				x := tensor.Zeros(tensor.Float32, shape...)
				for i := range x.F32() {
					x.F32()[i] = float32(rng.NormFloat64())
				}
				in[v.Name] = x
			}
			out, err := s.Run(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range n.Graph.Outputs {
				want, _ := v.Type.Static()
				if !tensor.SameShape(out[v.Name].Shape, want) {
					t.Errorf("output %s: runtime shape %v, importer %v", v.Name, out[v.Name].Shape, want)
				}
			}
		})
	}
}
