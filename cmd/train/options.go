package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	"stride/proto/caffepb"
	"stride/train"
	"stride/train/data"
)

// options holds the command's flags.
type options struct {
	stdout, stderr io.Writer
	changed        func(string) bool

	solver, arch        string
	dataDir, testData   string
	weights, resume     string
	export              string
	deploy, caffemodel  string
	logPath, plotPath   string
	filtersPath, prefix string
	threads             int
	seed                int64
	maxIter             int
	snapshot            int
	shift               int
	mirror, shuffle     bool
	progress            string
	checkExport         int
	testDataDir         string

	// --arch solver settings.
	epochs, batch, testBatch int
	lr                       float64
	solverType, lrPolicy     string
	momentum, momentum2      float64
	delta, rmsDecay          float64
	weightDecay, gamma       float64
	power                    float64
	stepsize                 int
	stepvalues               []int
	testInterval, display    int
	clip                     float64
	iterSize                 int
	regularization           string
	scale                    float64
	mean                     string
	crop                     int
}

func (o *options) flags(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&o.solver, "solver", "", "Caffe solver .prototxt (its net: or train_net: names the net)")
	f.StringVar(&o.arch, "arch", "", "compact net description (see `train arch-help`)")
	f.StringVar(&o.dataDir, "data", "", "data for the training data layers: CIFAR-10 .bin folder, MNIST IDX folder or image folder")
	f.StringVar(&o.testData, "test-data", "", "data for the test data layers (default: the test part of --data)")
	f.StringVar(&o.weights, "weights", "", "initialise from a .caffemodel instead of the fillers")
	f.StringVar(&o.resume, "resume", "", "continue from a .solverstate snapshot")
	f.StringVar(&o.export, "export", "", "write the trained inference model as ONNX here (and a deploy .prototxt + .caffemodel beside it)")
	f.StringVar(&o.deploy, "deploy", "", "deploy .prototxt to write (default: beside --export)")
	f.StringVar(&o.caffemodel, "caffemodel", "", "trained .caffemodel to write (default: beside --export)")
	f.StringVar(&o.logPath, "log", "", "JSON-lines log (default PREFIX.log.jsonl)")
	f.StringVar(&o.plotPath, "plot", "", "PNG of loss and accuracy curves (default PREFIX_curves.png)")
	f.StringVar(&o.filtersPath, "filters", "", "PNG of the first layer's filters (default PREFIX_filters.png)")
	f.StringVar(&o.prefix, "prefix", "", "snapshot prefix (default: the solver's snapshot_prefix, or \"arch\")")
	f.IntVar(&o.threads, "threads", 0, "worker threads (default: all cores)")
	f.Int64Var(&o.seed, "seed", 1701, "random seed (replaces the solver's random_seed when given)")
	f.IntVar(&o.maxIter, "max-iter", 0, "stop after this many iterations (replaces max_iter)")
	f.IntVar(&o.snapshot, "snapshot", 0, "snapshot every N iterations (replaces snapshot)")
	f.IntVar(&o.shift, "shift", 0, "augment training images with random shifts of up to N pixels")
	f.BoolVar(&o.mirror, "mirror", false, "augment training images with random horizontal flips")
	f.BoolVar(&o.shuffle, "shuffle", false, "shuffle the training set every epoch (always on with --arch)")
	f.StringVar(&o.progress, "progress", "auto", "progress display: bar, lines or auto (a bar on a terminal)")
	f.StringVar(&o.testDataDir, "export-testdata", "", "after --export, write the model and the whole test set with Stride's outputs here (ONNX test-data layout) for other runtimes")
	f.IntVar(&o.checkExport, "check-export", 1000, "after --export, compare the ONNX model's top-1 with the trainer's on this many test images (0: skip)")

	f.IntVar(&o.epochs, "epochs", 10, "--arch: passes over the training set")
	f.IntVar(&o.batch, "batch", 64, "--arch: training batch size")
	f.IntVar(&o.testBatch, "test-batch", 100, "--arch: test batch size")
	f.Float64Var(&o.lr, "lr", 0.01, "--arch: base learning rate")
	f.StringVar(&o.solverType, "type", "SGD", "--arch: solver type: SGD, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam")
	f.StringVar(&o.lrPolicy, "lr-policy", "inv", "--arch: fixed, step, exp, inv, multistep, poly or sigmoid")
	f.Float64Var(&o.momentum, "momentum", 0.9, "--arch: momentum (beta1 for Adam)")
	f.Float64Var(&o.momentum2, "momentum2", 0.999, "--arch: Adam's beta2")
	f.Float64Var(&o.delta, "delta", 1e-8, "--arch: AdaGrad/RMSProp/AdaDelta/Adam epsilon")
	f.Float64Var(&o.rmsDecay, "rms-decay", 0.99, "--arch: RMSProp decay")
	f.Float64Var(&o.weightDecay, "weight-decay", 5e-4, "--arch: weight decay")
	f.StringVar(&o.regularization, "regularization", "L2", "--arch: L2 or L1")
	f.Float64Var(&o.gamma, "gamma", 1e-4, "--arch: lr policy gamma")
	f.Float64Var(&o.power, "power", 0.75, "--arch: lr policy power")
	f.IntVar(&o.stepsize, "stepsize", 0, "--arch: lr policy stepsize")
	f.IntSliceVar(&o.stepvalues, "stepvalue", nil, "--arch: multistep iterations")
	f.IntVar(&o.testInterval, "test-interval", 0, "--arch: test every N iterations (default: every epoch)")
	f.IntVar(&o.display, "display", 100, "--arch: log a line every N iterations")
	f.Float64Var(&o.clip, "clip-gradients", -1, "--arch: clip the gradients' L2 norm (-1: off)")
	f.IntVar(&o.iterSize, "iter-size", 1, "--arch: accumulate gradients over N batches")
	f.Float64Var(&o.scale, "scale", 0.00390625, "--arch: pixel scale (after mean subtraction)")
	f.StringVar(&o.mean, "mean", "", "--arch: mean to subtract, one value or one per channel, or \"auto\" (the training set's)")
	f.IntVar(&o.crop, "crop", 0, "--arch: crop size (random crops in training, centre crops in testing)")
}

