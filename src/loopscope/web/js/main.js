// main.js - starts the dashboard: reads the profile's summary, wires the controls to the state, and
// refreshes the views when the selection changes or (live) when the recorder closes a window.
//
// For tests and scripts, window.loopscope holds the state and the views, and <body> gets
// data-ready="1" after the first full render and data-renders=N after each refresh of the views.

import { getJSON, isReport, subscribeWindows } from './api.js';
import { halves, renderDiffTable } from './diffview.js';
import { FlameGraph } from './flamegraph.js';
import { formatCount, formatRangeLabel, formatSeconds } from './format.js';
import { SourceView } from './source.js';
import { selectionParams, setState, onStateChange, state } from './state.js';
import { FunctionTable } from './table.js';
import { renderThreads } from './threadsview.js';
import { Timeline } from './timeline.js';

const $ = (id) => document.getElementById(id);
const tooltip = $('tooltip');

const flame = new FlameGraph($('flame'), tooltip, { onSelect: (selected) => setState({ selected }) });
const diffFlame = new FlameGraph($('diff-flame'), tooltip, { onSelect: (selected) => setState({ selected }) });
const table = new FunctionTable($('functions'), $('table-filter'), (selected) => setState({ selected }));
const source = new SourceView($('source'), $('source-path'), $('hottest'));
const timeline = new Timeline($('timeline'), (range) => {
  if (isReport) { showError('a report shows the whole recording; open the profile with `loopscope report` to select ranges'); return; }
  setState({ range, live: false });
});

let timelineData = null;
let renders = 0;
let refreshing = null;
let refreshAgain = false;

window.loopscope = { state, flame, diffFlame, table, source, timeline, setState };

function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { box.hidden = true; }, 8000);
}

function describeTarget(summary) {
  const command = Array.isArray(summary.command) ? summary.command.join(' ') : String(summary.command || '');
  $('target').textContent = 'pid ' + summary.pid + ' · Python ' + summary.python_version + ' · ' + command;
  $('target').title = command;
  const status = $('status');
  status.textContent = summary.finished ? 'recording ended' : 'recording';
  status.classList.toggle('live', !summary.finished);
}

function fillThreads(summary) {
  const select = $('thread');
  const chosen = select.value;
  const options = [new Option('all threads', '')];
  for (const t of summary.threads) options.push(new Option((t.name || 'thread') + ' (' + t.native_id + ')', String(t.native_id)));
  select.replaceChildren(...options);
  select.value = chosen;
}

function liveRange() {
  const end = state.summary.end_unix_ns;
  return [Math.max(state.summary.start_unix_ns, end - state.liveSeconds * 1e9), end];
}

async function loadSummary() {
  const summary = await getJSON('/api/summary', {});
  state.summary = summary;
  source.summary = summary;
  describeTarget(summary);
  fillThreads(summary);
  return summary;
}

async function loadTimeline() {
  timelineData = await getJSON('/api/timeline', { points: 300 });
  timeline.setData(timelineData, state.summary.start_unix_ns, state.summary.end_unix_ns);
}

function viewParams() {
  return Object.assign(selectionParams(), { granularity: state.granularity });
}

