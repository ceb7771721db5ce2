package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/asrkit/asrkit/internal/testutil"
)

// TestDocsReferences checks the user documentation against the
// repository: every relative link and every Markdown file it names exists
// (docs/architecture.md once cited a design file the repository does not
// have), and every `go build` of the command names its output with -o (a
// plain `go build ./cmd/asr` fails in the repository root, where asr/ is a
// folder, and the README showed it).
func TestDocsReferences(t *testing.T) {
	root := testutil.Root(t)
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	docs = append(docs, filepath.Join(root, "README.md"))
	link := regexp.MustCompile(`\]\(([^)#\s]+)[^)]*\)`)
	mdName := regexp.MustCompile("[A-Za-z0-9_./-]+\\.md\\b")
	build := regexp.MustCompile(`go build[^` + "`" + `\n]*\./cmd/asr`)
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		name, _ := filepath.Rel(root, doc)
		exists := func(ref string) bool {
			for _, base := range []string{filepath.Dir(doc), root} {
				if _, err := os.Stat(filepath.Join(base, filepath.FromSlash(ref))); err == nil {
					return true
				}
			}
			return false
		}
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			if ref := m[1]; !strings.Contains(ref, "://") && !exists(ref) {
				t.Errorf("%s links to %s, which does not exist", name, ref)
			}
		}
		for _, ref := range mdName.FindAllString(text, -1) {
			if !exists(ref) {
				t.Errorf("%s names %s, which the repository does not have", name, ref)
			}
		}
		for _, cmd := range build.FindAllString(text, -1) {
			if !strings.Contains(cmd, "-o ") {
				t.Errorf("%s shows %q, which fails in the repository root: name the output with -o", name, cmd)
			}
		}
	}
}
