package gemm

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gomlx/gomlx/pkg/core/dtypes/bfloat16"
)

// Blocking of the computation (the BLIS loop nest): the product is computed
// in tiles of mr x nr output elements by a micro-kernel that keeps the tile in
// registers, over micro-panels of A (mr rows) and B (nr columns) that were
// copied ("packed") k-major into contiguous buffers. kc x nr floats of B (16
// KiB) stay in the L1 cache, mc x kc of A (96 KiB) in L2.
const (
	mr = 6    // rows of a micro-tile
	nr = 16   // columns of a micro-tile (two 8-float AVX registers)
	kc = 256  // depth of a packed panel
	mc = 96   // rows of A packed at a time (a multiple of mr)
	nc = 1024 // columns of B packed at a time (a multiple of nr)
)

// minParallelFlops is the size (2*m*n*k summed over the batch) below which a
// product runs on the calling goroutine only: starting goroutines costs more
// than it saves.
const minParallelFlops = 1 << 18

// Strides locate the elements of a batch of matrices in a flat slice:
// element (b, i, j) is at b*Batch + i*Row + j*Col. A row-major matrix has
// Col = 1 and Row = its number of columns; its transpose swaps the two.
type Strides struct {
	Batch, Row, Col int
}

// Float32 computes, for every b < batch, dst[b] = a[b] x b[b], where a[b] is
// the m x k matrix that aStrides locates in a and b[b] the k x n matrix that
// bStrides locates in b. dst holds batch x m x n row-major float32 values
// and is overwritten. The products use up to workers goroutines (at most
// GOMAXPROCS; workers < 1 means GOMAXPROCS); small products run on the
// caller's goroutine. The goroutines started wait on nothing but their
// share of the work, so callers may hold locks or worker slots: it cannot
// deadlock.
//
// Zero sizes are allowed: with k = 0 dst is filled with zeros. Arithmetic
// follows IEEE 754 (a NaN or an infinity in an input reaches the output as
// it would in the naive sum; only the order of the additions differs).
func Float32(dst []float32, batch, m, n, k int, a []float32, aStrides Strides, b []float32, bStrides Strides, workers int) error {
	if err := check(len(dst), batch, m, n, k, len(a), aStrides, len(b), bStrides); err != nil {
		return err
	}
	run(&problem{dst: dst, batch: batch, m: m, n: n, k: k, a32: a, as: aStrides, b32: b, bs: bStrides}, workers)
	return nil
}

// BFloat16 is [Float32] for bfloat16 inputs: the values are converted to
// float32 when they are packed, and the products are accumulated and
// returned in float32 (dst), as GoMLX does on every backend.
func BFloat16(dst []float32, batch, m, n, k int, a []bfloat16.BFloat16, aStrides Strides, b []bfloat16.BFloat16, bStrides Strides, workers int) error {
	if err := check(len(dst), batch, m, n, k, len(a), aStrides, len(b), bStrides); err != nil {
		return err
	}
	run(&problem{dst: dst, batch: batch, m: m, n: n, k: k, a16: a, as: aStrides, b16: b, bs: bStrides}, workers)
	return nil
}

// check validates sizes and strides so that every element read or written
// lies inside its slice: the assembly kernel relies on it.
func check(lenDst, batch, m, n, k, lenA int, as Strides, lenB int, bs Strides) error {
	if batch < 0 || m < 0 || n < 0 || k < 0 {
		return fmt.Errorf("gemm: negative size (batch %d, m %d, n %d, k %d)", batch, m, n, k)
	}
	if as.Batch < 0 || as.Row < 0 || as.Col < 0 || bs.Batch < 0 || bs.Row < 0 || bs.Col < 0 {
		return fmt.Errorf("gemm: negative stride (a %+v, b %+v)", as, bs)
	}
	if batch*m*n != lenDst || (n != 0 && m != 0 && lenDst/n/m != batch) {
		return fmt.Errorf("gemm: output has %d elements, want %d x %d x %d", lenDst, batch, m, n)
	}
	if batch == 0 || m == 0 || n == 0 || k == 0 {
		return nil
	}
	last := func(s Strides, rows, cols int) int { return (batch-1)*s.Batch + (rows-1)*s.Row + (cols-1)*s.Col }
	if l := last(as, m, k); l >= lenA {
		return fmt.Errorf("gemm: a has %d elements, strides %+v reach element %d", lenA, as, l)
	}
	if l := last(bs, k, n); l >= lenB {
		return fmt.Errorf("gemm: b has %d elements, strides %+v reach element %d", lenB, bs, l)
	}
	return nil
}

// problem is one batched product; exactly one of a32/a16 and of b32/b16 is set.
type problem struct {
	dst         []float32
	batch       int
	m, n, k     int
	a32, b32    []float32
	a16, b16    []bfloat16.BFloat16
	as, bs      Strides
	rowsPerTask int // rows of C per task (a multiple of mr), or m
	colsPerTask int // columns of C per task (a multiple of nr), or n
}

