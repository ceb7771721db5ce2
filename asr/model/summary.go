package model

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Stage is one block of the network as reported by Summary.
type Stage struct {
	// Name is the block's path, e.g. "subsampling/stage1",
	// "encoder/layer_03" or "output".
	Name string
	// Shape is the block's output shape, [batch, frames, width].
	Shape []int
	// Parameters is the number of weights the block owns.
	Parameters int
}

// Summary builds (without running) the graph of cfg for one utterance of
// the given number of frames on backend, and returns the shape after each
// block and the number of weights that the built graph created. The total
// equals cfg.NumParameters(); it is computed here from the graph's
// variables, so it checks that formula.
func Summary(backend backends.Backend, cfg Config, frames int) (stages []Stage, params int, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, 0, err
	}
	if frames <= 0 {
		return nil, 0, fmt.Errorf("model: summary needs a positive number of frames, got %d", frames)
	}
	c, _ := cfg.Resolve()
	ctx := context.New()
	g := graph.NewGraph(backend, "model_summary")
	defer g.Finalize()
	err = catch(func() {
		feats := graph.Parameter(g, "features", shapes.Make(dtypes.Float32, 1, frames, c.InputDim))
		lengths := graph.Parameter(g, "lengths", shapes.Make(dtypes.Int32, 1))
		m := newBuilder(ctx, c, false, func(name string, x *graph.Node) {
			stages = append(stages, Stage{Name: name, Shape: x.Shape().Dimensions})
		})
		m.logProbs(feats, lengths)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("model: building the graph: %w", err)
	}
	// Attribute each variable to the stage whose name prefixes its scope.
	for v := range ctx.IterVariables() {
		n := v.Shape().Size()
		params += n
		for i := range stages {
			if strings.HasPrefix(v.Scope()+"/", "/"+Scope+"/"+stages[i].Name+"/") {
				stages[i].Parameters += n
				break
			}
		}
	}
	return stages, params, nil
}

// CountParameters returns the number of model weights held in ctx: the
// variables under Scope, excluding optimizer state, step counters and
// random-number state kept elsewhere in the context.
func CountParameters(ctx *context.Context) int {
	total := 0
	for v := range ctx.IterVariables() {
		if v.Scope() == "/"+Scope || strings.HasPrefix(v.Scope(), "/"+Scope+"/") {
			total += v.Shape().Size()
		}
	}
	return total
}

// catch runs fn and returns any panic it raises as an error.
func catch(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			switch e := r.(type) {
			case error:
				err = e
			default:
				err = fmt.Errorf("%v", e)
			}
		}
	}()
	fn()
	return nil
}
