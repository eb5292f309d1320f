package caffe

import (
	"fmt"
	"strconv"
	"strings"
)

// Helpers for command-line tools that take Caffe nets (cmd/convert,
// cmd/infer): they turn flag values into Options.

// ParseInputShapes parses "NAME=D1,D2,..." flag values (for example
// "data=1,3,224,224") into Options.InputShapes.
func ParseInputShapes(specs []string) (map[string][]int, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	out := map[string][]int{}
	for _, spec := range specs {
		name, dims, ok := strings.Cut(spec, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.TrimSpace(dims) == "" {
			return nil, fmt.Errorf("input shape %q: want NAME=D1,D2,... (e.g. data=1,3,224,224)", spec)
		}
		var shape []int
		for _, d := range strings.FieldsFunc(dims, func(r rune) bool { return r == ',' || r == 'x' || r == ' ' }) {
			v, err := strconv.Atoi(d)
			if err != nil || v <= 0 {
				return nil, fmt.Errorf("input shape %q: %q is not a positive dimension", spec, d)
			}
			shape = append(shape, v)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("input shape for %q given twice", name)
		}
		out[name] = shape
	}
	return out, nil
}

// ParsePhase parses "test" or "train" (any case; "" is test).
func ParsePhase(s string) (Phase, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "test":
		return Test, nil
	case "train":
		return Train, nil
	}
	return Test, fmt.Errorf("phase %q: want test or train", s)
}
