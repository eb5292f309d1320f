package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"stride/train/viz"
)

// plotCommand draws the curves of a log at any time, also while training
// runs.
func plotCommand(stdout io.Writer) *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "plot LOG.jsonl",
		Short: "Draw the loss and accuracy curves of a training log as a PNG",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			var c viz.Curves
			c.Title = strings.TrimSuffix(args[0], ".log.jsonl")
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var e logEntry
				if json.Unmarshal(sc.Bytes(), &e) != nil {
					continue
				}
				switch e.Kind {
				case "iter":
					if e.Loss != nil {
						c.Loss = append(c.Loss, viz.Point{Iter: e.Iter, Value: *e.Loss})
					}
				case "test":
					if v, ok := e.Outputs["accuracy"]; ok {
						c.Accuracy = append(c.Accuracy, viz.Point{Iter: e.Iter, Value: v})
					}
					if v, ok := e.Outputs["loss"]; ok {
						c.TestLoss = append(c.TestLoss, viz.Point{Iter: e.Iter, Value: v})
					}
				}
			}
			if out == "" {
				out = strings.TrimSuffix(args[0], ".log.jsonl") + "_curves.png"
			}
			if err := c.WritePNG(out, 900, 700); err != nil {
				return err
			}
			fmt.Fprintln(stdout, out)
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "PNG to write (default: beside the log)")
	return c
}
