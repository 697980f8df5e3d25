import type { FairSummary } from '../../api/fair.js';
import type { QueueSummary } from '../../api/queues.js';
import type { SeriesBucket } from '../../api/stats.js';
import type { DelayedBacklog } from '../../scheduler/overdue.js';
import { seg, type View } from '../context.js';
import { type Html, html } from '../html.js';
import { chartNote, failureRateChart, throughputChart } from './charts.js';
import { count, duration } from './format.js';
import { overdueAlert } from './scheduling.js';
import { type WorkerRow, workingTable } from './workers.js';

/** Running jobs the Overview lists (longest running first); the Working tab has them all. */
const OVERVIEW_WORKING = 15;

export interface OverviewData {
  processed: number;
  failedStat: number;
  queues: QueueSummary[];
  failureLists: Array<{ list: string; count: number }>;
  /** Jobs waiting for their next attempt. */
  retrying: number;
  workers: WorkerRow[];
  series: SeriesBucket[];
  bucketMs: number;
  /** Delayed jobs: overdue when no process promotes them (undefined when their keys hold another type). */
  delayed: DelayedBacklog | undefined;
  /** Shards of a sharded namespace; 1 when it is not sharded. */
  shards?: number;
}

function card(label: string, value: string, href: string | undefined, tone?: string): Html {
  const inner = html`<span class="value">${value}</span><span class="label">${label}</span>`;
  return href
    ? html`<a class="card ${tone}" href="${href}">${inner}</a>`
    : html`<div class="card ${tone}">${inner}</div>`;
}

export function overviewPage(view: View, data: OverviewData): Html {
  const pending = data.queues.reduce((sum, q) => sum + q.size, 0);
  const failed = data.failureLists.reduce((sum, l) => sum + l.count, 0);
  const working = data.workers.filter((w) => w.worker.job).length;
  const flagged = data.workers.filter((w) => w.condition.health === 'stuck' || w.condition.health === 'dead');
  return html`<main>
${data.delayed ? overdueAlert(view, data.delayed, true) : ''}
<section class="cards">
${card('pending', count(pending), view.url('/queues'))}
${card('processed', count(data.processed), view.url('/stats'))}
${card('failed', count(failed), view.url('/failed'), failed > 0 ? 'bad' : undefined)}
${card('retrying', count(data.retrying), view.url('/retries'))}
${card('queues', count(data.queues.length), view.url('/queues'))}
${card('working', `${count(working)} / ${count(data.workers.length)}`, view.url('/working'))}
${card('stuck or dead', count(flagged.length), view.url('/workers'), flagged.length > 0 ? 'warn' : undefined)}
${data.shards !== undefined && data.shards > 1 ? card('shards', count(data.shards), view.url('/queues')) : ''}
</section>
<section class="charts">${throughputChart(data.series, data.bucketMs)}${failureRateChart(data.series, data.bucketMs)}</section>
${chartNote(data.series)}
<div class="columns">
<section><h2>Queues</h2>${queuesTable(view, data.queues, data.failureLists)}</section>
<section><h2>Working <span class="muted">${count(working)} of ${count(data.workers.length)} workers</span></h2>${workingTable(view, data.workers, OVERVIEW_WORKING)}</section>
</div>
</main>`;
}

/** Queues with size and the wait of their next job, then the failure lists (resque-web's `failed` row). */
export function queuesTable(
  view: View,
  queues: readonly QueueSummary[],
  failureLists: ReadonlyArray<{ list: string; count: number }>,
): Html {
  const maxLatency = Math.max(1, ...queues.map((q) => q.latencyMs ?? 0));
  // A sharded namespace's queues say which shard each lives on.
  const sharded = queues.some((q) => q.shard !== undefined);
  return html`<table class="grid queues">
<thead><tr>${sharded ? html`<th class="num">Shard</th>` : ''}<th>Queue</th><th class="num">Jobs</th><th>Oldest waiting</th></tr></thead>
<tbody>${queues.length === 0 ? html`<tr><td colspan="${sharded ? '4' : '3'}" class="empty">No queues.</td></tr>` : ''}${queues.map(
    (q) => html`<tr>
${sharded ? html`<td class="num shard">${String(q.shard)}</td>` : ''}<td><a href="${view.url(`/queues/${seg(q.name)}`)}">${q.name}</a>${q.pausedAt ? html` <span class="state state-paused">paused</span>` : ''}${
      q.limit !== undefined
        ? html` <span class="state state-limited" title="at most ${count(q.limit)} at once">limit ${count(q.limit)}</span>${
            q.parked ? html` <span class="muted">${count(q.parked)} parked</span>` : ''
          }`
        : ''
    }${q.fair ? fairMark(q.fair) : ''}</td>
<td class="num">${q.problem ? html`<span class="state state-dead" title="${q.problem}">wrong type</span>` : count(q.size)}</td>
<td>${
      q.problem
        ? html`<span class="bad-text">${q.problem}</span>`
        : q.latencyMs === undefined
          ? html`<span class="muted">${q.size > 0 ? 'unknown' : '–'}</span>`
          : html`<meter min="0" max="${maxLatency}" value="${q.latencyMs}"></meter> ${duration(q.latencyMs)}`
    }</td>
</tr>`,
  )}${failureLists.map(
    (l) => html`<tr class="failed-row">
${sharded ? html`<td></td>` : ''}<td><a href="${view.url(l.list === 'failed' ? '/failed' : `/failed/${seg(l.list)}`)}">${l.list}</a></td>
<td class="num ${l.count > 0 ? 'bad-text' : undefined}">${count(l.count)}</td><td></td>
</tr>`,
  )}</tbody></table>`;
}

/** A fair queue in a queue list: its tenants with jobs and the jobs on their lists (not in the Jobs column). */
function fairMark(fair: FairSummary): Html {
  return html` <span class="state state-fair" title="tenants served in turn">fair</span> <span class="muted">${count(fair.tenants)} tenants · ${fair.partial ? '≥ ' : ''}${count(fair.jobs)} on tenant lists</span>`;
}
