package server

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/asrkit/asrkit/asr/train"
)

// configPaths are the path keys of a training config that the server
// resolves: relative ones under the data root, and every one must lie
// under the data or the checkpoint root. source marks the paths that must
// exist before training starts.
var configPaths = []struct {
	key    []string
	source bool
}{
	{[]string{"datasets", "ljspeech", "path"}, true},
	{[]string{"datasets", "manifests", "train"}, true},
	{[]string{"datasets", "manifests", "val"}, true},
	{[]string{"datasets", "manifests", "test"}, true},
	{[]string{"datasets", "split", "lists", "train"}, true},
	{[]string{"datasets", "split", "lists", "val"}, true},
	{[]string{"datasets", "split", "lists", "test"}, true},
	{[]string{"datasets", "cache_dir"}, false},
	{[]string{"train", "init_from"}, true},
}

// prepareConfig checks a posted training config (YAML or JSON) and
// rewrites it for the job's run directory: the job id comes from name, or
// checkpoint.dir when it is a plain name, or the time; every path is made
// absolute (relative ones under the data root) and must lie under a root;
// checkpoint.dir becomes the run directory under the checkpoint root, and
// datasets.cache_dir defaults to the checkpoint root's .cache. The
// config's other text is kept as it was. exists reports job ids in use.
func (s *Server) prepareConfig(raw []byte, name string, exists func(string) bool) (string, []byte, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "", nil, errorf(http.StatusBadRequest, "the request body must be a training config (YAML or JSON; see docs/config.md)")
	}
	// Validate first, so that errors point at the lines the user wrote.
	if _, err := train.ParseConfig(raw, "config", s.dataDir, "job"); err != nil {
		return "", nil, errorf(http.StatusBadRequest, "%v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return "", nil, errorf(http.StatusBadRequest, "the training config must be a YAML or JSON mapping")
	}
	root := doc.Content[0]

	id := name
	if d := scalar(lookup(root, "checkpoint", "dir")); d != "" {
		dirName := d
		if filepath.IsAbs(d) && filepath.Dir(filepath.Clean(d)) == s.ckptDir {
			dirName = filepath.Base(d)
		}
		if strings.ContainsAny(dirName, `/\`) || dirName == "." || dirName == ".." {
			return "", nil, errorf(http.StatusBadRequest, "checkpoint.dir %q: the server keeps each job's run directory under the checkpoint root (%s/<job>); give a job name there, or leave checkpoint.dir out and name the job with ?name=", d, s.ckptDir)
		}
		if id != "" && id != dirName {
			return "", nil, errorf(http.StatusBadRequest, "the job name %q and checkpoint.dir %q disagree; give one of them", id, d)
		}
		id = dirName
	}
	if id == "" {
		id = "job-" + time.Now().UTC().Format("20060102-150405")
		for i := 2; exists(id); i++ {
			id = fmt.Sprintf("job-%s-%d", time.Now().UTC().Format("20060102-150405"), i)
		}
	}
	if err := checkJobID(id); err != nil {
		return "", nil, err
	}
	if b := strings.TrimSpace(scalar(lookup(root, "train", "backend"))); strings.HasPrefix(b, "xla:") && b != "xla:cuda" {
		// A plugin path would make the server load any shared library.
		return "", nil, errorf(http.StatusBadRequest, "train.backend %q: a posted config may name auto, go or xla:cuda; a PJRT plugin path is the server's to choose (GOMLX_BACKEND in its environment)", b)
	}
	if j := scalar(lookup(root, "log", "jsonl")); j != "" {
		return "", nil, errorf(http.StatusBadRequest, "log.jsonl: the server reads each job's events from train.jsonl in its run directory; leave log.jsonl out")
	}
	for _, p := range configPaths {
		n := lookup(root, p.key...)
		v := scalar(n)
		if v == "" {
			continue
		}
		key := strings.Join(p.key, ".")
		abs, err := s.resolveUnder(key, v, s.dataDir)
		if err != nil {
			return "", nil, err
		}
		if p.source {
			if _, err := os.Stat(abs); err != nil {
				return "", nil, errorf(http.StatusBadRequest, "%s: %s does not exist (relative paths are under the data root %s)", key, abs, s.dataDir)
			}
		}
		setString(n, abs)
	}
	if scalar(lookup(root, "datasets", "cache_dir")) == "" {
		setString(ensure(root, "datasets", "cache_dir"), filepath.Join(s.ckptDir, cacheDir))
	}
	runDir := filepath.Join(s.ckptDir, id)
	setString(ensure(root, "checkpoint", "dir"), runDir)

	blockStyle(root)
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return "", nil, fmt.Errorf("encoding the job's config: %w", err)
	}
	header := fmt.Sprintf("# Training config of job %s, as posted to asr serve, with its paths resolved.\n", id)
	out = append([]byte(header), out...)
	if _, err := train.ParseConfig(out, filepath.Join(runDir, configFile), runDir, id); err != nil {
		return "", nil, errorf(http.StatusBadRequest, "%v", err)
	}
	return id, out, nil
}

// lookup returns the node at a key path of a mapping, or nil.
func lookup(m *yaml.Node, keys ...string) *yaml.Node {
	n := m
	for _, k := range keys {
		n = value(n, k)
		if n == nil {
			return nil
		}
	}
	return n
}

// value returns the value node of key in mapping m (aliases followed).
func value(m *yaml.Node, key string) *yaml.Node {
	for m != nil && m.Kind == yaml.AliasNode {
		m = m.Alias
	}
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			for v.Kind == yaml.AliasNode {
				v = v.Alias
			}
			return v
		}
	}
	return nil
}

// ensure returns the node at a key path, creating the mappings and the
// final scalar that are missing (or null).
func ensure(m *yaml.Node, keys ...string) *yaml.Node {
	n := m
	for i, k := range keys {
		v := value(n, k)
		last := i == len(keys)-1
		if v == nil || (v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
			if v == nil {
				v = &yaml.Node{}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, v)
			}
			if last {
				*v = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str"}
			} else {
				*v = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			}
		}
		n = v
	}
	return n
}

// scalar is a scalar node's value ("" for nil, null and non-scalars).
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

func setString(n *yaml.Node, v string) {
	n.Kind, n.Tag, n.Value, n.Style = yaml.ScalarNode, "!!str", v, 0
}

// blockStyle writes a config that came as JSON (or flow YAML) as block
// YAML: mappings one key per line, scalars quoted only where needed;
// lists of scalars stay on one line.
func blockStyle(n *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		n.Style = 0
	case yaml.ScalarNode:
		n.Style = 0
	case yaml.SequenceNode:
		n.Style = yaml.FlowStyle
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				n.Style = 0
			}
		}
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}
