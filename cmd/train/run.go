package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"google.golang.org/protobuf/proto"

	"stride/proto/caffepb"
	"stride/train"
)

func (o *options) run(ctx context.Context) error {
	if (o.solver == "") == (o.arch == "") {
		return usagef("give exactly one of --solver and --arch")
	}
	if o.progress != "auto" && o.progress != "bar" && o.progress != "lines" {
		return usagef("--progress must be auto, bar or lines")
	}
	var sp *caffepb.SolverParameter
	var np *caffepb.NetParameter
	var netPath string
	var err error
	if o.solver != "" {
		sp, np, netPath, err = train.SolverFromFile(o.solver)
	} else {
		sp, np, err = o.archNet()
	}
	if err != nil {
		return err
	}
	sp = proto.Clone(sp).(*caffepb.SolverParameter)
	if o.maxIter > 0 {
		sp.MaxIter = proto.Int32(int32(o.maxIter))
	}
	if o.changed("snapshot") {
		sp.Snapshot = proto.Int32(int32(o.snapshot))
	}
	prefix := o.prefix
	if prefix == "" {
		prefix = sp.GetSnapshotPrefix()
	}
	if prefix == "" {
		prefix = strings.TrimSuffix(filepath.Base(o.solver), filepath.Ext(o.solver))
	}
	sp.SnapshotPrefix = proto.String(prefix)
	st := train.Setup{Threads: o.threads, Shift: o.shift, Mirror: o.mirror, Shuffle: o.shuffle || o.arch != "",
		Weights: o.weights, Seed: o.seed, UseSeed: o.changed("seed")}
	if o.solver != "" {
		st.Data, st.TestData = o.dataDir, o.testData
	}
	start := time.Now()
	sess, err := train.NewSession(sp, np, netPath, st)
	if err != nil {
		return err
	}
	defer sess.Close()
	tr := sess.Trainer
	if o.resume != "" {
		if err := train.Restore(tr.Train, tr.Solver, o.resume); err != nil {
			return err
		}
	}
	fmt.Fprintf(o.stderr, "train: %s, %d parameters in %d blobs, %s solver, %d iterations from %d, seed %d\n",
		describeNet(sess), countParams(tr.Train), len(tr.Train.Params), sp.GetType(), sp.GetMaxIter(), tr.Solver.Iter, sess.Seed)
	if sess.TrainSet != nil {
		msg := fmt.Sprintf("train: training data %s (%d images %dx%dx%d)", sess.TrainSet.Name, sess.TrainSet.N, sess.TrainSet.C, sess.TrainSet.H, sess.TrainSet.W)
		if sess.TestSet != nil {
			msg += fmt.Sprintf(", test data %s (%d images)", sess.TestSet.Name, sess.TestSet.N)
		}
		fmt.Fprintln(o.stderr, msg)
	}

	rep, err := newReporter(o, sess, prefix)
	if err != nil {
		return err
	}
	defer rep.close()
	runCtx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	go func() {
		for range usr1 {
			rep.requestPlot()
		}
	}()
	tr.Events = rep.events()
	tr.FinalTest = true
	tr.StopOnNaN = true
	runErr := tr.Run(runCtx)
	rep.finish()
	if err := rep.drawPlots(); err != nil {
		fmt.Fprintf(o.stderr, "train: plots: %v\n", err)
	}
	if runErr != nil {
		if runCtx.Err() != nil && errors.Is(runErr, runCtx.Err()) {
			model, state := train.SnapshotPaths(prefix, tr.Solver.Iter)
			fmt.Fprintf(o.stderr, "train: interrupted at iteration %d; snapshot %s (+ %s); continue with --resume %s\n", tr.Solver.Iter, model, filepath.Base(state), state)
			return errInterrupted
		}
		return runErr
	}
	rep.summary(time.Since(start))
	if o.export != "" {
		if err := o.exportModel(sess); err != nil {
			return err
		}
	}
	return nil
}

func describeNet(s *train.Session) string {
	name := s.NetDef.GetName()
	if name == "" {
		name = "net"
	}
	if s.NetPath != "" {
		return fmt.Sprintf("net %q (%s)", name, s.NetPath)
	}
	return fmt.Sprintf("net %q", name)
}

func countParams(n *train.Net) int {
	c := 0
	for _, p := range n.Params {
		if p.Learnable() {
			c += p.Data.Len()
		}
	}
	return c
}

func (o *options) exportModel(sess *train.Session) error {
	base := strings.TrimSuffix(o.export, filepath.Ext(o.export))
	deploy, weights := o.deploy, o.caffemodel
	if deploy == "" {
		deploy = base + "_deploy.prototxt"
	}
	if weights == "" {
		weights = base + ".caffemodel"
	}
	ex, err := sess.Export(o.export, deploy, weights)
	if err != nil {
		return err
	}
	batch := "batch 1"
	if ex.Dynamic {
		batch = "any batch size"
	}
	fmt.Fprintf(o.stderr, "train: exported %s (input %s, output %s, %s), %s and %s\n", ex.ONNX,
		strings.Join(ex.Inputs, ","), strings.Join(ex.Outputs, ","), batch, ex.Deploy, ex.Weights)
	if o.checkExport > 0 && sess.TestSet != nil {
		agree, total, err := sess.CheckExport(ex.ONNX, o.checkExport)
		if err != nil {
			return fmt.Errorf("checking the export: %w", err)
		}
		fmt.Fprintf(o.stderr, "train: the exported model and the trainer agree on the top-1 class of %d/%d test images\n", agree, total)
		if agree != total {
			return fmt.Errorf("the exported model disagrees with the trainer on %d test images", total-agree)
		}
	}
	if o.testDataDir != "" && sess.TestSet != nil {
		if err := sess.WriteTestData(o.testDataDir, ex.ONNX, sess.TestSet.N); err != nil {
			return fmt.Errorf("writing the test data: %w", err)
		}
		fmt.Fprintf(o.stderr, "train: wrote the model and %d test images with Stride's outputs to %s\n", sess.TestSet.N, o.testDataDir)
	}
	return nil
}
