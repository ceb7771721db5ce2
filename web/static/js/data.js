// The Data page: the data check of a dataset under the server's data root
// (POST /v1/datasets/check): counts, hours, splits, corpora, the duration
// histogram and every invalid item with its reason.
import { json } from './api.js';
import { h, $, duration, num, toast, setFieldError } from './util.js';

let datasets = [];
const SHOW = 200; // problems shown before "show all"

export function init() {
  $('#data-form').addEventListener('submit', (e) => {
    e.preventDefault();
    run();
  });
  $('#d-dataset').addEventListener('input', () => setFieldError($('#d-dataset'), null));
}

export async function show() {
  try {
    const list = await json('/v1/datasets');
    datasets = list.datasets || [];
    $('#d-root').textContent = '(' + list.data_root + ')';
    $('#d-datasets').replaceChildren(...datasets.map((d) => h('option', { value: d.name }, `${d.format}, ${d.rows} rows`)));
    const input = $('#d-dataset');
    if (!input.value && datasets.length) input.value = datasets[0].name;
    if (!datasets.length) {
      $('#d-dataset-msg').textContent = `No dataset found under ${list.data_root}: type a path under it.`;
    }
  } catch (e) {
    toast('Datasets: ' + e.message, 'error');
  }
}

async function run() {
  const input = $('#d-dataset');
  const name = input.value.trim();
  if (!name) {
    setFieldError(input, 'Name a dataset: an LJSpeech folder or a JSONL manifest under the data root.');
    input.focus();
    return;
  }
  const d = datasets.find((x) => x.name === name);
  const manifest = d ? d.format === 'manifest' : /\.jsonl?$/.test(name);
  const req = manifest ? { manifest: name } : { ljspeech: name };
  if ($('#d-skip').checked) req.skip_invalid = true;
  const btn = $('#d-run');
  btn.disabled = true;
  btn.textContent = 'Checking…';
  const out = $('#data-report');
  out.replaceChildren(h('div', { class: 'card muted' }, `Checking ${name}: reading every audio file…`));
  const t0 = performance.now();
  try {
    const rep = await json('/v1/datasets/check', { method: 'POST', json: req });
    out.replaceChildren(...report(name, rep, (performance.now() - t0) / 1000));
  } catch (e) {
    out.replaceChildren();
    setFieldError(input, e.message);
    input.focus();
  } finally {
    btn.disabled = false;
    btn.textContent = 'Run the check';
  }
}

const stat = (v, k, cls = '') => h('div', { class: 'stat ' + cls }, h('div', { class: 'v' }, v), h('div', { class: 'k' }, k));
const hours = (s) => (s >= 3600 ? num(s / 3600, 3) + ' h' : duration(s));

function report(name, rep, took) {
  const invalid = rep.problems.length;
  const cards = [];
  const summary = h('div', { class: 'card' + (rep.error ? ' report-error' : ''), id: 'data-summary' },
    h('h2', null, `${name}`),
    h('div', { class: 'stats' },
      stat(String(rep.rows), 'rows read'),
      stat(String(rep.valid), 'valid utterances'),
      stat(String(invalid), invalid ? (rep.skipped ? 'invalid (skipped)' : 'invalid') : 'invalid', invalid ? 'bad' : ''),
      stat(hours(rep.seconds), 'of valid audio'),
      stat(rep.valid ? duration(rep.min_seconds) : '–', 'shortest'),
      stat(rep.valid ? duration(rep.max_seconds) : '–', `longest (limit ${duration(rep.max_duration)})`)),
    rep.error ? h('p', { class: 'report-stop' }, 'Training would stop: ' + summarizeError(rep.error)) : '',
    h('p', { class: 'muted small' }, `Sources: ${rep.sources.join(', ') || '–'}. Checked in ${duration(took)}.`),
    (rep.notes || []).length ? h('ul', { class: 'small' }, rep.notes.map((n) => h('li', null, n))) : '');
  cards.push(summary);

  const sets = Object.entries(rep.sets || {}).sort((a, b) => order(a[0]) - order(b[0]));
  const corpora = Object.entries(rep.corpora || {}).sort((a, b) => a[0].localeCompare(b[0]));
  const splitNames = sets.map(([k]) => k);
  const tables = h('div', { class: 'card' }, h('h2', null, 'Splits and corpora'),
    h('div', { class: 'table-wrap' }, h('table', { id: 'data-sets' },
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, ''), splitNames.map((s) => h('th', { scope: 'col', class: 'num' }, s)),
        h('th', { scope: 'col', class: 'num' }, 'total'), h('th', { scope: 'col', class: 'num' }, 'speakers'))),
      h('tbody', null,
        h('tr', null, h('th', { scope: 'row' }, 'all corpora'), sets.map(([, v]) => h('td', { class: 'num' }, cell(v))),
          h('td', { class: 'num' }, cell({ utterances: rep.valid, seconds: rep.seconds })), h('td', { class: 'num' }, '')),
        corpora.map(([c, v]) => {
          let u = 0, s = 0;
          for (const x of Object.values(v.sets)) { u += x.utterances; s += x.seconds; }
          return h('tr', null, h('th', { scope: 'row' }, c),
            splitNames.map((k) => h('td', { class: 'num' }, v.sets[k] ? cell(v.sets[k]) : '–')),
            h('td', { class: 'num' }, cell({ utterances: u, seconds: s })), h('td', { class: 'num' }, v.speakers ? String(v.speakers) : '–'));
        })))));
  cards.push(tables);

  cards.push(h('div', { class: 'card' }, h('h2', null, 'Durations of the valid utterances'), histogram(rep.histogram)));
  cards.push(problems(rep));
  return cards;
}

