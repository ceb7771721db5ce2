// The API client of the pages: fetch with the token, errors as ApiError,
// WebSocket URLs. When the server answers 401, the user is asked for the
// token once (the dialog), it is kept in localStorage and the request is
// sent again.

const TOKEN_KEY = 'asrkit.token';

/** An error answer of the API: its status and {"error": ...} message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function token() {
  try { return localStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}

export function setToken(t) {
  try {
    if (t) localStorage.setItem(TOKEN_KEY, t); else localStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: the token lasts for this page only */ }
  memoryToken = t;
}

let memoryToken = '';
function currentToken() { return token() || memoryToken; }

// askToken is set by the app: it shows the dialog and resolves with the
// token the user typed (or null when dismissed).
let askToken = async () => null;
let pendingAsk = null;
export function onTokenNeeded(fn) { askToken = fn; }

async function promptToken(wrong) {
  if (!pendingAsk) {
    pendingAsk = askToken(wrong).finally(() => { pendingAsk = null; });
  }
  return pendingAsk;
}

function headers(extra) {
  const h = new Headers(extra || {});
  const t = currentToken();
  if (t) h.set('Authorization', 'Bearer ' + t);
  return h;
}

async function errorOf(resp) {
  let msg = resp.statusText || ('HTTP ' + resp.status);
  try {
    const text = await resp.text();
    try {
      const j = JSON.parse(text);
      if (j && typeof j.error === 'string') msg = j.error;
    } catch {
      if (text.trim()) msg = text.trim().slice(0, 300);
    }
  } catch { /* keep the status text */ }
  return new ApiError(resp.status, msg);
}

/**
 * request sends a request to the API and returns the Response (2xx), or
 * throws an ApiError. opts: method, query (object), json (a value sent as
 * JSON), body and type (raw body and its Content-Type), signal.
 */
export async function request(path, opts = {}) {
  let url = path;
  if (opts.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== '' && v !== false) q.set(k, String(v));
    }
    const s = q.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  let body = opts.body;
  const extra = {};
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    extra['Content-Type'] = 'application/json';
  } else if (opts.type) {
    extra['Content-Type'] = opts.type;
  }
  for (let attempt = 0; ; attempt++) {
    let resp;
    try {
      resp = await fetch(url, { method: opts.method || 'GET', headers: headers(extra), body, signal: opts.signal });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(0, 'the server does not answer (' + e.message + ')');
    }
    if (resp.status === 401 && attempt < 3) {
      const t = await promptToken(attempt > 0 || !!currentToken());
      if (t) { setToken(t); continue; }
    }
    if (!resp.ok) throw await errorOf(resp);
    return resp;
  }
}

/** json sends a request and decodes the JSON answer. */
export async function json(path, opts) {
  const resp = await request(path, opts);
  return resp.json();
}

/** wsURL is the WebSocket URL of an API path, with the token as ?token=. */
export function wsURL(path, query = {}) {
  const u = new URL(path, location.href);
  u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, String(v));
  }
  const t = currentToken();
  if (t) u.searchParams.set('token', t);
  return u.toString();
}

/** ensureAuth makes one cheap request, so that a needed token is asked for before WebSockets open. */
export async function ensureAuth() {
  return json('/v1/models');
}
