package data

import (
	"fmt"
	"os"
	"path/filepath"
)

// cifar10Classes are the CIFAR-10 class names in label order.
var cifar10Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

const cifarRecord = 1 + 3*32*32

// ReadCIFAR10 reads CIFAR-10 binary batch files (data_batch_N.bin,
// test_batch.bin): records of one label byte and 3x32x32 planar RGB pixels.
func ReadCIFAR10(files ...string) (*Dataset, error) {
	d := &Dataset{Name: filepath.Dir(files[0]), C: 3, H: 32, W: 32, Classes: cifar10Classes}
	if len(files) == 1 {
		d.Name = files[0]
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if len(raw) == 0 || len(raw)%cifarRecord != 0 {
			return nil, fmt.Errorf("%s: %d bytes is not a whole number of %d-byte CIFAR-10 records", f, len(raw), cifarRecord)
		}
		for off := 0; off < len(raw); off += cifarRecord {
			lab := raw[off]
			if lab > 9 {
				return nil, fmt.Errorf("%s: record %d has label %d (CIFAR-10 has 10 classes)", f, off/cifarRecord, lab)
			}
			d.Labels = append(d.Labels, int32(lab))
			d.Pixels = append(d.Pixels, raw[off+1:off+cifarRecord]...)
			d.N++
		}
	}
	return d, d.check()
}