// summarizeError keeps the first and last lines of the report's error: the
// lines between list problems, which the table below shows.
function summarizeError(msg) {
  const lines = msg.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length > 2 ? lines[0] + ': ' + lines[lines.length - 1] : lines.join(': ');
}

function order(split) { return { train: 0, val: 1, test: 2 }[split] ?? 3; }
function cell(v) { return `${v.utterances} · ${hours(v.seconds)}`; }

// histogram draws the 1-second bins as an SVG bar chart, with a table for
// screen readers.
function histogram(bins) {
  if (!bins || !bins.length) return h('p', { class: 'muted' }, 'No valid utterance.');
  const NS = 'http://www.w3.org/2000/svg';
  const W = Math.max(280, Math.min(1400, $('#data-report').clientWidth - 40 || 800)), H = 220, L = 40, B = 30, T = 10, R = 12;
  const maxC = Math.max(...bins.map((b) => b.count));
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('class', 'hist');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `Duration histogram: ${bins.map((b) => `${b.lo}–${b.hi} s: ${b.count}`).join('; ')}`);
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  const bw = (W - L - R) / bins.length;
  const y = (c) => T + (H - T - B) * (1 - c / maxC);
  const step = niceStep(maxC);
  for (let c = 0; c <= maxC; c += step) {
    el('line', { x1: L, x2: W - R, y1: y(c), y2: y(c) });
    el('text', { x: L - 6, y: y(c) + 4, 'text-anchor': 'end' }, String(c));
  }
  const every = Math.ceil((bins.length + 1) / Math.max(2, Math.floor((W - L) / 36)));
  bins.forEach((b, i) => {
    const x = L + i * bw;
    const r = el('rect', { x: x + 1, y: y(b.count), width: Math.max(1, bw - 2), height: H - B - y(b.count), class: 'bar-rect' });
    const title = document.createElementNS(NS, 'title');
    title.textContent = `${b.lo}–${b.hi} s: ${b.count} utterances`;
    r.append(title);
  });
  for (let i = 0; i <= bins.length; i += every) {
    const x = L + i * bw;
    el('line', { x1: x, x2: x, y1: H - B, y2: H - B + 4 });
    el('text', { x, y: H - B + 15, 'text-anchor': 'middle' }, String(i < bins.length ? bins[i].lo : bins[bins.length - 1].hi));
  }
  el('text', { x: L + (W - L - R) / 2, y: H - 2, 'text-anchor': 'middle' }, 'seconds');
  return h('div', { id: 'histogram', dataset: { bins: String(bins.length) } }, svg);
}

function niceStep(max) {
  const raw = max / 5;
  const p = Math.pow(10, Math.floor(Math.log10(Math.max(1, raw))));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return Math.max(1, m * p);
  return Math.max(1, 10 * p);
}

function problems(rep) {
  const card = h('div', { class: 'card', id: 'data-problems' });
  const n = rep.problems.length;
  card.append(h('h2', null, n ? `Invalid items (${n})` : 'Invalid items'));
  if (!n) {
    card.append(h('p', { class: 'muted' }, 'None: every row is a valid utterance.'));
    return card;
  }
  let filter = '';
  let all = false;
  const kinds = Object.entries(rep.counts).sort((a, b) => b[1] - a[1]);
  const chips = h('div', { class: 'chips', role: 'group', 'aria-label': 'Show the problems of one kind' });
  const body = h('tbody');
  const more = h('button', { type: 'button', class: 'small', onclick: () => { all = true; draw(); } });
  const draw = () => {
    const rows = rep.problems.filter((p) => !filter || p.kind === filter);
    const shown = all ? rows : rows.slice(0, SHOW);
    body.replaceChildren(...shown.map((p) => h('tr', null,
      h('td', { class: 'mono small' }, p.source ? `${p.source.split('/').pop()}:${p.line || ''}` : ''),
      h('td', { class: 'mono' }, p.id || '–'),
      h('td', null, p.kind),
      h('td', { class: 'detail-cell small' }, p.detail))));
    more.hidden = shown.length === rows.length;
    more.textContent = `Show all ${rows.length}`;
    for (const c of chips.children) c.setAttribute('aria-pressed', String(c.dataset.kind === filter));
  };
  chips.append(h('button', { type: 'button', class: 'chip', dataset: { kind: '' }, onclick: () => { filter = ''; draw(); } }, `all ${n}`),
    ...kinds.map(([k, c]) => h('button', { type: 'button', class: 'chip', dataset: { kind: k }, onclick: () => { filter = k; draw(); } }, `${k} ${c}`)));
  card.append(chips, h('div', { class: 'table-wrap' }, h('table', null,
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Line'), h('th', { scope: 'col' }, 'Id'), h('th', { scope: 'col' }, 'Problem'), h('th', { scope: 'col' }, 'Detail'))),
    body)), more);
  draw();
  return card;
}
