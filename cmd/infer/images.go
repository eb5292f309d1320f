package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"stride/imageio"
)

// expandImages resolves classify's arguments to image files, in order:
// a file is taken as given, a folder contributes the images below it
// (recursively, by extension, sorted, hidden entries skipped), and a glob
// pattern its matches. A missing file, an empty folder or a pattern that
// matches nothing is a usage error.
func expandImages(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		fi, err := os.Stat(a)
		switch {
		case err == nil && fi.IsDir():
			found, err := walkImages(a)
			if err != nil {
				return nil, err
			}
			if len(found) == 0 {
				return nil, usagef("%s: no images in this folder (looked for %s)", a, strings.Join(imageio.Extensions, " "))
			}
			out = append(out, found...)
		case err == nil:
			out = append(out, a)
		case strings.ContainsAny(a, "*?["):
			matches, gerr := filepath.Glob(a)
			if gerr != nil {
				return nil, usagef("%s: bad pattern: %v", a, gerr)
			}
			var files []string
			for _, m := range matches {
				if fi, err := os.Stat(m); err == nil && !fi.IsDir() {
					files = append(files, m)
				}
			}
			if len(files) == 0 {
				return nil, usagef("%s: no files match", a)
			}
			out = append(out, files...)
		case os.IsNotExist(err):
			return nil, usagef("%s: no such file or folder", a)
		default:
			return nil, err
		}
	}
	return out, nil
}

func walkImages(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && slices.Contains(imageio.Extensions, strings.ToLower(filepath.Ext(p))) {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}
