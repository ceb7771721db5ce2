// Package exceptions replaces, for asrkit's copy of GoMLX's simplego
// backend, the one function it used from GoMLX's internal package
// github.com/gomlx/gomlx/internal/exceptions (which a package outside the
// GoMLX module may not import). Copied from GoMLX v0.26.0 (Apache-2.0).
package exceptions

import "github.com/pkg/errors"

// Panicf panics with an error built from format and args (with a stack
// trace), as GoMLX's exceptions.Panicf does.
func Panicf(format string, args ...any) {
	panic(errors.Errorf(format, args...))
}
