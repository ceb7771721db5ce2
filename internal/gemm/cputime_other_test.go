//go:build !unix

package gemm

import "time"

// cpuTime is not measured on this system (benchmarks skip the metric).
func cpuTime() time.Duration { return 0 }
