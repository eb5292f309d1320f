package main

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"stride/graph"
	"stride/importers"
	"stride/runtime"
)

// modelFlags are shared by every command that loads a model.
type modelFlags struct {
	weights  string
	threads  int
	optimize bool
	seed     int64
}

func (m *modelFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&m.weights, "weights", "", "Caffe weights (.caffemodel) for a .prototxt net; without it, weights come from the net's fillers")
	fs.IntVar(&m.threads, "threads", 0, "worker threads (default: number of CPUs)")
	fs.BoolVar(&m.optimize, "optimize", true, "apply load-time graph optimisations (turn off to debug)")
	fs.Int64Var(&m.seed, "seed", 1, "seed for filler-initialised Caffe weights")
}

// load imports a model, checking the file exists first so the message is
// about the user's path, not an importer's internals.
func (m *modelFlags) load(path string) (*graph.Graph, error) {
	if _, err := os.Stat(path); err != nil {
		if os.IsNotExist(err) {
			return nil, usagef("model %s: no such file", path)
		}
		return nil, err
	}
	if _, err := importers.Detect(path); err != nil {
		return nil, usageError{err}
	}
	if m.weights != "" {
		if _, err := os.Stat(m.weights); err != nil {
			return nil, usagef("weights %s: no such file", m.weights)
		}
	}
	return importers.Load(path, importers.Options{Weights: m.weights, Seed: m.seed})
}

func (m *modelFlags) session(g *graph.Graph) (*runtime.Session, error) {
	return runtime.NewSession(g, runtime.WithThreads(m.threads), runtime.WithOptimize(m.optimize))
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
