// The Training page: start jobs (form or YAML), the job list with its
// actions, the live charts of the selected job and the compared ones, the
// latest evaluation's samples and the checkpoints.
import { json, wsURL, ApiError } from './api.js';
import { h, $, duration, num, pct, clock, toast, color } from './util.js';
import { Charts } from './charts.js';
import { alignedView } from './align.js';
import { refreshServedModel } from './header.js';
import { initJobForm } from './jobform.js';

const POLL_MS = 2000;
const ACTIVE = new Set(['starting', 'preparing', 'training', 'evaluating', 'stopping']);

const state = {
  jobs: [],
  byId: new Map(),
  selected: sessionStorage.getItem('asrkit.job') || '',
  compare: new Set(),
  runs: new Map(), // id → run data
  colors: new Map(),
  rows: new Map(), // id → row elements
  timer: 0,
  visible: false,
};
let charts;

/** The run data of a job, loaded from its metrics or followed live. */
class Run {
  constructor(id) {
    this.id = id;
    this.metrics = [];
    this.evals = [];
    this.lastEval = null;
    this.mode = '';
    this.ws = null;
    this.retry = 0;
  }

  reset() { this.metrics = []; this.evals = []; this.lastEval = null; }

  // apply takes one training event (the server's TrainEvent), as the
  // server's metrics history does: a run that (re)starts training at a step
  // drops what an earlier run logged past it.
  apply(e) {
    switch (e.type) {
      case 'state':
        if (e.state && e.state.state === 'training') {
          this.metrics = this.metrics.filter((m) => m.step <= e.step);
          this.evals = this.evals.filter((v) => v.step <= e.step);
        }
        return 'state';
      case 'metrics':
        if (e.metrics) this.metrics.push(Object.assign({ step: e.step, time: e.time }, e.metrics));
        return 'metrics';
      case 'eval':
        if (e.eval) {
          const v = Object.assign({ time: e.time }, e.eval);
          if (!v.step) v.step = e.step;
          this.evals.push(v);
          this.lastEval = v;
        }
        return 'eval';
      case 'checkpoint':
        return 'checkpoint';
      default:
        return e.type;
    }
  }

  // follow sets how the data is kept: "ws" follows the events WebSocket
  // (history, then live), "static" reads the metrics history once.
  follow(mode) {
    if (mode === this.mode) return;
    this.mode = mode;
    this.close();
    this.reset();
    if (mode === 'ws') this.open(); else this.load();
  }

  async load() {
    try {
      const hist = await json(`/v1/train/${encodeURIComponent(this.id)}/metrics`);
      if (this.mode !== 'static') return;
      this.metrics = hist.metrics.map((m) => Object.assign({}, m));
      this.evals = hist.evals.map((e) => Object.assign({}, e));
      this.lastEval = this.evals.length ? this.evals[this.evals.length - 1] : null;
      changed(this.id, 'all');
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) toast(`Metrics of ${this.id}: ${e.message}`, 'error');
    }
  }

  open() {
    const ws = new WebSocket(wsURL(`/v1/train/${encodeURIComponent(this.id)}/events`));
    this.ws = ws;
    let fresh = true;
    ws.onmessage = (m) => {
      if (fresh) { this.reset(); fresh = false; } // the server replays the history first
      let e;
      try { e = JSON.parse(m.data); } catch { return; }
      this.retry = 0;
      changed(this.id, this.apply(e));
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.mode === 'ws') {
        // The server went away or dropped us: follow again, a little later.
        this.retry = Math.min(this.retry + 1, 5);
        setTimeout(() => { if (this.mode === 'ws' && !this.ws) this.open(); }, 1000 * this.retry);
      }
    };
  }

  close() {
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close();
    }
  }
}

function runOf(id) {
  let r = state.runs.get(id);
  if (!r) { r = new Run(id); state.runs.set(id, r); }
  return r;
}

function colorOf(id) {
  if (!state.colors.has(id)) state.colors.set(id, color(state.colors.size));
  return state.colors.get(id);
}

// changed is called when a run's data changed.
let ckptTimer = 0;
function changed(id, what) {
  if (!shownIds().includes(id)) return;
  drawCharts();
  if (id === state.selected) {
    if (what === 'eval' || what === 'all') drawEval();
    if (what === 'checkpoint' || what === 'all') {
      clearTimeout(ckptTimer);
      ckptTimer = setTimeout(loadCheckpoints, 300);
    }
  }
  if (what === 'state') pollSoon();
}

