// The header's line on the served model, and the banner when the server
// does not answer.
import { json, ApiError } from './api.js';
import { $, shortName } from './util.js';

export async function refreshServedModel() {
  try {
    const m = await json('/v1/models');
    const l = m.loaded;
    const label = l.kind === 'bundled' ? 'bundled model' : shortName(l.name);
    const el = $('#served-model');
    el.textContent = 'Serving: ' + label;
    el.title = `The model the server transcribes with: ${l.name}: ${l.preset || 'custom'}, step ${l.step}, ${l.decoder || ''}`;
    $('#banner').hidden = true;
    return m;
  } catch (e) {
    if (e instanceof ApiError && e.status === 0) {
      const b = $('#banner');
      b.textContent = 'The server does not answer. Is asr serve running? (' + e.message + ')';
      b.hidden = false;
    }
    return null;
  }
}
