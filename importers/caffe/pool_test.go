package caffe

import (
	"context"
	"fmt"
	"math"
	"testing"

	"stride/runtime"
	"stride/tensor"
)

// caffePool is a direct transcription of Caffe's CPU pooling (MAX and AVE)
// on one H x W plane, with its output size rule, for checking the ONNX
// expression of it on many sizes.
func caffePool(x []float32, h, w, k, s, p int, ave, ceil bool) ([]float32, int, int) {
	size := func(in int) int {
		var o int
		if ceil {
			o = int(math.Ceil(float64(in+2*p-k)/float64(s))) + 1
		} else {
			o = (in+2*p-k)/s + 1
		}
		if p > 0 && (o-1)*s >= in+p {
			o--
		}
		return o
	}
	oh, ow := size(h), size(w)
	out := make([]float32, oh*ow)
	for ph := 0; ph < oh; ph++ {
		for pw := 0; pw < ow; pw++ {
			hs, ws := ph*s-p, pw*s-p
			he, we := min(hs+k, h+p), min(ws+k, w+p)
			count := (he - hs) * (we - ws)
			hs, ws = max(hs, 0), max(ws, 0)
			he, we = min(he, h), min(we, w)
			if ave {
				var sum float32
				for y := hs; y < he; y++ {
					for x0 := ws; x0 < we; x0++ {
						sum += x[y*w+x0]
					}
				}
				out[ph*ow+pw] = sum / float32(count)
			} else {
				m := float32(-math.MaxFloat32) // Caffe's start value
				for y := hs; y < he; y++ {
					for x0 := ws; x0 < we; x0++ {
						m = max(m, x[y*w+x0])
					}
				}
				out[ph*ow+pw] = m
			}
		}
	}
	return out, oh, ow
}

func TestPoolingMatchesCaffe(t *testing.T) {
	sizes := [][2]int{{1, 1}, {2, 3}, {3, 3}, {5, 4}, {7, 6}, {8, 9}}
	cases := 0
	for _, hw := range sizes {
		h, w := hw[0], hw[1]
		x := make([]float32, h*w)
		for i := range x {
			x[i] = float32((i*37)%23) - 11.5
		}
		for k := 1; k <= 4; k++ {
			for s := 1; s <= 3; s++ {
				for p := 0; p < k; p++ {
					if h+2*p < k || w+2*p < k {
						continue
					}
					for _, ave := range []bool{false, true} {
						for _, ceil := range []bool{true, false} {
							cases++
							method, round := "MAX", "CEIL"
							if ave {
								method = "AVE"
							}
							if !ceil {
								round = "FLOOR"
							}
							net := fmt.Sprintf(`layer { name: "d" type: "Input" top: "d" input_param { shape { dim: 1 dim: 1 dim: %d dim: %d } } }
layer { name: "p" type: "Pooling" bottom: "d" top: "p" pooling_param { pool: %s kernel_size: %d stride: %d pad: %d round_mode: %s } }`, h, w, method, k, s, p, round)
							name := fmt.Sprintf("%dx%d k%d s%d p%d %s %s", h, w, k, s, p, method, round)
							n, err := ImportText(name, []byte(net), Options{})
							if err != nil {
								t.Fatal(err)
							}
							want, oh, ow := caffePool(x, h, w, k, s, p, ave, ceil)
							if got := n.Layer("p").TopShapes[0]; got[2] != oh || got[3] != ow {
								t.Errorf("%s: shape %v, Caffe %dx%d", name, got, oh, ow)
								continue
							}
							sess, err := runtime.NewSession(n.Graph)
							if err != nil {
								t.Fatal(err)
							}
							out, err := sess.Run(context.Background(), map[string]*tensor.Tensor{"d": tensor.From([]int{1, 1, h, w}, x)})
							sess.Close()
							if err != nil {
								t.Fatalf("%s: %v", name, err)
							}
							for i, v := range out["p"].F32() {
								if math.IsNaN(float64(v)) != math.IsNaN(float64(want[i])) || math.Abs(float64(v-want[i])) > 1e-5 {
									t.Errorf("%s: element %d = %v, Caffe %v", name, i, v, want[i])
									break
								}
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d pooling configurations match", cases)
}
