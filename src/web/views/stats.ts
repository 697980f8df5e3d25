import type { KeyContents, KeyPage } from '../../api/keyspace.js';
import type { QueueSummary } from '../../api/queues.js';
import type { RedisInfoSection } from '../../api/redis-info.js';
import type { RedisRisk } from '../../api/redis-safety.js';
import type { SeriesBucket } from '../../api/stats.js';
import type { ResqueInfo } from '../../client/info.js';
import { seg, type View } from '../context.js';
import { type Html, html } from '../html.js';
import { backlogChart, chartNote, failureRateChart, throughputChart } from './charts.js';
import { count, duration } from './format.js';

type StatsTab = 'resque' | 'redis' | 'keys';

function subtabs(view: View, current: StatsTab): Html {
  const tab = (name: StatsTab, label: string) =>
    html`<a href="${view.url(`/stats/${name}`)}" class="${name === current ? 'active' : undefined}">${label}</a>`;
  return html`<nav class="subtabs">${tab('resque', 'Resque')}${tab('redis', 'Redis')}${tab('keys', 'Keys')}<a href="${view.url('/stats.txt')}">stats.txt</a></nav>`;
}

export const WINDOWS: ReadonlyArray<[string, number, number]> = [
  // name, window ms, bucket ms
  ['1h', 3_600_000, 60_000],
  ['6h', 6 * 3_600_000, 6 * 60_000],
  ['24h', 24 * 3_600_000, 24 * 60_000],
];

export interface ResqueStatsView {
  info: ResqueInfo;
  counters: { processed: number; failed: number };
  queues: QueueSummary[];
  series: SeriesBucket[];
  window: string;
  bucketMs: number;
}

export function resqueStatsPage(view: View, data: ResqueStatsView): Html {
  const { info } = data;
  const rows: Array<[string, string | number]> = [
    ['environment', info.environment],
    ['failed', count(info.failed)],
    ['pending', count(info.pending)],
    ['processed', count(info.processed)],
    ['queues', count(info.queues)],
    ['servers', info.servers.join(', ')],
    ['workers', count(info.workers)],
    ['working', count(info.working)],
    ['stat:failed', count(data.counters.failed)],
  ];
  return html`<main>
${subtabs(view, 'resque')}
<nav class="subtabs windows">${WINDOWS.map(
    ([name]) =>
      html`<a href="${view.url('/stats/resque', { window: name })}" class="${name === data.window ? 'active' : undefined}">${name}</a>`,
  )}</nav>
<section class="charts">${throughputChart(data.series, data.bucketMs)}${failureRateChart(data.series, data.bucketMs)}${backlogChart(data.series)}</section>
${chartNote(data.series)}
<div class="columns">
<section><h2>Resque</h2><table class="kv">${rows.map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`)}</table></section>
<section><h2>Queue latency <span class="muted">(how long the next job has waited)</span></h2>
<table class="grid"><thead><tr><th>Queue</th><th class="num">Jobs</th><th class="num">Oldest waiting</th></tr></thead><tbody>${[
    ...data.queues,
  ]
    .sort((a, b) => (b.latencyMs ?? -1) - (a.latencyMs ?? -1))
    .map(
      (q) =>
        html`<tr><td><a href="${view.url(`/queues/${seg(q.name)}`)}">${q.name}</a></td><td class="num">${count(q.size)}</td><td class="num">${
          q.latencyMs === undefined ? html`<span class="muted">–</span>` : duration(q.latencyMs)
        }</td></tr>`,
    )}</tbody></table></section>
