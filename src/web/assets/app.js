// The dashboard's only script (served as a static file; the CSP allows no inline script).
// - Live pages (#live[data-live]) refresh their content every few seconds by fetching the same URL with
//   `X-Dashboard-Fragment: 1`; a failed fetch shows "reconnecting" and retries with backoff until it works again.
// - Forms with data-confirm ask before they submit.
// - <time datetime> elements show how long ago, kept current.

const body = document.body;
const pollMs = Number(body.dataset.pollMs) || 2000;
const status = document.getElementById('live-status');
const toggle = document.getElementById('live-toggle');
const PAUSED_KEY = 'resque-dashboard-paused';
let paused = sessionStorage.getItem(PAUSED_KEY) === '1';
let failures = 0;
let timer;

function setState(state, text) {
  if (!status) return;
  status.dataset.state = state;
  const label = status.querySelector('.live-label');
  if (label) label.textContent = text;
}

function formatAgo(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ago`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h ago`;
}

function refreshTimes(root) {
  const now = Date.now();
  for (const el of root.querySelectorAll('time[datetime]')) {
    const at = Date.parse(el.getAttribute('datetime'));
    if (!Number.isNaN(at)) el.textContent = formatAgo(now - at);
  }
}

/** Something the user is doing inside the live region that a refresh would undo. */
function busy(live) {
  const active = document.activeElement;
  return (
    (active && active !== body && live.contains(active) && active.matches('input, select, textarea')) ||
    live.querySelector('details[open]') !== null ||
    window.getSelection()?.toString() !== ''
  );
}

async function poll() {
  const live = document.getElementById('live');
  if (live?.dataset.live !== '1' || paused) return;
  // A hidden tab waits: it refreshes the moment it is shown again (visibilitychange below).
  if (document.hidden || busy(live)) return schedule(pollMs);
  try {
    const response = await fetch(location.href, {
      headers: { 'X-Dashboard-Fragment': '1' },
      credentials: 'same-origin',
      cache: 'no-store',
    });
    if (response.status === 401 || response.status === 403) {
      location.reload();
      return;
    }
    const text = await response.text();
    if (!response.ok && response.status !== 404) throw new Error(`HTTP ${response.status}`);
    // The server rendered and escaped this HTML; it replaces the live region only.
    live.innerHTML = text;
    refreshTimes(live);
    failures = 0;
    const time = new Date().toLocaleTimeString();
    setState('live', `live · ${time}`);
    live.dataset.updated = String(Date.now());
    document.dispatchEvent(new CustomEvent('dashboard:updated'));
    schedule(pollMs);
  } catch {
    failures += 1;
    setState('offline', 'reconnecting…');
    schedule(Math.min(30000, pollMs * 2 ** Math.min(failures, 4)));
  }
}

function schedule(ms) {
  clearTimeout(timer);
  timer = setTimeout(poll, ms);
}

function applyPaused() {
  if (!toggle) return;
  toggle.textContent = paused ? 'resume' : 'pause';
  if (paused) {
    clearTimeout(timer);
    setState('paused', 'paused');
  } else {
    setState('live', 'live');
    schedule(0);
  }
}

toggle?.addEventListener('click', () => {
  paused = !paused;
  sessionStorage.setItem(PAUSED_KEY, paused ? '1' : '0');
  applyPaused();
});

document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

window.addEventListener('online', () => schedule(0));
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') schedule(0);
});

refreshTimes(document);
setInterval(() => refreshTimes(document), 1000);
if (document.getElementById('live')?.dataset.live === '1') {
  applyPaused();
  if (!paused) schedule(pollMs);
}
