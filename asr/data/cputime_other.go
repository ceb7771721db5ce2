//go:build !linux

package data

import "time"

// threadCPU is not available on this system: stage times are wall-clock.
func threadCPU() (time.Duration, bool) { return 0, false }

// processCPU is not available on this system.
func processCPU() (time.Duration, bool) { return 0, false }
