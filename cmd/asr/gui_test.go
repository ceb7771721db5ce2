package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"

	"github.com/asrkit/asrkit/internal/testutil"
	"github.com/asrkit/asrkit/server"
	"github.com/asrkit/asrkit/web"
)

var guiShots = flag.String("screenshots", "", "write the web interface test's screenshots to this `folder` (docs/images: go test ./cmd/asr -run TestGUI -screenshots $PWD/docs/images)")

// guiToken is the API token of the browser test: the pages must ask for it.
const guiToken = "gui-test-token"

// guiDataRoot is serveRoots' data root with two more corpora for the data
// check: an LJSpeech-format folder, and a manifest mixing both with
// invalid rows.
func guiDataRoot(t *testing.T) (data, ckpt string) {
	data, ckpt = serveRoots(t)
	lj := filepath.Join(data, "lj")
	os.MkdirAll(lj, 0o755)
	meta, err := os.ReadFile(testutil.Path(t, "ljspeech", "metadata.csv"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(lj, "metadata.csv"), meta, 0o644)
	if err := os.Symlink(testutil.Path(t, "ljspeech", "wavs"), filepath.Join(lj, "wavs")); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(strings.TrimSpace(string(meta)), "\n") {
		f := strings.Split(line, "|")
		rows = append(rows, fmt.Sprintf(`{"id": %q, "audio_filepath": %q, "text": %q, "corpus": "ljspeech"}`,
			f[0], testutil.Path(t, "ljspeech", "wavs", f[0]+".wav"), f[2]))
	}
	train, _ := os.ReadFile(filepath.Join(data, "tiny", "train.jsonl"))
	rows = append(rows, strings.Split(strings.TrimSpace(string(train)), "\n")...)
	rows = append(rows,
		`{"id": "gone", "audio_filepath": "missing.wav", "text": "lost words"}`,
		fmt.Sprintf(`{"id": "silent", "audio_filepath": %q, "text": ""}`, testutil.Path(t, "corpus", "wavs", "SYN-0003.wav")))
	os.MkdirAll(filepath.Join(data, "mixed"), 0o755)
	os.WriteFile(filepath.Join(data, "mixed", "all.jsonl"), []byte(strings.Join(rows, "\n")+"\n"), 0o644)
	return data, ckpt
}

// page drives one browser tab.
type page struct {
	t   *testing.T
	ctx context.Context

	mu      sync.Mutex
	console []string
}

// newPage starts a headless Chromium (a fresh profile, no network of its
// own, the fake microphone playing fakeAudio) and watches its console.
func newPage(t *testing.T, chromium, fakeAudio string) *page {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-audio-capture", fakeAudio+"%noloop"),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	p := &page{t: t, ctx: ctx}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == "error" || m.IsException() || m.Type == "warning" {
				p.mu.Lock()
				p.console = append(p.console, m.String())
				p.mu.Unlock()
			}
		}
	}()
	return p
}

// do runs steps, failing the test on an error.
func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.fail("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) and decodes
// its value into a Go value.
func (p *page) eval(expr string) any {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, time.Minute)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.fail("evaluating %s: %v", expr, err)
	}
	var v any
	if len(raw) > 0 {
		json.Unmarshal(raw, &v)
	}
	return v
}

