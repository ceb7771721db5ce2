package checkpoint

import (
	"slices"
	"strings"
	"sync"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/asrkit/asrkit/asr/model"
)

// Loader gives saved values to a GoMLX context as its variables are
// created: it implements [context.Loader]. Attach it with ctx.SetLoader
// before building the model graph (model.LogProbs); each variable the graph
// creates then takes its saved value instead of a random initialisation.
//
// After the graph is built, [Loader.Missing] lists model variables that the
// graph created but the checkpoint does not hold (they were initialised at
// random: the checkpoint does not fit the model), and [Loader.Unused] the
// saved values that no variable asked for. Both empty means the checkpoint
// and the model match exactly. Building the graph on ctx.Reuse() instead
// makes a missing variable an error at once.
//
// A Loader is safe for concurrent use.
type Loader struct {
	mu      sync.Mutex
	values  map[string]*tensors.Tensor
	used    map[string]bool
	missing []string
}

var _ context.Loader = (*Loader)(nil)

// NewLoader returns a Loader of the checkpoint's model weights and, when
// withState is true, of its optimizer and random-number state too (to
// resume training). Files are read and verified now.
func (c *Checkpoint) NewLoader(withState bool) (*Loader, error) {
	vals, err := c.Tensors(withState)
	if err != nil {
		return nil, err
	}
	return NewLoader(vals), nil
}

// NewLoader returns a Loader of the given values, keyed by full variable
// path (scope and name joined by "/", as "/model/output/weights").
func NewLoader(values map[string]*tensors.Tensor) *Loader {
	l := &Loader{values: make(map[string]*tensors.Tensor, len(values)), used: map[string]bool{}}
	for k, v := range values {
		l.values[k] = v
	}
	return l
}

// LoadVariable implements context.Loader. Ownership of the returned tensor
// passes to the context.
func (l *Loader) LoadVariable(_ *context.Context, scope, name string) (*tensors.Tensor, bool) {
	key := context.JoinScope(scope, name)
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.values[key]
	if !ok {
		if isModelVariable(key) && !l.used[key] && !slices.Contains(l.missing, key) {
			l.missing = append(l.missing, key)
		}
		return nil, false
	}
	delete(l.values, key)
	l.used[key] = true
	return v, true
}

// DeleteVariable implements context.Loader: the saved value, if any, is
// dropped so the variable does not reappear.
func (l *Loader) DeleteVariable(_ *context.Context, scope, name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.values, context.JoinScope(scope, name))
	return nil
}

// Missing returns, sorted, the model variables (under the scope
// model.Scope) that a graph created while this Loader was attached but that
// the checkpoint does not hold.
func (l *Loader) Missing() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.missing)
	slices.Sort(out)
	return out
}

// Unused returns, sorted, the saved values that no variable has taken yet.
func (l *Loader) Unused() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.values))
	for k := range l.values {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// isModelVariable reports whether a variable path is under the model scope.
func isModelVariable(path string) bool {
	return strings.HasPrefix(path, "/"+model.Scope+"/")
}

// ModelVariables splits a context's variables into the model weights (under
// model.Scope) and everything else (optimizer state, random-number state,
// counters), keyed by full variable path: the two maps Save takes.
// Variables without a value are skipped.
func ModelVariables(ctx *context.Context) (weights, state map[string]*tensors.Tensor) {
	weights, state = map[string]*tensors.Tensor{}, map[string]*tensors.Tensor{}
	for v := range ctx.IterVariables() {
		if !v.HasValue() {
			continue
		}
		key := context.JoinScope(v.Scope(), v.Name())
		if isModelVariable(key) {
			weights[key] = v.MustValue()
		} else {
			state[key] = v.MustValue()
		}
	}
	return weights, state
}
