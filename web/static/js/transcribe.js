// The Transcribe page: an uploaded file (POST /v1/transcribe) or the
// microphone (an AudioWorklet's PCM16 over the Vosk protocol of
// /v1/stream), the words with their times and confidence, the log-mel
// spectrogram with the words under it, and the model picker.
import { json, request, wsURL } from './api.js';
import { h, $, duration, pct, toast, setFieldError, shortName } from './util.js';
import { drawSpectrogram, drawWords, shade } from './spectrogram.js';
import { loadModel } from './training.js';

let objectURL = '';
let rec = null; // the recording in progress
let current = null; // {blob, name, words, duration}

export function init() {
  const zone = $('#dropzone');
  const file = $('#file');
  file.addEventListener('change', () => {
    if (file.files.length) upload(file.files[0]);
    file.value = '';
  });
  $('#file-label').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); file.click(); }
  });
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const f = e.dataTransfer.files[0];
    if (f) upload(f);
  });
  // Dropping a file anywhere else must not navigate away from the page.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  $('#record').addEventListener('click', () => (rec ? stopRecording() : startRecording()));
  $('#model-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = $('#model-select').value;
    if (v) await loadModel(v);
  });
  $('#beam').addEventListener('input', () => validBeam());
  document.addEventListener('asr-model-changed', loadModels);
}

export function show() { loadModels(); }
export function hide() { /* a recording goes on in the background */ }

function validBeam() {
  const b = $('#beam');
  const v = b.value.trim();
  const ok = v === '' || (Number.isInteger(Number(v)) && Number(v) >= 1 && Number(v) <= 64);
  setFieldError(b, ok ? null : 'A whole number from 1 to 64.');
  return ok;
}

function options() {
  return { beam: $('#beam').value.trim(), no_lm: $('#no-lm').checked ? 'true' : '' };
}

// ---- Models ----

async function loadModels() {
  try {
    const m = await json('/v1/models');
    const l = m.loaded;
    $('#model-info').replaceChildren(
      h('strong', { title: l.name }, l.kind === 'bundled' ? 'The bundled model' : shortName(l.name)), ' ',
      h('span', { class: 'muted' }, [l.preset, l.parameters ? (l.parameters / 1e6).toFixed(2) + 'M weights' : '', 'step ' + l.step,
        l.eval ? 'WER ' + pct(l.eval.wer) : '', l.decoder, l.backend].filter(Boolean).join(' · ')));
    const sel = $('#model-select');
    sel.replaceChildren(...(m.available || []).map((x) => h('option', { value: x.name, disabled: !!x.error, selected: x.name === l.name || (x.kind === 'bundled' && l.kind === 'bundled') },
      `${x.kind === 'bundled' ? 'bundled' : shortName(x.name)} (${x.kind}${x.step ? ', step ' + x.step : ''}${x.eval ? ', WER ' + pct(x.eval.wer) : ''})${x.error ? ': ' + x.error : ''}`)));
  } catch (e) {
    $('#model-info').textContent = 'Models: ' + e.message;
  }
}

// ---- Results ----

function resetResult(title, blob) {
  $('#result').hidden = false;
  $('#result-title').textContent = title;
  $('#final-text').textContent = '';
  $('#partial-text').textContent = '';
  $('#result-info').textContent = '';
  $('#words').replaceChildren();
  $('#spectro').hidden = true;
  $('#result-actions').replaceChildren();
  $('#transcript').dataset.state = 'working';
  const player = $('#player');
  if (objectURL) URL.revokeObjectURL(objectURL);
  objectURL = blob ? URL.createObjectURL(blob) : '';
  if (blob) player.src = objectURL; else player.removeAttribute('src');
  player.hidden = !blob;
}

function showWords(words) {
  const player = $('#player');
  $('#words').replaceChildren(...words.map((w) => {
    const b = h('button', {
      type: 'button', class: 'word',
      title: `${w.start.toFixed(2)}–${w.end.toFixed(2)} s, confidence ${Math.round(100 * w.conf)}%`,
      onclick: () => { player.currentTime = w.start; player.play().catch(() => {}); },
    }, w.word, h('small', null, `${w.start.toFixed(2)} s · ${Math.round(100 * w.conf)}%`));
    b.style.background = shade(w.conf);
    return b;
  }));
}

async function spectrogram(blob, words, dur) {
  try {
    const spec = await json('/v1/spectrogram', { method: 'POST', body: blob, type: 'application/octet-stream' });
    drawSpectrogram(spec, words, $('#player'));
  } catch (e) {
    $('#spectro-caption').textContent = '';
    toast('Spectrogram: ' + e.message, 'error');
  }
  void dur;
}

