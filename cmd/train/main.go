// Command train trains CNNs with Caffe's solvers on real data and exports
// them to ONNX (and to Caffe deploy files).
//
//	train --solver lenet_solver.prototxt [--data DIR] [--export model.onnx]
//	train --arch 'conv5x5x32-relu-pool2-conv5x5x64-relu-pool2-fc256-relu-fc10' \
//	      --data /usr/share/datasets/fashion-mnist --epochs 10 --batch 64 --lr 0.01
//	train plot LOG.jsonl --out curves.png
//
// Run `train --help` for every flag and `train arch-help` for the --arch
// syntax.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// usageError marks errors in how the command was called: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// errInterrupted is returned after Ctrl-C once the snapshot is written.
var errInterrupted = errors.New("interrupted")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errInterrupted):
		return 130
	}
	fmt.Fprintf(stderr, "train: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return 2
	}
	return 1
}

// isCobraUsage recognises cobra's own argument errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "flag needs an argument", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	o := &options{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "train (--solver SOLVER | --arch DESCRIPTION --data DIR) [flags]",
		Short: "Train CNNs with Caffe's solvers and export them to ONNX",
		Long: `train trains a convolutional net with Caffe's solvers (SGD, Nesterov, AdaGrad,
RMSProp, AdaDelta, Adam) and exports it to ONNX and to Caffe deploy files.

The net is a Caffe train/test net named by a solver (--solver), or a compact
description (--arch, see "train arch-help"). Data layers read CIFAR-10 binary
batches, MNIST/Fashion-MNIST IDX files or a folder of images per class; --data
points every training data layer there (and the test layers at its test part).

While training it shows iteration, loss, learning rate and images/s, tests
every test_interval iterations, writes a JSON-lines log, snapshots
(.caffemodel + .solverstate) and, at the end, PNG curves and a grid of the
first layer's filters. Ctrl-C writes a snapshot before exiting; --resume
continues from one exactly. kill -USR1 redraws the curves on demand.`,
		Example: `  train --solver examples/lenet_solver.prototxt --data /usr/share/datasets/fashion-mnist --export lenet.onnx
  train --arch 'conv5x5x32-relu-pool2-conv5x5x64-relu-pool2-fc256-relu-fc10' --data /usr/share/datasets/fashion-mnist --epochs 5
  train --solver examples/lenet_solver.prototxt --resume snapshots/lenet_iter_5000.solverstate`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.changed = func(name string) bool { return cmd.Flags().Changed(name) }
			return o.run(cmd.Context())
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	o.flags(root)
	root.AddCommand(plotCommand(stdout), archHelpCommand(stdout))
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.SetContext(context.Background())
	return root
}

func archHelpCommand(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "arch-help",
		Short: "Describe the --arch syntax",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprint(stdout, archHelp)
		},
	}
}

const archHelp = `--arch describes a sequential CNN in one line:

  conv5x5x32-relu-pool2-conv5x5x64-relu-pool2-fc256-relu-fc10
  [(conv3x3x32same-relu)*2-pool2]*2-fc256-relu-dropout-fc10

Layers are separated by '-'. A group in ( ) or [ ] followed by *N repeats N
times (a single layer may be repeated too: relu*2).

  convKxKxN     convolution: K x K kernel, N outputs. Suffixes: sS stride,
                pP pad ("same" pads K/2), gG groups, dD dilation.
                e.g. conv3x3x64p1, conv5x5x32s2same
  deconvKxKxN   transposed convolution, same suffixes
  poolK         K x K max pooling, stride K unless sS; pP pads
  avgpoolK      average pooling, likewise
  gap           global average pooling
  fcN           fully connected layer with N outputs
  relu, lrelu[A], prelu, elu, sigmoid, tanh
  bn            batch normalisation (Caffe BatchNorm + Scale with bias)
  lrn[N]        local response normalisation over N channels (5)
  dropout[P]    dropout with ratio P (0.5)

The last layer gets a SoftmaxWithLoss (and an Accuracy for testing); make its
size the number of classes. Weights start from msra (xavier for the last
layer), biases from 0 with lr_mult 2 and no weight decay.
`
