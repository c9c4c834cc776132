// flamegraph.js - draws a call tree on a canvas as a flame graph (root at the bottom) or an icicle
// graph (root at the top): hover tells a frame's function, place, self and total; a click zooms
// into it; a search highlights the matching functions. In diff mode each frame is coloured by how
// much its time per second grew (red) or shrank (blue) from the baseline; its width is its time per
// second in both ranges together.
//
// The tree comes in depth-first order as parallel arrays (see loopscope/server/calltree.py):
// parent[i] < i, function[i], line[i], self[i], total[i] (and base_total/base_self in diff mode).
// A layout pass gives each node its x (in weight units), depth and the end of its subtree, so a
// draw visits only the frames wide enough to see and skips the subtrees of the others.

import { formatPercent, formatRate, formatWeight, shortFile } from './format.js';

const ROW = 17;
const MIN_WIDTH_PX = 0.35;
const MAX_ROWS = 400;
const FONT = '11px ui-monospace, SFMono-Regular, Menlo, monospace';

export class FlameGraph {
  constructor(canvas, tooltip, options) {
    this.canvas = canvas;
    this.tooltip = tooltip;
    this.options = options || {};
    this.orientation = 'icicle';
    this.search = null;
    this.data = null;
    this.zoom = 0;
    this.rects = [];
    canvas.addEventListener('mousemove', (e) => this.onMove(e));
    canvas.addEventListener('mouseleave', () => this.hideTooltip());
    canvas.addEventListener('click', (e) => this.onClick(e));
    this.resizeObserver = new ResizeObserver(() => this.draw());
    this.resizeObserver.observe(canvas.parentElement);
  }

  // data: {functions, nodes, weight, seconds} (and base_seconds in diff mode)
  setData(data, diff) {
    const previous = this.data && this.zoom ? this.pathKey(this.zoom) : null;
    this.data = data;
    this.diff = !!diff;
    this.widths = diff ? diffWidths(data) : data.nodes.total;
    this.layout();
    this.zoom = previous ? this.findPath(previous) : 0;
    this.draw();
  }

  setOrientation(orientation) {
    this.orientation = orientation;
    this.draw();
  }

  // a RegExp (or null): matching frames are drawn highlighted; returns the matched share of the
  // zoomed frame's total
  setSearch(regexp) {
    this.search = regexp;
    this.draw();
    return this.matchedShare();
  }

  resetZoom() {
    this.zoom = 0;
    this.draw();
  }

  layout() {
    const n = this.data.nodes.parent.length;
    const { parent } = this.data.nodes;
    const total = this.widths;
    const x = new Float64Array(n);
    const depth = new Int32Array(n);
    const next = new Float64Array(n);
    const end = new Int32Array(n);
    for (let i = 1; i < n; i++) {
      const p = parent[i];
      x[i] = next[p] || x[p];
      next[p] = x[i] + total[i];
      depth[i] = depth[p] + 1;
    }
    // subtree end: the first index after i whose depth is not deeper than i's
    const open = [];
    for (let i = 0; i < n; i++) {
      while (open.length && depth[open[open.length - 1]] >= depth[i]) end[open.pop()] = i;
      open.push(i);
    }
    while (open.length) end[open.pop()] = n;
    const names = this.data.functions.map((f) => f.name);
    this.layoutData = { x, depth, end, names };
  }

  pathKey(node) {
    const keys = [];
    const { parent, function: fn, line } = this.data.nodes;
    for (let i = node; i > 0; i = parent[i]) {
      const f = this.data.functions[fn[i]];
      keys.push(f.name + '\u0000' + f.file + '\u0000' + line[i]);
    }
    return keys.reverse();
  }

  findPath(keys) {
    // the node whose root path matches keys, or the deepest existing prefix
    const { parent, function: fn, line } = this.data.nodes;
    let node = 0;
    for (const key of keys) {
      let found = -1;
      for (let i = node + 1; i < this.layoutData.end[node]; i++) {
        if (parent[i] !== node) continue;
        const f = this.data.functions[fn[i]];
        if (f.name + '\u0000' + f.file + '\u0000' + line[i] === key) { found = i; break; }
      }
      if (found < 0) break;
      node = found;
    }
    return node;
  }

