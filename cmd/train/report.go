package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"stride/train"
	"stride/train/viz"
)

// logEntry is one line of the JSON-lines log.
type logEntry struct {
	Kind         string             `json:"kind"` // iter, test or snapshot
	Iter         int                `json:"iter"`
	Loss         *float64           `json:"loss,omitempty"`
	Smoothed     *float64           `json:"smoothed_loss,omitempty"`
	LR           *float64           `json:"lr,omitempty"`
	ImagesPerSec *float64           `json:"images_per_sec,omitempty"`
	Outputs      map[string]float64 `json:"outputs,omitempty"`
	Model        string             `json:"model,omitempty"`
	State        string             `json:"state,omitempty"`
	Elapsed      float64            `json:"elapsed_s"`
}

func f64(v float64) *float64 { return &v }

// reporter shows progress, writes the log and keeps the curves.
type reporter struct {
	o         *options
	sess      *train.Session
	log       *os.File
	logw      *bufio.Writer
	bar       *progressbar.ProgressBar
	lines     bool
	display   int
	start     time.Time
	trainTime time.Duration
	testTime  time.Duration
	images    int
	mu        sync.Mutex
	curves    viz.Curves
	plotPath  string
	filters   string
	plotReq   chan struct{}
	lastTest  []train.Output
	winImages int
	winTime   time.Duration
	rate      float64
}

func newReporter(o *options, sess *train.Session, prefix string) (*reporter, error) {
	r := &reporter{o: o, sess: sess, start: time.Now(), plotReq: make(chan struct{}, 1),
		display: int(max(1, sess.Solver.GetDisplay())), plotPath: o.plotPath, filters: o.filtersPath}
	if r.plotPath == "" {
		r.plotPath = prefix + "_curves.png"
	}
	if r.filters == "" {
		r.filters = prefix + "_filters.png"
	}
	logPath := o.logPath
	if logPath == "" {
		logPath = prefix + ".log.jsonl"
	}
	if dir := filepath.Dir(logPath); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if o.resume != "" {
		// Keep the history before the snapshot so the curves show the
		// whole run.
		r.loadHistory(logPath, sess.Trainer.Solver.Iter)
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(logPath, flags, 0o644)
	if err != nil {
		return nil, fmt.Errorf("log: %w", err)
	}
	r.log, r.logw = f, bufio.NewWriter(f)
	r.curves.Title = describeNet(sess)
	tty := false
	if f, ok := o.stderr.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	r.lines = o.progress == "lines" || o.progress == "auto" && !tty
	if !r.lines {
		max := int(sess.Solver.GetMaxIter())
		r.bar = progressbar.NewOptions(max, progressbar.OptionSetWriter(o.stderr), progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetPredictTime(true), progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionSetRenderBlankState(true), progressbar.OptionShowDescriptionAtLineEnd())
		_ = r.bar.Set(sess.Trainer.Solver.Iter)
	}
	return r, nil
}

// loadHistory reads the log of an earlier run up to iteration iter.
func (r *reporter) loadHistory(path string, iter int) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var keep []string
	for sc.Scan() {
		var e logEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Iter > iter || e.Kind == "iter" && e.Iter >= iter {
			continue
		}
		keep = append(keep, sc.Text())
		r.addToCurves(e)
	}
	f.Close()
	// Rewrite the log without what came after the snapshot.
	_ = os.WriteFile(path, []byte(joinLines(keep)), 0o644)
}

func joinLines(l []string) string {
	s := ""
	for _, x := range l {
		s += x + "\n"
	}
	return s
}

func (r *reporter) addToCurves(e logEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e.Kind {
	case "iter":
		if e.Loss != nil {
			r.curves.Loss = append(r.curves.Loss, viz.Point{Iter: e.Iter, Value: *e.Loss})
		}
	case "test":
		if v, ok := e.Outputs["accuracy"]; ok {
			r.curves.Accuracy = append(r.curves.Accuracy, viz.Point{Iter: e.Iter, Value: v})
		}
		if v, ok := e.Outputs["loss"]; ok {
			r.curves.TestLoss = append(r.curves.TestLoss, viz.Point{Iter: e.Iter, Value: v})
		}
	}
}

func (r *reporter) write(e logEntry) {
	e.Elapsed = time.Since(r.start).Seconds()
	b, _ := json.Marshal(e)
	r.logw.Write(append(b, '\n'))
	r.addToCurves(e)
}