// task is a block of the output: rows [i0, i1) and columns [j0, j1) of
// batch element b.
type task struct{ b, i0, i1, j0, j1 int }

// buffers are one goroutine's packing buffers.
type buffers struct {
	a    []float32 // mc x kc
	b    []float32 // kc x nc
	tile [mr * nr]float32
}

var bufferPool = sync.Pool{New: func() any {
	return &buffers{a: make([]float32, mc*kc), b: make([]float32, kc*nc)}
}}

func run(p *problem, workers int) {
	if p.batch == 0 || p.m == 0 || p.n == 0 {
		return
	}
	if p.k == 0 {
		clear(p.dst)
		return
	}
	maxProcs := runtime.GOMAXPROCS(0)
	if workers < 1 || workers > maxProcs {
		workers = maxProcs
	}
	flops := 2 * float64(p.batch) * float64(p.m) * float64(p.n) * float64(p.k)
	if flops < minParallelFlops {
		workers = 1
	}
	// Split the output into at least 2*workers tasks when there is enough
	// work, so that a goroutine that was descheduled (the machine is shared)
	// delays the whole product less: by whole batch elements first, then by
	// rows (or by columns when there are few rows).
	p.rowsPerTask, p.colsPerTask = p.m, p.n
	if want := 2 * workers; workers > 1 && p.batch < want {
		split := (want + p.batch - 1) / p.batch
		if p.m >= p.n || p.m >= split*2*mr {
			p.rowsPerTask = roundUp((p.m+split-1)/split, mr)
		} else {
			p.colsPerTask = roundUp((p.n+split-1)/split, nr)
		}
	}
	rowTasks := (p.m + p.rowsPerTask - 1) / p.rowsPerTask
	colTasks := (p.n + p.colsPerTask - 1) / p.colsPerTask
	numTasks := p.batch * rowTasks * colTasks
	taskAt := func(t int) task {
		b, rest := t/(rowTasks*colTasks), t%(rowTasks*colTasks)
		i0 := (rest / colTasks) * p.rowsPerTask
		j0 := (rest % colTasks) * p.colsPerTask
		return task{b: b, i0: i0, i1: min(i0+p.rowsPerTask, p.m), j0: j0, j1: min(j0+p.colsPerTask, p.n)}
	}
	workers = min(workers, numTasks)
	if workers <= 1 {
		buf := bufferPool.Get().(*buffers)
		for t := range numTasks {
			p.compute(buf, taskAt(t))
		}
		bufferPool.Put(buf)
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	work := func() {
		buf := bufferPool.Get().(*buffers)
		for {
			t := int(next.Add(1) - 1)
			if t >= numTasks {
				break
			}
			p.compute(buf, taskAt(t))
		}
		bufferPool.Put(buf)
	}
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}

func roundUp(x, multiple int) int { return (x + multiple - 1) / multiple * multiple }

// compute fills the block t of the output (the BLIS loop nest).
func (p *problem) compute(buf *buffers, t task) {
	ldc := p.n
	cBase := t.b * p.m * p.n
	for jc := t.j0; jc < t.j1; jc += nc {
		ncur := min(nc, t.j1-jc)
		for pc := 0; pc < p.k; pc += kc {
			kcur := min(kc, p.k-pc)
			p.packB(buf.b, t.b, pc, kcur, jc, ncur)
			accumulate := pc > 0
			for ic := t.i0; ic < t.i1; ic += mc {
				mcur := min(mc, t.i1-ic)
				p.packA(buf.a, t.b, ic, mcur, pc, kcur)
				for jr := 0; jr < ncur; jr += nr {
					bPanel := buf.b[jr*kcur : (jr+nr)*kcur]
					cols := min(nr, ncur-jr)
					for ir := 0; ir < mcur; ir += mr {
						aPanel := buf.a[ir*kcur : (ir+mr)*kcur]
						rows := min(mr, mcur-ir)
						c := cBase + (ic+ir)*ldc + jc + jr
						if rows == mr && cols == nr {
							kernel(kcur, aPanel, bPanel, p.dst[c:c+(mr-1)*ldc+nr], ldc, accumulate)
							continue
						}
						// Edge tile: computed whole into buf.tile, then the
						// valid part is stored.
						kernel(kcur, aPanel, bPanel, buf.tile[:], nr, false)
						for r := range rows {
							out := p.dst[c+r*ldc : c+r*ldc+cols]
							in := buf.tile[r*nr : r*nr+cols]
							if accumulate {
								for j, v := range in {
									out[j] += v
								}
							} else {
								copy(out, in)
							}
						}
					}
				}
			}
		}
	}
}

// packA copies rows [i0, i0+rows) and depth [p0, p0+depth) of A[b] into
// dst as micro-panels of mr rows, each stored k-major (mr values per k);
// the rows of the last panel beyond the matrix are zeros.
func (p *problem) packA(dst []float32, b, i0, rows, p0, depth int) {
	s := p.as
	for ir := 0; ir < rows; ir += mr {
		panel := dst[ir*depth : (ir+mr)*depth]
		valid := min(mr, rows-ir)
		src := b*s.Batch + (i0+ir)*s.Row + p0*s.Col
		if p.a32 != nil && valid == mr {
			switch {
			case s.Col == 1: // Row-major A: each row is contiguous in k.
				packRows6(panel, p.a32, src, s.Row, depth)
				continue
			case s.Row == 1: // Column-major A: the mr values of each k are contiguous.
				for kk := range depth {
					*(*[mr]float32)(panel[kk*mr:]) = *(*[mr]float32)(p.a32[src+kk*s.Col:])
				}
				continue
			}
		}
		for r := range mr {
			if r >= valid {
				for kk := range depth {
					panel[kk*mr+r] = 0
				}
				continue
			}
			if p.a32 != nil {
				packLine32(panel[r:], mr, p.a32, src+r*s.Row, s.Col, depth)
			} else {
				packLine16(panel[r:], mr, p.a16, src+r*s.Row, s.Col, depth)
			}
		}
	}
}

// packB copies depth [p0, p0+depth) and columns [j0, j0+cols) of B[b] into
// dst as micro-panels of nr columns, each stored k-major (nr values per k);
// the columns of the last panel beyond the matrix are zeros.
func (p *problem) packB(dst []float32, b, p0, depth, j0, cols int) {
	s := p.bs
	for jr := 0; jr < cols; jr += nr {
		panel := dst[jr*depth : (jr+nr)*depth]
		valid := min(nr, cols-jr)
		src := b*s.Batch + p0*s.Row + (j0+jr)*s.Col
		if p.b32 != nil && valid == nr {
			switch {
			case s.Col == 1: // Row-major B: the nr values of each k are contiguous.
				for kk := range depth {
					*(*[nr]float32)(panel[kk*nr:]) = *(*[nr]float32)(p.b32[src+kk*s.Row:])
				}
				continue
			case s.Row == 1: // Column-major B: each column is contiguous in k.
				packCols16(panel, p.b32, src, s.Col, depth)
				continue
			}
		}
		for c := range nr {
			if c >= valid {
				for kk := range depth {
					panel[kk*nr+c] = 0
				}
				continue
			}
			if p.b32 != nil {
				packLine32(panel[c:], nr, p.b32, src+c*s.Col, s.Row, depth)
			} else {
				packLine16(panel[c:], nr, p.b16, src+c*s.Col, s.Row, depth)
			}
		}
	}
}

// packRows6 interleaves mr lines of n contiguous values, the first at
// src[start], the next ld further each, into dst (mr values per index).
func packRows6(dst []float32, src []float32, start, ld, n int) {
	r0 := src[start : start+n]
	r1 := src[start+ld : start+ld+n]
	r2 := src[start+2*ld : start+2*ld+n]
	r3 := src[start+3*ld : start+3*ld+n]
	r4 := src[start+4*ld : start+4*ld+n]
	r5 := src[start+5*ld : start+5*ld+n]
	dst = dst[:n*mr]
	for kk := range n {
		d := (*[mr]float32)(dst[kk*mr:])
		d[0], d[1], d[2], d[3], d[4], d[5] = r0[kk], r1[kk], r2[kk], r3[kk], r4[kk], r5[kk]
	}
}

// packCols16 interleaves nr lines of n contiguous values, the first at
// src[start], the next ld further each, into dst (nr values per index).
func packCols16(dst []float32, src []float32, start, ld, n int) {
	for c0 := 0; c0 < nr; c0 += 4 {
		s := start + c0*ld
		l0 := src[s : s+n]
		l1 := src[s+ld : s+ld+n]
		l2 := src[s+2*ld : s+2*ld+n]
		l3 := src[s+3*ld : s+3*ld+n]
		d := dst[c0 : c0+(n-1)*nr+4]
		for kk := range n {
			o := (*[4]float32)(d[kk*nr:])
			o[0], o[1], o[2], o[3] = l0[kk], l1[kk], l2[kk], l3[kk]
		}
	}
}

// packLine copies n values of src, starting at start with the given stride,
// to every step-th element of dst.
func packLine32(dst []float32, step int, src []float32, start, stride, n int) {
	for kk := range n {
		dst[kk*step] = src[start+kk*stride]
	}
}

func packLine16(dst []float32, step int, src []bfloat16.BFloat16, start, stride, n int) {
	for kk := range n {
		dst[kk*step] = src[start+kk*stride].Float32()
	}
}
