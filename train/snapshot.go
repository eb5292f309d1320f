package train

import (
	"fmt"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"stride/importers/caffe"
	"stride/importers/onnx"
	"stride/proto/caffepb"
	"stride/tensor"
)

// Snapshots are Caffe's: the weights as a .caffemodel and the solver's
// state (iteration, history blobs, multistep index, the weights' file
// name) as a .solverstate, both written atomically (a synced temporary
// file renamed into place), so an interrupted write never leaves a torn
// file. Caffe can resume from them, and so can Stride.

// SnapshotPaths returns the file names Caffe uses for a snapshot at iter.
func SnapshotPaths(prefix string, iter int) (model, state string) {
	base := fmt.Sprintf("%s_iter_%d", prefix, iter)
	return base + ".caffemodel", base + ".solverstate"
}

// Snapshot writes the net's weights and the solver's state under prefix
// and returns the two paths.
func Snapshot(net *Net, s *Solver, prefix string) (string, string, error) {
	model, state := SnapshotPaths(prefix, s.Iter)
	if dir := filepath.Dir(model); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", "", fmt.Errorf("snapshot: %w", err)
		}
	}
	if err := caffe.SaveCaffemodel(net.Caffe, model); err != nil {
		return "", "", fmt.Errorf("snapshot %s: %w", model, err)
	}
	st := &caffepb.SolverState{
		Iter:        proto.Int32(int32(s.Iter)),
		LearnedNet:  proto.String(model),
		CurrentStep: proto.Int32(int32(s.CurrentStep())),
	}
	n := len(s.params)
	for k, h := range s.History {
		p := s.params[k%n]
		bp, err := caffe.BlobProto(tensor.From(p.Data.Shape, h))
		if err != nil {
			return "", "", err
		}
		st.History = append(st.History, bp)
	}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(st)
	if err != nil {
		return "", "", err
	}
	if err := onnx.WriteFileAtomic(state, raw); err != nil {
		return "", "", fmt.Errorf("snapshot %s: %w", state, err)
	}
	return model, state, nil
}

// Restore loads a .solverstate and the weights it names into the net and
// the solver, so training continues where the snapshot was taken.
func Restore(net *Net, s *Solver, statePath string) error {
	raw, err := os.ReadFile(statePath)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	st := &caffepb.SolverState{}
	if err := proto.Unmarshal(raw, st); err != nil {
		return fmt.Errorf("resume: %s is not a solver state: %w", statePath, err)
	}
	n := len(s.params)
	if len(st.History) != len(s.History) {
		return fmt.Errorf("resume: %s holds %d history blobs, the %s solver of this net needs %d (%d parameters)", statePath, len(st.History), s.Param.GetType(), len(s.History), n)
	}
	for k, bp := range st.History {
		t, err := caffe.BlobTensor(bp)
		if err != nil {
			return fmt.Errorf("resume: history blob %d: %w", k, err)
		}
		if t.Len() != len(s.History[k]) {
			return fmt.Errorf("resume: history blob %d has %d values, parameter %s has %d", k, t.Len(), s.params[k%n].Name(), len(s.History[k]))
		}
		copy(s.History[k], t.F32())
	}
	model := st.GetLearnedNet()
	if _, err := os.Stat(model); err != nil {
		// The state names the weights as written; try beside the state.
		alt := filepath.Join(filepath.Dir(statePath), filepath.Base(model))
		if _, err2 := os.Stat(alt); err2 != nil {
			return fmt.Errorf("resume: the weights %s named by %s: %w", model, statePath, err)
		}
		model = alt
	}
	if err := LoadWeights(net, model); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	s.Iter = int(st.GetIter())
	return nil
}

// LoadWeights copies the blobs of a caffemodel into the net's parameters,
// matched by layer name and blob index. Every parameter must be found.
func LoadWeights(net *Net, path string) error {
	w, err := caffe.LoadWeights(path)
	if err != nil {
		return err
	}
	for _, p := range net.Params {
		blobs, ok := w[p.Layer]
		if !ok || p.Index >= len(blobs) {
			return fmt.Errorf("%s has no blob %d for layer %q", path, p.Index, p.Layer)
		}
		src := blobs[p.Index]
		if src.Len() != p.Data.Len() {
			return fmt.Errorf("%s: layer %q blob %d has shape %v, the net needs %v", path, p.Layer, p.Index, src.Shape, p.Data.Shape)
		}
		copy(p.Data.F32(), src.F32())
	}
	return nil
}