// wait polls expr until its value is truthy, and returns it.
func (p *page) wait(what, expr string, timeout time.Duration) any {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	var last any
	for {
		last = p.eval(expr)
		switch v := last.(type) {
		case nil:
		case bool:
			if v {
				return v
			}
		case float64:
			if v != 0 {
				return v
			}
		case string:
			if v != "" {
				return v
			}
		default:
			return v
		}
		if time.Now().After(deadline) {
			p.fail("gave up waiting %s for %s (last value %v)", timeout, what, last)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

func (p *page) text(sel string) string {
	p.t.Helper()
	s, _ := p.eval(fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel)).(string)
	return strings.TrimSpace(s)
}

// set sets a form field's value as a user would, with its input and change
// events.
func (p *page) set(id, value string) {
	p.t.Helper()
	p.eval(fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.value = %q;
		e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); return e.value })()`, id, value))
}

func (p *page) click(sel string) {
	p.t.Helper()
	p.do("clicking "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// shot saves a screenshot of the whole page as name.png, in -screenshots
// when given.
func (p *page) shot(name string, full bool) {
	p.t.Helper()
	dir := *guiShots
	if dir == "" {
		dir = p.t.TempDir()
	}
	ctx, cancel := context.WithTimeout(p.ctx, time.Minute)
	defer cancel()
	var shot chromedp.Action[[]byte] = chromedp.CaptureScreenshot()
	if full {
		shot = chromedp.FullScreenshot(100)
	}
	b, err := chromedp.Run(ctx, shot)
	if err != nil {
		p.fail("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// fail ends the test with the page's console errors and a screenshot.
func (p *page) fail(format string, args ...any) {
	p.t.Helper()
	p.mu.Lock()
	console := strings.Join(p.console, "\n  ")
	p.mu.Unlock()
	if b, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100)); err == nil {
		f := filepath.Join(os.TempDir(), "asrkit-gui-failure.png")
		os.WriteFile(f, b, 0o644)
		p.t.Logf("the page when it failed: %s", f)
	}
	p.t.Fatalf(format+"\nconsole:\n  %s", append(args, console)...)
}

// consoleErrors are the console's errors and warnings, less the expected
// ones: the first request without the token is answered 401.
func (p *page) consoleErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, m := range p.console {
		if strings.Contains(m, "status of 401") {
			continue
		}
		out = append(out, m)
	}
	return out
}

// TestGUI drives the web interface in Chromium through `asr gui`'s proxy
// to a server that needs a token: the token prompt; two tiny training jobs
// started from the form and from the YAML editor (after an error shown at
// its line), followed on live charts, stopped, resumed, compared and
// exported; a data check; an uploaded WAV transcribed with its
// spectrogram; the fake microphone streamed over /v1/stream, partial then
// final text. It saves a screenshot of each page (-screenshots).
func TestGUI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a browser and training processes")
	}
	chromium := testutil.RequireTool(t, "chromium")
	data, ckpt := guiDataRoot(t)
	srv, err := server.New(server.Config{
		DataRoot: data, CheckpointRoot: ckpt, Model: testutil.Path(t, "models", "tiny-cpu"), Backend: "go",
		Executable: asrWrapper(t), Token: guiToken, MaxJobs: 2, GUI: web.Handler(), ShutdownTimeout: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	apiTS := httptest.NewServer(srv.Handler())
	fe, err := web.NewFrontend(web.FrontendConfig{API: apiTS.URL})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(fe)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		front.Close()
		srv.Shutdown(ctx)
		apiTS.Close()
		srv.Close()
	})
	// asr serve serves the same pages at /.
	for _, base := range []string{apiTS.URL, front.URL} {
		resp, err := http.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Fatalf("GET %s/: %s %v", base, resp.Status, resp.Header)
		}
	}

	p := newPage(t, chromium, testutil.Path(t, "ljspeech", "wavs", "LJ001-0002.wav"))
	const long = 4 * time.Minute

	// The token: asked once, typed and submitted with the keyboard.
	p.do("opening the pages", chromedp.Navigate(front.URL+"/#/training"))
	p.wait("the token dialog", `document.getElementById('token-dialog').open`, 30*time.Second)
	p.do("typing the token", chromedp.SendKeys(chromedp.ID("token-input"), guiToken+"\r"))
	p.wait("the job list", `!document.getElementById('jobs-empty').hidden`, 30*time.Second)
	if got := p.eval(`localStorage.getItem('asrkit.token')`); got != guiToken {
		t.Errorf("stored token %v", got)
	}

	// The form checks its fields before the server does.
	p.click("#new-job-toggle")
	p.wait("the datasets in the form", `[...document.getElementById('f-dataset').options].some(o => o.value === 'tiny/train.jsonl')`, 30*time.Second)
	p.set("f-steps", "")
	p.set("f-name", "bad name")
	p.click("#panel-form button[type=submit]")
	if msg := p.text("#f-steps-msg"); !strings.Contains(msg, "How many steps") {
		t.Errorf("empty steps: message %q", msg)
	}
	if msg := p.text("#f-name-msg"); !strings.Contains(msg, "letters, digits") {
		t.Errorf("bad job name: message %q", msg)
	}
	if focused := p.eval(`document.activeElement.id`); focused != "f-name" {
		t.Errorf("the first bad field is not focused: %v", focused)
	}

	// Job A from the form.
	p.set("f-name", "gui-a")
	p.set("f-dataset", "tiny/train.jsonl")
	if val := p.eval(`document.getElementById('f-val').value`); val != "tiny/val.jsonl" {
		t.Errorf("the validation manifest beside the training one was not suggested: %v", val)
	}
	for id, v := range map[string]string{"f-preset": "tiny", "f-backend": "go", "f-steps": "400", "f-lr": "0.003", "f-eval": "50",
		"f-ckpt": "50", "f-warmup": "10", "f-buckets": "192", "f-frames": "768", "f-log": "5", "f-seed": "1"} {
		p.set(id, v)
	}
	// Job B's config: the form's, as YAML, with an error first.
	p.click("#form-to-yaml")
	yaml, _ := p.eval(`document.getElementById('yaml').value`).(string)
	if !strings.Contains(yaml, "buckets: [192]") || !strings.Contains(yaml, `train: "tiny/train.jsonl"`) {
		t.Fatalf("the form as YAML:\n%s", yaml)
	}
	bad := strings.Replace(yaml, "  steps: 400\n", "  steps: 400\n  stepz: 3\n", 1)
	line := strings.Count(bad[:strings.Index(bad, "stepz")], "\n") + 1
	p.set("y-name", "gui-b")
	p.set("yaml", bad)
	p.click("#yaml-check")
	p.wait("the YAML error at its line", fmt.Sprintf(`[...document.querySelectorAll('#yaml-errors li')].some(li => li.textContent.startsWith('%d:3') && li.textContent.includes('unknown key'))`, line), 30*time.Second)
	if marked := p.text("#gutter .bad"); marked != fmt.Sprint(line) {
		t.Errorf("gutter marks line %q, want %d", marked, line)
	}
	p.shot("training-yaml-error", false)
	p.set("yaml", strings.Replace(yaml, "learning_rate: 0.003", "learning_rate: 0.001", 1))
	p.click("#yaml-start")
	p.wait("job B in the list", `!!document.querySelector('tr[data-job="gui-b"]')`, 30*time.Second)

	// Start job A from the form.
	p.click("#new-job-toggle")
	p.click("#tab-form")
	p.click("#panel-form button[type=submit]")
	p.wait("job A in the list", `!!document.querySelector('tr[data-job="gui-a"]')`, 30*time.Second)
	p.wait("job A selected", `document.getElementById('detail-title').textContent === 'gui-a'`, 30*time.Second)

	// The loss chart gains points as the job trains.
	points := `+document.querySelector('#charts figure[data-key="loss"]').dataset.points`
	n1 := p.wait("the first points of the loss chart", points+` >= 2 && `+points, long).(float64)
	p.wait("more points", fmt.Sprintf(`%s > %v && %s`, points, n1, points), long)
	p.wait("a checkpoint", `document.querySelectorAll('#checkpoints tbody tr').length > 0`, long)

	// Stop, then resume.
	p.click(`tr[data-job="gui-a"] button.danger`)
	p.wait("job A stopped", `document.querySelector('tr[data-job="gui-a"] .badge').textContent === 'stopped'`, long)
	resume := `tr[data-job="gui-a"] .row-actions button:nth-child(2)`
	if got := p.text(resume); got != "Resume" {
		t.Fatalf("the stopped job's button is %q", got)
	}
	var stoppedAt int
	fmt.Sscanf(p.text(`tr[data-job="gui-a"] .progress .small`), "%d", &stoppedAt)
	if stoppedAt < 50 || stoppedAt >= 400 {
		t.Errorf("job A stopped at step %d: want after its first checkpoint (50), before its end (400)", stoppedAt)
	}
	p.click(resume)
	p.wait("job A resumed", `['starting', 'preparing', 'training', 'evaluating', 'finished'].includes(document.querySelector('tr[data-job="gui-a"] .badge').textContent)`, long)

	// While it trains: the data check.
	p.do("opening Data", chromedp.Navigate(front.URL+"/#/data"))
	p.wait("the datasets", `document.querySelectorAll('#d-datasets option').length >= 4`, 30*time.Second)
	p.set("d-dataset", "mixed/all.jsonl")
	p.click("#d-run")
	p.wait("the data report", `!!document.getElementById('data-problems')`, long)
	stats := p.text("#data-summary .stats")
	if !strings.Contains(stats, "14rows read") || !strings.Contains(stats, "12valid utterances") || !strings.Contains(stats, "2invalid") {
		t.Errorf("data summary %q", stats)
	}
	problems := p.text("#data-problems tbody")
	if !strings.Contains(problems, "missing audio") || !strings.Contains(problems, "empty text") {
		t.Errorf("problems %q", problems)
	}
	if bins := p.eval(`+document.getElementById('histogram').dataset.bins`); bins.(float64) < 1 {
		t.Errorf("histogram bins %v", bins)
	}
	if corpora := p.text("#data-sets tbody"); !strings.Contains(corpora, "ljspeech") || !strings.Contains(corpora, "train") {
		t.Errorf("corpora %q", corpora)
	}
	p.shot("data", true)

	// Transcribe an upload.
	p.do("opening Transcribe", chromedp.Navigate(front.URL+"/#/transcribe"))
	p.wait("the model picker", `document.querySelectorAll('#model-select option').length > 0`, 30*time.Second)
	p.do("uploading", chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{testutil.Path(t, "ljspeech", "wavs", "LJ001-0002.wav")}))
	p.wait("the transcript", `document.getElementById('transcript').dataset.state === 'done'`, long)
	if got := p.text("#final-text"); got != "in being comparatively modern" {
		t.Errorf("transcript %q", got)
	}
	p.wait("the spectrogram", `!document.getElementById('spectro').hidden && +document.getElementById('spectro').dataset.columns > 100`, long)
	if n := p.eval(`document.querySelectorAll('#word-lane .lane-word').length`); n != 4.0 {
		t.Errorf("%v words under the spectrogram, want 4", n)
	}
	p.shot("transcribe", true)

	// The microphone: the fake device plays the clip; partials, then the
	// final text when recording stops.
	p.click("#record")
	p.wait("a partial result", `document.getElementById('partial-text').textContent.trim()`, time.Minute)
	p.wait("the clip to be streamed", `parseFloat(document.getElementById('rec-time').textContent) >= 2.5`, time.Minute)
	p.click("#record")
	p.wait("the final result", `document.getElementById('transcript').dataset.state === 'done'`, time.Minute)
	final := p.text("#final-text")
	if final == "" || final == "(no words)" {
		t.Errorf("microphone: final text %q", final)
	}
	if n := p.eval(`document.querySelectorAll('#words .word').length`); n.(float64) < 1 {
		t.Errorf("microphone: %v words", n)
	}
	t.Logf("microphone transcript: %q", final)
	p.shot("transcribe-microphone", true)

	// Back to training: both jobs finish; compare them; export A.
	p.do("opening Training", chromedp.Navigate(front.URL+"/#/training"))
	for _, id := range []string{"gui-a", "gui-b"} {
		p.wait(id+" finished", fmt.Sprintf(`(document.querySelector('tr[data-job="%s"] .badge') || {}).textContent === 'finished'`, id), long)
	}
	p.click(`tr[data-job="gui-a"] .job-name`)
	p.click(`tr[data-job="gui-b"] input[type=checkbox]`)
	p.wait("both runs on the charts", `document.querySelectorAll('#legend > span').length === 2`, 30*time.Second)
	p.wait("the evaluation samples", `document.querySelectorAll('#samples .sample').length > 0`, 30*time.Second)
	p.wait("the best checkpoint", `!!document.querySelector('#checkpoints .best')`, 30*time.Second)
	p.click("#y-log")
	p.click(`tr[data-job="gui-a"] .row-actions button:nth-child(3)`)
	p.wait("the export", `[...document.querySelectorAll('.toast')].some(t => t.textContent.includes('Exported gui-a'))`, long)
	p.click(".toast button")
	p.wait("the exported model served", `document.getElementById('served-model').textContent.includes('gui-a')`, long)
	p.shot("training", true)

	// A phone's screen.
	p.do("emulating a phone", chromedp.Emulate(device.IPhone13), chromedp.Navigate(front.URL+"/#/training"))
	p.wait("the job list on the phone", `document.querySelectorAll('#jobs tbody tr').length === 2 && document.querySelector('#charts figure[data-key="loss"]').dataset.points > 0`, 30*time.Second)
	p.shot("phone-training", false)
	p.do("opening Transcribe on the phone", chromedp.Navigate(front.URL+"/#/transcribe"))
	p.do("uploading on the phone", chromedp.Sleep(500*time.Millisecond), chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{testutil.Path(t, "ljspeech", "wavs", "LJ001-0002.wav")}))
	p.wait("the spectrogram on the phone", `!document.getElementById('spectro').hidden`, long)
	p.shot("phone-transcribe", false)

	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors and warnings:\n  %s", strings.Join(errs, "\n  "))
	}
}
