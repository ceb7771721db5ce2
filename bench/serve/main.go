// Command serve is the load benchmark of `asr serve` (bench/serve/run.sh
// runs it). It starts the server in this process on a loopback port, so
// that it can read the server's heap after a garbage collection, then
// loads it through real HTTP and WebSocket connections:
//
//  1. transcription: -requests POST /v1/transcribe of testdata's LJSpeech
//     clips (1.8 to 10 s) from -clients concurrent clients; it reports the
//     status codes (503s are the load shedding of a full queue, not
//     errors), p50/p99 latency, throughput in audio seconds per second,
//     and the heap after a GC against its level before the load;
//  2. streaming: -streams concurrent /v1/stream sessions of
//     -stream-seconds of audio each, sent in 0.2 s chunks as fast as the
//     server answers; it samples the live heap (after a GC) at each
//     quarter of the audio, to show that it does not grow with the audio.
//
// The process's peak RSS covers both. Usage: see run.sh.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asrkit/asrkit/api"
	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/server"
)

func main() {
	model := flag.String("model", "", "model directory (default: the bundled model)")
	testdata := flag.String("testdata", "testdata", "the repository's testdata folder")
	requests := flag.Int("requests", 200, "transcription requests")
	clients := flag.Int("clients", 16, "concurrent transcription clients")
	workers := flag.Int("workers", 0, "server transcription workers (0: its default)")
	queue := flag.Int("queue", 0, "server queue size (0: its default, 16; -1: none)")
	retry := flag.Bool("retry", false, "retry a 503 after its Retry-After (default: count it and move on)")
	streams := flag.Int("streams", 20, "concurrent /v1/stream sessions (0: skip)")
	streamSeconds := flag.Float64("stream-seconds", 60, "audio per stream session, in seconds")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the streaming phase to this file")
	flag.Parse()
	log.SetFlags(0)

	clips, err := filepath.Glob(filepath.Join(*testdata, "ljspeech", "wavs", "*.wav"))
	if err != nil || len(clips) == 0 {
		log.Fatalf("no clips in %s/ljspeech/wavs (run from the repository root or give -testdata)", *testdata)
	}
	var bodies [][]byte
	var durations []float64
	for _, p := range clips {
		b, err := os.ReadFile(p)
		if err != nil {
			log.Fatal(err)
		}
		a, err := features.Decode(bytes.NewReader(b))
		if err != nil {
			log.Fatal(err)
		}
		bodies = append(bodies, b)
		durations = append(durations, float64(len(a.Samples))/float64(a.SampleRate))
	}

	tmp, err := os.MkdirTemp("", "bench-serve-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	srv, err := server.New(server.Config{
		DataRoot: tmp, CheckpointRoot: filepath.Join(tmp, "ckpt"), Model: *model, Backend: "go",
		Workers: *workers, QueueSize: *queue, MaxStreams: max(*streams, 1),
	})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	client, _ := api.NewClient(base, "", &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *clients}})
	health, err := client.Health(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("server: model %s, %d cores (GOMAXPROCS %d), workers %d, queue %d\n",
		health.Model, runtime.NumCPU(), runtime.GOMAXPROCS(0), or(*workers, min(runtime.NumCPU(), 4)), or(*queue, server.DefaultQueueSize))
	// Warm up: one request per clip builds the model's graphs.
	for _, b := range bodies {
		if _, err := client.Transcribe(context.Background(), bytes.NewReader(b), api.TranscribeOptions{}); err != nil {
			log.Fatal(err)
		}
	}
	before := heapAfterGC()
	fmt.Printf("heap after warm-up and GC: %.1f MB\n", mb(before))

	transcribeLoad(base, bodies, durations, *requests, *clients, *retry)
	after := heapAfterGC()
	verdict := "ok"
	if after-before > 50<<20 {
		verdict = "OVER the 50 MB bound"
	}
	fmt.Printf("heap after the load and GC: %.1f MB (%+.1f MB: %s)\n", mb(after), mb(after-before), verdict)

	if *streams > 0 {
		if *cpuProfile != "" {
			f, err := os.Create(*cpuProfile)
			if err != nil {
				log.Fatal(err)
			}
			pprof.StartCPUProfile(f)
		}
		streamLoad(client, bodies, *streams, *streamSeconds)
		if *cpuProfile != "" {
			pprof.StopCPUProfile()
		}
		end := heapAfterGC()
		fmt.Printf("heap after the streams and GC: %.1f MB (%+.1f MB against the start)\n", mb(end), mb(end-before))
	}
	fmt.Printf("peak RSS of the process (server and load clients): %s\n", peakRSS())
	stop()
	if err := <-served; err != nil {
		log.Fatal(err)
	}
	srv.Close()
}