function shownIds() {
  const ids = [];
  if (state.selected && state.byId.has(state.selected)) ids.push(state.selected);
  for (const id of state.compare) if (id !== state.selected && state.byId.has(id)) ids.push(id);
  return ids;
}

function drawCharts() {
  if (!charts) return;
  charts.setRuns(shownIds().map((id) => {
    const r = runOf(id);
    return { id, color: colorOf(id), metrics: r.metrics, evals: r.evals };
  }));
  const legend = $('#legend');
  legend.replaceChildren(...shownIds().map((id) => h('span', null, h('span', { class: 'swatch', style: { background: colorOf(id) } }), id,
    id === state.selected ? h('span', { class: 'muted' }, ' (selected)') : '')));
}

// syncRuns makes the shown runs follow their jobs: live while active.
function syncRuns() {
  const shown = new Set(shownIds());
  for (const [id, r] of state.runs) {
    if (!shown.has(id)) { r.close(); r.mode = ''; continue; }
    const job = state.byId.get(id);
    r.follow(job && ACTIVE.has(job.state) ? 'ws' : 'static');
  }
  for (const id of shown) runOf(id).follow(ACTIVE.has(state.byId.get(id).state) ? 'ws' : 'static');
}

// ---- Job list ----

async function poll() {
  clearTimeout(state.timer);
  try {
    const list = await json('/v1/train');
    const before = state.byId;
    state.jobs = list.jobs || [];
    state.byId = new Map(state.jobs.map((j) => [j.id, j]));
    if (!state.selected || !state.byId.has(state.selected)) {
      const pick = state.jobs.find((j) => ACTIVE.has(j.state)) || state.jobs[0];
      state.selected = pick ? pick.id : '';
    }
    for (const id of [...state.compare]) if (!state.byId.has(id)) state.compare.delete(id);
    renderJobs();
    syncRuns();
    const sel = state.byId.get(state.selected);
    const old = before.get(state.selected);
    if (sel && (!old || old.state !== sel.state || old.checkpoint !== sel.checkpoint)) loadCheckpoints();
    renderDetail();
  } catch (e) {
    if (e.name !== 'AbortError') console.warn('jobs:', e.message);
  } finally {
    if (state.visible) state.timer = setTimeout(poll, POLL_MS);
  }
}

let soon = 0;
function pollSoon() {
  clearTimeout(soon);
  soon = setTimeout(poll, 250);
}

function select(id) {
  if (state.selected === id) return;
  state.selected = id;
  sessionStorage.setItem('asrkit.job', id);
  state.compare.delete(id);
  renderJobs();
  syncRuns();
  drawCharts();
  drawEval();
  loadCheckpoints();
  renderDetail();
}

function renderJobs() {
  const body = $('#jobs tbody');
  $('#jobs-empty').hidden = state.jobs.length > 0;
  $('#jobs').hidden = state.jobs.length === 0;
  const keep = new Set();
  let prev = null;
  for (const job of state.jobs) {
    keep.add(job.id);
    let row = state.rows.get(job.id);
    if (!row) {
      row = makeRow(job.id);
      state.rows.set(job.id, row);
    }
    updateRow(row, job);
    const want = prev ? prev.tr.nextSibling : body.firstChild;
    if (want !== row.tr) body.insertBefore(row.tr, want);
    prev = row;
  }
  for (const [id, row] of state.rows) {
    if (!keep.has(id)) { row.tr.remove(); state.rows.delete(id); }
  }
}

function makeRow(id) {
  const r = {};
  r.compare = h('input', { type: 'checkbox', 'aria-label': `Compare ${id} on the charts` });
  r.compare.addEventListener('change', () => {
    if (r.compare.checked) state.compare.add(id); else state.compare.delete(id);
    syncRuns();
    drawCharts();
  });
  r.swatch = h('span', { class: 'swatch' });
  r.name = h('button', { type: 'button', class: 'job-name', onclick: () => select(id) }, r.swatch, id);
  r.badge = h('span', { class: 'badge' });
  r.bar = h('div');
  r.steps = h('span', { class: 'small' });
  r.eta = h('td', { class: 'num hide-narrow' });
  r.speed = h('td', { class: 'num hide-narrow' });
  r.loss = h('td', { class: 'num' });
  r.wer = h('td', { class: 'num' });
  r.stop = h('button', { type: 'button', class: 'small danger', onclick: () => action(id, 'stop') }, 'Stop');
  r.resume = h('button', { type: 'button', class: 'small', onclick: () => action(id, 'resume') }, 'Resume');
  r.export = h('button', { type: 'button', class: 'small', onclick: () => exportJob(id) }, 'Export');
  r.tr = h('tr', { class: 'job-row', dataset: { job: id } },
    h('td', null, r.compare),
    h('td', null, r.name),
    h('td', null, r.badge),
    h('td', null, h('div', { class: 'progress' }, h('div', { class: 'bar' }, r.bar), r.steps)),
    r.eta, r.speed, r.loss, r.wer,
    h('td', null, h('div', { class: 'row-actions' }, r.stop, r.resume, r.export)));
  r.tr.addEventListener('click', (e) => {
    if (e.target.closest('button, input')) return;
    select(id);
  });
  return r;
}