function downloads(blob, name) {
  const base = name.replace(/\.[^.]+$/, '') || 'transcript';
  const make = (fmt, ext, label) => h('button', {
    type: 'button', class: 'small', title: `Download the transcript as ${label}`,
    onclick: async () => {
      try {
        const resp = await request('/v1/transcribe', { method: 'POST', body: blob, type: 'application/octet-stream', query: Object.assign(options(), { format: fmt }) });
        const url = URL.createObjectURL(await resp.blob());
        const a = h('a', { href: url, download: `${base}.${ext}` });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 5000);
      } catch (e) {
        toast(`${label}: ${e.message}`, 'error');
      }
    },
  }, ext);
  $('#result-actions').replaceChildren(make('text', 'txt', 'text'), make('srt', 'srt', 'SubRip subtitles'), make('vtt', 'vtt', 'WebVTT subtitles'));
}

// ---- Upload ----

async function upload(file) {
  if (rec) { toast('Stop the recording first.', 'error'); return; }
  if (!validBeam()) { $('#beam').focus(); return; }
  resetResult(file.name, file);
  $('#audio-note').textContent = `Transcribing ${file.name} (${(file.size / 1e6).toFixed(2)} MB)…`;
  $('#final-text').textContent = '…';
  try {
    const t = await json('/v1/transcribe', { method: 'POST', body: file, type: 'application/octet-stream', query: options() });
    const words = t.words.map((w) => ({ word: w.word, start: w.start, end: w.end, conf: w.confidence }));
    $('#final-text').textContent = t.text || '(no words)';
    $('#transcript').dataset.state = 'done';
    $('#result-info').textContent = `${duration(t.duration)} of audio transcribed in ${duration(t.processing_time)} by ${shortName(t.model)} (${t.decoder}). ` +
      'Word shade: redder is less confident.';
    $('#audio-note').textContent = '';
    showWords(words);
    downloads(file, file.name);
    current = { blob: file, name: file.name, words, duration: t.duration };
    await spectrogram(file, words, t.duration);
  } catch (e) {
    $('#final-text').textContent = '';
    $('#transcript').dataset.state = 'error';
    $('#audio-note').textContent = '';
    $('#result-info').textContent = e.message;
    toast(`${file.name}: ${e.message}`, 'error');
  }
}

// ---- Microphone ----

async function startRecording() {
  if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    $('#audio-note').textContent = 'The browser allows the microphone on https:// pages and on localhost only: open the interface through localhost (e.g. an SSH tunnel).';
    return;
  }
  if (!validBeam()) { $('#beam').focus(); return; }
  const btn = $('#record');
  btn.disabled = true;
  const r = { chunks: [], finals: [], words: [], partials: 0, samples: 0, closed: null };
  try {
    r.stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
  } catch (e) {
    btn.disabled = false;
    $('#audio-note').textContent = 'No microphone: ' + e.message;
    return;
  }
  try {
    r.ctx = new AudioContext();
    await r.ctx.audioWorklet.addModule('js/pcm-worklet.js');
    r.rate = r.ctx.sampleRate;
    r.src = r.ctx.createMediaStreamSource(r.stream);
    r.node = new AudioWorkletNode(r.ctx, 'pcm-capture', { processorOptions: { chunk: Math.round(r.rate / 10) } });
    r.mute = r.ctx.createGain();
    r.mute.gain.value = 0;
    r.src.connect(r.node).connect(r.mute).connect(r.ctx.destination);
  } catch (e) {
    cleanup(r);
    btn.disabled = false;
    $('#audio-note').textContent = 'Audio capture failed: ' + e.message;
    return;
  }
  rec = r;
  resetResult('Microphone', null);
  $('#transcript').dataset.state = 'recording';
  $('#audio-note').textContent = `Recording at ${r.rate} Hz; the words appear as you speak.`;
  $('#meter').hidden = false;
  btn.disabled = false;
  btn.setAttribute('aria-pressed', 'true');
  $('#record-label').textContent = 'Stop';

  const ws = new WebSocket(wsURL('/v1/stream', options()));
  ws.binaryType = 'arraybuffer';
  r.ws = ws;
  const queue = [];
  ws.onopen = () => {
    ws.send(JSON.stringify({ config: { sample_rate: r.rate } }));
    for (const b of queue) ws.send(b);
    queue.length = 0;
  };
  r.closed = new Promise((resolve) => {
    ws.onclose = (e) => resolve(e);
  });
  ws.onmessage = (m) => {
    let msg;
    try { msg = JSON.parse(m.data); } catch { return; }
    if (msg.error) {
      toast('Streaming: ' + msg.error, 'error');
      return;
    }
    if (typeof msg.partial === 'string') {
      if (msg.partial) r.partials++;
      $('#partial-text').textContent = msg.partial;
      $('#transcript').dataset.partials = String(r.partials);
    }
    if (typeof msg.text === 'string') {
      if (msg.text) r.finals.push(msg.text);
      for (const w of msg.result || []) r.words.push(w);
      $('#final-text').textContent = r.finals.join(' ');
      $('#partial-text').textContent = '';
      showWords(r.words);
    }
  };
  ws.onerror = () => { $('#audio-note').textContent = 'The streaming connection failed.'; };
  const t0 = performance.now();
  r.node.port.onmessage = (e) => {
    const { pcm, rms } = e.data;
    if (pcm.byteLength) {
      r.chunks.push(pcm);
      r.samples += pcm.byteLength / 2;
      if (ws.readyState === WebSocket.OPEN) ws.send(pcm);
      else if (ws.readyState === WebSocket.CONNECTING) queue.push(pcm);
    }
    if (e.data.last && r.onLast) r.onLast();
    $('#meter-bar').style.width = Math.min(100, Math.sqrt(rms) * 160) + '%';
    $('#rec-time').textContent = ((performance.now() - t0) / 1000).toFixed(1) + ' s';
  };
}