func or(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// heapAfterGC is the live heap after two collections.
func heapAfterGC() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// peakRSS is VmHWM of /proc/self/status.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// transcribeLoad sends n requests from c clients and reports.
func transcribeLoad(base string, bodies [][]byte, durations []float64, n, c int, retry bool) {
	var (
		next     atomic.Int64
		mu       sync.Mutex
		latency  []time.Duration
		codes    = map[int]int{}
		audio    float64
		failures []string
	)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c}}
	start := time.Now()
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				k := i % len(bodies)
				t0 := time.Now()
			again:
				resp, err := hc.Post(base+"/v1/transcribe", "application/octet-stream", bytes.NewReader(bodies[k]))
				d := time.Since(t0)
				if err == nil && retry && resp.StatusCode == http.StatusServiceUnavailable {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					mu.Lock()
					codes[resp.StatusCode]++
					mu.Unlock()
					wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
					time.Sleep(time.Duration(max(wait, 1)) * time.Second)
					goto again
				}
				mu.Lock()
				if err != nil {
					failures = append(failures, err.Error())
					mu.Unlock()
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				codes[resp.StatusCode]++
				if resp.StatusCode == http.StatusOK {
					latency = append(latency, d)
					audio += durations[k]
				} else if resp.StatusCode != http.StatusServiceUnavailable {
					failures = append(failures, resp.Status)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	slices.Sort(latency)
	pct := func(p float64) time.Duration {
		if len(latency) == 0 {
			return 0
		}
		return latency[min(len(latency)-1, int(math.Ceil(p*float64(len(latency))))-1)]
	}
	fmt.Printf("transcribe: %d requests from %d clients in %.1f s: status %v, %d errors\n", n, c, wall.Seconds(), codes, len(failures))
	for _, f := range failures[:min(len(failures), 5)] {
		fmt.Println("  error:", f)
	}
	if retry {
		fmt.Println("  (each 503 was retried after its Retry-After; latencies include the waits)")
	}
	fmt.Printf("  latency of the 200s: p50 %.2f s, p99 %.2f s; throughput %.1f audio-s/s (%.0f s of audio)\n",
		pct(0.5).Seconds(), pct(0.99).Seconds(), audio/wall.Seconds(), audio)
}

// streamLoad runs n concurrent stream sessions of seconds of audio each.
func streamLoad(client *api.Client, bodies [][]byte, n int, seconds float64) {
	// The session audio: the clips resampled to 16 kHz, repeated.
	var pcm []byte
	for len(pcm) < int(seconds*16000)*2 {
		for _, b := range bodies {
			a, _ := features.Decode(bytes.NewReader(b))
			x, err := features.Resample(a.Samples, a.SampleRate, 16000)
			if err != nil {
				log.Fatal(err)
			}
			for _, v := range x {
				pcm = binary.LittleEndian.AppendUint16(pcm, uint16(int16(math.Round(float64(max(-1, min(1, v)))*32767))))
			}
		}
	}
	pcm = pcm[:int(seconds*16000)*2]
	const chunk = 2 * 3200 // 0.2 s
	var (
		sent     atomic.Int64
		mu       sync.Mutex
		errs     []string
		finals   int
		heapSeen []string
	)
	total := int64(n) * int64(len(pcm))
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // sample the heap at each quarter of the audio
		defer close(sampled)
		next := int64(1)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if s := sent.Load(); s*4 >= next*total && next <= 4 {
				heapSeen = append(heapSeen, fmt.Sprintf("%d%%: %.1f MB", 25*next, mb(heapAfterGC())))
				next++
			}
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			fail := func(err error) {
				mu.Lock()
				errs = append(errs, err.Error())
				mu.Unlock()
			}
			st, err := client.Stream(ctx, 16000, api.TranscribeOptions{})
			if err != nil {
				fail(err)
				return
			}
			for pos := 0; pos < len(pcm); pos += chunk {
				c := pcm[pos:min(pos+chunk, len(pcm))]
				if err := st.Send(ctx, c); err != nil {
					fail(err)
					return
				}
				if _, err := st.Recv(ctx); err != nil {
					fail(err)
					return
				}
				sent.Add(int64(len(c)))
			}
			m, err := st.Finish(ctx)
			if err != nil {
				fail(err)
				return
			}
			mu.Lock()
			if m.Text != nil {
				finals++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	close(done)
	<-sampled
	audio := float64(n) * seconds
	fmt.Printf("streams: %d sessions of %.0f s of audio (0.2 s chunks, each answered) in %.1f s: %.1f audio-s/s, %d final results, %d errors\n",
		n, seconds, wall.Seconds(), audio/wall.Seconds(), finals, len(errs))
	for _, e := range errs[:min(len(errs), 5)] {
		fmt.Println("  error:", e)
	}
	fmt.Printf("  live heap (after a GC) as the audio went by: %s\n", strings.Join(heapSeen, ", "))
}
