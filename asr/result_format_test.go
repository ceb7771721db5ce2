package asr

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// sampleResult has two sentences separated by a pause, the first longer
// than one caption line.
func sampleResult() Result {
	words := []Word{
		{"printing", ms(120), ms(600), 0.91}, {"in", ms(680), ms(760), 0.99}, {"the", ms(800), ms(880), 0.98},
		{"only", ms(920), ms(1200), 0.95}, {"sense", ms(1240), ms(1600), 0.9}, {"with", ms(1640), ms(1800), 0.97},
		{"which", ms(1840), ms(2040), 0.93}, {"we", ms(2080), ms(2160), 0.99}, {"are", ms(2200), ms(2320), 0.9},
		{"differs", ms(3400), ms(3880), 0.8}, {"from", ms(3920), ms(4100), 0.96}, {"most", ms(4160), ms(4440), 0.85},
	}
	return newResult(words, ms(4800))
}

func TestResultJSON(t *testing.T) {
	r := sampleResult()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"text":"printing in the only sense with which we are differs from most","duration":4.8,"words":[{"word":"printing","start":0.12,"end":0.6,"confidence":0.91},{"word":"in","start":0.68,"end":0.76,"confidence":0.99}`
	if !strings.HasPrefix(string(b), want) {
		t.Errorf("JSON\n got %s\nwant prefix %s", b, want)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, r)
	}
	empty, _ := json.Marshal(Result{})
	if string(empty) != `{"text":"","duration":0,"words":[]}` {
		t.Errorf("empty result: %s", empty)
	}
}

func TestSubtitles(t *testing.T) {
	r := sampleResult()
	var srt, vtt strings.Builder
	if err := r.WriteSRT(&srt); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteVTT(&vtt); err != nil {
		t.Fatal(err)
	}
	wantSRT := "1\n00:00:00,120 --> 00:00:02,320\nprinting in the only\nsense with which we are\n\n" +
		"2\n00:00:03,400 --> 00:00:04,440\ndiffers from most\n\n"
	if srt.String() != wantSRT {
		t.Errorf("SRT\n got %q\nwant %q", srt.String(), wantSRT)
	}
	wantVTT := "WEBVTT\n\n00:00:00.120 --> 00:00:02.320\nprinting in the only\nsense with which we are\n\n" +
		"00:00:03.400 --> 00:00:04.440\ndiffers from most\n\n"
	if vtt.String() != wantVTT {
		t.Errorf("VTT\n got %q\nwant %q", vtt.String(), wantVTT)
	}
	if got := clock(3*time.Hour+25*time.Minute+7*time.Second+89*time.Millisecond, ','); got != "03:25:07,089" {
		t.Errorf("clock: %s", got)
	}
}

// TestCaptionLimits: long speech without pauses is split by length and
// by time.
func TestCaptionLimits(t *testing.T) {
	var words []Word
	for i := range 60 {
		words = append(words, Word{Text: "word", Start: ms(300 * i), End: ms(300*i + 200)})
	}
	caps := newResult(words, ms(18000)).Captions()
	n := 0
	for _, c := range caps {
		n += len(strings.Fields(c.Text))
		if len(c.Text) > captionMaxChars || c.End-c.Start > captionMaxTime {
			t.Errorf("caption %+v too long", c)
		}
	}
	if n != 60 || len(caps) < 4 {
		t.Errorf("%d captions holding %d words", len(caps), n)
	}
}
