import type { WorkerCondition } from '../../api/health.js';
import type { WorkerSummary } from '../../api/workers.js';
import type { WorkerStats } from '../../fleet/worker-stats.js';
import { seg, type View } from '../context.js';
import { type Html, html } from '../html.js';
import { cancelLink } from './cancel.js';
import { ago, argsText, count, duration, jobClass, storedMember } from './format.js';
import { jobLink } from './job.js';
import { processSection } from './process.js';

export interface WorkerRow {
  worker: WorkerSummary;
  condition: WorkerCondition;
}

export function healthBadge(condition: WorkerCondition, state: WorkerSummary['state']): Html {
  const label = condition.health === 'ok' || condition.health === 'unknown' ? state : condition.health;
  return html`<span class="state state-${label}" title="${condition.reason}">${label}</span>`;
}

export function workerLink(view: View, worker: WorkerSummary): Html {
  return html`<a href="${view.url(`/workers/${seg(worker.id)}`, { shard: worker.shard })}" class="mono">${worker.host}:${worker.pid}</a>`;
}

function queueLinks(view: View, queues: readonly string[]): Html {
  return html`${queues.map(
    (q, i) => html`${i > 0 ? ', ' : ''}<a href="${view.url(`/queues/${seg(q)}`)}">${q}</a>`,
  )}`;
}

function doing(view: View, worker: WorkerSummary): Html {
  const job = worker.job;
  if (!job) return html`<span class="muted">Waiting for a job…</span>`;
  return html`<a href="${view.url(`/working/${seg(worker.id)}`, { shard: worker.shard })}">${jobClass(job.className, job.args)}</a>
    ${argsText(job.args, 60, storedMember(job.raw, ['payload', 'args']))} <span class="muted">on</span> ${job.queue} <span class="muted">for ${duration(worker.runningForMs)}</span>`;
}

/** The workers table: state, id, queues, counters, started, heartbeat, current job. */
export function workersTable(view: View, rows: readonly WorkerRow[]): Html {
  if (rows.length === 0) return html`<p class="empty">No workers registered.</p>`;
  // A sharded namespace lists a worker once per shard it is registered on.
  const sharded = rows.some((r) => r.worker.shard !== undefined);
  return html`<table class="grid workers">
<thead><tr><th>State</th>${sharded ? html`<th class="num">Shard</th>` : ''}<th>Worker</th><th>Queues</th><th class="num">Processed</th><th class="num">Failed</th><th>Started</th><th>Heartbeat</th><th>Processing</th></tr></thead>
<tbody>${rows.map(
    ({ worker, condition }) => html`<tr class="health-${condition.health}">
<td>${healthBadge(condition, worker.state)}</td>
${sharded ? html`<td class="num shard">${String(worker.shard)}</td>` : ''}<td>${workerLink(view, worker)}</td>
<td>${queueLinks(view, worker.queues)}</td>
<td class="num">${count(worker.processed)}</td>
<td class="num">${count(worker.failed)}</td>
<td>${ago(worker.startedAt, view.now)}</td>
<td>${ago(worker.heartbeatAt, view.now)}</td>
<td>${doing(view, worker)}</td>
</tr>`,
  )}</tbody></table>`;
}

/** Running jobs, longest running first: worker, queue, class, arguments, since (at most `limit`, then a link). */
export function workingTable(view: View, rows: readonly WorkerRow[], limit = Number.POSITIVE_INFINITY): Html {
  const all = rows
    .filter((r) => r.worker.job)
    .sort((a, b) => (b.worker.runningForMs ?? 0) - (a.worker.runningForMs ?? 0));
  if (all.length === 0) return html`<p class="empty">Nothing is happening right now.</p>`;
  const working = all.slice(0, limit);
  const more = all.length - working.length;
  return html`<table class="grid working">
<thead><tr><th>State</th><th>Where</th><th>Queue</th><th>Class</th><th>Arguments</th><th>Started</th></tr></thead>
<tbody>${working.map(({ worker, condition }) => {
    const job = worker.job!;
    return html`<tr class="health-${condition.health}">
<td>${healthBadge(condition, worker.state)}</td>
<td>${workerLink(view, worker)}</td>
<td><a href="${view.url(`/queues/${seg(job.queue)}`)}">${job.queue}</a></td>
<td><a href="${view.url(`/working/${seg(worker.id)}`, { shard: worker.shard })}">${jobClass(job.className, job.args)}</a></td>
<td>${argsText(job.args, 120, storedMember(job.raw, ['payload', 'args']))}</td>
<td>${ago(job.runAt, view.now)}</td>
</tr>`;
  })}</tbody></table>${
    more > 0 ? html`<p><a href="${view.url('/working')}">and ${count(more)} more running jobs…</a></p>` : ''
  }`;
}

