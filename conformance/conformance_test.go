package conformance

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Suites run by the conformance test.
var suites = []string{"node", "pytorch-converted", "pytorch-operator", "simple"}

var (
	dataRoot  = flag.String("onnx-testdata", "/usr/share/libonnx-testdata/data", "root of the ONNX backend test data")
	writeList = flag.Bool("write-unsupported", false, "rewrite unsupported.txt from this run's failures (keeps existing reasons)")
)

type listed struct {
	reason string
	line   int
}

func readList(t *testing.T) map[string]listed {
	f, err := os.Open("unsupported.txt")
	if err != nil {
		t.Fatalf("reading the unsupported list: %v", err)
	}
	defer f.Close()
	m := map[string]listed{}
	sc := bufio.NewScanner(f)
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, _ := strings.Cut(line, " ")
		reason = strings.TrimSpace(reason)
		if reason == "" {
			t.Errorf("unsupported.txt:%d: %s has no reason", ln, name)
		}
		if _, dup := m[name]; dup {
			t.Errorf("unsupported.txt:%d: %s listed twice", ln, name)
		}
		m[name] = listed{reason, ln}
	}
	return m
}

func TestConformance(t *testing.T) {
	if _, err := os.Stat(*dataRoot); err != nil {
		t.Fatalf("ONNX test data not found at %s (install the Debian package libonnx-testdata): %v", *dataRoot, err)
	}
	list := readList(t)
	var mu sync.Mutex
	failures := map[string]string{}
	counts := map[string][2]int{} // suite -> passed, total
	seen := map[string]bool{}
	t.Cleanup(func() {
		for name := range list {
			if !seen[name] && !t.Failed() && testing.Short() == false && !filtered() {
				t.Errorf("unsupported.txt lists %s, which is not a test case", name)
			}
		}
		var b strings.Builder
		for _, s := range suites {
			c := counts[s]
			if c[1] > 0 {
				fmt.Fprintf(&b, "%s %d/%d  ", s, c[0], c[1])
			}
		}
		t.Logf("conformance: %s", b.String())
		if *writeList {
			rewriteList(t, list, failures)
		}
	})
	for _, suite := range suites {
		dirs, _ := filepath.Glob(filepath.Join(*dataRoot, suite, "test_*"))
		sort.Strings(dirs)
		if len(dirs) == 0 {
			t.Fatalf("no cases in %s", filepath.Join(*dataRoot, suite))
		}
		for _, dir := range dirs {
			name := suite + "/" + filepath.Base(dir)
			dir := dir
			suite := suite
			t.Run(name, func(t *testing.T) {
				mu.Lock()
				seen[name] = true
				mu.Unlock()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				res, err := RunCase(ctx, dir)
				if err == nil {
					err = FirstError(res)
				}
				mu.Lock()
				c := counts[suite]
				c[1]++
				if err == nil {
					c[0]++
				} else {
					failures[name] = err.Error()
				}
				counts[suite] = c
				mu.Unlock()
				l, isListed := list[name]
				switch {
				case err != nil && !isListed:
					t.Errorf("FAIL (not in unsupported.txt): %v", err)
				case err == nil && isListed:
					t.Errorf("passes now: remove it from unsupported.txt (line %d: %s)", l.line, l.reason)
				case err != nil && isListed:
					t.Logf("unsupported (%s): %v", l.reason, err)
				}
			})
		}
	}
}

// filtered reports whether -run selects a subset of cases.
func filtered() bool {
	f := flag.Lookup("test.run")
	return f != nil && strings.Contains(f.Value.String(), "/")
}

func rewriteList(t *testing.T, old map[string]listed, failures map[string]string) {
	var names []string
	for n := range failures {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(header)
	for _, n := range names {
		reason := old[n].reason
		if reason == "" {
			reason = "TODO: " + firstLine(failures[n])
		}
		fmt.Fprintf(&b, "%s %s\n", n, reason)
	}
	if err := os.WriteFile("unsupported.txt", []byte(b.String()), 0o644); err != nil {
		t.Error(err)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

const header = `# ONNX conformance cases Stride does not pass yet, one per line: suite/case reason.
# The conformance test fails when a case listed here passes (remove it) and when
# an unlisted case fails, so this list only shrinks. Regenerate the entries (keeping
# reasons) with: go test ./conformance -run TestConformance -args -write-unsupported
`
