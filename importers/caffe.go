package importers

import (
	"stride/graph"
	"stride/importers/caffe"
)

func init() {
	caffeLoader = func(path string, o Options) (*graph.Graph, error) {
		opts := caffe.Options{Weights: o.Weights, Seed: o.Seed, InputShapes: o.InputShapes}
		if o.Train {
			opts.Phase = caffe.Train
		}
		net, err := caffe.Import(path, opts)
		if err != nil {
			return nil, err
		}
		return net.Graph, nil
	}
}