async function stopRecording() {
  const r = rec;
  if (!r) return;
  const btn = $('#record');
  btn.disabled = true;
  $('#record-label').textContent = 'Finishing…';
  // The worklet's last samples, then the end of the stream.
  await new Promise((resolve) => {
    r.onLast = resolve;
    r.node.port.postMessage('flush');
    setTimeout(resolve, 500);
  });
  cleanup(r);
  if (r.ws.readyState === WebSocket.OPEN) r.ws.send(JSON.stringify({ eof: 1 }));
  const timeout = new Promise((resolve) => setTimeout(resolve, 30000));
  await Promise.race([r.closed, timeout]);
  if (r.ws.readyState !== WebSocket.CLOSED) r.ws.close();
  rec = null;
  btn.disabled = false;
  btn.setAttribute('aria-pressed', 'false');
  $('#record-label').textContent = 'Record';
  $('#meter').hidden = true;
  $('#partial-text').textContent = '';
  $('#transcript').dataset.state = 'done';
  const secs = r.samples / r.rate;
  const blob = wav(r.chunks, r.rate);
  const player = $('#player');
  if (objectURL) URL.revokeObjectURL(objectURL);
  objectURL = URL.createObjectURL(blob);
  player.src = objectURL;
  player.hidden = false;
  $('#final-text').textContent = r.finals.join(' ') || '(no words)';
  $('#result-info').textContent = `${duration(secs)} recorded at ${r.rate} Hz and streamed over /v1/stream. Word shade: redder is less confident.`;
  $('#audio-note').textContent = '';
  showWords(r.words);
  downloads(blob, 'recording.wav');
  current = { blob, name: 'recording.wav', words: r.words, duration: secs };
  if (r.samples > 0) await spectrogram(blob, r.words, secs);
  else drawWords(r.words, 1, player);
}

function cleanup(r) {
  try { r.src && r.src.disconnect(); } catch { /* already */ }
  try { r.node && r.node.disconnect(); } catch { /* already */ }
  if (r.stream) for (const t of r.stream.getTracks()) t.stop();
  if (r.ctx && r.ctx.state !== 'closed') r.ctx.close();
}

// wav packs PCM16 chunks as a WAV file.
function wav(chunks, rate) {
  const bytes = chunks.reduce((n, c) => n + c.byteLength, 0);
  const head = new DataView(new ArrayBuffer(44));
  const str = (o, s) => { for (let i = 0; i < s.length; i++) head.setUint8(o + i, s.charCodeAt(i)); };
  str(0, 'RIFF'); head.setUint32(4, 36 + bytes, true); str(8, 'WAVE');
  str(12, 'fmt '); head.setUint32(16, 16, true); head.setUint16(20, 1, true); head.setUint16(22, 1, true);
  head.setUint32(24, rate, true); head.setUint32(28, rate * 2, true); head.setUint16(32, 2, true); head.setUint16(34, 16, true);
  str(36, 'data'); head.setUint32(40, bytes, true);
  return new Blob([head.buffer, ...chunks], { type: 'audio/wav' });
}

export function lastResult() { return current; }
