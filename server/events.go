package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/coder/websocket"

	"github.com/asrkit/asrkit/api"
)

// Event WebSocket settings.
const (
	// eventPoll is how often a follower looks for new lines in train.jsonl.
	eventPoll = 200 * time.Millisecond
	// eventWriteTimeout drops a client that does not take a message in
	// this time: a slow client never holds anything up (the trainer writes
	// to a file; each follower reads it at its own pace), and it is not
	// kept forever.
	eventWriteTimeout = 10 * time.Second
	// maxEventLine bounds a line of train.jsonl that is sent (larger ones
	// are skipped).
	maxEventLine = 1 << 20
)

// handleEvents serves the /v1/train/{id}/events WebSocket: the job's
// train.jsonl from its first line, then each line the trainer appends, as
// text messages (one TrainEvent each), until the client or the server
// closes.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !s.jobs.exists(id) {
		writeError(w, s.jobs.notFound(id))
		return
	}
	conn, ok := s.acceptWebSocket(w, r)
	if !ok {
		return
	}
	defer s.sessions.done()
	defer conn.CloseNow()
	ctx := conn.CloseRead(r.Context()) // we only send; this notices the client's close
	path := filepath.Join(s.jobs.dir(id), eventsFile)
	err := followFile(ctx, path, s.closing, func(line []byte) error {
		wctx, cancel := context.WithTimeout(ctx, eventWriteTimeout)
		defer cancel()
		return conn.Write(wctx, websocket.MessageText, line)
	})
	switch {
	case errors.Is(err, errServerClosing):
		conn.Close(websocket.StatusGoingAway, "the server is shutting down")
	case errors.Is(err, context.DeadlineExceeded):
		conn.Close(websocket.StatusPolicyViolation, "too slow: a message was not read in time")
	case err != nil && ctx.Err() == nil:
		s.log.Warn("events", "job", id, "err", err)
		conn.Close(websocket.StatusInternalError, "reading the job's events failed")
	}
}

var errServerClosing = errors.New("server closing")

// followFile calls send with each complete line of the file at path, from
// the start, then with each line appended, until ctx is done or closing is
// closed. A file that does not exist yet is waited for; one that is
// replaced or truncated is read again from the start.
func followFile(ctx context.Context, path string, closing <-chan struct{}, send func([]byte) error) error {
	var (
		f       *os.File
		rd      *bufio.Reader
		partial []byte
		offset  int64
	)
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	tick := time.NewTicker(eventPoll)
	defer tick.Stop()
	for {
		if f == nil {
			if g, err := os.Open(path); err == nil {
				f, rd, partial, offset = g, bufio.NewReaderSize(g, 64<<10), nil, 0
			} else if !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		if f != nil {
			for {
				chunk, err := rd.ReadSlice('\n')
				offset += int64(len(chunk))
				if err == nil || errors.Is(err, bufio.ErrBufferFull) {
					partial = append(partial, chunk...)
					if err == nil {
						line := bytes.TrimSpace(partial)
						if len(line) > 0 && len(line) <= maxEventLine {
							if err := send(line); err != nil {
								return err
							}
						}
						partial = partial[:0]
					} else if len(partial) > maxEventLine {
						partial = partial[:0] // an oversized line is skipped
					}
					continue
				}
				if !errors.Is(err, io.EOF) {
					return err
				}
				partial = append(partial, chunk...) // an incomplete last line, completed later
				break
			}
			if fi, err := os.Stat(path); err != nil || fi.Size() < offset || !sameFile(f, fi) {
				f.Close()
				f = nil // replaced or truncated: start over
				continue
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-closing:
			return errServerClosing
		case <-tick.C:
		}
	}
}

func sameFile(f *os.File, fi os.FileInfo) bool {
	cur, err := f.Stat()
	return err == nil && os.SameFile(cur, fi)
}

// readEvents calls fn with every event of a job's train.jsonl.
func readEvents(path string, fn func(api.TrainEvent)) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxEventLine)
	for sc.Scan() {
		var e api.TrainEvent
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			fn(e)
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, bufio.ErrTooLong) {
		return err
	}
	return nil
}

// metricsHistory reads a job's training curve. A run that resumed from a
// checkpoint older than the log's last events (after a crash) replaces the
// events past that checkpoint.
func (s *Server) metricsHistory(id string) (api.MetricsHistory, error) {
	h := api.MetricsHistory{Job: id, Metrics: []api.MetricsPoint{}, Evals: []api.EvalPoint{}}
	if !s.jobs.exists(id) {
		return h, s.jobs.notFound(id)
	}
	err := readEvents(filepath.Join(s.jobs.dir(id), eventsFile), func(e api.TrainEvent) {
		switch {
		case e.Type == api.EventState && e.State != nil && e.State.State == api.JobTraining:
			// Training (re)starts at this step: a run that resumed from a
			// checkpoint drops what the previous run logged past it.
			h.Metrics = truncateAfter(h.Metrics, e.Step, func(p api.MetricsPoint) int64 { return p.Step })
			h.Evals = truncateAfter(h.Evals, e.Step, func(p api.EvalPoint) int64 { return p.Step })
		case e.Type == api.EventMetrics && e.Metrics != nil:
			h.Metrics = append(h.Metrics, api.MetricsPoint{Step: e.Step, Time: e.Time, TrainMetrics: *e.Metrics})
		case e.Type == api.EventEval && e.Eval != nil:
			h.Evals = append(h.Evals, api.EvalPoint{Time: e.Time, TrainEval: *e.Eval})
		}
	})
	return h, err
}

// truncateAfter drops the trailing points whose step is past step.
func truncateAfter[T any](points []T, step int64, stepOf func(T) int64) []T {
	n := len(points)
	for n > 0 && stepOf(points[n-1]) > step {
		n--
	}
	return points[:n]
}
