package train

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"stride/importers/caffe"
	"stride/internal/parallel"
	"stride/proto/caffepb"
	"stride/train/data"
)

// Setup tunes a training session beyond what the solver and net files say.
type Setup struct {
	// Data replaces the source of the TRAIN data layers; TestData that of
	// the TEST ones (default: Data, read for its test split).
	Data, TestData string
	// Threads sizes the worker pool (0: GOMAXPROCS).
	Threads int
	// Seed replaces random_seed when UseSeed is set.
	Seed    int64
	UseSeed bool
	// Shift adds random shifts of up to Shift pixels to training images;
	// Mirror adds random horizontal flips; Shuffle shuffles the training
	// set every epoch.
	Shift   int
	Mirror  bool
	Shuffle bool
	// Weights initialises the net from a caffemodel instead of fillers.
	Weights string
	// Dir resolves relative paths in the net (data sources, mean files);
	// "" means the current directory, then the net file's folder.
	Dir string
}

// Session is a net ready to train: its solver, nets, data and trainer.
type Session struct {
	Solver  *caffepb.SolverParameter
	NetDef  *caffepb.NetParameter
	NetPath string
	Trainer *Trainer
	// TrainSet and TestSet are the data sets of the first TRAIN and TEST
	// data layers (TestSet may be nil).
	TrainSet, TestSet *data.Dataset
	// Transform is the first TRAIN data layer's pre-processing, which
	// exported models expect to have been applied to their input.
	Transform *caffepb.TransformationParameter
	Seed      uint64
	pool      *parallel.Pool
}

// Close releases the session's worker pool.
func (s *Session) Close() { s.pool.Close() }

// SolverFromFile reads a solver and the net it names (net, or train_net
// with test_net).
func SolverFromFile(path string) (*caffepb.SolverParameter, *caffepb.NetParameter, string, error) {
	sp, err := caffe.ParseSolver(path)
	if err != nil {
		return nil, nil, "", err
	}
	netFile := sp.GetNet()
	if netFile == "" {
		netFile = sp.GetTrainNet()
	}
	if sp.NetParam != nil || sp.TrainNetParam != nil {
		np := sp.NetParam
		if np == nil {
			np = sp.TrainNetParam
		}
		return sp, np, path, nil
	}
	if netFile == "" {
		return nil, nil, "", fmt.Errorf("%s: the solver names no net (net: or train_net:)", path)
	}
	if len(sp.GetTestNet()) > 0 {
		return nil, nil, "", fmt.Errorf("%s: separate test_net files are not supported; use one net with TEST-phase layers", path)
	}
	netPath := resolvePath(netFile, filepath.Dir(path))
	np, err := caffe.ParseNet(netPath)
	if err != nil {
		return nil, nil, "", fmt.Errorf("%s: the net: %w", path, err)
	}
	return sp, np, netPath, nil
}

// resolvePath finds a relative path from the current directory, else
// from dir.
func resolvePath(p, dir string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if dir != "" {
		// Caffe's own files name paths from Caffe's root
		// (examples/cifar10/...): try the path, then the file name, beside
		// the file that names it.
		for _, alt := range []string{filepath.Join(dir, p), filepath.Join(dir, filepath.Base(p))} {
			if _, err := os.Stat(alt); err == nil {
				return alt
			}
		}
	}
	return p
}

// phaseIncludes applies a layer's include/exclude phase rules.
func phaseIncludes(lp *caffepb.LayerParameter, ph caffepb.Phase) bool {
	meets := func(r *caffepb.NetStateRule) bool { return r.Phase == nil || r.GetPhase() == ph }
	if len(lp.Include) > 0 {
		for _, r := range lp.Include {
			if meets(r) {
				return true
			}
		}
		return false
	}
	for _, r := range lp.Exclude {
		if meets(r) {
			return false
		}
	}
	return true
}

// dataSource is what a data layer reads and how.
type dataSource struct {
	loader *data.Loader
	tops   []string
}

