package data

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/asrkit/asrkit/asr/features"
)

// Batch is a padded batch of utterances, laid out for a GoMLX graph. Its
// shape is one of the Loader's few [Shape]s, so the trainer builds one graph
// per shape. Rows at index Rows and beyond are padding (a bucket's last
// batch of an epoch is filled up to the bucket's batch size): their
// features, labels and lengths are zero, and the trainer must give them zero
// weight.
type Batch struct {
	// Features holds [Size, Frames, Bands] float32 values, row-major:
	// normalised log-mel features, zero past each row's FrameLengths.
	Features []float32
	// Size, Frames and Bands are the dimensions of Features (B, T, F).
	Size, Frames, Bands int
	// FrameLengths holds the number of valid frames of each row ([Size]).
	FrameLengths []int32
	// Labels holds [Size, MaxLabels] label ids, padded with 0 (the blank).
	Labels []int32
	// MaxLabels is the padded label length (L).
	MaxLabels int
	// LabelLengths holds the number of labels of each row ([Size]).
	LabelLengths []int32
	// IDs are the utterance ids of the first Rows rows.
	IDs []string
	// Rows is the number of real utterances in the batch.
	Rows int
	// Seconds is the total duration of the real utterances' audio.
	Seconds float64
	// Bucket is the index of the batch's shape in [Loader.Shapes].
	Bucket int
	// Position is where the batch is in the data order.
	Position Position

	epochLen int // batches in the batch's epoch
}

// Shape is the shape of a bucket's batches: [Size, Frames, Bands] features,
// [Size, MaxLabels] labels.
type Shape struct {
	// Size is the number of rows (utterances, real or padding) per batch.
	Size int
	// Frames is the padded number of feature frames.
	Frames int
	// Bands is the number of mel bands.
	Bands int
	// MaxLabels is the padded label length: the longest label sequence in
	// the bucket, rounded up to a multiple of 8.
	MaxLabels int
	// Utterances is the number of utterances in the bucket.
	Utterances int
}

// Position is a place in the data order: batch Batch of epoch Epoch. Save
// it with a checkpoint and pass it to [Loader.Iterate] to resume mid-epoch
// with the same batches, in the same order, with the same SpecAugment masks,
// as an uninterrupted run.
type Position struct {
	Epoch int `json:"epoch"`
	Batch int `json:"batch"`
}

// LoaderOptions configure a Loader.
type LoaderOptions struct {
	// Training shuffles the batches of each epoch (seeded by
	// datasets.batching.seed and the epoch number) and applies SpecAugment.
	// Without it batches come in a fixed order (buckets by length, ids in
	// order), for evaluation.
	Training bool
	// SpecAugment, when not nil and Training is set, masks each utterance's
	// features after normalisation, with a random generator seeded by the
	// batching seed, the epoch, the batch and the row.
	SpecAugment *features.SpecAugment
	// Unnormalized leaves the features as cached (natural-log mel energies)
	// instead of applying the training split's normalisation.
	Unnormalized bool
	// Subsampling is the model's time subsampling factor; every bucket's
	// frame count must be a multiple of it. Zero means the one given to
	// Prepare.
	Subsampling int
}

type bucket struct {
	Shape
	members []member // the fixed members (not used when the loader is dynamic)
}

// member is one row of a batch: an utterance (an index into Loader.utts)
// and which of its Copies (-1: the utterance itself, without copies).
type member struct {
	utt, copy int
}

// Loader makes batches of one set of a Dataset. It is safe for concurrent
// use; each [Iterator] is for one goroutine.
type Loader struct {
	d       *Dataset
	utts    []Utterance
	buckets []bucket
	edges   []int // bucket frame counts, by bucket index in buckets
	opts    LoaderOptions
	cfg     BatchingConfig
	nb      int // batches per epoch (epoch 0's when dynamic)
	// dynamic loaders draw each epoch's members: per-corpus weights and
	// perturbed copies (training only).
	dynamic bool
	weights []float64 // per utterance, when dynamic
}

