package server

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/asrkit/asrkit/asr/train"
)

// TestConfigPathsCoverTheTrainer checks that the server resolves and
// checks every path key of a training config: the keys that
// train.Config.ResolvePaths treats as paths are configPaths, plus
// checkpoint.dir and log.jsonl, which prepareConfig handles apart. A path
// key added to the trainer without the server knowing fails here.
func TestConfigPathsCoverTheTrainer(t *testing.T) {
	var cfg train.Config
	setStrings(reflect.ValueOf(&cfg).Elem(), nil, func([]string) string { return "rel" })
	resolved := cfg.ResolvePaths("/base", "name")
	var got []string
	collect(reflect.ValueOf(resolved), nil, func(key []string, v string) {
		if v == "/base/rel" {
			got = append(got, strings.Join(key, "."))
		}
	})
	want := []string{"checkpoint.dir", "log.jsonl"}
	for _, p := range configPaths {
		want = append(want, strings.Join(p.key, "."))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("path keys of a training config:\n got %v\nwant %v", got, want)
	}
}

// setStrings sets every string field reachable through yaml-tagged struct
// fields.
func setStrings(v reflect.Value, key []string, val func([]string) string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(val(key))
	case reflect.Struct:
		for i := range v.NumField() {
			if name := yamlName(v.Type().Field(i)); name != "" {
				setStrings(v.Field(i), append(slices.Clone(key), name), val)
			}
		}
	}
}

func collect(v reflect.Value, key []string, fn func([]string, string)) {
	switch v.Kind() {
	case reflect.String:
		fn(key, v.String())
	case reflect.Struct:
		for i := range v.NumField() {
			if name := yamlName(v.Type().Field(i)); name != "" {
				collect(v.Field(i), append(slices.Clone(key), name), fn)
			}
		}
	}
}

func yamlName(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if tag == "-" || !f.IsExported() {
		return ""
	}
	return tag
}

// TestPrepareConfig checks the rewriting of a posted config: JSON or YAML,
// anchors, nulls, the job name's sources.
func TestPrepareConfig(t *testing.T) {
	data, ckpt := t.TempDir(), t.TempDir()
	s := &Server{dataDir: data, ckptDir: ckpt}
	for _, dir := range []string{"corpus", "lists"} {
		if err := mkdir(data, dir); err != nil {
			t.Fatal(err)
		}
	}
	none := func(string) bool { return false }
	for _, c := range []struct {
		name, in, query string
		id              string
		want            map[string]string // key path -> value in the result
	}{
		{"yaml", "datasets:\n  ljspeech:\n    path: corpus\n", "run1", "run1", map[string]string{
			"datasets.ljspeech.path": data + "/corpus", "datasets.cache_dir": ckpt + "/.cache", "checkpoint.dir": ckpt + "/run1"}},
		{"json", `{"datasets": {"ljspeech": {"path": "` + data + `/corpus"}}, "checkpoint": {"dir": "j"}}`, "", "j", map[string]string{
			"datasets.ljspeech.path": data + "/corpus", "checkpoint.dir": ckpt + "/j"}},
		{"absolute run dir", "datasets:\n  ljspeech:\n    path: corpus\ncheckpoint:\n  dir: " + ckpt + "/abs\n", "", "abs", map[string]string{
			"checkpoint.dir": ckpt + "/abs"}},
		{"null sections", "datasets:\n  ljspeech:\n    path: corpus\n  split:\n    lists:\n      val: lists\ncheckpoint:\nlog:\n", "n", "n", map[string]string{
			"datasets.split.lists.val": data + "/lists", "checkpoint.dir": ckpt + "/n"}},
		{"cache under the data root", "datasets:\n  ljspeech:\n    path: corpus\n  cache_dir: cache\n", "c", "c", map[string]string{
			"datasets.cache_dir": data + "/cache"}},
	} {
		id, out, err := s.prepareConfig([]byte(c.in), c.query, none)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if id != c.id {
			t.Errorf("%s: id %q, want %q", c.name, id, c.id)
		}
		cfg, err := train.ParseConfig(out, "out", "/elsewhere", "x")
		if err != nil {
			t.Errorf("%s: the result does not parse: %v\n%s", c.name, err, out)
			continue
		}
		got := map[string]string{}
		collect(reflect.ValueOf(cfg), nil, func(key []string, v string) { got[strings.Join(key, ".")] = v })
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q\n%s", c.name, k, got[k], v, out)
			}
		}
	}
	// Without a name, the time names the job; taken names get a suffix.
	id, _, err := s.prepareConfig([]byte("datasets:\n  ljspeech:\n    path: corpus\n"), "", func(id string) bool { return !strings.HasSuffix(id, "-3") })
	if err != nil || !strings.HasPrefix(id, "job-") || !strings.HasSuffix(id, "-3") {
		t.Errorf("generated id %q (%v)", id, err)
	}
}

func mkdir(root, name string) error { return os.MkdirAll(filepath.Join(root, name), 0o755) }
