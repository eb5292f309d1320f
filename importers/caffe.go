package importers

import (
	"stride/graph"
	"stride/importers/caffe"
)

func init() {
	caffeLoader = func(path string, o Options) (*graph.Graph, error) {
		net, err := caffe.Import(path, caffe.Options{Weights: o.Weights, Seed: o.Seed})
		if err != nil {
			return nil, err
		}
		return net.Graph, nil
	}
}