// DefaultBuckets returns the default padded frame counts: multiples of
// DefaultBucketWidth up to the frame count of maxDuration seconds at
// frameRate frames per second, rounded up to a multiple of 16.
func DefaultBuckets(maxDuration, frameRate float64) []int {
	top := int(maxDuration*frameRate) + 2
	top = (top + 15) / 16 * 16
	var b []int
	for f := DefaultBucketWidth; f < top; f += DefaultBucketWidth {
		b = append(b, f)
	}
	return append(b, top)
}

// Loader returns a loader of the valid utterances of set s.
func (d *Dataset) Loader(s Split, opts LoaderOptions) (*Loader, error) {
	if opts.Subsampling == 0 {
		opts.Subsampling = d.opts.Subsampling
	}
	utts := d.sets[s]
	if len(utts) == 0 {
		return nil, fmt.Errorf("data: the %s set is empty", s)
	}
	cfg := d.Config.Batching
	edges := cfg.Buckets
	if len(edges) == 0 {
		edges = DefaultBuckets(d.Config.MaxDuration, d.cache.fcfg.FrameRate())
	}
	for _, e := range edges {
		if e%opts.Subsampling != 0 {
			return nil, fmt.Errorf("data: datasets.batching.buckets: %d frames is not a multiple of the model's subsampling (%d)", e, opts.Subsampling)
		}
	}
	l := &Loader{d: d, utts: utts, opts: opts, cfg: cfg}
	if opts.Training {
		l.weights = make([]float64, len(utts))
		for i, u := range utts {
			l.weights[i] = 1
			if w, ok := d.Config.Weights[u.Corpus]; ok {
				l.weights[i] = w
			}
			l.dynamic = l.dynamic || l.weights[i] != 1 || len(u.Copies) > 0
		}
	}
	bs := make([]bucket, len(edges))
	var tooLong []string
	place := func(m member, frames int) bool {
		k, _ := slices.BinarySearch(edges, frames)
		if k == len(edges) {
			return false
		}
		if !l.dynamic {
			bs[k].members = append(bs[k].members, m)
		}
		bs[k].Utterances++
		bs[k].MaxLabels = max(bs[k].MaxLabels, len(l.utts[m.utt].Labels))
		return true
	}
	for i, u := range utts {
		if len(u.Copies) == 0 || !l.dynamic {
			if !place(member{i, -1}, u.Frames) {
				tooLong = append(tooLong, fmt.Sprintf("%s (%d frames)", u.ID, u.Frames))
			}
			continue
		}
		// Every usable copy can land in its bucket in some epoch; without
		// one, the clean audio is used.
		usable := 0
		for c, cp := range u.Copies {
			if cp.Frames > 0 {
				usable++
				if !place(member{i, c}, cp.Frames) {
					tooLong = append(tooLong, fmt.Sprintf("%s (%d frames)", cp.Key, cp.Frames))
				}
			}
		}
		if usable == 0 && !place(member{i, -1}, u.Frames) {
			tooLong = append(tooLong, fmt.Sprintf("%s (%d frames)", u.ID, u.Frames))
		}
	}
	if len(tooLong) > 0 {
		return nil, fmt.Errorf("data: %d %s utterances are longer than the largest bucket (%d frames): %s; add a bucket or lower datasets.max_duration",
			len(tooLong), s, edges[len(edges)-1], firstFew(tooLong))
	}
	bands := d.cache.fcfg.NumMels
	for k := range bs {
		if bs[k].Utterances == 0 {
			continue
		}
		b := bs[k]
		b.Frames, b.Bands = edges[k], bands
		b.Size = max(1, cfg.MaxFrames/edges[k])
		if cfg.MaxBatchSize > 0 {
			b.Size = min(b.Size, cfg.MaxBatchSize)
		}
		b.MaxLabels = max(8, (b.MaxLabels+7)/8*8)
		if l.dynamic {
			b.Utterances = 0 // counted per epoch
		}
		l.buckets = append(l.buckets, b)
		l.edges = append(l.edges, edges[k])
		l.nb += (len(b.members) + b.Size - 1) / b.Size
	}
	if l.dynamic {
		first := l.plan(0)
		if len(first) == 0 {
			return nil, fmt.Errorf("data: datasets.weights leave no %s utterance to train on", s)
		}
		l.nb = len(first)
		for _, p := range first {
			l.buckets[p.bucket].Utterances += len(p.members)
		}
	}
	return l, nil
}