// NewSession prepares training of the net np (read from netPath, "" if
// generated) with the solver sp.
func NewSession(sp *caffepb.SolverParameter, np *caffepb.NetParameter, netPath string, st Setup) (*Session, error) {
	sess := &Session{Solver: sp, NetDef: np, NetPath: netPath}
	seed := sp.GetRandomSeed()
	if st.UseSeed {
		seed = st.Seed
	}
	if seed < 0 {
		seed = time.Now().UnixNano() & 0x7fffffff
	}
	sess.Seed = uint64(seed)
	dir := st.Dir
	if dir == "" && netPath != "" {
		dir = filepath.Dir(netPath)
	}
	var weights *caffepb.NetParameter
	if st.Weights != "" {
		w, err := caffe.ParseWeights(st.Weights)
		if err != nil {
			return nil, err
		}
		weights = w
	}
	sess.pool = parallel.New(st.Threads)
	fail := func(err error) (*Session, error) {
		sess.pool.Close()
		return nil, err
	}
	build := func(ph caffepb.Phase) (*Net, []Feeder, error) {
		sources := map[string]*dataSource{}
		shapes := map[string][]int{}
		for _, lp := range np.Layer {
			if !phaseIncludes(lp, ph) || !dataLayerTypes[lp.GetType()] {
				continue
			}
			src, err := sess.openData(lp, ph, st, dir)
			if err != nil {
				return nil, nil, err
			}
			sources[lp.GetName()] = src
			if len(lp.Top) > 0 {
				shapes[lp.Top[0]] = src.loader.Shape()
			}
			if len(lp.Top) > 1 {
				shapes[lp.Top[1]] = []int{src.loader.Batch}
			}
		}
		phase := caffe.Train
		mode := TrainMode
		if ph == caffepb.Phase_TEST {
			phase, mode = caffe.Test, TestMode
		}
		cn, err := caffe.ImportProto(proto.Clone(np).(*caffepb.NetParameter), weights, caffe.Options{
			Phase: phase, Seed: int64(sess.Seed), InputShapes: shapes})
		if err != nil {
			return nil, nil, err
		}
		cn.Path = netPath
		var share *Net
		if ph == caffepb.Phase_TEST {
			share = sess.Trainer.Train
		}
		net, err := NewNet(cn, mode, share, sess.pool)
		if err != nil {
			return nil, nil, err
		}
		var feeds []Feeder
		for _, d := range net.Data {
			src := sources[d.Layer.Name]
			if src == nil {
				return nil, nil, fmt.Errorf("%s: layers of type %s cannot be fed by the trainer; use a Data or ImageData layer", d.Layer.Source(), d.Layer.Type)
			}
			feeds = append(feeds, src.loader)
		}
		return net, feeds, nil
	}
	trainNet, trainFeeds, err := build(caffepb.Phase_TRAIN)
	if err != nil {
		return fail(err)
	}
	solver, err := NewSolver(sp, trainNet.Params)
	if err != nil {
		return fail(err)
	}
	sess.Trainer = &Trainer{Solver: solver, Train: trainNet, TrainFeed: trainFeeds, Seed: sess.Seed,
		Prefix: sp.GetSnapshotPrefix()}
	if len(sp.GetTestIter()) > 0 {
		if len(sp.GetTestIter()) > 1 {
			return fail(fmt.Errorf("one test net is supported, the solver lists %d test_iter values", len(sp.GetTestIter())))
		}
		testNet, testFeeds, err := build(caffepb.Phase_TEST)
		if err != nil {
			return fail(err)
		}
		sess.Trainer.Tests = []*Net{testNet}
		sess.Trainer.TestFeeds = [][]Feeder{testFeeds}
		sess.Trainer.TestIters = []int{int(sp.GetTestIter()[0])}
	} else if sp.GetTestInterval() > 0 {
		return fail(fmt.Errorf("test_interval is set but test_iter is not"))
	}
	return sess, nil
}