export function workingPage(view: View, rows: readonly WorkerRow[]): Html {
  const busy = rows.filter((r) => r.worker.job).length;
  return html`<main><h1>${count(busy)} of ${count(rows.length)} workers working</h1>${workingTable(view, rows)}</main>`;
}

/** One host's workers (or all), with the per-host tabs when several hosts run workers. */
export function workersPage(
  view: View,
  rows: readonly WorkerRow[],
  hosts: ReadonlyArray<[string, number]>,
  host: string | undefined,
): Html {
  const shown = host === undefined ? rows : rows.filter((r) => r.worker.host === host);
  const flagged = shown.filter((r) => r.condition.health === 'stuck' || r.condition.health === 'dead').length;
  return html`<main>
<h1>${host === undefined ? 'Workers' : html`Workers on <code>${host}</code>`} <span class="muted">${count(shown.length)}${
    flagged > 0 ? html` · <span class="bad-text">${count(flagged)} stuck or dead</span>` : ''
  }</span></h1>
${
  hosts.length > 1
    ? html`<nav class="subtabs"><a href="${view.url('/workers')}" class="${host === undefined ? 'active' : undefined}">all hosts</a>${hosts.map(
        ([name, n]) =>
          html`<a href="${view.url(`/workers/${seg(name)}`)}" class="${name === host ? 'active' : undefined}">${name} <span class="muted">${count(n)}</span></a>`,
      )}</nav>`
    : ''
}
${workersTable(view, shown)}
</main>`;
}

/** One worker: host, pid, started, heartbeat, queues, counters, current job, and what its process reports. */
export function workerPage(view: View, row: WorkerRow, stats?: WorkerStats): Html {
  const { worker, condition } = row;
  const job = worker.job;
  return html`<main>
<h1>Worker <code>${worker.id}</code> ${healthBadge(condition, worker.state)}</h1>
${condition.reason && condition.health !== 'ok' ? html`<p class="warn">${condition.reason}</p>` : ''}
<table class="kv">
<tr><th>Host</th><td>${worker.host}</td></tr>
<tr><th>Pid</th><td>${worker.pid}</td></tr>
<tr><th>Started</th><td>${ago(worker.startedAt, view.now)}</td></tr>
<tr><th>Heartbeat</th><td>${ago(worker.heartbeatAt, view.now)}</td></tr>
<tr><th>Queues</th><td>${queueLinks(view, worker.queues)}</td></tr>
${counterRow('Processed', worker.processed, stats?.processed)}
${counterRow('Failed', worker.failed, stats?.failed)}
<tr><th>Processing</th><td>${doing(view, worker)}</td></tr>
</table>
${job ? jobDetail(view, worker) : ''}
${processSection(stats, view.now)}
</main>`;
}

/**
 * A worker's counter. Resque keeps one per worker id (`stat:processed:<id>`), and a resque-ts worker registers one id
 * per slot, so with several slots this id's counter is only part of what the worker did: the worker's own figure
 * since start comes first then, and the slot's is labelled as such.
 */
function counterRow(label: string, slot: number, sinceStart: number | undefined): Html {
  if (sinceStart === undefined || sinceStart === slot) {
    return html`<tr><th>${label}</th><td data-counter="${label.toLowerCase()}">${count(slot)}</td></tr>`;
  }
  return html`<tr><th>${label}</th><td data-counter="${label.toLowerCase()}">${count(sinceStart)} <span class="muted">since the worker started, all its slots · ${count(slot)} by this slot (Resque's per-worker counter)</span></td></tr>`;
}

/** The job a worker runs (Ruby's /working/<id>): where, queue, started, class, arguments. */
export function jobDetail(view: View, worker: WorkerSummary): Html {
  const job = worker.job;
  if (!job) return html`<p class="empty">${worker.id} is not working on a job.</p>`;
  return html`<section><h2>Current job</h2><table class="kv">
<tr><th>Where</th><td>${workerLink(view, worker)}</td></tr>
<tr><th>Queue</th><td><a href="${view.url(`/queues/${seg(job.queue)}`)}">${job.queue}</a></td></tr>
<tr><th>Started</th><td>${ago(job.runAt, view.now)} <span class="muted">(running for ${duration(worker.runningForMs)})</span></td></tr>
<tr><th>Class</th><td>${jobClass(job.className, job.args)}</td></tr>
<tr><th>Arguments</th><td><pre class="json">${JSON.stringify(job.args ?? null, null, 2)}</pre></td></tr>
${job.id === undefined ? '' : html`<tr><th>Id</th><td>${jobLink(view, job.id)} ${cancelLink(view, job.id, `/working/${seg(worker.id)}`)}</td></tr>`}
</table></section>`;
}
