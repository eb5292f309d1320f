package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestTopK(t *testing.T) {
	logits := []float64{1, 3, 2}
	p := topK(logits, 2, []string{"a", "b", "c"})
	e := math.Exp
	z := e(1) + e(3) + e(2)
	if len(p) != 2 || p[0].Label != "b" || p[1].Index != 2 || math.Abs(p[0].Prob-e(3)/z) > 1e-12 {
		t.Errorf("logits: %+v", p)
	}
	// Already a distribution: kept as is, not softmaxed again.
	p = topK([]float64{0.2, 0.7, 0.1}, 5, nil)
	if len(p) != 3 || p[0].Index != 1 || p[0].Prob != 0.7 || p[0].Label != "" {
		t.Errorf("distribution: %+v", p)
	}
	// Non-negative but not summing to 1: scores, softmaxed.
	if p := topK([]float64{0.5, 0.9}, 1, nil); p[0].Prob == 0.9 {
		t.Errorf("scores taken as probabilities: %+v", p)
	}
	if p := topK([]float64{-1000, 1000}, 1, nil); p[0].Index != 1 || p[0].Prob != 1 {
		t.Errorf("large logits: %+v", p)
	}
}

func TestParseLabels(t *testing.T) {
	l := parseLabels("n01440764 tench, Tinca tinca\r\nn01443537 goldfish, Carassius auratus\n\n")
	if len(l) != 2 || l[0] != "tench, Tinca tinca" || l[1] != "goldfish, Carassius auratus" {
		t.Errorf("synset: %q", l)
	}
	l = parseLabels("cat\n\ndog")
	if len(l) != 3 || l[1] != "" || l[2] != "dog" {
		t.Errorf("plain: %q", l)
	}
	for _, f := range []string{"imagenet_classes.txt", "synset_words.txt"} {
		l, err := readLabels(filepath.Join("../../testdata/labels", f))
		if err != nil || len(l) != 1000 || l[0] != "tench" && l[0] != "tench, Tinca tinca" {
			t.Errorf("%s: %d labels, first %q, %v", f, len(l), l[0], err)
		}
	}
}

// The embedded model and labels are the committed ones in testdata.
func TestDefaultModelMatchesTestdata(t *testing.T) {
	for embedded, committed := range map[string]string{
		"defaultmodel/fashion_mnist.onnx": "../../testdata/models/fashion_mnist.onnx",
		"defaultmodel/fashion_mnist.txt":  "../../testdata/labels/fashion_mnist.txt",
	} {
		a, err1 := os.ReadFile(embedded)
		b, err2 := os.ReadFile(committed)
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("%s and %s differ (rerun scripts/make_default_model.sh): %v %v", embedded, committed, err1, err2)
		}
	}
	g, labels, err := defaultModel()
	if err != nil || len(labels) != 10 || g.Inputs[0].Name != "data" {
		t.Errorf("defaultModel: %v, %d labels", err, len(labels))
	}
}

func TestFormatting(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 768000: "768,000", 60965224: "60,965,224", -1234: "-1,234"} {
		if got := grouped(n); got != want {
			t.Errorf("grouped(%d) = %q", n, got)
		}
	}
	for _, c := range []struct {
		pads []int
		want string
	}{{[]int{2, 2, 2, 2}, "2"}, {[]int{1, 0, 1, 0}, "0x1"}, {[]int{0, 0, 1, 1}, "[0,0,1,1]"}, {nil, ""}} {
		if got := pads(c.pads); got != c.want {
			t.Errorf("pads(%v) = %q, want %q", c.pads, got, c.want)
		}
	}
	if pair([]int{5, 3}, false) != "3x5" || pair([]int{2, 2}, true) != "2" || pair([]int{5, 5}, false) != "5x5" {
		t.Error("pair")
	}
}
