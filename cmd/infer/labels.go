package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// synset matches a line of Caffe's synset_words.txt: "n01440764 tench, Tinca tinca".
var synset = regexp.MustCompile(`^n\d{8}\s+(.+)$`)

// readLabels reads class names, one per line; lines in synset_words format
// keep the names after the WordNet id.
func readLabels(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, usagef("--labels %s: no such file", path)
		}
		return nil, err
	}
	labels := parseLabels(string(data))
	if len(labels) == 0 {
		return nil, usagef("--labels %s: the file is empty", path)
	}
	return labels, nil
}

func parseLabels(text string) []string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if m := synset.FindStringSubmatch(l); m != nil {
			l = m[1]
		}
		out[i] = l
	}
	return out
}

// labelOf names class i.
func labelOf(labels []string, i int) string {
	if i < len(labels) {
		return labels[i]
	}
	return fmt.Sprintf("class %d", i)
}
