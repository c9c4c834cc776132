// timeline.js - the strip across the top: samples per second, the target's CPU % and the number of
// threads over the whole recording, with the selected range shaded. Dragging selects a range;
// a double-click selects everything.

import { formatClock } from './format.js';

const PAD_LEFT = 44;
const PAD_RIGHT = 44;
const PAD_Y = 14;

export class Timeline {
  constructor(canvas, onSelect) {
    this.canvas = canvas;
    this.onSelect = onSelect;
    this.data = null;
    this.range = null;
    this.drag = null;
    canvas.addEventListener('mousedown', (e) => this.onDown(e));
    window.addEventListener('mousemove', (e) => this.onMoveDrag(e));
    window.addEventListener('mouseup', (e) => this.onUp(e));
    canvas.addEventListener('dblclick', () => this.onSelect(null));
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  setData(data, start, end) {
    this.data = data;
    this.start = start;
    this.end = Math.max(end, start + 1);
    this.draw();
  }

  setRange(range) {
    this.range = range;
    this.draw();
  }

  xOf(t, width) {
    return PAD_LEFT + (t - this.start) / (this.end - this.start) * (width - PAD_LEFT - PAD_RIGHT);
  }

  tOf(px, width) {
    const f = (px - PAD_LEFT) / (width - PAD_LEFT - PAD_RIGHT);
    return this.start + Math.min(1, Math.max(0, f)) * (this.end - this.start);
  }

  draw() {
    const canvas = this.canvas;
    const width = canvas.clientWidth || 800;
    const height = canvas.clientHeight || 110;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = '11px system-ui, sans-serif';
    if (!this.data || !this.data.bins.length) {
      ctx.fillStyle = '#5b6673';
      ctx.fillText('waiting for the first window…', PAD_LEFT, height / 2);
      return;
    }
    const bins = this.data.bins;
    const plotH = height - 2 * PAD_Y;
    const maxRate = Math.max(1, ...bins.map((b) => b.samples_per_s));
    const maxCpu = Math.max(100, ...bins.map((b) => b.cpu_percent));
    const maxThreads = Math.max(1, ...bins.map((b) => b.threads));
    const yOf = (v, max) => PAD_Y + plotH - (v / max) * plotH;
    // CPU % as a filled area
    ctx.fillStyle = 'rgba(240,163,74,0.45)';
    ctx.beginPath();
    ctx.moveTo(this.xOf(bins[0].start_unix_ns, width), PAD_Y + plotH);
    for (const b of bins) {
      ctx.lineTo(this.xOf(b.start_unix_ns, width), yOf(b.cpu_percent, maxCpu));
      ctx.lineTo(this.xOf(b.end_unix_ns, width), yOf(b.cpu_percent, maxCpu));
    }
    ctx.lineTo(this.xOf(bins[bins.length - 1].end_unix_ns, width), PAD_Y + plotH);
    ctx.fill();
    const line = (color, value, max) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      bins.forEach((b, k) => {
        const px = this.xOf((b.start_unix_ns + b.end_unix_ns) / 2, width);
        const py = yOf(value(b), max);
        if (k === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
      });
      ctx.stroke();
    };
    line('#1d5fbf', (b) => b.samples_per_s, maxRate);
    line('#7a3fb0', (b) => b.threads, maxThreads * 1.15);
    // axes
    ctx.fillStyle = '#3a434e';
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    ctx.fillText(Math.round(maxRate) + '/s', PAD_LEFT - 4, PAD_Y);
    ctx.fillText('0', PAD_LEFT - 4, PAD_Y + plotH);
    ctx.textAlign = 'left';
    ctx.fillText(Math.round(maxCpu) + '%', width - PAD_RIGHT + 4, PAD_Y);
    ctx.fillText(maxThreads + ' thr', width - PAD_RIGHT + 4, PAD_Y + plotH / 2);
    ctx.textBaseline = 'bottom';
    ctx.fillText(formatClock(this.start), PAD_LEFT, height);
    ctx.textAlign = 'right';
    ctx.fillText(formatClock(this.end), width - PAD_RIGHT, height);
    // selection
    const range = this.drag ? [Math.min(this.drag.t0, this.drag.t1), Math.max(this.drag.t0, this.drag.t1)] : this.range;
    if (range) {
      const a = this.xOf(range[0], width);
      const b = this.xOf(range[1], width);
      ctx.fillStyle = 'rgba(29,95,191,0.16)';
      ctx.fillRect(a, 0, Math.max(b - a, 1), height);
      ctx.strokeStyle = 'rgba(29,95,191,0.8)';
      ctx.lineWidth = 1;
      ctx.strokeRect(a + 0.5, 0.5, Math.max(b - a - 1, 1), height - 1);
    }
  }

  onDown(event) {
    if (!this.data || event.button !== 0) return;
    const box = this.canvas.getBoundingClientRect();
    const t = this.tOf(event.clientX - box.left, box.width);
    this.drag = { t0: t, t1: t, x0: event.clientX };
    event.preventDefault();
  }

  onMoveDrag(event) {
    if (!this.drag) return;
    const box = this.canvas.getBoundingClientRect();
    this.drag.t1 = this.tOf(event.clientX - box.left, box.width);
    this.draw();
  }

  onUp(event) {
    if (!this.drag) return;
    const drag = this.drag;
    this.drag = null;
    if (Math.abs(event.clientX - drag.x0) < 3) { this.draw(); return; }
    this.onSelect([Math.min(drag.t0, drag.t1), Math.max(drag.t0, drag.t1)]);
  }
}