// archSession builds the solver and net of an --arch run.
func (o *options) archNet() (*caffepb.SolverParameter, *caffepb.NetParameter, error) {
	if o.dataDir == "" {
		return nil, nil, usagef("--arch needs --data")
	}
	if o.epochs <= 0 || o.batch <= 0 || o.testBatch <= 0 {
		return nil, nil, usagef("--epochs, --batch and --test-batch must be positive")
	}
	// Syntax errors in the description are usage errors; check it first.
	if _, err := train.ParseArch(o.arch, train.ArchData{Source: "-", Batch: 1, TestBatch: 1, Transform: &caffepb.TransformationParameter{}}); err != nil {
		return nil, nil, usageError{err}
	}
	trainSet, err := data.Open(o.dataDir, data.TrainSplit, data.FolderOptions{})
	if err != nil {
		return nil, nil, err
	}
	testSrc := o.testData
	if testSrc == "" {
		testSrc = o.dataDir
	}
	testSet, err := data.Open(testSrc, data.TestSplit, data.FolderOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("test data: %w", err)
	}
	tp := &caffepb.TransformationParameter{Scale: proto.Float32(float32(o.scale))}
	if o.crop > 0 {
		tp.CropSize = proto.Uint32(uint32(o.crop))
	}
	switch {
	case o.mean == "auto":
		tp.MeanValue = channelMeans(trainSet)
	case o.mean != "":
		for _, s := range strings.Split(o.mean, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 32)
			if err != nil {
				return nil, nil, usagef("--mean %q: %v", o.mean, err)
			}
			tp.MeanValue = append(tp.MeanValue, float32(v))
		}
	}
	np, err := train.ParseArch(o.arch, train.ArchData{Source: o.dataDir, TestSource: testSrc, Batch: o.batch, TestBatch: o.testBatch, Transform: tp})
	if err != nil {
		return nil, nil, usageError{err}
	}
	perEpoch := (trainSet.N + o.batch*o.iterSize - 1) / (o.batch * o.iterSize)
	interval := o.testInterval
	if interval <= 0 {
		interval = perEpoch
	}
	sp := &caffepb.SolverParameter{
		Type: proto.String(o.solverType), BaseLr: proto.Float32(float32(o.lr)), LrPolicy: proto.String(o.lrPolicy),
		Gamma: proto.Float32(float32(o.gamma)), Power: proto.Float32(float32(o.power)),
		Momentum: proto.Float32(float32(o.momentum)), Momentum2: proto.Float32(float32(o.momentum2)),
		Delta: proto.Float32(float32(o.delta)), RmsDecay: proto.Float32(float32(o.rmsDecay)),
		WeightDecay: proto.Float32(float32(o.weightDecay)), RegularizationType: proto.String(o.regularization),
		MaxIter: proto.Int32(int32(o.epochs * perEpoch)), TestInterval: proto.Int32(int32(interval)),
		TestIter: []int32{int32((testSet.N + o.testBatch - 1) / o.testBatch)}, TestInitialization: proto.Bool(false),
		Display: proto.Int32(int32(o.display)), ClipGradients: proto.Float32(float32(o.clip)),
		IterSize: proto.Int32(int32(o.iterSize)), RandomSeed: proto.Int64(o.seed),
		SnapshotPrefix: proto.String("arch"), AverageLoss: proto.Int32(int32(max(1, o.display))),
	}
	if o.stepsize > 0 {
		sp.Stepsize = proto.Int32(int32(o.stepsize))
	}
	for _, v := range o.stepvalues {
		sp.Stepvalue = append(sp.Stepvalue, int32(v))
	}
	return sp, np, nil
}

// channelMeans returns the mean pixel value of each channel.
func channelMeans(d *data.Dataset) []float32 {
	plane := d.H * d.W
	sums := make([]float64, d.C)
	for i := 0; i < d.N; i++ {
		img := d.Image(i)
		for c := 0; c < d.C; c++ {
			for _, v := range img[c*plane : (c+1)*plane] {
				sums[c] += float64(v)
			}
		}
	}
	out := make([]float32, d.C)
	for c := range out {
		out[c] = float32(sums[c] / float64(d.N*plane))
	}
	return out
}
