// The new-job panel: a form for the common keys (checked here, then by the
// server), and a YAML editor whose errors the server gives as
// config:LINE:COL, shown at their line.
import { json, ApiError } from './api.js';
import { h, $, toast, setFieldError } from './util.js';

let hooks = { started() {} };
let datasets = [];

// Field ids by config key, to show the server's messages at their field.
const FIELD_OF_KEY = {
  'datasets.manifests.train': 'f-dataset', 'datasets.ljspeech.path': 'f-dataset', 'datasets.ljspeech': 'f-dataset',
  'datasets.manifests.val': 'f-val', 'datasets.split.val': 'f-split', 'datasets.batching.max_frames': 'f-frames', 'datasets.batching.buckets': 'f-buckets',
  'train.steps': 'f-steps', 'train.learning_rate': 'f-lr', 'train.eval_every': 'f-eval', 'train.warmup_steps': 'f-warmup',
  'checkpoint.every': 'f-ckpt', 'log.every': 'f-log', 'train.init_from': 'f-init',
};

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function initJobForm(h0) {
  hooks = h0;
  const toggle = $('#new-job-toggle');
  toggle.addEventListener('click', () => {
    const open = $('#new-job').hidden;
    $('#new-job').hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    toggle.textContent = open ? 'Close' : 'New job';
    if (open) {
      loadChoices();
      $('#f-name').focus();
    }
  });
  initTabs();
  initForm();
  initEditor();
}

function initTabs() {
  const tabs = [$('#tab-form'), $('#tab-yaml')];
  const panels = [$('#panel-form'), $('#panel-yaml')];
  const choose = (i, focus) => {
    tabs.forEach((t, k) => {
      t.setAttribute('aria-selected', String(k === i));
      t.tabIndex = k === i ? 0 : -1;
      panels[k].hidden = k !== i;
    });
    if (focus) tabs[i].focus();
    if (i === 1) syncGutter();
  };
  tabs.forEach((t, i) => {
    t.addEventListener('click', () => choose(i, false));
    t.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
        e.preventDefault();
        choose((i + 1) % 2, true);
      }
    });
  });
  $('#form-to-yaml').addEventListener('click', () => {
    const { yaml } = collect(false);
    $('#yaml').value = yaml;
    $('#y-name').value = $('#f-name').value.trim();
    choose(1, true);
    checkYAML();
  });
}

// ---- Choices from the server ----

async function loadChoices() {
  try {
    const list = await json('/v1/datasets');
    datasets = list.datasets || [];
    const sel = $('#f-dataset'), val = $('#f-val');
    const keep = sel.value, keepVal = val.value;
    const lj = datasets.filter((d) => d.format === 'ljspeech');
    const mf = datasets.filter((d) => d.format === 'manifest');
    const opt = (d) => h('option', { value: d.name, dataset: { format: d.format } }, `${d.name} (${d.rows} rows)`);
    sel.replaceChildren(
      h('option', { value: '' }, datasets.length ? 'Choose a dataset…' : `No dataset under ${list.data_root}`),
      lj.length ? h('optgroup', { label: 'LJSpeech-format folders' }, lj.map(opt)) : '',
      mf.length ? h('optgroup', { label: 'Manifests (JSONL)' }, mf.map(opt)) : '');
    val.replaceChildren(h('option', { value: '' }, 'none: split the training data'), ...mf.map(opt));
    if (keep) sel.value = keep;
    if (keepVal) val.value = keepVal;
    if (!datasets.length) setFieldError(sel, `Put a corpus under the server's data root (${list.data_root}): an LJSpeech folder or JSONL manifests.`);
    datasetChanged();
  } catch (e) {
    toast('Datasets: ' + e.message, 'error');
  }
  try {
    const m = await json('/v1/models');
    const init = $('#f-init');
    const keep = init.value;
    init.replaceChildren(h('option', { value: '' }, 'nothing (random weights)'),
      ...(m.available || []).filter((x) => x.kind !== 'bundled' && !x.error).map((x) =>
        h('option', { value: x.name }, `${x.name} (${x.kind}, step ${x.step})`)));
    init.value = keep;
  } catch { /* the list stays as it was */ }
}

function formatOf(name) {
  const d = datasets.find((x) => x.name === name);
  return d ? d.format : (name.endsWith('.jsonl') || name.endsWith('.json') ? 'manifest' : 'ljspeech');
}

