// Training curves: one uPlot chart per quantity, every shown run overlaid
// in its colour, with TensorBoard's smoothing (a debiased exponential
// moving average; the raw curve stays faint behind) and a linear or log y
// axis.
import uPlot from '../vendor/uplot/uPlot.esm.js';
import { h, num } from './util.js';

/** The panels: what each plots, from the metrics or the evaluations. */
export const PANELS = [
  { key: 'loss', title: 'Training loss', src: 'metrics', get: (m) => m.loss, smooth: true, fmt: (v) => num(v, 4) },
  { key: 'lr', title: 'Learning rate', src: 'metrics', get: (m) => m.learning_rate, smooth: false, fmt: (v) => num(v, 3) },
  { key: 'grad', title: 'Gradient norm', src: 'metrics', get: (m) => m.grad_norm, smooth: true, fmt: (v) => num(v, 3) },
  { key: 'speed', title: 'Audio seconds per second', src: 'metrics', get: (m) => m.audio_seconds_per_second, smooth: true, fmt: (v) => num(v, 3) },
  { key: 'err', title: 'Validation WER / CER (%)', src: 'evals', get: null, smooth: false, fmt: (v) => num(v, 3) + '%' },
];

// Steps are whole numbers: ticks at 1, 2, 5, 10, 20, 50, ... steps apart.
const STEP_INCRS = [];
for (let p = 1; p <= 1e8; p *= 10) STEP_INCRS.push(p, 2 * p, 5 * p);

/** ema is TensorBoard's smoothing: a debiased exponential moving average. */
export function ema(ys, a) {
  if (!a) return ys.slice();
  const out = new Array(ys.length);
  let last = 0, n = 0;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i];
    if (y === null || y === undefined || !isFinite(y)) { out[i] = y; continue; }
    last = last * a + (1 - a) * y;
    n++;
    out[i] = last / (1 - Math.pow(a, n));
  }
  return out;
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** Charts draws the panels for a list of runs. */
export class Charts {
  constructor(container) {
    this.container = container;
    this.smoothing = 0.6;
    this.log = false;
    this.runs = [];
    this.panels = PANELS.map((p) => this.makePanel(p));
    this.pending = false;
    this.ro = new ResizeObserver(() => this.resize());
    this.ro.observe(container);
  }

  makePanel(p) {
    const latest = h('span', { class: 'latest' });
    const plot = h('div', { class: 'plot' });
    const nodata = h('div', { class: 'nodata' }, p.src === 'evals' ? 'No evaluation yet' : 'No metrics yet');
    const fig = h('figure', { class: 'chart', dataset: { key: p.key, points: '0' } },
      h('figcaption', null, h('span', null, p.title), latest), plot, nodata);
    this.container.append(fig);
    return { def: p, fig, plot, nodata, latest, u: null, sig: '', data: null, labels: [] };
  }

  /** setRuns sets the runs to draw: [{id, color, metrics: [...], evals: [...]}], the first is the selected job. */
  setRuns(runs) { this.runs = runs; this.schedule(); }
  setSmoothing(a) { this.smoothing = a; this.schedule(); }
  setLog(on) { this.log = on; this.schedule(); }

