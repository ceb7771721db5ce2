// Small helpers: building elements, formatting numbers and times, toasts.

/**
 * h builds an element: h('button', {class: 'x', onclick: fn}, 'text', child).
 * Attributes starting with "on" are listeners; "dataset" and "style"
 * objects are merged; false, null and undefined attributes are left out.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === false || v === null || v === undefined) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
      else if (k === 'class') el.className = v;
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** seconds as "1 h 05 min", "3 min 20 s", "12.5 s". */
export function duration(s) {
  if (s === undefined || s === null || !isFinite(s)) return '–';
  if (s < 60) return (s < 10 ? s.toFixed(1) : Math.round(s)) + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' min ' + String(Math.round(s % 60)).padStart(2, '0') + ' s';
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return hrs + ' h ' + String(m % 60).padStart(2, '0') + ' min';
  return Math.floor(hrs / 24) + ' d ' + (hrs % 24) + ' h';
}

/** a number with at most digits significant digits. */
export function num(x, digits = 3) {
  if (x === undefined || x === null || !isFinite(x)) return '–';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(Math.max(0, digits - 1));
  return Number(x.toPrecision(digits)).toString();
}

export function pct(x, digits = 1) {
  if (x === undefined || x === null || !isFinite(x)) return '–';
  return (100 * x).toFixed(digits) + '%';
}

export function clock(t) {
  if (!t) return '–';
  const d = new Date(t);
  if (isNaN(d)) return '–';
  const today = new Date();
  const same = d.toDateString() === today.toDateString();
  return same ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** toast shows a short message in the corner; kind "error" stays longer. */
export function toast(message, kind = '') {
  const box = document.getElementById('toasts');
  const el = h('div', { class: 'toast ' + kind, role: kind === 'error' ? 'alert' : 'status' }, message);
  box.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 9000 : 4500);
}

/** setMsg shows a field's validation message (or its hint when msg is empty). */
export function setFieldError(input, msg) {
  const out = document.getElementById(input.getAttribute('aria-describedby'));
  if (out && out.dataset.hint === undefined) out.dataset.hint = out.textContent;
  if (msg) {
    input.setAttribute('aria-invalid', 'true');
    if (out) { out.textContent = msg; out.classList.add('error'); }
  } else {
    input.removeAttribute('aria-invalid');
    if (out) { out.textContent = out.dataset.hint || ''; out.classList.remove('error'); }
  }
}

/** palette gives the colour of the i-th run on the charts. */
const PALETTE = ['#3b5bdb', '#e8590c', '#2b8a3e', '#ae3ec9', '#c92a2a', '#0c8599', '#f08c00', '#5c940d', '#d6336c', '#495057'];
export function color(i) { return PALETTE[i % PALETTE.length]; }

/** shortName shortens a model's name when it is an absolute path: its last two folders. */
export function shortName(name) {
  if (!name || !name.startsWith('/')) return name || '';
  return '…/' + name.split('/').filter(Boolean).slice(-2).join('/');
}
