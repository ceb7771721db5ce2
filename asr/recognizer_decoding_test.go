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
	base, err := Load(dir, &Options{Backend: "go"})
	if err != nil {
		t.Fatal(err)
	}
	x := clip16k(t, testutil.LJSpeechClips(t)[1])
	ctx := gocontext.Background()
	for _, c := range []struct {
		d    DecodingOptions
		info string
	}{
		{DecodingOptions{}, "beam(width=6), lm order 1 weight 0.7"},
		{DecodingOptions{Beam: 3}, "beam(width=3), lm order 1 weight 0.7"},
		{DecodingOptions{NoLM: true}, "greedy"},
		{DecodingOptions{NoLM: true, Beam: 4}, "beam(width=4)"},
		{DecodingOptions{LMWeight: 0.2, WordBonus: 1}, "beam(width=6), lm order 1 weight 0.2"},
		{DecodingOptions{LM: arpa, LMWeight: 0.3}, "beam(width=8), lm order 1 weight 0.3"},
	} {
		v, err := base.WithDecoding(c.d)
		if err != nil {
			t.Fatal(err)
		}
		if v.Info().Decoder != c.info {
			t.Errorf("%+v: decoder %q, want %q", c.d, v.Info().Decoder, c.info)
		}
		want, err := Load(dir, &Options{Backend: "go", Decoding: c.d})
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

	greedy, err := base.WithDecoding(DecodingOptions{NoLM: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := greedy.WithDecoding(DecodingOptions{LMWeight: 0.5}); err == nil {
		t.Error("an LM weight for a decoder without an LM was accepted")
	}
	if _, err := base.WithDecoding(DecodingOptions{Beam: MaxBeam + 1}); !errors.Is(err, ErrOptions) {
		t.Errorf("a beam above MaxBeam: %v, want ErrOptions", err)
	}
	base.Close()
	if _, err := greedy.Transcribe(ctx, x, 16000); !errors.Is(err, ErrClosed) {
		t.Errorf("variant of a closed recognizer: %v, want ErrClosed", err)
	}
	if _, err := base.WithDecoding(DecodingOptions{}); !errors.Is(err, ErrClosed) {
		t.Errorf("WithDecoding of a closed recognizer: %v", err)
	}
}
