// threadsview.js - the threads: per thread, its samples and CPU time in the selected range, the
// shares of its samples that were on CPU, waiting, and holding the GIL, and a small chart of its
// CPU share over the whole recording.

import { el, formatPercent, formatSeconds } from './format.js';

export function renderThreads(table, timeline, range) {
  const bins = timeline.bins;
  const inRange = bins.map((b) => !range || (b.end_unix_ns > range[0] && b.start_unix_ns < range[1]));
  const head = el('tr', null, ['Thread', 'Native id', 'Samples', 'CPU time', 'On CPU', 'Waiting', 'GIL', 'CPU share over time']
    .map((label, k) => el('th', { class: k >= 2 && k <= 6 ? 'num' : '', text: label })));
  const rows = timeline.threads.map((thread) => {
    let samples = 0, cpu = 0, onCpu = 0, gil = 0;
    thread.bins.forEach((cell, k) => {
      if (cell && inRange[k]) { samples += cell[0]; cpu += cell[1]; onCpu += cell[2]; gil += cell[3]; }
    });
    const spark = el('canvas', { class: 'spark' });
    const row = el('tr', { 'data-thread': String(thread.native_id) }, [
      el('td', { class: 'name', text: thread.name || '(unnamed)' }),
      el('td', { class: 'num', text: String(thread.native_id) }),
      el('td', { class: 'num', text: String(samples) }),
      el('td', { class: 'num', text: formatSeconds(cpu / 1e9) }),
      el('td', { class: 'num', text: formatPercent(onCpu, samples) }),
      el('td', { class: 'num', text: formatPercent(samples - onCpu, samples) }),
      el('td', { class: 'num', text: formatPercent(gil, samples) }),
      el('td', null, [spark]),
    ]);
    requestAnimationFrame(() => drawSpark(spark, thread.bins, bins));
    return row;
  });
  if (!rows.length) rows.push(el('tr', null, [el('td', { colSpan: 8, class: 'muted', text: 'no thread has samples yet' })]));
  table.replaceChildren(el('thead', null, [head]), el('tbody', null, rows));
}

function drawSpark(canvas, cells, bins) {
  const width = canvas.clientWidth || 220;
  const height = canvas.clientHeight || 26;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const w = width / Math.max(1, cells.length);
  cells.forEach((cell, k) => {
    if (!cell) return;
    const seconds = Math.max(1, bins[k].end_unix_ns - bins[k].start_unix_ns);
    const share = Math.min(1, cell[1] / seconds);
    ctx.fillStyle = '#f0a34a';
    ctx.fillRect(k * w, height - share * height, Math.max(w, 1), share * height);
  });
}
