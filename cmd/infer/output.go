package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// resultWriter writes classify's results, one image at a time, in input
// order.
type resultWriter interface {
	write(path string, preds []prediction) error
	flush() error
}

func newResultWriter(format string, w io.Writer, paths []string) (resultWriter, error) {
	bw := bufio.NewWriter(w)
	switch format {
	case "table":
		pw := len("IMAGE")
		for _, p := range paths {
			pw = max(pw, utf8.RuneCountInString(p))
		}
		t := &tableWriter{w: bw, pathWidth: pw}
		fmt.Fprintf(bw, "%-*s  %-6s  %s\n", pw, "IMAGE", "PROB", "CLASS")
		return t, nil
	case "csv":
		c := csv.NewWriter(bw)
		if err := c.Write([]string{"path", "rank", "index", "label", "probability"}); err != nil {
			return nil, err
		}
		return &csvWriter{bw: bw, w: c}, nil
	case "jsonl":
		return &jsonlWriter{w: bw, enc: json.NewEncoder(bw)}, nil
	}
	return nil, usagef("--format %q: want table, csv or jsonl", format)
}

type tableWriter struct {
	w         *bufio.Writer
	pathWidth int
}

func (t *tableWriter) write(path string, preds []prediction) error {
	for r, p := range preds {
		name := path
		if r > 0 {
			name = ""
		}
		label := p.Label
		if label == "" {
			label = fmt.Sprintf("class %d", p.Index)
		}
		line := fmt.Sprintf("%-*s  %.4f  %s", t.pathWidth, name, p.Prob, label)
		if _, err := fmt.Fprintln(t.w, strings.TrimRight(line, " ")); err != nil {
			return err
		}
	}
	return nil
}

func (t *tableWriter) flush() error { return t.w.Flush() }

type csvWriter struct {
	bw *bufio.Writer
	w  *csv.Writer
}

func (c *csvWriter) write(path string, preds []prediction) error {
	for r, p := range preds {
		rec := []string{path, strconv.Itoa(r + 1), strconv.Itoa(p.Index), p.Label, strconv.FormatFloat(p.Prob, 'f', 6, 64)}
		if err := c.w.Write(rec); err != nil {
			return err
		}
	}
	return nil
}

func (c *csvWriter) flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.bw.Flush()
}

type jsonlWriter struct {
	w   *bufio.Writer
	enc *json.Encoder
}

func (j *jsonlWriter) write(path string, preds []prediction) error {
	rounded := make([]prediction, len(preds))
	for i, p := range preds {
		p.Prob = math.Round(p.Prob*1e6) / 1e6
		rounded[i] = p
	}
	return j.enc.Encode(struct {
		Path        string       `json:"path"`
		Predictions []prediction `json:"predictions"`
	}{path, rounded})
}

func (j *jsonlWriter) flush() error { return j.w.Flush() }
