// format.js - how numbers, times and places read on the dashboard.

export function formatWeight(value, weight) {
  if (weight === 'samples') return formatCount(value);
  return formatSeconds(value / 1e9);
}

export function formatCount(n) {
  if (n >= 1e6) return (n / 1e6).toFixed(2) + 'M';
  if (n >= 1e4) return (n / 1e3).toFixed(1) + 'k';
  return String(Math.round(n));
}

export function formatSeconds(s) {
  const a = Math.abs(s);
  if (a >= 3600) return (s / 3600).toFixed(2) + ' h';
  if (a >= 60) return (s / 60).toFixed(2) + ' min';
  if (a >= 1) return s.toFixed(2) + ' s';
  if (a >= 1e-3) return (s * 1e3).toFixed(1) + ' ms';
  if (a === 0) return '0';
  return (s * 1e6).toFixed(0) + ' µs';
}

export function formatRate(valuePerSecond, weight) {
  // weight per second of recording: for time weights a share of one core / thread
  if (weight === 'samples') return valuePerSecond.toFixed(1) + '/s';
  return (valuePerSecond / 1e7).toFixed(1) + '%';
}

export function formatPercent(part, whole) {
  if (!whole) return '0%';
  const p = 100 * part / whole;
  return (p >= 10 ? p.toFixed(1) : p.toFixed(2)) + '%';
}

export function formatClock(ns) {
  const d = new Date(ns / 1e6);
  return d.toLocaleTimeString([], { hour12: false });
}

export function formatRangeLabel(range) {
  if (!range) return 'whole recording';
  const seconds = (range[1] - range[0]) / 1e9;
  return formatClock(range[0]) + ' – ' + formatClock(range[1]) + ' (' + formatSeconds(seconds) + ')';
}

export function shortFile(path) {
  const parts = path.split('/');
  return parts.length > 2 ? '…/' + parts.slice(-2).join('/') : path;
}

export function el(tag, props, children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k === 'title') node.title = v;
      else if (k.startsWith('data-')) node.setAttribute(k, v);
      else node[k] = v;
    }
  }
  for (const child of children || []) node.append(child);
  return node;
}
