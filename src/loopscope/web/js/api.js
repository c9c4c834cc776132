// api.js - the dashboard's one door to its data: JSON from the server's /api/ routes, or, in a
// self-contained HTML report, the same answers embedded in the page under the same request keys.

const embedded = document.getElementById('loopscope-report');
const REPORT = embedded ? JSON.parse(embedded.textContent) : null;

export const isReport = REPORT !== null;

// "/api/flame?end=..&start=..": parameters without empty values, sorted by name (the report's keys)
export function requestKey(path, params) {
  const names = Object.keys(params || {}).filter((k) => params[k] !== null && params[k] !== undefined && params[k] !== '').sort();
  const query = names.map((k) => encodeURIComponent(k) + '=' + encodeURIComponent(String(params[k]))).join('&');
  return query ? path + '?' + query : path;
}

export class ApiError extends Error {}

export async function getJSON(path, params) {
  const key = requestKey(path, params);
  if (REPORT) {
    if (!(key in REPORT.responses)) throw new ApiError('this report does not hold that view (' + key + '); open the profile with `loopscope report` for every view');
    return REPORT.responses[key];
  }
  const response = await fetch(key, { credentials: 'same-origin' });
  let body;
  try {
    body = await response.json();
  } catch (e) {
    throw new ApiError('bad answer from ' + path + ': ' + e.message);
  }
  if (!response.ok) throw new ApiError(body.error || (path + ': HTTP ' + response.status));
  return body;
}

// onWindow({windows, end_unix_ns}) when new windows are written; onEnd() when the recording ends
export function subscribeWindows(onWindow, onEnd) {
  if (REPORT || typeof EventSource === 'undefined') return () => {};
  const source = new EventSource('/api/events');
  source.addEventListener('window', (e) => onWindow(JSON.parse(e.data)));
  source.addEventListener('end', (e) => { onEnd(JSON.parse(e.data)); source.close(); });
  return () => source.close();
}
