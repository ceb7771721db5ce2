//go:build !cgo || noxla

package backend

import (
	"context"
	"fmt"

	"github.com/gomlx/gomlx/backends"
)

// xlaCompiled reports whether this binary can load PJRT plugins (it needs
// cgo; the noxla build tag leaves XLA out).
const xlaCompiled = false

func newXLA(_ context.Context, info Info, pluginPath, _ string) (backends.Backend, Info, error) {
	info.Name = "xla"
	info.PluginPath = pluginPath
	return nil, info, fmt.Errorf("%w: this binary was built without XLA support (CGO_ENABLED=0 or -tags noxla); rebuild with cgo to use %s",
		ErrUnavailable, pluginPath)
}
