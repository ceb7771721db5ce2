// Package strictyaml decodes YAML into Go structs strictly: unknown keys,
// duplicate keys, wrong types, fractional numbers for integers and
// out-of-range values are all errors, each reported with file:line:column and
// the full key path (for example "config.yaml:12:3: train.steps: expected an
// integer, got 1.5"). Every problem in the document is reported at once,
// joined with errors.Join.
//
// Struct fields are matched by their `yaml:"name"` tag (fields without a tag
// are not settable from YAML; a tag of "-" hides a field). Supported kinds:
// structs, pointers, string, bool, all integer and float kinds, time.Duration
// (Go duration strings such as "90s" or "1h30m"), slices and maps with string
// keys. A key that is absent leaves the field unchanged, so callers decode
// over a value that already holds the defaults, or leave zero values that
// mean "default".
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Error is one problem in a YAML document.
type Error struct {
	File   string // file name as given to Decode
	Line   int    // 1-based line, 0 when unknown
	Column int    // 1-based column, 0 when unknown
	Path   string // dotted key path, e.g. "train.learning_rate"
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", e.Line, e.Column)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

var durationType = reflect.TypeFor[time.Duration]()

// Decode parses data and stores it into out, which must be a non-nil pointer
// to a struct. file names the source in error messages. An empty document
// leaves out unchanged.
func Decode(data []byte, file string, out any) error {
	return decode(data, file, out, false)
}

// DecodeSections is Decode for a reader of some sections of a document
// that other readers share: keys at the top level that out does not have
// are ignored (they are the other readers' sections); within the sections
// it reads, decoding is as strict as Decode's.
func DecodeSections(data []byte, file string, out any) error {
	return decode(data, file, out, true)
}

func decode(data []byte, file string, out any, sections bool) error {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("strictyaml: Decode needs a non-nil pointer, got %T", out)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return syntaxError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return &Error{File: file, Line: extra.Line, Column: extra.Column, Msg: "more than one YAML document; a config holds exactly one"}
	}
	d := &decoder{file: file, sections: sections}
	node := &doc
	if node.Kind == yaml.DocumentNode {
		if len(node.Content) == 0 {
			return nil
		}
		node = node.Content[0]
	}
	d.value(node, rv.Elem(), "")
	return errors.Join(d.errs...)
}

// syntaxError turns a yaml.v3 parse error ("yaml: line 3: ...") into an Error.
func syntaxError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if n, perr := strconv.Atoi(rest[:i]); perr == nil {
				line = n
				msg = strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return &Error{File: file, Line: line, Column: 1, Msg: "invalid YAML: " + msg}
}

type decoder struct {
	file     string
	errs     []error
	sections bool // ignore unknown top-level keys
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		// An explicit null resets the field to its zero value ("default").
		v.Set(reflect.Zero(v.Type()))
		return
	}
	if v.Type() == durationType {
		d.duration(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), path)
	case reflect.Struct:
		d.structValue(n, v, path)
	case reflect.Map:
		d.mapValue(n, v, path)
	case reflect.Slice:
		d.sliceValue(n, v, path)
	case reflect.String:
		if !d.scalar(n, path, "a string") {
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if !d.scalar(n, path, "true or false") {
			return
		}
		switch n.Tag {
		case "!!bool":
			b, _ := strconv.ParseBool(strings.ToLower(n.Value))
			v.SetBool(b)
		default:
			d.fail(n, path, "expected true or false, got %q", n.Value)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !d.scalar(n, path, "an integer") {
			return
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if n.Tag != "!!int" || err != nil {
			d.fail(n, path, "expected an integer, got %q", n.Value)
			return
		}
		if v.OverflowInt(i) {
			d.fail(n, path, "%d is out of range", i)
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if !d.scalar(n, path, "a non-negative integer") {
			return
		}
		u, err := strconv.ParseUint(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if n.Tag != "!!int" || err != nil {
			d.fail(n, path, "expected a non-negative integer, got %q", n.Value)
			return
		}
		if v.OverflowUint(u) {
			d.fail(n, path, "%d is out of range", u)
			return
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		if !d.scalar(n, path, "a number") {
			return
		}
		if n.Tag != "!!int" && n.Tag != "!!float" {
			d.fail(n, path, "expected a number, got %q", n.Value)
			return
		}
		var f float64
		if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail(n, path, "expected a finite number, got %q", n.Value)
			return
		}
		if v.OverflowFloat(f) {
			d.fail(n, path, "%v is out of range", f)
			return
		}
		v.SetFloat(f)
	default:
		d.fail(n, path, "unsupported field type %s", v.Type())
	}
}

func (d *decoder) scalar(n *yaml.Node, path, want string) bool {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "expected %s, got %s", want, kindName(n))
		return false
	}
	return true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if !d.scalar(n, path, "a duration such as \"90s\"") {
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.fail(n, path, "expected a duration such as \"90s\" or \"1h30m\", got %q", n.Value)
		return
	}
	v.SetInt(int64(dur))
}

// fieldsOf maps YAML names to struct field indexes.
func fieldsOf(t reflect.Type) (map[string][]int, []string) {
	m := map[string][]int{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct {
			sub, subNames := fieldsOf(f.Type)
			for k, idx := range sub {
				m[k] = append([]int{i}, idx...)
			}
			names = append(names, subNames...)
			continue
		}
		if name == "" {
			continue
		}
		m[name] = []int{i}
		names = append(names, name)
	}
	sort.Strings(names)
	return m, names
}

func (d *decoder) structValue(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping of keys, got %s", kindName(n))
		return
	}
	fields, names := fieldsOf(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		p := join(path, key)
		if line, dup := seen[key]; dup {
			d.fail(k, p, "duplicate key (first set on line %d)", line)
			continue
		}
		seen[key] = k.Line
		idx, ok := fields[key]
		if !ok && d.sections && path == "" {
			continue
		}
		if !ok {
			msg := "unknown key"
			if s := suggest(key, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else if len(names) > 0 {
				msg += fmt.Sprintf(" (known keys: %s)", strings.Join(names, ", "))
			}
			d.fail(k, p, "%s", msg)
			continue
		}
		d.value(val, v.FieldByIndex(idx), p)
	}
}

func (d *decoder) mapValue(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping, got %s", kindName(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		d.fail(n, path, "unsupported map key type %s", v.Type().Key())
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		p := join(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			d.fail(k, p, "duplicate key (first set on line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		elem := reflect.New(v.Type().Elem()).Elem()
		d.value(val, elem, p)
		v.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), elem)
	}
}

func (d *decoder) sliceValue(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "expected a list, got %s", kindName(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.value(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

// suggest returns the known name closest to key when it is a likely typo.
func suggest(key string, names []string) string {
	best, bestD := "", 1<<30
	for _, n := range names {
		if dist := editDistance(key, n); dist < bestD {
			best, bestD = n, dist
		}
	}
	if bestD <= 2 || (bestD <= len(key)/3 && bestD < len(key)) {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
