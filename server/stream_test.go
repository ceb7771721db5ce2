package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/asrkit/asrkit/api"
	"github.com/asrkit/asrkit/asr"
	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/internal/testutil"
	"github.com/asrkit/asrkit/server"
)

var update = flag.Bool("update", false, "rewrite the recorded Vosk session's server replies")

// pcm16 decodes audio and returns it as little-endian 16-bit PCM.
func pcm16(t *testing.T, audio []byte) []byte {
	t.Helper()
	a, err := features.Decode(bytes.NewReader(audio))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 2*len(a.Samples))
	for i, x := range a.Samples {
		v := math.Round(float64(x) * 32767)
		binary.LittleEndian.PutUint16(out[2*i:], uint16(int16(max(-32768, min(32767, v)))))
	}
	return out
}

// dialStream opens a raw WebSocket.
func dialStream(ctx context.Context, url string, header map[string][]string) (*websocket.Conn, error) {
	url = "ws" + strings.TrimPrefix(url, "http")
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
	return conn, err
}

// sessionAudio is the audio of the recorded session: two clips of
// testdata at 22,050 Hz with a second of silence between them, so that the
// session has an endpoint in the middle.
func sessionAudio(t *testing.T) []byte {
	t.Helper()
	a := pcm16(t, readFile(t, "ljspeech", "wavs", "LJ001-0002.wav"))
	b := pcm16(t, readFile(t, "ljspeech", "wavs", "LJ001-0008.wav"))
	return append(append(a, make([]byte, 2*22050)...), b...)
}

// sessionLine is one message of testdata/vosk/session.jsonl: what a Vosk
// client sent (Text, or Binary bytes of the session audio with their
// SHA-256), or what the server answered (Recv).
type sessionLine struct {
	Text   string          `json:"text,omitempty"`
	Binary int             `json:"binary,omitempty"`
	SHA256 string          `json:"sha256,omitempty"`
	Recv   json.RawMessage `json:"recv,omitempty"`
}