  /** schedule redraws at the next frame (many events may arrive at once). */
  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.draw(); });
  }

  draw() {
    for (const p of this.panels) this.drawPanel(p);
  }

  // table builds the panel's aligned data: x = steps, then per run the
  // smoothed (and raw) values.
  table(p) {
    const def = p.def;
    const tables = [], series = [], labels = [];
    for (const run of this.runs) {
      const pts = run[def.src] || [];
      if (!pts.length) continue;
      const xs = pts.map((m) => m.step);
      const clean = (v) => (this.log && !(v > 0)) ? null : v;
      if (def.src === 'evals') {
        const wer = pts.map((e) => clean(100 * e.wer)), cer = pts.map((e) => clean(100 * e.cer));
        tables.push([xs, wer, cer]);
        series.push({ label: run.id + ' WER', stroke: run.color, width: 2, points: { show: true, size: 6 } });
        series.push({ label: run.id + ' CER', stroke: run.color, width: 1.5, dash: [5, 4], points: { show: true, size: 5 } });
        labels.push(run.id + ' WER', run.id + ' CER');
        continue;
      }
      const ys = pts.map((m) => clean(def.get(m)));
      const a = def.smooth ? this.smoothing : 0;
      if (a > 0) {
        tables.push([xs, ema(ys, a), ys]);
        series.push({ label: run.id, stroke: run.color, width: 2 });
        series.push({ label: run.id + ' (raw)', stroke: run.color + '44', width: 1 });
        labels.push(run.id, null);
      } else {
        tables.push([xs, ys]);
        series.push({ label: run.id, stroke: run.color, width: 2, points: { show: pts.length < 40 } });
        labels.push(run.id);
      }
    }
    if (!tables.length) return null;
    return { data: tables.length === 1 ? tables[0] : uPlot.join(tables), series, labels };
  }

  drawPanel(p) {
    const t = this.table(p);
    const points = t ? t.data[0].length : 0;
    p.fig.dataset.points = String(points);
    p.nodata.hidden = !!t;
    p.plot.hidden = !t;
    if (!t) {
      if (p.u) { p.u.destroy(); p.u = null; p.sig = ''; }
      p.latest.textContent = '';
      return;
    }
    p.labels = t.labels;
    p.data = t.data;
    const sig = t.series.map((s) => s.label + s.stroke).join('|') + (this.log ? '|log' : '|lin');
    if (p.u && p.sig === sig) {
      p.u.setData(t.data);
    } else {
      if (p.u) p.u.destroy();
      p.sig = sig;
      p.u = this.create(p, t);
    }
    this.showLatest(p, null);
    const first = t.labels.findIndex((l) => l);
    const ys = t.data[first + 1];
    let last = null;
    for (let i = ys.length - 1; i >= 0; i--) if (ys[i] !== null && ys[i] !== undefined) { last = ys[i]; break; }
    p.fig.setAttribute('aria-label', `${p.def.title}: ${points} points${last !== null ? ', latest ' + p.def.fmt(last) : ''}`);
  }

  create(p, t) {
    const ink = cssVar('--muted'), grid = cssVar('--line');
    const axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '11px system-ui, sans-serif' };
    const width = Math.max(200, p.plot.clientWidth || this.container.clientWidth || 400);
    const opts = {
      width, height: 190,
      legend: { show: false },
      cursor: { drag: { x: true, y: false }, points: { size: 6 } },
      scales: { x: { time: false }, y: this.log ? { distr: 3 } : { auto: true } },
      axes: [
        Object.assign({}, axis, { label: 'step', labelSize: 18, labelFont: '11px system-ui, sans-serif', size: 34, incrs: STEP_INCRS }),
        Object.assign({}, axis, { size: 56, values: (u, vals) => vals.map((v) => (v === null ? '' : num(v, 3))) }),
      ],
      series: [{ label: 'step' }, ...t.series.map((s) => Object.assign({ spanGaps: true }, s))],
      hooks: { setCursor: [(u) => this.showLatest(p, u.cursor.idx)] },
    };
    return new uPlot(opts, t.data, p.plot);
  }

  // showLatest writes the values at the cursor (or the latest) in the caption.
  showLatest(p, idx) {
    if (!p.data) return;
    const xs = p.data[0];
    const parts = [];
    p.labels.forEach((label, s) => {
      if (!label) return;
      const ys = p.data[s + 1];
      let i = idx;
      if (i === null || i === undefined) {
        for (i = ys.length - 1; i >= 0 && (ys[i] === null || ys[i] === undefined); i--);
      }
      if (i >= 0 && ys[i] !== null && ys[i] !== undefined) {
        parts.push((this.runs.length > 1 || p.def.src === 'evals' ? label + ' ' : '') + p.def.fmt(ys[i]) + ' @' + xs[i]);
      }
    });
    p.latest.textContent = parts.slice(0, 4).join(' · ');
  }

  resize() {
    for (const p of this.panels) {
      if (p.u && p.plot.clientWidth) p.u.setSize({ width: p.plot.clientWidth, height: 190 });
    }
  }
}
