// source.js - the source view: a file's text as it was profiled, with a heat gutter per line (its
// self and inclusive share of the selection), scrolled to the chosen line or the hottest one.

import { getJSON } from './api.js';
import { el, formatPercent } from './format.js';

// the file of the root a recording puts under a stack it read only in part (ls.h LS_PARTIAL_STACK_FILE)
const PARTIAL_STACK_FILE = '<loopscope>';
// the leaf it puts over the outer part of a stack whose top moved while read (ls.h LS_TOP_MISSING_NAME)
const TOP_MISSING_NAME = '<top changed while read>';

export class SourceView {
  constructor(container, pathLabel, hottestButton) {
    this.container = container;
    this.pathLabel = pathLabel;
    this.data = null;
    hottestButton.addEventListener('click', () => this.data && this.scrollTo(this.data.hottest_line));
    this.showMessage('click a function in the table or the flame graph to see its source');
  }

  showMessage(text) {
    this.container.replaceChildren(el('div', { class: 'empty', text }));
  }

  // selected: {name, file, line}; params: the selection's query parameters
  async show(selected, params) {
    if (!selected) return;
    this.pathLabel.textContent = selected.file;
    const sources = (this.summary && this.summary.sources) || [];
    if (!sources.includes(selected.file)) {
      this.data = null;
      this.showMessage(selected.file !== PARTIAL_STACK_FILE
        ? 'the profile holds no text of ' + selected.file + ' (a built-in or frozen module, or a file loopscope could not read)'
        : selected.name === TOP_MISSING_NAME
          ? selected.name + ' stands for the innermost frames of a stack that changed under every read (CPython 3.8-3.10, a thread calling and returning all the time): its callers are the part that held still; it has no source'
          : selected.name + ' is where loopscope keeps the stacks it could read only in part (the thread changed under every read, or it was deeper than 16,384 frames): it has no source');
      return;
    }
    const data = await getJSON('/api/source', { path: selected.file, start: params.start, end: params.end, thread: params.thread, weight: params.weight });
    this.data = data;
    this.render();
    this.scrollTo(selected.line || data.hottest_line);
  }

  render() {
    const data = this.data;
    const heat = new Map(data.lines.map(([line, self, total]) => [line, [self, total]]));
    const whole = data.grand_total || 1;
    let maxSelf = 0;
    for (const [self] of heat.values()) maxSelf = Math.max(maxSelf, self);
    const rows = data.text.split('\n').map((text, k) => {
      const number = k + 1;
      const h = heat.get(number);
      const row = el('div', { class: 'line', 'data-line': String(number) }, [
        el('span', { class: 'gutter' }, [
          el('span', { class: 'heat', text: h && h[0] ? formatPercent(h[0], whole) : '', title: 'self share' }),
          el('span', { class: 'heat', text: h ? formatPercent(h[1], whole) : '', title: 'inclusive share' }),
        ]),
        el('span', { class: 'num', text: String(number) }),
        el('span', { class: 'code', text: text || ' ' }),
      ]);
      if (h) {
        const intensity = maxSelf ? h[0] / maxSelf : 0;
        const inclusive = h[1] / whole;
        row.style.background = intensity > 0
          ? `rgba(232, 72, 40, ${(0.12 + 0.6 * intensity).toFixed(3)})`
          : `rgba(240, 163, 74, ${(0.08 + 0.25 * inclusive).toFixed(3)})`;
        if (data.hottest_line === number) row.classList.add('hottest');
      }
      return row;
    });
    this.container.replaceChildren(...rows);
  }

  scrollTo(line) {
    if (!line) return;
    for (const old of this.container.querySelectorAll('.hot-target')) old.classList.remove('hot-target');
    const row = this.container.querySelector(`.line[data-line="${line}"]`);
    if (!row) return;
    row.classList.add('hot-target');
    this.container.scrollTop = Math.max(0, row.offsetTop - this.container.offsetTop - this.container.clientHeight / 3);
  }
}