// TestVoskSession replays a recorded session of a Vosk client (the
// messages vosk-server's websocket test client sends: a config with its
// odd spacing, 0.2 s chunks of PCM, {"eof" : 1}) and compares every reply
// with the recording: one reply per chunk, {"partial"} or {"text",
// "result"}, the final result after eof, then a normal close. The final
// texts, joined, equal Transcribe of the same audio. -update records the
// replies anew.
func TestVoskSession(t *testing.T) {
	_, ts, _ := newServer(t, nil)
	ctx := context.Background()
	audio := sessionAudio(t)
	path := filepath.Join(testutil.Root(t), "testdata", "vosk", "session.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var script []sessionLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l sessionLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		script = append(script, l)
	}
	f.Close()

	conn, err := dialStream(ctx, ts.URL+"/v1/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	var recorded []sessionLine
	var finals []string
	pos, chunks, partials := 0, 0, 0
	for i, l := range script {
		switch {
		case l.Text != "":
			if err := conn.Write(ctx, websocket.MessageText, []byte(l.Text)); err != nil {
				t.Fatal(err)
			}
		case l.Binary > 0:
			chunk := audio[pos : pos+l.Binary]
			pos += l.Binary
			if sum := sha256.Sum256(chunk); hex.EncodeToString(sum[:]) != l.SHA256 {
				t.Fatalf("line %d: the session audio differs from the recording", i+1)
			}
			if err := conn.Write(ctx, websocket.MessageBinary, chunk); err != nil {
				t.Fatal(err)
			}
			chunks++
		default:
			typ, got, err := conn.Read(ctx)
			if err != nil || typ != websocket.MessageText {
				t.Fatalf("line %d: reading the reply: %v", i+1, err)
			}
			var m api.StreamMessage
			if err := json.Unmarshal(got, &m); err != nil {
				t.Fatalf("line %d: %q: %v", i+1, got, err)
			}
			switch {
			case m.IsFinal():
				finals = append(finals, *m.Text)
			case m.Partial != nil:
				partials++
			default:
				t.Errorf("line %d: reply %s is neither partial nor final", i+1, got)
			}
			got = bytes.TrimSpace(got)
			if !*update && !bytes.Equal(got, l.Recv) {
				t.Errorf("line %d: reply\n  %s\nwant\n  %s", i+1, got, l.Recv)
			}
			l.Recv = got
		}
		recorded = append(recorded, l)
	}
	if pos != len(audio) {
		t.Fatalf("the recording sends %d of the %d bytes of audio", pos, len(audio))
	}
	if _, _, err := conn.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("after the final result: %v, want a normal close", err)
	}
	if *update {
		var b bytes.Buffer
		for _, l := range recorded {
			j, _ := json.Marshal(l)
			b.Write(append(j, '\n'))
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if partials == 0 || len(finals) < 2 {
		t.Errorf("%d chunks gave %d partials and %d finals (want an endpoint between the clips)", chunks, partials, len(finals))
	}
	// The server's streams look for pauses every PartialInterval (its
	// default here): the library stream and Transcribe below do too.
	rec, err := asr.Load(testModel(t), &asr.Options{Backend: "go", EndpointInterval: server.DefaultPartialInterval})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	samples := make([]float32, len(audio)/2)
	for i := range samples {
		samples[i] = float32(int16(binary.LittleEndian.Uint16(audio[2*i:]))) / 32768
	}
	got := strings.Join(nonEmpty(finals), " ")
	// The server relays the library's stream: the same calls on an
	// asr.Stream give the same final text.
	st := rec.NewStream()
	var lib []string
	step, sinceP := 4410, 0
	for pos := 0; pos < len(samples); pos += step {
		if err := st.AcceptWaveform(ctx, 22050, samples[pos:min(pos+step, len(samples))]); err != nil {
			t.Fatal(err)
		}
		if sinceP += step; sinceP >= 11025 { // every 0.5 s
			if _, err := st.Partial(ctx); err != nil {
				t.Fatal(err)
			}
			sinceP = 0
		}
		if res, ok := st.Endpoint(); ok && len(res.Words) > 0 {
			lib = append(lib, res.Text)
			sinceP = 11025
		}
	}
	res, err := st.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(nonEmpty(append(lib, res.Text)), " "); got != want {
		t.Errorf("the session's final text %q differs from the library stream's %q", got, want)
	}
	// And the library's stream gives what Transcribe gives. (Issue 10,
	// defect 1: before its fix a Partial changed what Finish returns.)
	want, err := rec.Transcribe(ctx, samples, 22050)
	if err != nil {
		t.Fatal(err)
	}
	if got != want.Text {
		t.Errorf("the stream's final text %q differs from Transcribe's %q", got, want.Text)
	}
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// TestRecordVoskSession writes the client side of testdata/vosk/session.jsonl
// (the replies are then filled by TestVoskSession -update). It only runs
// with -update and an empty recording.
func TestRecordVoskSession(t *testing.T) {
	path := filepath.Join(testutil.Root(t), "testdata", "vosk", "session.jsonl")
	if !*update {
		t.Skip("records the client side of the Vosk session with -update")
	}
	if _, err := os.Stat(path); err == nil {
		t.Skip("the recording exists")
	}
	audio := sessionAudio(t)
	var b bytes.Buffer
	add := func(l sessionLine) {
		j, _ := json.Marshal(l)
		b.Write(append(j, '\n'))
	}
	add(sessionLine{Text: `{ "config" : { "sample_rate" : 22050 } }`})
	const chunk = 2 * 4410 // 0.2 s, as the Vosk test client sends
	for pos := 0; pos < len(audio); pos += chunk {
		c := audio[pos:min(pos+chunk, len(audio))]
		sum := sha256.Sum256(c)
		add(sessionLine{Binary: len(c), SHA256: hex.EncodeToString(sum[:])})
		add(sessionLine{Recv: json.RawMessage(`{}`)})
	}
	add(sessionLine{Text: `{"eof" : 1}`})
	add(sessionLine{Recv: json.RawMessage(`{}`)})
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestStreamErrors checks the refusals: before the upgrade (bad options,
// a foreign origin, too many sessions) an HTTP status; after it, an
// {"error"} message and a close with a reason.
func TestStreamErrors(t *testing.T) {
	_, ts, c := newServer(t, nil)
	ctx := context.Background()
	for _, m := range []struct {
		msgs [][]byte // text messages, or binary ones when they start with 0
		want string
	}{
		{[][]byte{[]byte("hello")}, "must be a JSON object"},
		{[][]byte{[]byte(`{"config": {"sample_rate": 5}}`)}, "sample_rate 5"},
		{[][]byte{[]byte(`{"config": {"sample_rate": 16000.5}}`)}, "whole number"},
		{[][]byte{[]byte(`{"reset": 1}`)}, "unknown message"},
		{[][]byte{{0, 0, 0, 0}, []byte(`{"config": {"sample_rate": 8000}}`)}, "cannot change"},
	} {
		conn, err := dialStream(ctx, ts.URL+"/v1/stream", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range m.msgs {
			typ := websocket.MessageText
			if msg[0] == 0 {
				typ = websocket.MessageBinary
			}
			conn.Write(ctx, typ, msg)
			if typ == websocket.MessageBinary {
				conn.Read(ctx) // its reply
			}
		}
		_, b, err := conn.Read(ctx)
		var reply api.StreamMessage
		if err != nil || json.Unmarshal(b, &reply) != nil || !strings.Contains(reply.Error, m.want) {
			t.Errorf("%q: reply %q (%v), want an error with %q", m.msgs, b, err, m.want)
		}
		if _, _, err := conn.Read(ctx); websocket.CloseStatus(err) != websocket.StatusUnsupportedData {
			t.Errorf("%q: %v, want a close with status 1003", m.msgs, err)
		}
		conn.CloseNow()
	}

	if _, err := c.Stream(ctx, 16000, api.TranscribeOptions{Beam: ptr(-1)}); statusOf(err) != 400 {
		t.Errorf("a bad beam: %v, want 400", err)
	}
	if _, err := dialStream(ctx, ts.URL+"/v1/stream", map[string][]string{"Origin": {"https://evil.example"}}); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("a foreign origin: %v, want 403", err)
	}
	_, _, one := newServer(t, func(cfg *server.Config) { cfg.MaxStreams = 1 })
	st, err := one.Stream(ctx, 16000, api.TranscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := one.Stream(ctx, 16000, api.TranscribeOptions{}); statusOf(err) != 503 {
		t.Errorf("a stream over the limit: %v, want 503", err)
	}
	st.Close()
}

// TestStreamClient streams with the Go client and checks the messages.
func TestStreamClient(t *testing.T) {
	_, _, c := newServer(t, nil)
	ctx := context.Background()
	pcm := pcm16(t, readFile(t, "ljspeech", "wavs", "LJ001-0002.wav"))
	st, err := c.Stream(ctx, 22050, api.TranscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for pos := 0; pos < len(pcm); pos += 3001 { // odd sizes split samples
		if err := st.Send(ctx, pcm[pos:min(pos+3001, len(pcm))]); err != nil {
			t.Fatal(err)
		}
		if m, err := st.Recv(ctx); err != nil || (m.Partial == nil && m.Text == nil) {
			t.Fatalf("reply: %v %+v", err, m)
		}
	}
	final, err := st.Finish(ctx)
	if err != nil || final.Text == nil || *final.Text != "in being comparatively modern" || len(final.Result) != 4 {
		t.Fatalf("final: %v %+v", err, final)
	}
	if w := final.Result[3]; w.Word != "modern" || !(w.Start < w.End) || w.End > 1.9 || w.Conf <= 0 {
		t.Errorf("last word %+v", w)
	}
}
