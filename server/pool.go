package server

import (
	"context"
	"net/http"
	"time"
)

// pool bounds transcription: at most workers run at once and at most
// queue more wait; a request past both is refused at once (503 with
// Retry-After) rather than piling up.
type pool struct {
	admitted chan struct{} // a slot per request admitted (running or waiting)
	workers  chan struct{} // a slot per running transcription
	m        *metrics
}

func newPool(workers, queue int, m *metrics) *pool {
	return &pool{admitted: make(chan struct{}, workers+queue), workers: make(chan struct{}, workers), m: m}
}

// retryAfter is what a refused client is told to wait.
const retryAfter = 2 * time.Second

// ticket is a request's place in the pool.
type ticket struct {
	p      *pool
	queued bool // counted in the queue-depth gauge
}

// admit takes a place in the queue, or fails with a 503 when it is full.
// Call done when the request is over.
func (p *pool) admit() (*ticket, error) {
	select {
	case p.admitted <- struct{}{}:
		p.m.queued.Inc()
		return &ticket{p: p, queued: true}, nil
	default:
		p.m.rejected.Inc()
		return nil, &statusError{code: http.StatusServiceUnavailable, retryAfter: retryAfter,
			msg: "the server is busy: every transcription worker is taken and the queue is full; retry later"}
	}
}

func (t *ticket) unqueue() {
	if t.queued {
		t.queued = false
		t.p.m.queued.Dec()
	}
}

// done gives the place back.
func (t *ticket) done() {
	t.unqueue()
	<-t.p.admitted
}

// run waits for a worker, then calls fn.
func (t *ticket) run(ctx context.Context, fn func() error) error {
	p := t.p
	select {
	case p.workers <- struct{}{}:
	case <-ctx.Done():
		t.unqueue()
		return &statusError{code: http.StatusServiceUnavailable, retryAfter: retryAfter,
			msg: "timed out waiting for a transcription worker; retry later"}
	}
	t.unqueue()
	p.m.inFlight.Inc()
	defer func() {
		p.m.inFlight.Dec()
		<-p.workers
	}()
	return fn()
}
