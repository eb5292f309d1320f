//go:build !purego

package gemm

import "golang.org/x/sys/cpu"

// platformKernelSets returns the assembly kernel sets this CPU (and OS)
// supports, fastest first. cpu.X86 only reports AVX/AVX-512 when the OS
// saves the wide register state.
func platformKernelSets() []*kernelSet {
	var sets []*kernelSet
	if cpu.X86.HasAVX512F {
		for _, ks := range generatedSets {
			if ks.isa == "avx512" {
				sets = append(sets, ks)
			}
		}
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		for _, ks := range generatedSets {
			if ks.isa == "avx2" {
				sets = append(sets, ks)
			}
		}
	}
	return sets
}