// Shapes returns the batch shapes, one per non-empty bucket, by frame count.
// A trainer can build its graphs for them ahead of time.
func (l *Loader) Shapes() []Shape {
	s := make([]Shape, len(l.buckets))
	for i, b := range l.buckets {
		s[i] = b.Shape
	}
	return s
}

// BatchesPerEpoch returns the number of batches in every epoch. With
// per-corpus weights or perturbed copies (a training loader), epochs differ
// slightly in length (weights are rounded at random, and a copy's speed can
// move it to another bucket): it is then the first epoch's count.
func (l *Loader) BatchesPerEpoch() int { return l.nb }

// Utterances returns the number of utterances per epoch (the first epoch's,
// with per-corpus weights).
func (l *Loader) Utterances() int {
	if !l.dynamic {
		return len(l.utts)
	}
	n := 0
	for _, b := range l.buckets {
		n += b.Utterances
	}
	return n
}

type planned struct {
	bucket  int
	members []member
}

// draw returns the members of an epoch of a dynamic loader, by bucket:
// each utterance floor(w) times plus once with probability w - floor(w)
// (w its corpus's weight), each time as one of its usable copies picked at
// random.
func (l *Loader) draw(epoch int) [][]member {
	r := rand.New(rand.NewPCG(l.cfg.Seed, mix(4, uint64(epoch))))
	out := make([][]member, len(l.buckets))
	for i := range l.utts {
		u := &l.utts[i]
		w := l.weights[i]
		n := int(w)
		if f := w - float64(n); f > 0 && r.Float64() < f {
			n++
		}
		for ; n > 0; n-- {
			m, frames := member{i, -1}, u.Frames
			if len(u.Copies) > 0 {
				var usable [8]int
				ids := usable[:0]
				for c, cp := range u.Copies {
					if cp.Frames > 0 {
						ids = append(ids, c)
					}
				}
				if len(ids) == 0 {
					m.copy = -1 // no usable copy: the clean audio (u.Frames fits, it was checked)
				} else {
					m.copy = ids[r.IntN(len(ids))]
					frames = u.Copies[m.copy].Frames
				}
			}
			k, _ := slices.BinarySearch(l.edges, frames)
			out[k] = append(out[k], m)
		}
	}
	return out
}

func mix(vals ...uint64) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for _, v := range vals {
		for i := range b {
			b[i] = byte(v >> (8 * i))
		}
		h.Write(b[:])
	}
	return h.Sum64()
}

