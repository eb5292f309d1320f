// Package atomicfile writes files so that readers see the old content or the
// new, never a torn file: the bytes go to a temporary file in the same
// folder, which is synced and then renamed over the target. Every file
// Stride writes for keeps (exports, caffemodels, snapshots, plots) goes
// through it.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write stores data at path atomically (mode 0644).
func Write(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	// Sync the folder so the rename itself survives a crash.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
