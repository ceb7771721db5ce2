package data

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// failingDisk makes cache entry writes fail with ENOSPC after ok of them
// have succeeded, until the test ends.
func failingDisk(t *testing.T, ok int64) {
	t.Helper()
	var n atomic.Int64
	real := writeEntry
	writeEntry = func(path string, b []byte) error {
		if n.Add(1) > ok {
			return fmt.Errorf("write %s: %w", path, syscall.ENOSPC)
		}
		return real(path, b)
	}
	t.Cleanup(func() { writeEntry = real })
}

// TestCacheFullDisk is the regression test of a full disk during the
// feature-cache build reported as unreadable audio (so that skip_invalid
// dropped the clips and training "succeeded" on what was left): an error
// writing the cache stops Prepare with an error that says so, wraps
// ErrCacheIO and the system's error, and marks no utterance invalid,
// with or without skip_invalid.
func TestCacheFullDisk(t *testing.T) {
	for _, skip := range []bool{false, true} {
		t.Run(fmt.Sprintf("skip_invalid=%v", skip), func(t *testing.T) {
			failingDisk(t, 3)
			cfg := sampleConfig(t)
			cfg.SkipInvalid = skip
			cfg.Workers = 2
			d, err := Prepare(context.Background(), cfg, Options{Logger: quiet})
			if !errors.Is(err, ErrCacheIO) || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "no space left on device") {
				t.Fatalf("Prepare on a full disk: %v", err)
			}
			if d != nil && d.Report != nil && len(d.Report.Problems) > 0 {
				t.Errorf("a full disk made items invalid: %v", d.Report.Problems)
			}
		})
	}
	// Check writes nothing, so a full disk is no concern of it.
	failingDisk(t, 0)
	rep, err := Check(context.Background(), sampleConfig(t), Options{Logger: quiet})
	if err != nil || len(rep.Problems) != 0 || rep.Valid != 8 {
		t.Errorf("Check with a full disk: %v, %+v", err, rep)
	}
}

// TestSkipInvalidLogsEachItem: with skip_invalid, every item left out is
// logged (with its source line and why), not only counted.
func TestSkipInvalidLogsEachItem(t *testing.T) {
	dir, want := brokenCorpus(t)
	cfg := Config{LJSpeech: LJSpeechConfig{Path: dir}, CacheDir: t.TempDir(), MaxDuration: 8, SkipInvalid: true}
	var log bytes.Buffer
	d, err := Prepare(context.Background(), cfg, Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Report.Problems) != len(want) {
		t.Fatalf("%d problems, want %d", len(d.Report.Problems), len(want))
	}
	if n := strings.Count(log.String(), "leaving out an invalid item"); n != len(want) {
		t.Errorf("%d items logged, want %d:\n%s", n, len(want), log.String())
	}
	for _, p := range d.Report.Problems {
		if !strings.Contains(log.String(), p.ID+": "+string(p.Kind)) {
			t.Errorf("%s (%s) is not in the log", p.ID, p.Kind)
		}
	}
}
