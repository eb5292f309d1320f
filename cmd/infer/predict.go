package main

import (
	"math"
	"sort"
)

// prediction is one of an image's top classes.
type prediction struct {
	Index int     `json:"index"`
	Label string  `json:"label,omitempty"`
	Prob  float64 `json:"probability"`
}

// topK returns the k most probable classes of one output row. The row is
// taken as probabilities when it already is a distribution (non-negative,
// summing to 1, as after a Softmax layer); otherwise softmax is applied.
func topK(row []float64, k int, labels []string) []prediction {
	probs := row
	if !isDistribution(row) {
		probs = softmax(row)
	}
	idx := make([]int, len(probs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return probs[idx[a]] > probs[idx[b]] })
	k = min(k, len(idx))
	out := make([]prediction, k)
	for r := range k {
		i := idx[r]
		out[r] = prediction{Index: i, Prob: probs[i]}
		if labels != nil {
			out[r].Label = labels[i]
		}
	}
	return out
}

func isDistribution(row []float64) bool {
	sum := 0.0
	for _, v := range row {
		if !(v >= 0 && v <= 1) {
			return false
		}
		sum += v
	}
	return math.Abs(sum-1) < 1e-3
}

func softmax(row []float64) []float64 {
	hi := math.Inf(-1)
	for _, v := range row {
		hi = math.Max(hi, v)
	}
	out := make([]float64, len(row))
	sum := 0.0
	for i, v := range row {
		out[i] = math.Exp(v - hi)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}
