// state.js - what the user has chosen (range, weight, granularity, thread, view, search, selected
// function, diff ranges), in one object, with listeners told which keys changed.

export const state = {
  summary: null,
  range: null,          // [start_ns, end_ns] of the selection, or null for the whole recording
  live: false,          // follow the newest windows: range = the last liveSeconds
  liveSeconds: 60,
  weight: 'wall',
  granularity: 'function',
  thread: '',
  view: 'flame',
  orientation: 'icicle',
  search: '',
  selected: null,       // {name, file, line}: the function or line the source view shows
  baseline: null,       // diff ranges, [start_ns, end_ns]
  comparison: null,
};

const listeners = [];

export function onStateChange(listener) {
  listeners.push(listener);
}

export function setState(patch) {
  const changed = new Set();
  for (const [key, value] of Object.entries(patch)) {
    if (state[key] !== value) {
      state[key] = value;
      changed.add(key);
    }
  }
  if (changed.size) for (const listener of listeners) listener(changed);
}

// the query parameters of the selection every view shares
export function selectionParams() {
  const params = { weight: state.weight, thread: state.thread };
  if (state.range) {
    params.start = Math.floor(state.range[0]);
    params.end = Math.ceil(state.range[1]);
  }
  return params;
}
