package data

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Split selects the training or the test part of a source that holds both.
type Split int

// The splits.
const (
	TrainSplit Split = iota
	TestSplit
)

func (s Split) String() string {
	if s == TestSplit {
		return "test"
	}
	return "train"
}

// ErrUnsupportedBackend is returned for LMDB and LevelDB sources.
var ErrUnsupportedBackend = errors.New("unsupported backend")

// Open reads a data set from source, detecting its kind from the folder's
// (or file's) contents:
//
//   - a folder with data_batch_*.bin / test_batch.bin: CIFAR-10 binary
//     (the split picks which);
//   - a folder with *-images-idx3-ubyte[.gz] files: MNIST or Fashion-MNIST
//     (train-* for training, t10k-* for testing);
//   - a folder with train/ and test/ (or val/) sub-folders: the split's
//     sub-folder, read again by these rules;
//   - a folder of class sub-folders holding images: one class per folder;
//   - a single .bin CIFAR-10 batch or IDX image file;
//   - a text file of "path label" lines (Caffe's ImageData list).
//
// An LMDB or LevelDB database gives an error wrapping
// ErrUnsupportedBackend.
func Open(source string, split Split, opt FolderOptions) (*Dataset, error) {
	fi, err := os.Stat(source)
	if err != nil {
		return nil, fmt.Errorf("data source: %w", err)
	}
	if !fi.IsDir() {
		return openFile(source, opt)
	}
	names, err := dirNames(source)
	if err != nil {
		return nil, err
	}
	has := func(pred func(string) bool) []string {
		var out []string
		for _, n := range names {
			if pred(n) {
				out = append(out, filepath.Join(source, n))
			}
		}
		return out
	}
	if len(has(func(n string) bool { return n == "data.mdb" })) > 0 {
		return nil, fmt.Errorf("%s is an LMDB database: %w (convert it to a folder of images per class, or point at the MNIST/CIFAR-10 files)", source, ErrUnsupportedBackend)
	}
	if len(has(func(n string) bool { return n == "CURRENT" || strings.HasPrefix(n, "MANIFEST-") })) > 0 {
		return nil, fmt.Errorf("%s is a LevelDB database: %w (convert it to a folder of images per class, or point at the MNIST/CIFAR-10 files)", source, ErrUnsupportedBackend)
	}
	if train := has(func(n string) bool { return strings.HasPrefix(n, "data_batch_") && strings.HasSuffix(n, ".bin") }); len(train) > 0 || len(has(func(n string) bool { return n == "test_batch.bin" })) > 0 {
		if split == TestSplit {
			test := has(func(n string) bool { return n == "test_batch.bin" })
			if len(test) == 0 {
				return nil, fmt.Errorf("%s: CIFAR-10 folder without test_batch.bin", source)
			}
			return ReadCIFAR10(test...)
		}
		if len(train) == 0 {
			return nil, fmt.Errorf("%s: CIFAR-10 folder without data_batch_*.bin", source)
		}
		sort.Strings(train)
		return ReadCIFAR10(train...)
	}
	if idx := has(func(n string) bool { return strings.Contains(n, "images-idx3") || strings.Contains(n, "images.idx3") }); len(idx) > 0 {
		prefix := "train"
		if split == TestSplit {
			prefix = "t10k"
		}
		for _, p := range idx {
			if strings.HasPrefix(filepath.Base(p), prefix) {
				return openFile(p, opt)
			}
		}
		if len(idx) == 1 {
			return openFile(idx[0], opt)
		}
		return nil, fmt.Errorf("%s: no %s-images-idx3-ubyte file for the %s split", source, prefix, split)
	}
	sub := map[Split][]string{TrainSplit: {"train", "training"}, TestSplit: {"test", "val", "validation", "testing"}}
	for _, cand := range sub[split] {
		if fi, err := os.Stat(filepath.Join(source, cand)); err == nil && fi.IsDir() {
			return Open(filepath.Join(source, cand), split, opt)
		}
	}
	d, err := ReadFolder(source, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: not a recognised data folder (CIFAR-10 .bin batches, MNIST IDX files, train/ and test/ sub-folders, or one sub-folder of images per class): %w", source, err)
	}
	return d, nil
}

func dirNames(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ents))
	for i, e := range ents {
		out[i] = e.Name()
	}
	return out, nil
}

func openFile(path string, opt FolderOptions) (*Dataset, error) {
	base := filepath.Base(path)
	switch {
	case strings.HasSuffix(base, ".bin"):
		return ReadCIFAR10(path)
	case strings.Contains(base, "idx3"):
		labels, ok := mnistLabelsFor(path)
		if !ok {
			return nil, fmt.Errorf("%s: cannot tell which label file goes with it", path)
		}
		if _, err := os.Stat(labels); err != nil {
			return nil, fmt.Errorf("%s: its labels %s: %w", path, labels, err)
		}
		return ReadMNIST(path, labels)
	case strings.HasSuffix(base, ".mdb"):
		return nil, fmt.Errorf("%s is an LMDB database: %w", path, ErrUnsupportedBackend)
	}
	return ReadImageList(path, "", opt)
}
