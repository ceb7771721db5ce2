// Word alignment of a reference and a hypothesis (Levenshtein, as asr
// eval's REF/HYP lines): each step is a hit, a substitution, a deletion
// (a reference word missing) or an insertion (an extra hypothesis word).
import { h } from './util.js';

/** align returns the edit steps [{op: 'ok'|'sub'|'del'|'ins', ref, hyp}] and the counts. */
export function align(reference, hypothesis) {
  const r = words(reference), y = words(hypothesis);
  const n = r.length, m = y.length;
  // d[i][j]: edits between r[:i] and y[:j].
  const d = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = 0; i <= n; i++) d[i][0] = i;
  for (let j = 0; j <= m; j++) d[0][j] = j;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const sub = d[i - 1][j - 1] + (r[i - 1] === y[j - 1] ? 0 : 1);
      d[i][j] = Math.min(sub, d[i - 1][j] + 1, d[i][j - 1] + 1);
    }
  }
  const steps = [];
  let i = n, j = m;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && d[i][j] === d[i - 1][j - 1] + (r[i - 1] === y[j - 1] ? 0 : 1)) {
      steps.push({ op: r[i - 1] === y[j - 1] ? 'ok' : 'sub', ref: r[i - 1], hyp: y[j - 1] });
      i--; j--;
    } else if (i > 0 && d[i][j] === d[i - 1][j] + 1) {
      steps.push({ op: 'del', ref: r[i - 1], hyp: '' });
      i--;
    } else {
      steps.push({ op: 'ins', ref: '', hyp: y[j - 1] });
      j--;
    }
  }
  steps.reverse();
  const counts = { sub: 0, del: 0, ins: 0, words: n };
  for (const s of steps) if (s.op !== 'ok') counts[s.op]++;
  counts.wer = n ? (counts.sub + counts.del + counts.ins) / n : (m ? 1 : 0);
  return { steps, counts };
}

function words(s) {
  return (s || '').trim().split(/\s+/).filter(Boolean);
}

/**
 * alignedView draws the REF and HYP lines with the errors marked:
 * substitutions in red, deletions struck through, insertions underlined;
 * the other line shows a gap (***), as asr eval prints them.
 */
export function alignedView(reference, hypothesis) {
  const { steps, counts } = align(reference, hypothesis);
  const ref = [], hyp = [];
  const label = { sub: 'substituted', del: 'deleted', ins: 'inserted' };
  for (const s of steps) {
    if (s.op === 'ok') {
      ref.push(h('span', null, s.ref));
      hyp.push(h('span', null, s.hyp));
      continue;
    }
    const cls = 'w-' + s.op;
    const title = label[s.op];
    ref.push(s.ref ? h('span', { class: cls, title }, s.ref) : h('span', { class: 'w-gap', title: 'nothing in the reference' }, '***'));
    hyp.push(s.hyp ? h('span', { class: cls, title }, s.hyp) : h('span', { class: 'w-gap', title: 'missing in the hypothesis' }, '***'));
  }
  const view = h('div', { class: 'aligned' },
    h('span', { class: 'tag' }, 'REF'), h('span', { class: 'line' }, ref),
    h('span', { class: 'tag' }, 'HYP'), h('span', { class: 'line' }, hyp.length ? hyp : h('span', { class: 'w-gap' }, '(nothing)')));
  return { view, counts };
}
