//go:build unix

package decode

import (
	"syscall"
	"time"
)

// processCPUTime returns the user plus system CPU time of the process (all
// threads, the garbage collector's included). Unlike wall time it does not
// grow while other processes hold the CPUs.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
