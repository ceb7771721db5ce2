package asr

import (
	gocontext "context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/internal/testutil"
)

// TestWithDecoding checks that a decoding variant decodes exactly as a
// Recognizer loaded with the same options, starting from the base's
// decoder, and that it stops working when its base is closed.
func TestWithDecoding(t *testing.T) {
	runDir, _ := randomModel(t, "tiny", 5, false)
	arpa := filepath.Join(t.TempDir(), "lm.arpa")
	if err := os.WriteFile(arpa, []byte("\\data\\\nngram 1=4\n\n\\1-grams:\n-0.5\t<s>\n-0.5\t</s>\n-0.5\t<unk>\n-0.5\tthe\n\n\\end\\\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "with-lm")
	if _, err := checkpoint.Export(runDir, dir, checkpoint.ExportOptions{LM: arpa, Beam: 6, LMWeight: 0.7, WordBonus: 1.5}); err != nil {
		t.Fatal(err)
	}
	base, err := Load(dir, WithBackend("go"))
	if err != nil {
		t.Fatal(err)
	}
	x := clip16k(t, testutil.LJSpeechClips(t)[1])
	ctx := gocontext.Background()
	for _, c := range []struct {
		opts []Option
		info string
	}{
		{nil, "beam(width=6), lm order 1 weight 0.7"},
		{[]Option{WithBeam(3)}, "beam(width=3), lm order 1 weight 0.7"},
		{[]Option{WithoutLM()}, "greedy"},
		{[]Option{WithoutLM(), WithBeam(4)}, "beam(width=4)"},
		{[]Option{WithLMWeights(0.2, 1)}, "beam(width=6), lm order 1 weight 0.2"},
		{[]Option{WithLM(arpa, 0.3, 0)}, "beam(width=8), lm order 1 weight 0.3"},
	} {
		v, err := base.WithDecoding(c.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if v.Info().Decoder != c.info {
			t.Errorf("%d options: decoder %q, want %q", len(c.opts), v.Info().Decoder, c.info)
		}
		want, err := Load(dir, append([]Option{WithBackend("go")}, c.opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Transcribe(ctx, x, 16000)
		if err != nil {
			t.Fatal(err)
		}
		w, err := want.Transcribe(ctx, x, 16000)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: variant %q, loaded %q", c.info, got.Text, w.Text)
		}
		v.Close() // does nothing to the base
		want.Close()
	}

	greedy, err := base.WithDecoding(WithoutLM())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := greedy.WithDecoding(WithLMWeights(0.5, 0)); err == nil {
		t.Error("an LM weight for a decoder without an LM was accepted")
	}
	if _, err := base.WithDecoding(WithBackend("go")); err == nil {
		t.Error("WithBackend was accepted")
	}
	base.Close()
	if _, err := greedy.Transcribe(ctx, x, 16000); !errors.Is(err, ErrClosed) {
		t.Errorf("variant of a closed recognizer: %v, want ErrClosed", err)
	}
	if _, err := base.WithDecoding(); !errors.Is(err, ErrClosed) {
		t.Errorf("WithDecoding of a closed recognizer: %v", err)
	}
}
