//go:build !linux

package nn

import "time"

// threadCPU is unknown off Linux.
func threadCPU() time.Duration { return 0 }
