// The log-mel spectrogram (POST /v1/spectrogram) drawn on a canvas, with
// a frequency axis, a time axis and the recognised words under it at their
// times (buttons that play the audio from the word).
import { h, $ } from './util.js';

// Magma as a 6th-degree polynomial (the fit `asr features --png` uses).
const MAGMA = [
  [-0.002136485053939582, -0.000749655052795221, -0.005386127855323933],
  [0.2516605407371642, 0.6775232436837668, 2.494026599312351],
  [8.353717279216625, -3.577719514958484, 0.3144679030132573],
  [-27.66873308576866, 14.26473078096533, -13.64921318813922],
  [52.17613981234068, -27.94360607168351, 12.94416944238394],
  [-50.76852536473588, 29.04658282127291, 4.23415299384598],
  [18.65570506591883, -11.48977351997711, -5.601961508734096],
];
const LUT = (() => {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    for (let c = 0; c < 3; c++) {
      let v = MAGMA[6][c];
      for (let k = 5; k >= 0; k--) v = v * t + MAGMA[k][c];
      lut[i * 3 + c] = Math.round(255 * Math.max(0, Math.min(1, v)));
    }
  }
  return lut;
})();

function bytes(b64) {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** drawSpectrogram draws spec (an api Spectrogram) and the words under it. */
export function drawSpectrogram(spec, words, player) {
  const fig = $('#spectro');
  const canvas = $('#spectro-canvas');
  const data = bytes(spec.data);
  canvas.width = spec.columns;
  canvas.height = spec.bands;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(spec.columns, spec.bands);
  for (let c = 0; c < spec.columns; c++) {
    for (let b = 0; b < spec.bands; b++) {
      const v = data[c * spec.bands + b];
      const p = ((spec.bands - 1 - b) * spec.columns + c) * 4;
      img.data[p] = LUT[v * 3];
      img.data[p + 1] = LUT[v * 3 + 1];
      img.data[p + 2] = LUT[v * 3 + 2];
      img.data[p + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  const total = spec.columns * spec.column_frames * spec.frame_seconds || spec.duration;
  canvas.setAttribute('aria-label', `Log-mel spectrogram: ${spec.bands} bands, ${spec.duration.toFixed(2)} s`);
  fig.dataset.columns = String(spec.columns);

  // Frequency axis.
  const hz = $('#spectro-hz');
  hz.replaceChildren();
  for (const f of [250, 500, 1000, 2000, 4000, 8000]) {
    const i = bandIndex(spec.band_hz, f);
    if (i === null) continue;
    const el = h('span', null, f >= 1000 ? f / 1000 + 'k' : String(f));
    el.style.bottom = ((i + 0.5) / spec.bands) * 100 + '%';
    hz.append(el);
  }
  const hzUnit = h('span', null, 'Hz');
  hzUnit.style.bottom = '100%';
  hz.append(hzUnit);

  // Time axis.
  const axis = $('#time-axis');
  axis.replaceChildren();
  const width = canvas.clientWidth || 600;
  let step = 0.05;
  for (const s of [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600]) {
    step = s;
    if ((total / s) * 55 <= width) break;
  }
  for (let t = 0; t <= total + 1e-9; t += step) {
    const el = h('span', null, step < 1 ? t.toFixed(step < 0.1 ? 2 : 1) : String(Math.round(t)));
    el.style.left = (t / total) * 100 + '%';
    axis.append(el);
  }

  drawWords(words, total, player);
  $('#spectro-caption').textContent = `Log-mel spectrogram (${spec.bands} bands, ${Math.round(spec.frame_seconds * 1000)} ms hop, ` +
    `${spec.range_db} dB range) with the recognised words at their times. Select a word to play from it.`;
  fig.hidden = false;
}

// bandIndex is the fractional band whose centre is f Hz (null outside).
function bandIndex(centres, f) {
  if (f < centres[0] || f > centres[centres.length - 1]) return null;
  for (let i = 1; i < centres.length; i++) {
    if (centres[i] >= f) return i - 1 + (f - centres[i - 1]) / (centres[i] - centres[i - 1]);
  }
  return centres.length - 1;
}

/** drawWords puts the words in the lane under the spectrogram. */
export function drawWords(words, total, player) {
  const lane = $('#word-lane');
  lane.replaceChildren(...words.map((w) => {
    const b = h('button', {
      type: 'button', class: 'lane-word',
      title: `${w.word}: ${w.start.toFixed(2)}–${w.end.toFixed(2)} s, confidence ${Math.round(100 * w.conf)}%`,
      'aria-label': `${w.word} at ${w.start.toFixed(2)} seconds`,
      onclick: () => { player.currentTime = w.start; player.play().catch(() => {}); },
    }, w.word);
    b.style.left = (w.start / total) * 100 + '%';
    b.style.width = Math.max(0.5, ((w.end - w.start) / total) * 100) + '%';
    b.style.background = shade(w.conf);
    return b;
  }));
  const head = $('#playhead');
  const move = () => {
    head.hidden = !(player.currentTime > 0);
    head.style.left = Math.min(100, (player.currentTime / total) * 100) + '%';
    if (!player.paused) requestAnimationFrame(move);
  };
  player.onplay = move;
  player.onseeked = move;
  player.ontimeupdate = move;
}

/** shade is the background of a word of confidence c: redder when less sure. */
export function shade(c) {
  const p = Math.round(60 * (1 - Math.max(0, Math.min(1, c))));
  return `color-mix(in srgb, var(--bad) ${p}%, var(--card))`;
}
