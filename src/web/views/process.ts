import type { WorkerStats } from '../../fleet/worker-stats.js';
import { type Html, html } from '../html.js';
import { ago, count, duration } from './format.js';

const mb = (bytes: number | null | undefined) =>
  bytes === null || bytes === undefined ? '–' : `${(bytes / 1_048_576).toFixed(0)} MB`;

/** A resque-ts worker's own report: isolation, memory, counters since start, children and restarts. */
export function processSection(stats: WorkerStats | undefined, now: number): Html {
  if (!stats) return html``;
  const reasons = Object.entries(stats.restartReasons)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  return html`<section><h2>Process <span class="muted">as the worker reports it, ${ago(new Date(stats.updatedAt), now)}</span></h2>
<table class="kv">
<tr><th>Isolation</th><td>${stats.isolation}${stats.isolation === 'process' ? ` · ${count(stats.count)} children × ${count(stats.concurrency)} jobs${stats.spare > 0 ? `, ${stats.spare} spare` : ''}` : ` · ${count(stats.slots)} slots`}</td></tr>
<tr><th>Memory</th><td>${mb(stats.rssBytes)} <span class="muted">(the worker process)</span></td></tr>
<tr><th>Since start</th><td>${count(stats.processed)} processed, ${count(stats.failed)} failed, ${count(stats.givenBack)} given back to their queue</td></tr>
<tr><th>Restarts</th><td>${count(stats.restarts)}${reasons ? ` (${reasons})` : ''}</td></tr>
<tr><th>Version</th><td><code>${stats.version}</code></td></tr>
</table>
${
  stats.children.length > 0
    ? html`<table class="grid"><thead><tr><th>Child</th><th>Pid</th><th>State</th><th class="num">Running</th><th class="num">Done</th><th class="num">Failed</th><th class="num">Memory</th><th>Up</th><th>Last restart</th></tr></thead><tbody>${stats.children.map(
        (c) =>
          html`<tr><td>${c.index ?? 'spare'}</td><td class="mono">${c.pid}</td><td>${c.state}</td><td class="num">${count(c.running)}</td><td class="num">${count(c.jobsDone)}</td><td class="num">${count(c.jobsFailed)}</td><td class="num">${mb(c.rssBytes)}</td><td>${duration(Math.max(0, now - c.startedAt))}</td><td>${
            c.lastRestart
              ? html`${c.lastRestart.reason} <span class="muted">${c.lastRestart.detail}</span>`
              : html`<span class="muted">–</span>`
          }</td></tr>`,
      )}</tbody></table>`
    : ''
}
${
  stats.recentRestarts.length > 0
    ? html`<h2>Recent restarts</h2><table class="grid"><thead><tr><th>When</th><th>Child</th><th>Pid</th><th>Reason</th><th>Detail</th></tr></thead><tbody>${[
        ...stats.recentRestarts,
      ]
        .reverse()
        .map(
          (r) =>
            html`<tr><td>${ago(new Date(r.at), now)}</td><td>${r.index ?? 'spare'}</td><td class="mono">${r.pid}</td><td>${r.reason}</td><td>${r.detail}</td></tr>`,
        )}</tbody></table>`
    : ''
}
</section>`;
}