func (r *reporter) events() train.Events {
	return train.Events{
		Iteration: func(st train.IterStats) {
			r.trainTime += st.Elapsed
			r.images += st.Images
			r.winImages += st.Images
			r.winTime += st.Elapsed
			if r.winTime > 2*time.Second || r.rate == 0 && r.winTime > 200*time.Millisecond {
				r.rate = float64(r.winImages) / r.winTime.Seconds()
				r.winImages, r.winTime = 0, 0
			}
			r.write(logEntry{Kind: "iter", Iter: st.Iter, Loss: f64(st.Loss), Smoothed: f64(st.Smoothed), LR: f64(st.LR),
				ImagesPerSec: f64(float64(st.Images) / st.Elapsed.Seconds())})
			if r.bar != nil {
				r.bar.Describe(fmt.Sprintf("loss %.4f lr %.3g %s img/s%s", st.Smoothed, st.LR, fmtRate(r.rate), r.accText()))
				_ = r.bar.Set(st.Iter + 1)
			} else if st.Iter%r.display == 0 {
				fmt.Fprintf(r.o.stderr, "iter %6d  loss %.4f (smoothed %.4f)  lr %.4g  %s img/s\n", st.Iter, st.Loss, st.Smoothed, st.LR, fmtRate(float64(st.Images)/st.Elapsed.Seconds()))
			}
			select {
			case <-r.plotReq:
				if err := r.drawPlots(); err != nil {
					fmt.Fprintf(r.o.stderr, "train: plots: %v\n", err)
				}
			default:
			}
		},
		Test: func(ts train.TestStats) {
			r.testTime += ts.Elapsed
			outs := map[string]float64{}
			for _, o := range ts.Outputs {
				outs[o.Name] = o.Value
			}
			r.lastTest = ts.Outputs
			r.write(logEntry{Kind: "test", Iter: ts.Iter, Outputs: outs})
			r.logw.Flush()
			msg := fmt.Sprintf("test at iter %d:", ts.Iter)
			for _, o := range ts.Outputs {
				msg += fmt.Sprintf(" %s %.4f", o.Name, o.Value)
			}
			msg += fmt.Sprintf(" (%.1f s)", ts.Elapsed.Seconds())
			r.println(msg)
		},
		Snapshot: func(model, state string) {
			r.write(logEntry{Kind: "snapshot", Iter: r.sess.Trainer.Solver.Iter, Model: model, State: state})
			r.logw.Flush()
		},
	}
}

func (r *reporter) accText() string {
	for _, o := range r.lastTest {
		if o.Name == "accuracy" {
			return fmt.Sprintf(" test acc %.2f%%", 100*o.Value)
		}
	}
	return ""
}

// println prints a line above the progress bar.
func (r *reporter) println(msg string) {
	if r.bar != nil {
		_ = r.bar.Clear()
		fmt.Fprintln(r.o.stderr, msg)
		_ = r.bar.RenderBlank()
		return
	}
	fmt.Fprintln(r.o.stderr, msg)
}

func fmtRate(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func (r *reporter) requestPlot() {
	select {
	case r.plotReq <- struct{}{}:
	default:
	}
}

// drawPlots writes the curves and the first layer's filters.
func (r *reporter) drawPlots() error {
	r.mu.Lock()
	c := r.curves
	r.mu.Unlock()
	if len(c.Loss) == 0 {
		return nil
	}
	if err := c.WritePNG(r.plotPath, 900, 700); err != nil {
		return err
	}
	for _, p := range r.sess.Trainer.Train.Params {
		if len(p.Data.Shape) == 4 && p.Index == 0 {
			if err := viz.WriteFilterGrid(r.filters, p.Data); err != nil {
				return err
			}
			break
		}
	}
	return nil
}

func (r *reporter) finish() {
	if r.bar != nil {
		_ = r.bar.Finish()
		fmt.Fprintln(r.o.stderr)
	}
	r.logw.Flush()
}

func (r *reporter) summary(total time.Duration) {
	s := r.sess.Trainer.Solver
	msg := fmt.Sprintf("train: %d iterations; training %.1f s (%s img/s), testing %.1f s, total %.1f s",
		s.Iter, r.trainTime.Seconds(), fmtRate(float64(r.images)/r.trainTime.Seconds()), r.testTime.Seconds(), total.Seconds())
	if acc := r.accText(); acc != "" {
		msg += ";" + acc
	}
	fmt.Fprintln(r.o.stderr, msg)
	fmt.Fprintf(r.o.stderr, "train: log %s, curves %s, filters %s\n", r.log.Name(), r.plotPath, r.filters)
}

func (r *reporter) close() {
	r.logw.Flush()
	r.log.Close()
}

var _ io.Writer = (*os.File)(nil)
