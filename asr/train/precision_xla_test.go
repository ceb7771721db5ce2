//go:build cgo && !noxla

package train

import (
	"testing"

	"github.com/gomlx/gomlx/backends/xla"
	"github.com/gomlx/gomlx/pkg/core/dtypes"

	"github.com/asrkit/asrkit/asr/model"
)

// TestBFloat16OpsOnXLA checks the bfloat16 training step against GoMLX's
// XLA backend's capabilities: it declares bfloat16 and every operation the
// step computes in bfloat16 (GoMLX declares operations and dtypes apart;
// StableHLO defines each of bf16Ops for every floating-point type). This
// is a check of the graph, not a run: no PJRT plugin is needed.
func TestBFloat16OpsOnXLA(t *testing.T) {
	if !xla.Capabilities.DTypes[dtypes.BFloat16] {
		t.Fatal("GoMLX's XLA backend does not declare bfloat16")
	}
	for _, typ := range bf16Ops {
		if !capable(xla.Capabilities.Operations, typ) {
			t.Errorf("GoMLX's XLA backend does not declare %s", typ)
		}
	}
	nodes, _, _ := stepGraphNodes(t, model.PrecisionBFloat16)
	for _, n := range nodes {
		if n.bf16 && !capable(xla.Capabilities.Operations, n.typ) {
			t.Errorf("the bfloat16 step uses %s, which XLA does not declare", n.typ)
		}
	}
}