// openData opens the data set of a data layer.
func (s *Session) openData(lp *caffepb.LayerParameter, ph caffepb.Phase, st Setup, dir string) (*dataSource, error) {
	where := fmt.Sprintf("layer %q (%s)", lp.GetName(), lp.GetType())
	split := data.TrainSplit
	override := st.Data
	if ph == caffepb.Phase_TEST {
		split = data.TestSplit
		if st.TestData != "" {
			override = st.TestData
		}
	}
	var source string
	var batch int
	var opt data.FolderOptions
	shuffle := st.Shuffle && ph == caffepb.Phase_TRAIN
	switch lp.GetType() {
	case "Data":
		dp := lp.GetDataParam()
		source, batch = dp.GetSource(), int(dp.GetBatchSize())
	case "ImageData":
		ip := lp.GetImageDataParam()
		source, batch = ip.GetSource(), int(ip.GetBatchSize())
		opt = data.FolderOptions{Height: int(ip.GetNewHeight()), Width: int(ip.GetNewWidth()), Channels: 3}
		if !ip.GetIsColor() {
			opt.Channels = 1
		}
		shuffle = shuffle || ip.GetShuffle() && ph == caffepb.Phase_TRAIN
		if override == "" && ip.GetRootFolder() != "" {
			if fi, err := os.Stat(resolvePath(source, dir)); err == nil && !fi.IsDir() {
				set, err := data.ReadImageList(resolvePath(source, dir), resolvePath(ip.GetRootFolder(), dir), opt)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", where, err)
				}
				return s.loaderFor(lp, ph, set, batch, shuffle, st, dir, where)
			}
		}
	case "MemoryData":
		batch = int(lp.GetMemoryDataParam().GetBatchSize())
	case "Input":
		if override == "" {
			return nil, fmt.Errorf("%s: an Input layer has no data source; give one with --data", where)
		}
		batch = 64
		if s := lp.GetInputParam().GetShape(); len(s) > 0 && len(s[0].GetDim()) > 0 {
			batch = int(s[0].GetDim()[0])
		}
	default:
		if override == "" {
			return nil, fmt.Errorf("%s: the trainer reads Data and ImageData layers (or any data layer with --data)", where)
		}
		batch = 64
	}
	if override != "" {
		source = override
	} else {
		source = resolvePath(source, dir)
	}
	if source == "" {
		return nil, fmt.Errorf("%s: no data source (set the layer's source or use --data)", where)
	}
	set, err := data.Open(source, split, opt)
	if err != nil {
		if os.IsNotExist(err) || strings.Contains(err.Error(), "no such file") {
			return nil, fmt.Errorf("%s: data source %q not found (LMDB and LevelDB databases are not supported; point the source, or --data, at CIFAR-10 .bin files, MNIST IDX files or a folder of images per class)", where, source)
		}
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return s.loaderFor(lp, ph, set, batch, shuffle, st, dir, where)
}

func (s *Session) loaderFor(lp *caffepb.LayerParameter, ph caffepb.Phase, set *data.Dataset, batch int, shuffle bool, st Setup, dir, where string) (*dataSource, error) {
	tp := lp.GetTransformParam()
	t := data.Transform{Scale: tp.GetScale(), MeanValues: tp.GetMeanValue(), CropSize: int(tp.GetCropSize()), Mirror: tp.GetMirror()}
	if ph == caffepb.Phase_TRAIN {
		t.Shift = st.Shift
		t.Mirror = t.Mirror || st.Mirror
	}
	if mf := tp.GetMeanFile(); mf != "" {
		mean, err := readMeanFile(resolvePath(mf, dir))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		t.MeanImage = mean
	}
	l, err := data.NewLoader(set, batch, t, ph == caffepb.Phase_TRAIN, shuffle, s.Seed+uint64(ph))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if ph == caffepb.Phase_TRAIN && s.TrainSet == nil {
		s.TrainSet, s.Transform = set, tp
	}
	if ph == caffepb.Phase_TEST && s.TestSet == nil {
		s.TestSet = set
	}
	return &dataSource{loader: l, tops: lp.Top}, nil
}

// readMeanFile reads a mean image (a BlobProto, .binaryproto).
func readMeanFile(path string) ([]float32, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mean file: %w", err)
	}
	bp := &caffepb.BlobProto{}
	if err := proto.Unmarshal(raw, bp); err != nil {
		return nil, fmt.Errorf("mean file %s: %w", path, err)
	}
	t, err := caffe.BlobTensor(bp)
	if err != nil {
		return nil, fmt.Errorf("mean file %s: %w", path, err)
	}
	return t.F32(), nil
}