async function refreshViews() {
  if (refreshing) { refreshAgain = true; return refreshing; }
  refreshing = (async () => {
    try {
      do {
        refreshAgain = false;
        await renderViews();
      } while (refreshAgain);
    } catch (e) {
      showError(e.message);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

async function renderViews() {
  const params = viewParams();
  $('range-label').textContent = (state.live ? 'live: ' : '') + formatRangeLabel(state.range);
  timeline.setRange(state.range);
  const jobs = [getJSON('/api/functions', params).then((data) => {
    table.setData(data);
    if (!state.selected) state.selected = firstStoredSource(data);
  })];
  if (state.view === 'flame') {
    jobs.push(getJSON('/api/flame', params).then((data) => {
      flame.setData(data, false);
      $('flame-info').textContent = formatCount(data.samples) + ' samples · ' + formatSeconds(data.seconds);
      applySearch();
    }));
  } else if (state.view === 'diff') {
    jobs.push(renderDiff());
  } else if (state.view === 'threads' && timelineData) {
    renderThreads($('threads-table'), timelineData, state.range);
  }
  await Promise.all(jobs);
  if (state.selected) await source.show(state.selected, selectionParams());
  renders += 1;
  document.body.dataset.renders = String(renders);
}

async function renderDiff() {
  if (!state.baseline || !state.comparison) {
    const [base, comparison] = halves(state.summary.start_unix_ns, state.summary.end_unix_ns);
    state.baseline = base;
    state.comparison = comparison;
  }
  $('base-label').textContent = formatRangeLabel(state.baseline);
  $('cmp-label').textContent = formatRangeLabel(state.comparison);
  const params = { weight: state.weight, thread: state.thread, granularity: state.granularity };
  if (!isReport) {
    params.base_start = Math.floor(state.baseline[0]);
    params.base_end = Math.ceil(state.baseline[1]);
    params.start = Math.floor(state.comparison[0]);
    params.end = Math.ceil(state.comparison[1]);
  }
  const data = await getJSON('/api/diff', params);
  diffFlame.setData(data, true);
  renderDiffTable($('diff-table'), data);
}

// the function with the most self time whose source the profile holds: what the source view
// shows before the user picks one
function firstStoredSource(data) {
  const stored = new Set(state.summary.sources);
  for (const [fn, line] of data.rows) {
    const f = data.functions[fn];
    if (stored.has(f.file)) return { name: f.name, file: f.file, line: line || 0 };
  }
  return null;
}

function applySearch() {
  let regexp = null;
  if (state.search) {
    try { regexp = new RegExp(state.search, 'i'); } catch (e) { regexp = new RegExp(state.search.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i'); }
  }
  const share = flame.setSearch(regexp);
  $('search-result').textContent = share === null ? '' : 'matched ' + (100 * share).toFixed(1) + '%';
}

function wireControls() {
  for (const id of ['weight', 'granularity', 'thread']) {
    $(id).addEventListener('change', () => setState({ [id]: $(id).value }));
  }
  $('live').addEventListener('click', () => {
    if (state.live) setState({ live: false });
    else setState({ live: true, range: liveRange() });
  });
  $('live-seconds').addEventListener('change', () => {
    state.liveSeconds = Number($('live-seconds').value);
    if (state.live) setState({ range: liveRange() });
  });
  $('whole').addEventListener('click', () => setState({ range: null, live: false }));
  $('search').addEventListener('input', () => setState({ search: $('search').value }));
  $('orientation').addEventListener('click', () => setState({ orientation: state.orientation === 'icicle' ? 'flame' : 'icicle' }));
  $('reset-zoom').addEventListener('click', () => flame.resetZoom());
  for (const button of $('tabs').querySelectorAll('button')) {
    button.addEventListener('click', () => setState({ view: button.dataset.view }));
  }
  $('base-from-selection').addEventListener('click', () => state.range && setState({ baseline: state.range }));
  $('cmp-from-selection').addEventListener('click', () => state.range && setState({ comparison: state.range }));
  $('diff-halves').addEventListener('click', () => {
    const [base, comparison] = halves(state.summary.start_unix_ns, state.summary.end_unix_ns);
    setState({ baseline: base, comparison });
  });
  if (isReport) {
    for (const id of ['live', 'live-seconds', 'thread', 'base-from-selection', 'cmp-from-selection', 'diff-halves']) $(id).disabled = true;
  }
}

onStateChange((changed) => {
  $('live').classList.toggle('on', state.live);
  if (changed.has('orientation')) {
    $('orientation').textContent = state.orientation === 'icicle' ? 'Icicle' : 'Flame';
    flame.setOrientation(state.orientation);
    diffFlame.setOrientation(state.orientation);
  }
  if (changed.has('view')) {
    for (const button of $('tabs').querySelectorAll('button')) button.classList.toggle('active', button.dataset.view === state.view);
    for (const name of ['flame', 'diff', 'threads']) $('view-' + name).hidden = name !== state.view;
  }
  if (changed.has('search') && changed.size === 1) { applySearch(); return; }
  if (changed.has('selected') && changed.size === 1) {
    source.show(state.selected, selectionParams()).catch((e) => showError(e.message));
    return;
  }
  if (changed.has('orientation') && changed.size === 1) return;
  refreshViews();
});

async function onNewWindows() {
  await loadSummary();
  await loadTimeline();
  if (state.live) setState({ range: liveRange() });
  else if (state.view === 'threads') refreshViews();
}

let windowTimer = null;
function scheduleWindowUpdate() {
  // at most one update a second, however fast windows close
  if (windowTimer) return;
  windowTimer = setTimeout(() => {
    windowTimer = null;
    onNewWindows().catch((e) => showError(e.message));
  }, 1000);
}

async function start() {
  wireControls();
  const summary = await loadSummary();
  await loadTimeline();
  if (!summary.finished && !isReport) {
    state.live = true;
    state.range = liveRange();
    $('live').classList.add('on');
  }
  if (isReport) $('status').textContent = 'report';
  await refreshViews();
  document.body.dataset.ready = '1';
  if (summary.finished) return;
  subscribeWindows(scheduleWindowUpdate, () => {
    // the recording has ended: show its last windows; `run` stops serving a moment later
    clearTimeout(windowTimer);
    onNewWindows().then(() => {
      $('status').textContent = 'recording ended';
      $('status').title = 'loopscope stops serving now: open the HTML report, or `loopscope report` the profile';
    }).catch((e) => showError(e.message));
  });
}

start().catch((e) => showError('cannot load the profile: ' + e.message));
