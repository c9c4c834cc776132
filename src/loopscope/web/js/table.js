// table.js - the function table: self and inclusive time (and their shares) per function or line,
// sortable by any column, filtered by a text; a click on a row opens its source.

import { el, formatPercent, formatWeight, shortFile } from './format.js';

const MAX_ROWS = 500;
const COLUMNS = [
  { key: 'name', label: 'Function (file:line)', cls: 'name' },
  { key: 'self', label: 'Self', cls: 'num' },
  { key: 'selfShare', label: 'Self %', cls: 'num' },
  { key: 'total', label: 'Total', cls: 'num' },
  { key: 'totalShare', label: 'Total %', cls: 'num' },
];

export class FunctionTable {
  constructor(table, filterInput, onSelect) {
    this.table = table;
    this.onSelect = onSelect;
    this.sortKey = 'self';
    this.descending = true;
    this.filter = '';
    this.rows = [];
    filterInput.addEventListener('input', () => { this.filter = filterInput.value.toLowerCase(); this.render(); });
  }

  // data: the /api/functions answer
  setData(data) {
    this.data = data;
    const whole = data.grand_total;
    this.rows = data.rows.map(([fn, line, self, total]) => {
      const f = data.functions[fn];
      return {
        name: line ? f.name + ':' + line : f.name, fnName: f.name, file: f.file, line: line || f.first_line,
        self, total, selfShare: whole ? self / whole : 0, totalShare: whole ? total / whole : 0,
      };
    });
    this.render();
  }

  sortBy(key) {
    if (this.sortKey === key) this.descending = !this.descending;
    else { this.sortKey = key; this.descending = key !== 'name' && key !== 'file'; }
    this.render();
  }

  render() {
    if (!this.data) return;
    const key = this.sortKey;
    const sign = this.descending ? -1 : 1;
    let rows = this.rows;
    if (this.filter) rows = rows.filter((r) => r.name.toLowerCase().includes(this.filter) || r.file.toLowerCase().includes(this.filter));
    rows = rows.slice().sort((a, b) => (a[key] < b[key] ? -sign : a[key] > b[key] ? sign : 0));
    const head = el('tr', null, COLUMNS.map((c) => {
      const th = el('th', { class: c.cls, text: c.label + (c.key === key ? (this.descending ? ' ▾' : ' ▴') : '') });
      th.addEventListener('click', () => this.sortBy(c.key));
      return th;
    }));
    const weight = this.data.weight;
    const body = rows.slice(0, MAX_ROWS).map((r) => {
      const tr = el('tr', { title: r.file + ':' + r.line }, [
        el('td', { class: 'name' }, [el('span', { class: 'fn', text: r.name }), el('span', { class: 'where', text: shortFile(r.file) + ':' + r.line })]),
        el('td', { class: 'num', text: formatWeight(r.self, weight) }),
        el('td', { class: 'num' }, [el('span', { class: 'bar' }), formatPercent(r.self, this.data.grand_total)]),
        el('td', { class: 'num', text: formatWeight(r.total, weight) }),
        el('td', { class: 'num', text: formatPercent(r.total, this.data.grand_total) }),
      ]);
      tr.querySelector('.bar').style.width = Math.round(40 * r.selfShare) + 'px';
      tr.addEventListener('click', () => {
        for (const other of this.table.querySelectorAll('tr.selected')) other.classList.remove('selected');
        tr.classList.add('selected');
        this.onSelect({ name: r.fnName, file: r.file, line: r.line });
      });
      return tr;
    });
    const note = rows.length > MAX_ROWS ? [el('tr', null, [el('td', { colSpan: 5, class: 'muted', text: (rows.length - MAX_ROWS) + ' more rows: filter to see them' })])] : [];
    this.table.replaceChildren(el('thead', null, [head]), el('tbody', null, body.concat(note)));
  }
}
