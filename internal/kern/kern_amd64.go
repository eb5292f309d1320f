//go:build !purego

package kern

import "golang.org/x/sys/cpu"

// useAVX2 selects the assembly kernels. cpu.X86 reports AVX2 only when
// the OS saves the YMM registers.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA
