// Command infer runs, tests, inspects and benchmarks ONNX models and Caffe
// nets with Stride's runtime, and classifies images with them.
//
//	infer classify [MODEL] IMAGES...
//	infer inspect MODEL
//	infer visualize [MODEL] IMAGE --out DIR
//	infer run MODEL --input NAME=FILE --output-dir DIR
//	infer test DIR...
//
// Run `infer --help` or `infer COMMAND --help` for every command and flag.
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

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// usageError marks errors in how the command was called: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitError carries a chosen exit code without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit code %d", e.code) }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "infer: interrupted")
		return 130
	}
	fmt.Fprintf(stderr, "infer: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return 2
	}
	return 1
}

// isCobraUsage recognises the one usage error cobra reports before any
// command runs: an unknown subcommand. (Flag and argument errors are
// wrapped as usageError in newRoot.)
func isCobraUsage(err error) bool {
	return strings.HasPrefix(err.Error(), "unknown command")
}

// usageArgs makes a command's positional-argument errors usage errors.
func usageArgs(c *cobra.Command) {
	if orig := c.Args; orig != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := orig(cmd, args); err != nil {
				return usageError{fmt.Errorf("%s: %w (see '%s --help')", cmd.CommandPath(), err, cmd.CommandPath())}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "infer",
		Short: "Run, test, inspect and benchmark ONNX models and Caffe nets",
		Long: `infer runs ONNX models and Caffe nets on the CPU with Stride's pure-Go runtime.

Models are .onnx files or Caffe .prototxt nets (with --weights W.caffemodel).`,
		Example: `  infer classify testdata/images/fashion-mnist
  infer inspect testdata/models/convnetjs_cifar10.onnx
  infer visualize testdata/images/fashion-mnist/t10k-0000-ankle-boot.png --out vis
  infer run model.onnx --input data=x.npy --output-dir out
  infer test /usr/share/libonnx-testdata/data/pytorch-converted/test_ReLU`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%s: %w (see '%s --help')", c.CommandPath(), err, c.CommandPath())}
	})
	root.AddCommand(newRunCmd(), newTestCmd(), newBenchCmd(), newClassifyCmd(), newInspectCmd(), newVisualizeCmd())
	usageArgs(root)
	return root
}
