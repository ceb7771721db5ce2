// The single page: hash routes (#/training, #/data, #/transcribe), the
// token dialog and the served model in the header.
import { onTokenNeeded, setToken, token } from './api.js';
import { refreshServedModel } from './header.js';
import { $ } from './util.js';
import * as training from './training.js';
import * as data from './data.js';
import * as transcribe from './transcribe.js';

const pages = { training, data, transcribe };
const started = new Set();
let current = null;

function route() {
  const name = (location.hash.match(/^#\/(\w+)/) || [])[1];
  const page = pages[name] ? name : 'training';
  if (!pages[name] && location.hash !== '#/training') {
    history.replaceState(null, '', '#/training');
  }
  for (const [n] of Object.entries(pages)) {
    document.getElementById('page-' + n).hidden = n !== page;
    const link = document.querySelector(`nav a[data-page="${n}"]`);
    if (n === page) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
  document.title = page[0].toUpperCase() + page.slice(1) + ' · asrkit';
  if (current && current !== page && pages[current].hide) pages[current].hide();
  current = page;
  if (!started.has(page)) {
    started.add(page);
    pages[page].init();
  }
  if (pages[page].show) pages[page].show();
}

// The token dialog: shown when the API answers 401.
function tokenDialog(wrong) {
  const dlg = $('#token-dialog');
  const input = $('#token-input');
  $('#token-why').textContent = wrong
    ? 'The server refused the token: type it again (the server\'s ASR_API_TOKEN). It is kept in this browser only.'
    : 'The server needs a token (its ASR_API_TOKEN). It is kept in this browser only.';
  input.value = '';
  $('#token-button').hidden = false;
  return new Promise((resolve) => {
    const done = () => {
      dlg.removeEventListener('close', done);
      const t = dlg.returnValue === 'save' ? input.value.trim() : '';
      resolve(t || null);
    };
    dlg.addEventListener('close', done);
    dlg.returnValue = '';
    if (!dlg.open) dlg.showModal();
    input.focus();
  });
}

function start() {
  onTokenNeeded(tokenDialog);
  if (token()) $('#token-button').hidden = false;
  $('#token-button').addEventListener('click', async () => {
    const t = await tokenDialog(false);
    if (t) { setToken(t); location.reload(); }
  });
  $('#token-forget').addEventListener('click', () => {
    setToken('');
    $('#token-dialog').close('');
    location.reload();
  });
  $('#token-form').addEventListener('submit', (e) => {
    if (!$('#token-input').value.trim()) {
      e.preventDefault();
      $('#token-input').focus();
    }
  });
  window.addEventListener('hashchange', () => {
    route();
    $('#main').focus({ preventScroll: true });
  });
  route();
  refreshServedModel();
}

start();