</div>
</main>`;
}

/** The INFO figures an operator looks for first, as cards; undefined values are left out. */
function redisFigures(sections: readonly RedisInfoSection[]): Array<[string, string]> {
  const all = new Map(sections.flatMap((s) => s.entries));
  const number = (key: string) => (all.has(key) ? Number(all.get(key)) : undefined);
  const hits = number('keyspace_hits');
  const misses = number('keyspace_misses');
  const hitRate =
    hits !== undefined && misses !== undefined && hits + misses > 0
      ? `${((100 * hits) / (hits + misses)).toFixed(1)} %`
      : undefined;
  const uptime = number('uptime_in_seconds');
  const keys = [...all]
    .filter(([key]) => /^db\d+$/.test(key))
    .reduce((sum, [, value]) => sum + Number(/keys=(\d+)/.exec(value)?.[1] ?? 0), 0);
  const figures: Array<[string, string | undefined]> = [
    ['Version', all.get('redis_version')],
    ['Role', all.get('role')],
    ['Up', uptime === undefined ? undefined : duration(uptime * 1000)],
    ['Clients', all.get('connected_clients')],
    ['Memory', all.get('used_memory_human')],
    ['Peak memory', all.get('used_memory_peak_human')],
    ['Max memory', all.get('maxmemory_human') === '0B' ? 'no limit' : all.get('maxmemory_human')],
    ['Ops/s', all.get('instantaneous_ops_per_sec')],
    ['Hit rate', hitRate],
    ['Keys', count(keys)],
    ['Last save', all.get('rdb_last_bgsave_status')],
    ['AOF', all.get('aof_enabled') === undefined ? undefined : all.get('aof_enabled') === '1' ? 'on' : 'off'],
  ];
  return figures.filter((f): f is [string, string] => f[1] !== undefined && f[1] !== '');
}

/** Redis INFO: the main figures, then every section folded (open one to read it in full). */
export function redisStatsPage(
  view: View,
  sections: readonly RedisInfoSection[],
  warnings: readonly RedisRisk[] = [],
): Html {
  return html`<main>
${subtabs(view, 'redis')}
${
  warnings.length > 0
    ? html`<section class="risks" role="alert"><h2>This Redis can lose jobs</h2><ul>${warnings.map(
        (w) => html`<li data-risk="${w.code}">${w.message}</li>`,
      )}</ul></section>`
    : ''
}
<dl class="redis-summary">${redisFigures(sections).map(([name, value]) => html`<div><dt>${name}</dt><dd>${value}</dd></div>`)}</dl>
<div class="info-sections">${sections.map(
    (s) =>
      html`<details class="info-section"><summary>${s.name} <span class="muted">${count(s.entries.length)}</span></summary><table class="kv">${s.entries.map(
        ([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`,
      )}</table></details>`,
  )}</div>
</main>`;
}

export function keysPage(view: View, page: KeyPage, cursor: string): Html {
  return html`<main>
${subtabs(view, 'keys')}
<h1>Keys <span class="muted">in the namespace, read with SCAN (never KEYS)</span></h1>
<table class="grid keys"><thead><tr><th>Key</th><th>Type</th><th class="num">Size</th></tr></thead><tbody>${
    page.keys.length === 0
      ? html`<tr><td colspan="3" class="empty">No keys${cursor !== '0' ? ' in this stretch' : ''}.</td></tr>`
      : ''
  }${page.keys.map(
    (k) =>
      html`<tr><td><a href="${view.url(`/stats/keys/${seg(k.name)}`)}" class="mono">${k.name}</a></td><td>${k.type}</td><td class="num">${count(k.size)}</td></tr>`,
  )}</tbody></table>
<nav class="pager">${cursor !== '0' ? html`<a href="${view.url('/stats/keys')}">« first</a>` : ''}${
    page.cursor !== '0'
      ? html`<a href="${view.url('/stats/keys', { cursor: page.cursor })}" rel="next">next ›</a>`
      : html`<span class="muted">end of the scan</span>`
  }</nav>
</main>`;
}

export function keyPage(view: View, key: KeyContents): Html {
  const two = key.rows.some((r) => r.length === 2);
  const heads =
    key.type === 'zset'
      ? ['Member', 'Score']
      : key.type === 'hash'
        ? ['Field', 'Value']
        : key.type === 'stream'
          ? ['Id', 'Fields']
          : ['Value'];
  return html`<main>
${subtabs(view, 'keys')}
<h1>Key <code>${key.name}</code> <span class="muted">${key.type}, ${count(key.size)} ${key.type === 'string' ? 'bytes' : 'elements'}</span></h1>
${key.truncated ? html`<p class="warn">Only the first 64 KiB of each value are shown.</p>` : ''}
<table class="grid key-contents"><thead><tr>${(two ? heads : heads.slice(0, 1)).map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${key.rows.map(
    (row) => html`<tr>${row.map((cell) => html`<td><pre class="cell">${cell}</pre></td>`)}</tr>`,
  )}</tbody></table>
<nav class="pager">${key.start !== '0' ? html`<a href="${view.url(`/stats/keys/${seg(key.name)}`)}">« first</a>` : ''}${
    key.next
      ? html`<a href="${view.url(`/stats/keys/${seg(key.name)}`, { start: key.next })}" rel="next">next ›</a>`
      : ''
  }</nav>
</main>`;
}
