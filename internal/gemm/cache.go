package gemm

import (
	"os"
	"strconv"
	"strings"
)

// Data cache sizes in bytes, used to choose the blocking. They come from
// Linux sysfs when available; the defaults fit current x86 server cores.
var cacheL1, cacheL2, cacheL3 = cacheSizes()

func cacheSizes() (l1, l2, l3 int) {
	l1, l2, l3 = 32<<10, 1<<20, 32<<20
	for i := 0; i < 8; i++ {
		dir := "/sys/devices/system/cpu/cpu0/cache/index" + strconv.Itoa(i) + "/"
		typ, err := os.ReadFile(dir + "type")
		if err != nil {
			break
		}
		if t := strings.TrimSpace(string(typ)); t != "Data" && t != "Unified" {
			continue
		}
		lvl := readInt(dir + "level")
		size := readSize(dir + "size")
		if size <= 0 {
			continue
		}
		switch lvl {
		case 1:
			l1 = size
		case 2:
			l2 = size
		case 3:
			l3 = size
		}
	}
	return l1, l2, l3
}

func readInt(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	v, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return v
}

// readSize parses sysfs sizes such as "32K" or "1024K".
func readSize(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	s := strings.TrimSpace(string(b))
	mul := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mul, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mul, s = 1<<20, s[:len(s)-1]
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return v * mul
}

// blockK returns the depth of one K block. The A micro-panel (mr x kc) is
// reused from L1 across a whole row of B panels, so it gets half of L1; the
// other half holds the B panel rows streaming past. K is split evenly so no
// block is tiny.
func blockK(k int, ks *kernelSet) int {
	kcMax := cacheL1 / 2 / (ks.mr * 4) / 8 * 8
	kcMax = min(max(kcMax, 64), 1024)
	if k <= kcMax {
		return max(k, 1)
	}
	nb := (k + kcMax - 1) / kcMax
	kc := (k + nb - 1) / nb
	return (kc + 3) / 4 * 4
}

// blockM returns how many rows of a raw op(A) to pack and multiply at a
// time: all of them unless the packed rows would exceed half of L3, as
// packed A is re-read for every block of B columns.
func blockM(m, k int, ks *kernelSet) int {
	if k == 0 {
		return m
	}
	mc := cacheL3 / 2 / (k * 4) / ks.mr * ks.mr
	mc = max(mc, 16*ks.mr)
	if mc >= m {
		return m
	}
	nb := (m + mc - 1) / mc
	mc = (m + nb - 1) / nb
	return (mc + ks.mr - 1) / ks.mr * ks.mr
}

// blockN returns the width of the B block kept in L2 while every A
// micro-panel of a task passes over it. Half of L2 leaves room for the A
// panels and C tiles.
func blockN(kc int, ks *kernelSet) int {
	nc := cacheL2 / 2 / (kc * 4) / ks.nr * ks.nr
	return max(nc, ks.nr)
}