function updateRow(r, job) {
  const active = ACTIVE.has(job.state);
  r.tr.classList.toggle('selected', job.id === state.selected);
  r.name.setAttribute('aria-pressed', String(job.id === state.selected));
  r.compare.checked = job.id === state.selected || state.compare.has(job.id);
  r.compare.disabled = job.id === state.selected;
  r.swatch.style.background = colorOf(job.id);
  r.badge.className = 'badge ' + job.state;
  r.badge.textContent = job.state;
  r.badge.title = job.error || job.message || '';
  const total = job.total_steps || 0;
  r.bar.style.width = total ? Math.min(100, (100 * job.step) / total).toFixed(1) + '%' : '0';
  r.steps.textContent = total ? `${job.step} / ${total}` : String(job.step || 0);
  r.eta.textContent = active && job.eta ? duration(job.eta) : '–';
  const m = job.last_metrics;
  r.speed.textContent = m ? num(m.audio_seconds_per_second, 3) : '–';
  r.speed.title = m ? `${num(m.audio_seconds_per_second, 3)} audio seconds per second, ${num(m.steps_per_second, 3)} steps per second` : '';
  r.loss.textContent = m ? num(m.loss, 4) : '–';
  r.wer.textContent = job.last_eval ? pct(job.last_eval.wer) : '–';
  r.stop.hidden = !active;
  r.stop.disabled = job.state === 'stopping';
  r.resume.hidden = active || !job.managed || job.state === 'finished';
  r.export.hidden = !job.checkpoint;
}

async function action(id, what) {
  const row = state.rows.get(id);
  const btn = what === 'stop' ? row.stop : row.resume;
  btn.disabled = true;
  try {
    await json(`/v1/train/${encodeURIComponent(id)}/${what}`, { method: 'POST' });
    toast(what === 'stop' ? `Stopping ${id}: it saves a checkpoint first.` : `Resuming ${id} from its last checkpoint.`);
  } catch (e) {
    toast(`${what === 'stop' ? 'Stop' : 'Resume'} ${id}: ${e.message}`, 'error');
  } finally {
    btn.disabled = false;
    pollSoon();
  }
}

async function exportJob(id) {
  const btn = state.rows.get(id).export;
  btn.disabled = true;
  const old = btn.textContent;
  btn.textContent = 'Exporting…';
  try {
    const m = await json(`/v1/train/${encodeURIComponent(id)}/export`, { method: 'POST' });
    const serve = h('button', { type: 'button', class: 'small', onclick: () => loadModel(m.name) }, 'Serve it');
    toast(h('span', null, `Exported ${id} (step ${m.step}${m.eval ? ', WER ' + pct(m.eval.wer) : ''}) to ${m.name}. `, serve));
  } catch (e) {
    toast(`Export ${id}: ${e.message}`, 'error');
  } finally {
    btn.disabled = false;
    btn.textContent = old;
  }
}

export async function loadModel(path) {
  toast(`Loading ${path}…`);
  try {
    const m = await json('/v1/models/load', { method: 'POST', json: { path } });
    toast(`Now serving ${m.name} (step ${m.step}).`);
    refreshServedModel();
    document.dispatchEvent(new CustomEvent('asr-model-changed'));
  } catch (e) {
    toast(`Loading ${path}: ${e.message}`, 'error');
  }
}

// ---- The selected job ----

function renderDetail() {
  const job = state.byId.get(state.selected);
  $('#job-detail').hidden = !job;
  if (!job) return;
  $('#detail-title').textContent = job.id;
  const bits = [];
  bits.push(job.state + (job.message ? ': ' + job.message : ''));
  if (job.error) bits.push('error: ' + job.error);
  if (job.backend) bits.push('backend ' + job.backend);
  if (job.epoch) bits.push('epoch ' + job.epoch);
  if (job.last_metrics && job.last_metrics.elapsed) bits.push('trained for ' + duration(job.last_metrics.elapsed));
  bits.push(job.run_dir);
  $('#detail-info').textContent = bits.join(' · ');
  drawEval();
}