  draw() {
    const canvas = this.canvas;
    const width = canvas.parentElement.clientWidth || 800;
    const ratio = window.devicePixelRatio || 1;
    if (!this.data || this.data.nodes.parent.length === 0 || !this.widths[0]) {
      canvas.width = width * ratio;
      canvas.height = 40 * ratio;
      canvas.style.height = '40px';
      const ctx = canvas.getContext('2d');
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, width, 40);
      ctx.fillStyle = '#5b6673';
      ctx.font = '13px system-ui, sans-serif';
      ctx.fillText(this.data ? 'no samples in this selection' : 'loading…', 12, 24);
      this.rects = [];
      this.drawnFrames = 0;
      canvas.dataset.frames = '0';
      return;
    }
    const { x, depth, end, names } = this.layoutData;
    const { function: fn, line } = this.data.nodes;
    const total = this.widths;
    const rows = Math.min(this.visibleDepth(width) + 1, MAX_ROWS);
    const height = rows * ROW + 2;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      canvas.style.height = height + 'px';
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = FONT;
    ctx.textBaseline = 'middle';
    const charWidth = ctx.measureText('abcdefghij').width / 10;
    const z = this.zoom;
    const x0 = x[z];
    const scale = width / total[z];
    const rects = [];
    const yOf = (d) => (this.orientation === 'icicle' ? d * ROW : height - (d + 1) * ROW);
    const colors = this.diff ? this.diffColors() : null;
    const search = this.search;
    // the zoomed frame's ancestors, full width
    for (let a = this.data.nodes.parent[z]; a >= 0; a = this.data.nodes.parent[a]) {
      if (depth[a] >= MAX_ROWS) continue;
      this.drawFrame(ctx, rects, a, 0, width, yOf(depth[a]), names[fn[a]], line[a], charWidth, colors, search, true);
    }
    let drawn = 0;
    for (let i = z; i < end[z];) {
      const w = total[i] * scale;
      if (w < MIN_WIDTH_PX || depth[i] >= MAX_ROWS) { i = end[i]; continue; }
      const left = (x[i] - x0) * scale;
      this.drawFrame(ctx, rects, i, left, w, yOf(depth[i]), names[fn[i]], line[i], charWidth, colors, search, false);
      drawn++;
      i++;
    }
    this.rects = rects;
    this.drawnFrames = drawn;
    canvas.dataset.frames = String(drawn);
  }

  // the depth of the deepest frame of the zoomed subtree wide enough to draw: the graph's height
  visibleDepth(width) {
    const { depth, end } = this.layoutData;
    const total = this.widths;
    const z = this.zoom;
    const scale = width / total[z];
    let deepest = depth[z];
    for (let i = z; i < end[z];) {
      if (total[i] * scale < MIN_WIDTH_PX) { i = end[i]; continue; }
      if (depth[i] > deepest) deepest = depth[i];
      i++;
    }
    return deepest;
  }

  drawFrame(ctx, rects, i, left, w, y, name, line, charWidth, colors, search, ancestor) {
    const label = i === 0 ? 'all' : (line ? name + ':' + line : name);
    let color;
    if (search && i > 0 && search.test(name)) color = '#e040d0';
    else if (colors) color = colors(i);
    else color = frameColor(name, i);
    ctx.fillStyle = ancestor ? fade(color) : color;
    ctx.fillRect(left, y, Math.max(w - 0.5, 0.5), ROW - 1);
    if (w > charWidth * 3) {
      const fit = Math.floor((w - 6) / charWidth);
      ctx.fillStyle = '#1d232a';
      ctx.fillText(label.length > fit ? label.slice(0, Math.max(fit - 1, 1)) + '…' : label, left + 3, y + ROW / 2);
    }
    rects.push(i, left, y, w);
  }

  diffColors() {
    const n = this.data.nodes;
    const sec = this.data.seconds || 1;
    const baseSec = this.data.base_seconds || 1;
    let maxChange = 0;
    const change = new Float64Array(n.parent.length);
    for (let i = 1; i < change.length; i++) {
      change[i] = n.self[i] / sec - n.base_self[i] / baseSec + 0.25 * (n.total[i] / sec - n.base_total[i] / baseSec);
      maxChange = Math.max(maxChange, Math.abs(change[i]));
    }
    return (i) => {
      if (i === 0 || maxChange === 0) return '#d8dce2';
      const t = Math.min(1, Math.abs(change[i]) / maxChange);
      const shade = Math.round(235 - 175 * Math.sqrt(t));
      return change[i] > 0 ? `rgb(240,${shade},${shade - 20})` : `rgb(${shade - 20},${shade},245)`;
    };
  }

  hit(event) {
    const box = this.canvas.getBoundingClientRect();
    const px = event.clientX - box.left;
    const py = event.clientY - box.top;
    const r = this.rects;
    for (let k = 0; k < r.length; k += 4) {
      if (px >= r[k + 1] && px < r[k + 1] + r[k + 3] && py >= r[k + 2] && py < r[k + 2] + ROW) return r[k];
    }
    return -1;
  }

  onMove(event) {
    const i = this.hit(event);
    if (i < 0) { this.hideTooltip(); return; }
    const d = this.data;
    const n = d.nodes;
    const f = i === 0 ? { name: 'all', file: '', first_line: 0 } : d.functions[n.function[i]];
    const tip = this.tooltip;
    tip.replaceChildren();
    const add = (cls, text) => { const div = document.createElement('div'); div.className = cls; div.textContent = text; tip.append(div); };
    add('fn', f.name);
    if (f.file) add('loc', f.file + ':' + (n.line[i] || f.first_line));
    const whole = n.total[0];
    if (this.diff) {
      const sec = d.seconds || 1;
      const baseSec = d.base_seconds || 1;
      add('', 'total: ' + formatRate(n.base_total[i] / baseSec, d.weight) + ' → ' + formatRate(n.total[i] / sec, d.weight) + ' per second');
      add('', 'self: ' + formatRate(n.base_self[i] / baseSec, d.weight) + ' → ' + formatRate(n.self[i] / sec, d.weight) + ' per second');
    } else {
      add('', 'total: ' + formatWeight(n.total[i], d.weight) + ' (' + formatPercent(n.total[i], whole) + ')');
      add('', 'self: ' + formatWeight(n.self[i], d.weight) + ' (' + formatPercent(n.self[i], whole) + ')');
    }
    tip.hidden = false;
    const x = Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
    const y = Math.min(event.clientY + 14, window.innerHeight - tip.offsetHeight - 8);
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
    this.canvas.style.cursor = 'pointer';
  }

  hideTooltip() {
    this.tooltip.hidden = true;
    this.canvas.style.cursor = '';
  }

  onClick(event) {
    const i = this.hit(event);
    if (i < 0) return;
    this.zoom = i;
    this.draw();
    if (this.options.onSelect && i > 0) {
      const f = this.data.functions[this.data.nodes.function[i]];
      this.options.onSelect({ name: f.name, file: f.file, line: this.data.nodes.line[i] || f.first_line });
    }
  }

  matchedShare() {
    if (!this.search || !this.data || !this.widths[0]) return null;
    // add up the top-most matching frames in the zoomed subtree
    const { end, names } = this.layoutData;
    const { function: fn } = this.data.nodes;
    const total = this.widths;
    let sum = 0;
    for (let i = this.zoom; i < end[this.zoom];) {
      if (i > 0 && this.search.test(names[fn[i]])) { sum += total[i]; i = end[i]; } else i++;
    }
    return sum / total[this.zoom];
  }
}

// a diff frame's width: its time per second in both ranges added up, so that what shrank to
// nothing still shows (in blue) beside what grew from nothing (in red); sums keep a parent as wide
// as its children
function diffWidths(data) {
  const n = data.nodes;
  const sec = data.seconds || 1;
  const baseSec = data.base_seconds || 1;
  const widths = new Float64Array(n.total.length);
  for (let i = 0; i < widths.length; i++) widths[i] = n.total[i] / sec + n.base_total[i] / baseSec;
  return widths;
}

function hash(text) {
  let h = 2166136261;
  for (let k = 0; k < text.length; k++) h = Math.imul(h ^ text.charCodeAt(k), 16777619);
  return h >>> 0;
}

// warm colours by function name, so one function keeps its colour across redraws
function frameColor(name, i) {
  if (i === 0) return '#d8dce2';
  const h = hash(name);
  const r = 205 + (h % 50);
  const g = 90 + ((h >>> 8) % 130);
  const b = 40 + ((h >>> 16) % 50);
  return `rgb(${r},${g},${b})`;
}

function fade(color) {
  return color.startsWith('rgb(') ? color.replace('rgb(', 'rgba(').replace(')', ',0.55)') : color;
}