function datasetChanged() {
  const name = $('#f-dataset').value;
  setTimeout(() => validateField($('#f-split')));
  const lj = name && formatOf(name) === 'ljspeech';
  $('#f-val-field').hidden = lj;
  $('#f-split-field').hidden = !lj && !!$('#f-val').value;
  if (!lj && !$('#f-val').value && name) {
    // Suggest the manifest beside the training one.
    const guess = name.replace(/train(\.jsonl?)$/, 'val$1');
    if (guess !== name && datasets.some((d) => d.name === guess)) {
      $('#f-val').value = guess;
      $('#f-split-field').hidden = true;
    }
  }
}

// ---- The form ----

function initForm() {
  const form = $('#panel-form');
  $('#f-dataset').addEventListener('change', () => { datasetChanged(); validateField($('#f-dataset')); });
  $('#f-val').addEventListener('change', datasetChanged);
  for (const el of form.querySelectorAll('input, select')) {
    el.addEventListener('blur', () => validateField(el));
    el.addEventListener('input', () => { if (el.getAttribute('aria-invalid')) validateField(el); });
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const { yaml, name, ok } = collect(true);
    if (!ok) return;
    await submit(yaml, name, false, showFormErrors);
  });
  $('#form-check').addEventListener('click', async () => {
    const { yaml, name, ok } = collect(true);
    if (!ok) return;
    await submit(yaml, name, true, showFormErrors);
  });
}

const intIn = (el, lo, what) => {
  const v = el.value.trim();
  if (v === '') return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo) return `${what} must be a whole number of at least ${lo}.`;
  return null;
};

// validateField checks one field and shows its message; it returns the message.
function validateField(el) {
  let msg = null;
  const v = el.value.trim();
  switch (el.id) {
    case 'f-name':
      if (v && !NAME_RE.test(v)) msg = "Use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.";
      break;
    case 'f-dataset':
      if (!v) msg = 'Choose the training data.';
      break;
    case 'f-steps':
      msg = v === '' ? 'How many steps to train for?' : intIn(el, 1, 'Steps');
      break;
    case 'f-lr': {
      const n = Number(v);
      if (v === '' || !(n > 0)) msg = 'The learning rate must be a number above 0 (e.g. 0.001).';
      else if (n >= 1) msg = 'A learning rate of 1 or more diverges: use e.g. 0.001.';
      break;
    }
    case 'f-eval':
      msg = v === '' ? 'Steps between evaluations.' : intIn(el, 1, 'Evaluate every');
      break;
    case 'f-ckpt': {
      msg = v === '' ? 'Steps between checkpoints.' : intIn(el, 1, 'Checkpoint every');
      const ev = Number($('#f-eval').value);
      if (!msg && ev > 0 && Number(v) % ev !== 0) {
        setFieldError(el, null);
        const out = $('#f-ckpt-msg');
        out.textContent = `Best is judged on the evaluation of a checkpoint's own step: make it a multiple of ${ev}.`;
        return null;
      }
      break;
    }
    case 'f-warmup': {
      msg = intIn(el, 0, 'Warm-up steps');
      const steps = Number($('#f-steps').value);
      if (!msg && v !== '' && steps > 0 && Number(v) >= steps) msg = `The warm-up must be shorter than the ${steps} steps.`;
      break;
    }
    case 'f-frames':
      msg = intIn(el, 1, 'The batch budget');
      break;
    case 'f-buckets': {
      if (v === '') break;
      const xs = parseBuckets(v);
      if (!xs) msg = 'Whole numbers of frames, separated by commas, e.g. 400, 800, 1680.';
      else if (xs.some((x, i) => i > 0 && x <= xs[i - 1])) msg = 'The lengths must increase.';
      else if (xs.some((x) => x % 4 !== 0)) msg = "Each length must be a multiple of the model's subsampling (4).";
      break;
    }
    case 'f-log':
      msg = v === '' ? null : intIn(el, 1, 'Log every');
      break;
    case 'f-split': {
      const n = Number(v);
      if (v !== '' && !(n >= 0 && n < 0.5)) msg = 'A fraction from 0 to 0.5 (0.01 is 1%).';
      const d = datasets.find((x) => x.name === $('#f-dataset').value);
      if (!msg && d && d.rows * n < 2) {
        setFieldError(el, null);
        $('#f-split-msg').textContent = `Of ${d.rows} rows, a share of ${n} holds out about ${(d.rows * n).toFixed(1)}: ` +
          'too few to evaluate on (no WER). Choose a validation manifest or a larger share.';
        return null;
      }
      break;
    }
    default:
      return null;
  }
  setFieldError(el, msg);
  return msg;
}

