package data

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/internal/testutil"
)

// benchCorpus builds an LJSpeech-format corpus of about an hour of 22,050 Hz
// audio (the eight real LJSpeech clips, 50.3 s, copied 72 times: 576 files,
// 3,622 s) once per process.
var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
)

func hourCorpus(b *testing.B) string {
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "asrkit-bench-hour-")
		if benchErr != nil {
			return
		}
		src := testutil.Path(b, "ljspeech")
		utts, _, err := ReadLJSpeech(src)
		if err != nil {
			benchErr = err
			return
		}
		os.MkdirAll(filepath.Join(benchDir, "wavs"), 0o755)
		var meta strings.Builder
		for k := 0; k < 72; k++ {
			for _, u := range utts {
				id := fmt.Sprintf("%s-c%02d", u.ID, k)
				data, err := os.ReadFile(u.Audio)
				if err != nil {
					benchErr = err
					return
				}
				os.WriteFile(filepath.Join(benchDir, "wavs", id+".wav"), data, 0o644)
				fmt.Fprintf(&meta, "%s|%s|%s\n", id, u.Text, u.Text)
			}
		}
		benchErr = os.WriteFile(filepath.Join(benchDir, "metadata.csv"), []byte(meta.String()), 0o644)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDir
}

// BenchmarkCacheBuild builds the feature cache of an hour of audio from
// scratch (check, decode, resample, log-mel, write, then the normalisation
// statistics) on every core. Metrics: real-time factor of the build pass and
// of the whole Prepare, and the per-stage CPU seconds summed over workers.
func BenchmarkCacheBuild(b *testing.B) {
	dir := hourCorpus(b)
	var last BuildStats
	var total time.Duration
	var audio float64
	cpu0, _ := processCPU()
	for i := 0; i < b.N; i++ {
		cache := b.TempDir()
		start := time.Now()
		d, err := Prepare(context.Background(), Config{LJSpeech: LJSpeechConfig{Path: dir}, CacheDir: cache}, Options{Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		last = d.Build
		audio = d.Report.Seconds
	}
	b.ReportMetric(audio/last.Wall.Seconds(), "x_realtime_build")
	b.ReportMetric(audio*float64(b.N)/total.Seconds(), "x_realtime_prepare")
	reportCPU(b, cpu0, audio*float64(b.N))
	b.ReportMetric(last.Decode.Seconds(), "decode_cpu_s")
	b.ReportMetric(last.Resample.Seconds(), "resample_cpu_s")
	b.ReportMetric(last.LogMel.Seconds(), "logmel_cpu_s")
	b.ReportMetric(last.Write.Seconds(), "write_cpu_s")
	b.ReportMetric(last.Stats.Seconds(), "stats_s")
}

var (
	preparedOnce sync.Once
	prepared     *Dataset
	preparedErr  error
)

func hourDataset(b *testing.B) *Dataset {
	dir := hourCorpus(b)
	preparedOnce.Do(func() {
		cache := filepath.Join(dir, "cache")
		prepared, preparedErr = Prepare(context.Background(), Config{LJSpeech: LJSpeechConfig{Path: dir}, CacheDir: cache,
			Split: SplitConfig{Val: f64(0), Test: f64(0)}}, Options{Logger: quiet})
	})
	if preparedErr != nil {
		b.Fatal(preparedErr)
	}
	return prepared
}

// BenchmarkCacheRead reads every cached utterance of the hour (checksum,
// float16 to float32) on one goroutine.
func BenchmarkCacheRead(b *testing.B) {
	d := hourDataset(b)
	utts := d.Utterances(Train)
	var buf []float32
	cpu0, _ := processCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range utts {
			m, err := d.cache.Load(&utts[j], buf)
			if err != nil {
				b.Fatal(err)
			}
			buf = m.Data
		}
	}
	b.ReportMetric(d.Report.Seconds*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
	reportCPU(b, cpu0, d.Report.Seconds*float64(b.N))
}

// reportCPU reports audio seconds per CPU second of the process since cpu0:
// the speed a single otherwise idle core would give, whatever the load.
func reportCPU(b *testing.B, cpu0 time.Duration, audio float64) {
	if cpu1, ok := processCPU(); ok && cpu1 > cpu0 {
		b.ReportMetric(audio/(cpu1-cpu0).Seconds(), "x_realtime_per_cpu")
	}
}

// BenchmarkEpoch reads one training epoch of the hour as batches
// (normalised, shuffled, padded; with and without SpecAugment), consuming
// them as fast as they come. x_realtime is audio seconds per wall second;
// wait_ms the consumer's total wait per epoch.
func BenchmarkEpoch(b *testing.B) {
	d := hourDataset(b)
	for _, aug := range []bool{false, true} {
		b.Run(fmt.Sprintf("specaugment=%v", aug), func(b *testing.B) {
			opts := LoaderOptions{Training: true}
			if aug {
				sa := defaultSpecAugment()
				opts.SpecAugment = &sa
			}
			l, err := d.Loader(Train, opts)
			if err != nil {
				b.Fatal(err)
			}
			var wait time.Duration
			cpu0, _ := processCPU()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				it := l.Epoch(context.Background(), i)
				for {
					_, err := it.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				wait += it.Stats().Wait
				it.Close()
			}
			b.ReportMetric(d.Report.Seconds*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
			reportCPU(b, cpu0, d.Report.Seconds*float64(b.N))
			b.ReportMetric(float64(l.BatchesPerEpoch()), "batches/epoch")
		})
	}
}

// BenchmarkTrainerWait simulates a trainer whose step takes 20 ms (a small
// model on a GPU) running three epochs with SpecAugment on, iterating across
// epochs as a trainer does, and reports how long it waited for data: the
// first batch (which nothing can prefetch), then the mean and the worst wait
// of every later step.
func BenchmarkTrainerWait(b *testing.B) {
	d := hourDataset(b)
	sa := defaultSpecAugment()
	l, err := d.Loader(Train, LoaderOptions{Training: true, SpecAugment: &sa})
	if err != nil {
		b.Fatal(err)
	}
	steps := 3 * l.BatchesPerEpoch()
	var first, rest, worst time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		it := l.Iterate(context.Background(), Position{Epoch: 3 * i})
		for s := 0; s < steps; s++ {
			before := it.Stats().Wait
			if _, err := it.Next(); err != nil {
				b.Fatal(err)
			}
			w := it.Stats().Wait - before
			if s == 0 {
				first += w
			} else {
				rest += w
				worst = max(worst, w)
			}
			time.Sleep(20 * time.Millisecond)
		}
		it.Close()
	}
	b.ReportMetric(float64(first.Microseconds())/1000/float64(b.N), "first_wait_ms")
	b.ReportMetric(float64(rest.Microseconds())/1000/float64(b.N*(steps-1)), "wait_ms/step")
	b.ReportMetric(float64(worst.Microseconds())/1000, "max_wait_ms")
}

func defaultSpecAugment() features.SpecAugment { return features.DefaultSpecAugment() }
