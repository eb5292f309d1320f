package main

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressMin is the number of images from which classify shows a bar.
const progressMin = 9

// progress is a bar on stderr; its methods do nothing when it is off.
type progress struct {
	bar *progressbar.ProgressBar
}

// newProgress shows a bar for total items when mode is "always", or when
// it is "auto", there are at least progressMin items and stderr is a
// terminal.
func newProgress(stderr io.Writer, mode string, total int) *progress {
	show := mode == "always" || mode == "auto" && total >= progressMin && isTerminal(stderr)
	if !show {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("classifying"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("images"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (p *progress) add(n int) {
	if p.bar != nil {
		_ = p.bar.Add(n)
	}
}

// clear removes the bar from the terminal before other output; the next
// add draws it again.
func (p *progress) clear() {
	if p.bar != nil {
		_ = p.bar.Clear()
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		_ = p.bar.Clear()
	}
}
