package server

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/asrkit/asrkit/api"
	"github.com/asrkit/asrkit/asr/data"
	"github.com/asrkit/asrkit/asr/train"
)

// datasetDepth is how deep GET /v1/datasets looks under the data root.
const datasetDepth = 3

// datasets lists the corpora under the data root: LJSpeech-format folders
// (metadata.csv) and JSONL manifests, to a depth of three folders; hidden
// folders are skipped.
func (s *Server) datasets() api.DatasetList {
	out := api.DatasetList{DataRoot: s.dataDir, Datasets: []api.Dataset{}}
	filepath.WalkDir(s.dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(s.dataDir, path)
		depth := 0
		if rel != "." {
			depth = strings.Count(rel, string(filepath.Separator)) + 1
		}
		if d.IsDir() {
			if rel != "." && strings.HasPrefix(d.Name(), ".") || depth > datasetDepth {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "metadata.csv")); err == nil {
				out.Datasets = append(out.Datasets, api.Dataset{Name: filepath.ToSlash(rel), Path: path, Format: "ljspeech", Rows: countRows(filepath.Join(path, "metadata.csv"))})
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".jsonl") {
			out.Datasets = append(out.Datasets, api.Dataset{Name: filepath.ToSlash(rel), Path: path, Format: "manifest", Rows: countRows(path)})
		}
		return nil
	})
	slices.SortFunc(out.Datasets, func(a, b api.Dataset) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// countRows counts the non-blank lines of a file.
func countRows(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			n++
		}
	}
	return n
}

// checkDataset runs the `asr data check` report on a corpus.
func (s *Server) checkDataset(r *http.Request, req api.DatasetCheckRequest) (api.DataReport, error) {
	n := 0
	for _, v := range []string{req.LJSpeech, req.Manifest, req.Config} {
		if strings.TrimSpace(v) != "" {
			n++
		}
	}
	if n != 1 {
		return api.DataReport{}, errorf(http.StatusBadRequest, "name the corpus with one of ljspeech, manifest or config")
	}
	var (
		cfg  data.Config
		opts data.Options
	)
	switch {
	case req.Config != "":
		c, err := train.ParseConfig([]byte(req.Config), "config", s.dataDir, "check")
		if err != nil {
			return api.DataReport{}, errorf(http.StatusBadRequest, "%v", err)
		}
		cfg, opts.Features = c.Datasets, c.Features
		for _, p := range []struct{ key, v string }{
			{"datasets.ljspeech.path", cfg.LJSpeech.Path}, {"datasets.manifests.train", cfg.Manifests.Train},
			{"datasets.manifests.val", cfg.Manifests.Val}, {"datasets.manifests.test", cfg.Manifests.Test},
			{"datasets.split.lists.train", cfg.Split.Lists.Train}, {"datasets.split.lists.val", cfg.Split.Lists.Val},
			{"datasets.split.lists.test", cfg.Split.Lists.Test}, {"datasets.cache_dir", cfg.CacheDir},
		} {
			if p.v != "" {
				if _, err := s.resolveUnder(p.key, p.v, s.dataDir); err != nil {
					return api.DataReport{}, err
				}
			}
		}
	case req.LJSpeech != "":
		p, err := s.resolveUnder("ljspeech", req.LJSpeech, s.dataDir)
		if err != nil {
			return api.DataReport{}, err
		}
		cfg.LJSpeech.Path = p
	default:
		p, err := s.resolveUnder("manifest", req.Manifest, s.dataDir)
		if err != nil {
			return api.DataReport{}, err
		}
		cfg.Manifests.Train = p
	}
	if cfg.CacheDir == "" {
		// Audio lengths are read from intact entries of the jobs' cache.
		cfg.CacheDir = filepath.Join(s.ckptDir, cacheDir)
	}
	if req.SkipInvalid {
		cfg.SkipInvalid = true
	}
	opts.Logger = s.log
	select {
	case s.checking <- struct{}{}:
		defer func() { <-s.checking }()
	default:
		return api.DataReport{}, &statusError{code: http.StatusServiceUnavailable, retryAfter: 10 * retryAfter,
			msg: "another dataset check is running; retry when it is done"}
	}
	rep, err := data.Check(r.Context(), cfg, opts)
	if err != nil {
		if r.Context().Err() != nil {
			return api.DataReport{}, r.Context().Err()
		}
		return api.DataReport{}, errorf(http.StatusBadRequest, "%v", err)
	}
	return dataReport(rep), nil
}

// dataReport converts a report to its wire form.
func dataReport(r *data.Report) api.DataReport {
	out := api.DataReport{
		Sources: r.Sources, Rows: r.Rows, Valid: r.Valid, Seconds: r.Seconds, Hours: r.Seconds / 3600,
		MinSeconds: r.MinSeconds, MaxSeconds: r.MaxSeconds, Skipped: r.Skipped, Notes: r.Notes, MaxDuration: r.MaxDuration,
		Histogram: []api.HistogramBin{}, Problems: []api.Problem{}, Counts: map[string]int{},
	}
	if out.Sources == nil {
		out.Sources = []string{}
	}
	if len(r.Sets) > 0 {
		out.Sets = map[string]api.SetSummary{}
		for k, v := range r.Sets {
			out.Sets[string(k)] = api.SetSummary{Utterances: v.Utterances, Seconds: v.Seconds}
		}
	}
	if len(r.Corpora) > 0 {
		out.Corpora = map[string]api.CorpusSummary{}
		for name, c := range r.Corpora {
			sets := map[string]api.SetSummary{}
			for k, v := range c.Sets {
				sets[string(k)] = api.SetSummary{Utterances: v.Utterances, Seconds: v.Seconds}
			}
			out.Corpora[name] = api.CorpusSummary{Sets: sets, Speakers: c.Speakers}
		}
	}
	for _, h := range r.Histogram {
		out.Histogram = append(out.Histogram, api.HistogramBin{Lo: h.Lo, Hi: h.Hi, Count: h.Count})
	}
	for _, p := range r.Problems {
		out.Problems = append(out.Problems, api.Problem{ID: p.ID, Kind: string(p.Kind), Detail: p.Detail, Source: p.Source, Line: p.Line})
	}
	for k, n := range r.Counts() {
		out.Counts[string(k)] = n
	}
	if err := r.Err(); err != nil {
		msg := err.Error()
		if errors.Is(err, data.ErrInvalidData) {
			msg = strings.TrimPrefix(msg, data.ErrInvalidData.Error()+": ")
		}
		out.Error = msg
	}
	return out
}