// parseBuckets reads "192, 384" as [192, 384] (null when empty or bad).
function parseBuckets(v) {
  const parts = v.split(/[\s,]+/).filter(Boolean);
  if (!parts.length) return null;
  const xs = parts.map(Number);
  return xs.every((x) => Number.isInteger(x) && x > 0) ? xs : null;
}

// collect reads the form as a YAML config; with check, it validates every
// field first and focuses the first bad one.
function collect(check) {
  const form = $('#panel-form');
  let ok = true;
  if (check) {
    let first = null;
    for (const el of form.querySelectorAll('input, select')) {
      if (el.closest('[hidden]')) continue;
      if (validateField(el) && !first) first = el;
    }
    if (first) {
      ok = false;
      const det = first.closest('details');
      if (det) det.open = true;
      first.focus();
    }
  }
  const v = (id) => $('#' + id).value.trim();
  const q = (s) => JSON.stringify(s);
  const name = v('f-name');
  const ds = v('f-dataset');
  const lines = ['# Written by the web interface; every key: docs/config.md.', 'datasets:'];
  if (ds && formatOf(ds) === 'ljspeech') {
    lines.push('  ljspeech:', `    path: ${q(ds)}`);
    if (v('f-split') !== '') lines.push('  split:', `    val: ${Number(v('f-split'))}`);
  } else {
    lines.push('  manifests:', `    train: ${q(ds)}`);
    if (v('f-val')) lines.push(`    val: ${q(v('f-val'))}`);
    else if (v('f-split') !== '') lines.push('  split:', `    val: ${Number(v('f-split'))}`);
  }
  if ($('#f-skip').checked) lines.push('  skip_invalid: true');
  const buckets = parseBuckets(v('f-buckets'));
  if (v('f-frames') || buckets) lines.push('  batching:');
  if (buckets) lines.push(`    buckets: [${buckets.join(', ')}]`);
  if (v('f-frames')) lines.push(`    max_frames: ${Number(v('f-frames'))}`);
  lines.push('model:', `  preset: ${v('f-preset')}`);
  lines.push('train:');
  if (v('f-backend')) lines.push(`  backend: ${q(v('f-backend'))}`);
  lines.push(`  steps: ${Number(v('f-steps'))}`, `  learning_rate: ${Number(v('f-lr'))}`);
  if (v('f-warmup') !== '') lines.push(`  warmup_steps: ${Number(v('f-warmup'))}`);
  if (v('f-schedule') !== 'cosine') lines.push(`  schedule: ${v('f-schedule')}`);
  lines.push(`  eval_every: ${Number(v('f-eval'))}`);
  if (v('f-precision') !== 'float32') lines.push(`  precision: ${v('f-precision')}`);
  if (v('f-seed') !== '' && Number(v('f-seed')) !== 0) lines.push(`  seed: ${Number(v('f-seed'))}`);
  if (v('f-init')) lines.push(`  init_from: ${q(v('f-init'))}`);
  lines.push('checkpoint:', `  every: ${Number(v('f-ckpt'))}`);
  if (v('f-log') !== '') lines.push('log:', `  every: ${Number(v('f-log'))}`);
  return { yaml: lines.join('\n') + '\n', name, ok };
}

function showFormErrors(msg, ok) {
  const box = $('#form-errors');
  box.hidden = !msg;
  box.textContent = msg || '';
  box.classList.toggle('ok', !!ok);
  box.style.background = ok ? 'var(--accent-soft)' : '';
  if (!msg || ok) return;
  // Put the message at its field when it names a key.
  for (const [key, id] of Object.entries(FIELD_OF_KEY)) {
    if (msg.includes(key)) {
      const el = $('#' + id);
      if (el && !el.closest('[hidden]')) {
        setFieldError(el, msg.replace(/^config:\d+:\d+:\s*/, ''));
        const det = el.closest('details');
        if (det) det.open = true;
      }
      break;
    }
  }
}