let drawn = { id: null, ev: undefined };
function drawEval() {
  const run = state.runs.get(state.selected);
  const box = $('#samples');
  const info = $('#eval-info');
  const ev = run && run.lastEval;
  if (drawn.id === state.selected && drawn.ev === ev) return;
  drawn = { id: state.selected, ev };
  if (!ev) {
    info.textContent = 'No evaluation yet: the job evaluates on its validation set every train.eval_every steps.';
    box.replaceChildren();
    return;
  }
  info.textContent = `Step ${ev.step}: WER ${pct(ev.wer)}, CER ${pct(ev.cer)}, loss ${num(ev.loss, 4)} on ${ev.utterances} utterances (${ev.words} words)` +
    (ev.seconds ? `, ${duration(ev.seconds)}` : '') + '. Sample predictions (greedy), errors marked:';
  const samples = (ev.samples || []).map((s) => {
    const { view, counts } = alignedView(s.reference, s.hypothesis);
    return h('div', { class: 'sample' },
      h('div', { class: 'sample-head' }, h('span', { class: 'mono' }, s.id),
        h('span', null, `WER ${pct(counts.wer)} (S ${counts.sub}, D ${counts.del}, I ${counts.ins})`)),
      view);
  });
  box.replaceChildren(...(samples.length ? samples : [h('p', { class: 'muted small' }, 'This evaluation reported no samples (train.eval_samples).')]));
}

let ckptSeq = 0;
async function loadCheckpoints() {
  const id = state.selected;
  const body = $('#checkpoints tbody');
  if (!id) { body.replaceChildren(); return; }
  const seq = ++ckptSeq;
  let list;
  try {
    list = await json(`/v1/train/${encodeURIComponent(id)}/checkpoints`);
  } catch (e) {
    if (seq === ckptSeq) body.replaceChildren();
    return;
  }
  if (seq !== ckptSeq) return;
  const cks = (list.checkpoints || []).slice().reverse();
  $('#checkpoints-empty').hidden = cks.length > 0;
  $('#checkpoints').hidden = cks.length === 0;
  body.replaceChildren(...cks.map((c) => h('tr', { class: c.best ? 'best-row' : '' },
    h('td', { class: 'num' }, String(c.step), c.best ? h('span', { class: 'best', title: 'best: lowest validation WER' }, ' ★ best') : ''),
    h('td', { class: 'num' }, c.eval ? pct(c.eval.wer) : '–'),
    h('td', { class: 'num' }, c.eval ? pct(c.eval.cer) : '–'),
    h('td', { class: 'num' }, c.train_loss ? num(c.train_loss, 4) : '–'),
    h('td', null, c.error ? h('span', { class: 'w-sub', title: c.error }, 'damaged') : clock(c.time)),
    h('td', null, c.error ? '' : h('button', { type: 'button', class: 'small', title: `Serve the checkpoint of step ${c.step}`, onclick: () => loadModel(c.dir) }, 'Serve')))));
}

// ---- Page ----

export function init() {
  charts = new Charts($('#charts'));
  const sm = $('#smoothing'), out = $('#smoothing-out');
  const saved = parseFloat(localStorage.getItem('asrkit.smoothing'));
  if (saved >= 0 && saved < 1) sm.value = String(saved);
  out.textContent = sm.value;
  charts.setSmoothing(parseFloat(sm.value));
  sm.addEventListener('input', () => {
    out.textContent = sm.value;
    charts.setSmoothing(parseFloat(sm.value));
    try { localStorage.setItem('asrkit.smoothing', sm.value); } catch { /* private mode */ }
  });
  const lin = $('#y-linear'), log = $('#y-log');
  const setLog = (on) => {
    lin.setAttribute('aria-pressed', String(!on));
    log.setAttribute('aria-pressed', String(on));
    charts.setLog(on);
  };
  lin.addEventListener('click', () => setLog(false));
  log.addEventListener('click', () => setLog(true));
  initJobForm({
    started(job) {
      state.selected = job.id;
      sessionStorage.setItem('asrkit.job', job.id);
      poll();
    },
  });
}

export function show() {
  state.visible = true;
  poll();
}

export function hide() {
  state.visible = false;
  clearTimeout(state.timer);
}

