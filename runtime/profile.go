package runtime

import (
	"context"
	"sort"
	"sync"
	"time"

	"stride/tensor"
)

// Profile accumulates time spent per node over profiled runs.
type Profile struct {
	mu    sync.Mutex
	Runs  int
	nodes map[int]*NodeTime // by step index
}

// NodeTime is the time one node took over all profiled runs.
type NodeTime struct {
	Name, Op string
	Total    time.Duration
	Calls    int
}

// OpTime is the time of all nodes of one op type.
type OpTime struct {
	Op    string
	Total time.Duration
	Nodes int
}

func (p *Profile) add(step int, name, op string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.nodes == nil {
		p.nodes = map[int]*NodeTime{}
	}
	nt := p.nodes[step]
	if nt == nil {
		nt = &NodeTime{Name: name, Op: op}
		p.nodes[step] = nt
	}
	nt.Total += d
	nt.Calls++
}

// Nodes returns per-node times, slowest first.
func (p *Profile) Nodes() []NodeTime {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]NodeTime, 0, len(p.nodes))
	for _, nt := range p.nodes {
		out = append(out, *nt)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Total > out[j].Total })
	return out
}

// Ops returns per-op-type times, slowest first.
func (p *Profile) Ops() []OpTime {
	m := map[string]*OpTime{}
	for _, nt := range p.Nodes() {
		o := m[nt.Op]
		if o == nil {
			o = &OpTime{Op: nt.Op}
			m[nt.Op] = o
		}
		o.Total += nt.Total
		o.Nodes++
	}
	out := make([]OpTime, 0, len(m))
	for _, o := range m {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Total > out[j].Total })
	return out
}

// RunProfiled is RunList that also records each node's time into p.
func (s *Session) RunProfiled(ctx context.Context, inputs map[string]*tensor.Tensor, p *Profile) ([]*tensor.Tensor, error) {
	if p != nil {
		p.mu.Lock()
		p.Runs++
		p.mu.Unlock()
	}
	return s.runList(ctx, inputs, p)
}
