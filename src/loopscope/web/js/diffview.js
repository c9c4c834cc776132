// diffview.js - the diff: a baseline range against a comparison range, drawn as one flame graph
// coloured by the change of time per second (red grew, blue shrank), and the functions sorted by
// how much their self time per second grew.

import { el, formatRate, shortFile } from './format.js';

const MAX_ROWS = 200;

export function renderDiffTable(table, data) {
  const weight = data.weight;
  const head = el('tr', null, ['Function', 'File:line', 'Self before', 'Self after', 'Change', 'Total change']
    .map((label, k) => el('th', { class: k >= 2 ? 'num' : '', text: label + (label === 'Change' ? ' ▾' : '') })));
  const rows = data.rows.slice(0, MAX_ROWS).map(([fn, line, baseSelf, , self, , change, totalChange]) => {
    const f = data.functions[fn];
    const cls = change > 0 ? 'num grew' : change < 0 ? 'num shrank' : 'num';
    return el('tr', { title: f.file + ':' + (line || f.first_line) }, [
      el('td', { class: 'name', text: line ? f.name + ':' + line : f.name }),
      el('td', { class: 'file', text: shortFile(f.file) + ':' + (line || f.first_line) }),
      el('td', { class: 'num', text: formatRate(baseSelf / (data.base_seconds || 1), weight) }),
      el('td', { class: 'num', text: formatRate(self / (data.seconds || 1), weight) }),
      el('td', { class: cls, text: (change > 0 ? '+' : '') + formatRate(change, weight) }),
      el('td', { class: totalChange > 0 ? 'num grew' : totalChange < 0 ? 'num shrank' : 'num', text: (totalChange > 0 ? '+' : '') + formatRate(totalChange, weight) }),
    ]);
  });
  table.replaceChildren(el('thead', null, [head]), el('tbody', null, rows));
}

// the default diff ranges: the first half of the recording against the second
export function halves(start, end) {
  const middle = start + (end - start) / 2;
  return [[start, middle], [middle, end]];
}
