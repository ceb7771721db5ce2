package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
)

// entries returns the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.txt")
	if err := WriteFile(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Fatalf("content %q", b)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	// Replacing keeps the existing file's permissions.
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Fatalf("content %q", b)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o640 {
		t.Errorf("mode after replacing %v, want the old 0640", st.Mode().Perm())
	}
	if got := entries(t, dir); len(got) != 1 {
		t.Errorf("folder holds %v, want only out.txt", got)
	}
}

func TestWriteFailureKeepsTheOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.txt")
	if err := WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(p, 0o644, func(w io.Writer) error {
		io.WriteString(w, "half of the new")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v, want the writer's error", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("content after a failed write %q, want the old one", b)
	}
	if got := entries(t, dir); len(got) != 1 {
		t.Errorf("folder holds %v: the temporary file was left behind", got)
	}
}

func TestWriteRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "folder")
	os.Mkdir(sub, 0o755)
	cases := map[string]string{"folder": sub}
	if runtime.GOOS != "windows" {
		fifo := filepath.Join(dir, "fifo")
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Fatal(err)
		}
		cases["named pipe"] = fifo
		cases["device"] = os.DevNull
	}
	for name, p := range cases {
		before, _ := os.Lstat(p)
		err := WriteFile(p, []byte("x"), 0o644)
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("%s: WriteFile = %v, want ErrNotRegular", name, err)
		}
		after, _ := os.Lstat(p)
		if before.Mode() != after.Mode() {
			t.Errorf("%s: replaced (%v → %v)", name, before.Mode(), after.Mode())
		}
	}
}

func TestWriteFollowsSymlinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.txt")
	link := filepath.Join(dir, "link.txt")
	os.WriteFile(target, []byte("old"), 0o644)
	if err := os.Symlink("target.txt", link); err != nil {
		t.Skip("no symbolic links:", err)
	}
	if err := WriteFile(link, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Lstat(link); st.Mode()&fs.ModeSymlink == 0 {
		t.Error("the link was replaced by a file")
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("target holds %q", b)
	}
	// A dangling link: the file it names is created.
	dangling := filepath.Join(dir, "dangling")
	os.Symlink("made.txt", dangling)
	if err := WriteFile(dangling, []byte("made"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "made.txt")); string(b) != "made" {
		t.Errorf("dangling link's target holds %q", b)
	}
}

func TestWriteDir(t *testing.T) {
	parent := t.TempDir()
	p := filepath.Join(parent, "step-000000001")
	fill := func(content string) func(string) error {
		return func(tmp string) error {
			if err := os.WriteFile(filepath.Join(tmp, "a"), []byte(content), 0o644); err != nil {
				return err
			}
			os.Mkdir(filepath.Join(tmp, "sub"), 0o755)
			return os.WriteFile(filepath.Join(tmp, "sub", "b"), []byte(content), 0o644)
		}
	}
	if err := WriteDir(p, DirOptions{}, fill("one")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(p, "sub", "b")); string(b) != "one" {
		t.Fatalf("content %q", b)
	}
	if err := WriteDir(p, DirOptions{}, fill("two")); !errors.Is(err, fs.ErrExist) {
		t.Errorf("WriteDir over an existing folder without Replace = %v, want fs.ErrExist", err)
	}
	swapped := false
	if err := WriteDir(p, DirOptions{Replace: true, BeforeSwap: func() { swapped = true }}, fill("two")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(p, "a")); string(b) != "two" || !swapped {
		t.Errorf("after replacing: content %q, BeforeSwap called %v", b, swapped)
	}
	boom := errors.New("boom")
	if err := WriteDir(p, DirOptions{Replace: true}, func(string) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("WriteDir with a failing fill = %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(p, "a")); string(b) != "two" {
		t.Errorf("a failed replacement changed the folder: %q", b)
	}
	if got := entries(t, parent); len(got) != 1 {
		t.Errorf("parent holds %v: temporary folders were left behind", got)
	}
	file := filepath.Join(parent, "file")
	os.WriteFile(file, nil, 0o644)
	if err := WriteDir(file, DirOptions{Replace: true}, fill("x")); !errors.Is(err, ErrNotRegular) {
		t.Errorf("WriteDir over a file = %v, want ErrNotRegular", err)
	}
}

func TestTempOf(t *testing.T) {
	for _, tc := range []struct {
		name, target string
		ok           bool
	}{
		{".tmp-step-000000100-12345", "step-000000100", true},
		{".old-step-000000100-99", "step-000000100", true},
		{".tmp-out.txt-abc", "out.txt", true},
		{"step-000000100", "", false},
		{".tmp-", "", false},
		{".tmp-x", "", false},
		{".oldish-x-1", "", false},
	} {
		target, ok := TempOf(tc.name)
		if target != tc.target || ok != tc.ok {
			t.Errorf("TempOf(%q) = %q, %v; want %q, %v", tc.name, target, ok, tc.target, tc.ok)
		}
	}
	// The names Write and WriteDir really use are recognised.
	dir := t.TempDir()
	var seen []string
	WriteDir(filepath.Join(dir, "d"), DirOptions{}, func(tmp string) error {
		seen = append(seen, filepath.Base(tmp))
		return errors.New("stop")
	})
	Write(filepath.Join(dir, "f.txt"), 0o644, func(w io.Writer) error {
		seen = append(seen, filepath.Base(w.(*os.File).Name()))
		return errors.New("stop")
	})
	for i, want := range []string{"d", "f.txt"} {
		if got, ok := TempOf(seen[i]); !ok || got != want {
			t.Errorf("TempOf(%q) = %q, %v; want %q", seen[i], got, ok, want)
		}
	}
}