// plan returns the batches of an epoch in order.
func (l *Loader) plan(epoch int) []planned {
	seed := l.cfg.Seed
	var drawn [][]member
	if l.dynamic {
		drawn = l.draw(epoch)
	}
	var out []planned
	for k, b := range l.buckets {
		idx := b.members
		if l.dynamic {
			idx = drawn[k]
		} else {
			idx = slices.Clone(idx)
		}
		if l.opts.Training {
			r := rand.New(rand.NewPCG(seed, mix(1, uint64(epoch), uint64(k))))
			r.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		}
		for i := 0; i < len(idx); i += b.Size {
			out = append(out, planned{bucket: k, members: idx[i:min(len(idx), i+b.Size)]})
		}
	}
	if l.opts.Training {
		r := rand.New(rand.NewPCG(seed, mix(2, uint64(epoch))))
		r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	return out
}

// build makes the batch p of the plan at position pos.
func (l *Loader) build(ctx context.Context, pos Position, p planned) (*Batch, error) {
	b := l.buckets[p.bucket]
	n := b.Size
	out := &Batch{
		Features: make([]float32, n*b.Frames*b.Bands),
		Size:     n, Frames: b.Frames, Bands: b.Bands,
		FrameLengths: make([]int32, n),
		Labels:       make([]int32, n*b.MaxLabels),
		MaxLabels:    b.MaxLabels,
		LabelLengths: make([]int32, n),
		IDs:          make([]string, len(p.members)),
		Rows:         len(p.members),
		Bucket:       p.bucket,
		Position:     pos,
	}
	norm := l.d.Normalization
	rowLen := b.Frames * b.Bands
	for row, mb := range p.members {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		u := &l.utts[mb.utt]
		// Decode straight into the batch row (its capacity limited to the
		// row), then normalise and mask it in place.
		dst := out.Features[row*rowLen : row*rowLen : (row+1)*rowLen]
		var (
			m   *features.LogMel
			err error
		)
		seconds := u.Duration
		if mb.copy >= 0 {
			cp := &u.Copies[mb.copy]
			m, err = l.d.copyFeatures(u, cp, dst)
			seconds = cp.Duration
		} else {
			m, err = l.d.Features(u, dst)
		}
		if err != nil {
			return nil, err
		}
		if m.Frames > b.Frames || m.Bands != b.Bands {
			return nil, fmt.Errorf("data: %s: cached features are %dx%d, bucket is %dx%d (the cache changed under the loader)", u.ID, m.Frames, m.Bands, b.Frames, b.Bands)
		}
		if g := l.d.Config.Augment.GainDB; l.opts.Training && len(g) == 2 && (g[0] != 0 || g[1] != 0) {
			r := rand.New(rand.NewPCG(l.cfg.Seed, mix(5, uint64(pos.Epoch), uint64(pos.Batch), uint64(row))))
			applyGain(m, g[0]+(g[1]-g[0])*r.Float64())
		}
		if !l.opts.Unnormalized {
			if err := norm.Apply(m); err != nil {
				return nil, fmt.Errorf("data: %s: %w", u.ID, err)
			}
		}
		if l.opts.Training && l.opts.SpecAugment != nil {
			r := rand.New(rand.NewPCG(l.cfg.Seed, mix(3, uint64(pos.Epoch), uint64(pos.Batch), uint64(row))))
			if err := l.opts.SpecAugment.Apply(m, r); err != nil {
				return nil, fmt.Errorf("data: %s: %w", u.ID, err)
			}
		}
		out.FrameLengths[row] = int32(m.Frames)
		copy(out.Labels[row*b.MaxLabels:], u.Labels)
		out.LabelLengths[row] = int32(len(u.Labels))
		out.IDs[row] = u.ID
		out.Seconds += seconds
	}
	return out, nil
}

// applyGain changes the level of log-mel features by db decibels: natural-log
// mel energies shift by db·ln(10)/10.
func applyGain(m *features.LogMel, db float64) {
	off := float32(db * math.Ln10 / 10)
	d := m.Data[:m.Frames*m.Bands]
	for i := range d {
		d[i] += off
	}
}

// IteratorStats measures how long the consumer of an Iterator waited for
// data: the time spent blocked in Next.
type IteratorStats struct {
	// Batches is the number of batches returned.
	Batches int
	// Wait is the total time Next spent waiting; MaxWait the longest single
	// wait. Near zero means the prefetch keeps up with the trainer.
	Wait, MaxWait time.Duration
	// Build is the total time spent building batches (in the background).
	Build time.Duration
}

// Iterator yields batches in order, prepared in the background. Close it
// when done.
type Iterator struct {
	l      *Loader
	ctx    context.Context
	cancel context.CancelFunc
	queue  chan chan result
	wg     sync.WaitGroup
	next   Position
	stats  IteratorStats
	buildN sync.Mutex
	build  time.Duration
}

type result struct {
	b   *Batch
	err error
}

type job struct {
	pos      Position
	p        planned
	epochLen int
	out      chan result
}

// Iterate returns an iterator over batches from position from onwards,
// across epochs without end. Batches are built ahead of the consumer in
// the background (datasets.batching.prefetch of them).
func (l *Loader) Iterate(ctx context.Context, from Position) *Iterator {
	return l.iterate(ctx, from, -1)
}

// Epoch returns an iterator over the batches of one epoch; its Next
// returns io.EOF at the end.
func (l *Loader) Epoch(ctx context.Context, epoch int) *Iterator {
	return l.iterate(ctx, Position{Epoch: epoch}, epoch)
}

func (l *Loader) iterate(ctx context.Context, from Position, last int) *Iterator {
	ctx, cancel := context.WithCancel(ctx)
	prefetch := max(1, l.cfg.Prefetch)
	it := &Iterator{l: l, ctx: ctx, cancel: cancel, queue: make(chan chan result, prefetch), next: from}
	jobs := make(chan job)
	workers := max(1, min(prefetch, runtime.NumCPU()))
	for w := 0; w < workers; w++ {
		it.wg.Add(1)
		go func() {
			defer it.wg.Done()
			for j := range jobs {
				t := time.Now()
				b, err := l.build(ctx, j.pos, j.p)
				if b != nil {
					b.epochLen = j.epochLen
				}
				it.buildN.Lock()
				it.build += time.Since(t)
				it.buildN.Unlock()
				j.out <- result{b, err}
			}
		}()
	}
	it.wg.Add(1)
	go func() {
		defer it.wg.Done()
		defer close(jobs)
		defer close(it.queue)
		pos := from
		var plan []planned
		planEpoch := -1
		for last < 0 || pos.Epoch <= last {
			if planEpoch != pos.Epoch {
				plan, planEpoch = l.plan(pos.Epoch), pos.Epoch
			}
			if pos.Batch >= len(plan) {
				pos = Position{Epoch: pos.Epoch + 1}
				continue
			}
			fut := make(chan result, 1)
			select {
			case it.queue <- fut:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job{pos, plan[pos.Batch], len(plan), fut}:
			case <-ctx.Done():
				fut <- result{err: ctx.Err()}
				return
			}
			pos.Batch++
		}
	}()
	return it
}

// Next returns the next batch; io.EOF after the last batch of an Epoch
// iterator; the context's error once it is cancelled.
func (it *Iterator) Next() (*Batch, error) {
	t := time.Now()
	var r result
	select {
	case fut, ok := <-it.queue:
		if !ok {
			if err := it.ctx.Err(); err != nil {
				return nil, err
			}
			return nil, io.EOF
		}
		select {
		case r = <-fut:
		case <-it.ctx.Done():
			return nil, it.ctx.Err()
		}
	case <-it.ctx.Done():
		return nil, it.ctx.Err()
	}
	w := time.Since(t)
	if r.err != nil {
		return nil, r.err
	}
	it.stats.Batches++
	it.stats.Wait += w
	it.stats.MaxWait = max(it.stats.MaxWait, w)
	it.next = Position{Epoch: r.b.Position.Epoch, Batch: r.b.Position.Batch + 1}
	if it.next.Batch >= r.b.epochLen {
		it.next = Position{Epoch: it.next.Epoch + 1}
	}
	return r.b, nil
}

// Position returns the position of the batch the next call to Next will
// return: save it to resume later.
func (it *Iterator) Position() Position { return it.next }

// Stats returns the consumer-wait measurements so far.
func (it *Iterator) Stats() IteratorStats {
	s := it.stats
	it.buildN.Lock()
	s.Build = it.build
	it.buildN.Unlock()
	return s
}

// Close stops the background work and waits for it to end.
func (it *Iterator) Close() {
	it.cancel()
	go func() {
		for fut := range it.queue {
			_ = fut
		}
	}()
	it.wg.Wait()
}