// submit posts the config (a dry run with check) and reports through show(msg, ok).
async function submit(yaml, name, check, show) {
  const buttons = document.querySelectorAll('#new-job button');
  buttons.forEach((b) => { b.disabled = true; });
  show('', false);
  try {
    const res = await json('/v1/train', { method: 'POST', body: yaml, type: 'application/yaml', query: { name, dry_run: check ? 'true' : '' } });
    if (check) {
      show(`The config is valid: the job would be ${res.id}, training into ${res.run_dir}.`, true);
      return res;
    }
    toast(`Started ${res.id}.`);
    $('#new-job').hidden = true;
    $('#new-job-toggle').setAttribute('aria-expanded', 'false');
    $('#new-job-toggle').textContent = 'New job';
    $('#new-job-toggle').focus();
    hooks.started(res);
    return res;
  } catch (e) {
    show(e instanceof ApiError ? e.message : String(e), false);
    return null;
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

// ---- The YAML editor ----

const EXAMPLE = `# A training job: every key is in docs/config.md. Relative paths are
# under the server's data root.
datasets:
  ljspeech:
    path: LJSpeech-1.1
model:
  preset: small
train:
  steps: 20000
  learning_rate: 1.0e-3
  eval_every: 1000
checkpoint:
  every: 1000
`;

let badLines = new Set();

function initEditor() {
  const ta = $('#yaml');
  ta.value = EXAMPLE;
  ta.addEventListener('input', () => {
    badLines = new Set();
    syncGutter();
    clearTimeout(checkTimer);
    checkTimer = setTimeout(checkYAML, 900);
  });
  ta.addEventListener('scroll', () => { $('#gutter').style.transform = `translateY(${-ta.scrollTop}px)`; });
  ta.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      checkYAML();
    }
  });
  $('#yaml-check').addEventListener('click', checkYAML);
  $('#yaml-start').addEventListener('click', async () => {
    const name = $('#y-name').value.trim();
    if (name && !NAME_RE.test(name)) {
      showYAMLErrors("The job name: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.", false);
      $('#y-name').focus();
      return;
    }
    await submit($('#yaml').value, name, false, showYAMLErrors);
  });
  syncGutter();
}

let checkTimer = 0;
async function checkYAML() {
  clearTimeout(checkTimer);
  const name = $('#y-name').value.trim();
  if (name && !NAME_RE.test(name)) return;
  try {
    const res = await json('/v1/train', { method: 'POST', body: $('#yaml').value, type: 'application/yaml', query: { name, dry_run: 'true' } });
    showYAMLErrors(`Valid: the job would be ${res.id}, training into ${res.run_dir}.`, true);
  } catch (e) {
    showYAMLErrors(e instanceof ApiError ? e.message : String(e), false);
  }
}

function syncGutter() {
  const n = $('#yaml').value.split('\n').length;
  const out = [];
  for (let i = 1; i <= n; i++) out.push(badLines.has(i) ? `<span class="bad">${i}</span>` : String(i));
  $('#gutter').innerHTML = out.join('\n');
}

// parseErrors finds the config:LINE:COL places in a server message (and
// "line N" of YAML syntax errors).
export function parseErrors(msg) {
  const out = [];
  for (const part of msg.split('\n')) {
    const m = part.match(/config:(\d+):(\d+):\s*(.*)$/) || part.match(/config:(\d+):\s*(.*)$/);
    if (m) {
      out.push(m.length === 4 ? { line: +m[1], col: +m[2], text: m[3] } : { line: +m[1], col: 1, text: m[2] });
      continue;
    }
    const y = part.match(/line (\d+)(?::(\d+))?:?\s*(.*)$/);
    if (y) out.push({ line: +y[1], col: y[2] ? +y[2] : 1, text: part.trim() });
    else if (part.trim()) out.push({ line: 0, col: 0, text: part.trim() });
  }
  return out;
}

function showYAMLErrors(msg, ok) {
  const list = $('#yaml-errors');
  badLines = new Set();
  if (!msg) { list.replaceChildren(); syncGutter(); return; }
  if (ok) {
    list.replaceChildren(h('li', { class: 'ok' }, msg));
    syncGutter();
    return;
  }
  const errs = parseErrors(msg);
  list.replaceChildren(...errs.map((e) => {
    if (e.line) badLines.add(e.line);
    return h('li', null,
      e.line ? h('button', { type: 'button', class: 'link', title: 'Go to the place', onclick: () => goTo(e.line, e.col) }, `${e.line}:${e.col}`) : '',
      e.line ? ' ' : '', e.text);
  }));
  syncGutter();
}

function goTo(line, col) {
  const ta = $('#yaml');
  const lines = ta.value.split('\n');
  let pos = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
  pos += Math.max(0, Math.min(col - 1, (lines[line - 1] || '').length));
  ta.focus();
  ta.setSelectionRange(pos, pos);
  const lh = parseFloat(getComputedStyle(ta).lineHeight) || 19;
  ta.scrollTop = Math.max(0, (line - 4) * lh);
}
