import type { ShardFilter } from '../../api/shard-failures.js';
import type { Failure } from '../../failure/failure.js';
import type { FailurePage } from '../../failure/page.js';
import { parseWorkerId } from '../../protocol/worker-id.js';
import { seg, type View } from '../context.js';
import { type Html, html } from '../html.js';
import { ago, argsText, count, jobClass, prettyJson, storedMember } from './format.js';
import { jobLink, payloadId } from './job.js';
import { actionForm, pager } from './layout.js';

/** The filter as query parameters (the names the failure pages and the API take). */
export function filterQuery(filter: ShardFilter): Record<string, string | undefined> {
  return {
    queue: filter.queue,
    class: filter.className,
    args: filter.argsText,
    error: filter.errorText,
    group: filter.group,
    retried: filter.retried === undefined ? undefined : filter.retried ? 'yes' : 'no',
    shard: filter.shard === undefined ? undefined : String(filter.shard),
  };
}

function basePath(filter: ShardFilter): string {
  return filter.list && filter.list !== 'failed' ? `/failed/${seg(filter.list)}` : '/failed';
}

/** A failure count per shard, on a sharded namespace only. */
export type ShardCounts = Array<{ shard: number; count: number }>;

function option(value: string, label: string, current: string): Html {
  return html`<option value="${value}"${value === current ? html` selected` : ''}>${label}</option>`;
}

/** The shard select of a sharded namespace, each shard with its failure count. */
function shardSelect(filter: ShardFilter, shards: ShardCounts | undefined): Html | string {
  if (!shards) return '';
  const current = filter.shard === undefined ? '' : String(filter.shard);
  return html`<label>Shard <select name="shard">${option('', 'all', current)}${shards.map(
    ({ shard, count: n }) => option(String(shard), `${shard} (${count(n)})`, current),
  )}</select></label>
`;
}

function filterForm(view: View, filter: ShardFilter, order: string, shards: ShardCounts | undefined): Html {
  const retried = filter.retried === undefined ? '' : filter.retried ? 'yes' : 'no';
  return html`<form method="get" action="${view.url(basePath(filter))}" class="filters">
${shardSelect(filter, shards)}<label>Queue <input name="queue" value="${filter.queue}"></label>
<label>Class <input name="class" value="${filter.className}"></label>
<label>Arguments contain <input name="args" value="${filter.argsText}"></label>
<label>Error contains <input name="error" value="${filter.errorText}"></label>
<label>Retried <select name="retried">${option('', 'any', retried)}${option('no', 'not retried', retried)}${option('yes', 'retried', retried)}</select></label>
<label>Order <select name="order">${option('desc', 'newest first', order)}${option('asc', 'oldest first', order)}</select></label>
${filter.group ? html`<input type="hidden" name="group" value="${filter.group}">` : ''}
<button type="submit">Filter</button> <a href="${view.url(basePath(filter))}">clear</a>
</form>`;
}

function isFiltered(filter: ShardFilter): boolean {
  return Object.values(filterQuery(filter)).some((v) => v !== undefined);
}

function bulkLinks(view: View, filter: ShardFilter): Html {
  if (view.readOnly) return html``;
  const query = { ...filterQuery(filter), list: filter.list };
  const matching = isFiltered(filter) ? ' matching' : ' all';
  return html`<div class="actions">
<a class="button" href="${view.url('/failed/bulk/retry', query)}">Retry${matching}…</a>
<a class="button danger" href="${view.url('/failed/bulk/clear', query)}">Clear${matching}…</a>
<a class="button" href="${view.url('/failed/bulk/clear', { list: filter.list, retried: 'yes', shard: filter.shard })}">Clear retried…</a>
</div>`;
}

/** Retry and Remove for one failure; `back` is the list (with its filter) to return to afterwards. */
function failureActions(view: View, failure: Failure, back?: string): Html {
  const fields = { id: failure.id, back };
  return html`${actionForm(view, '/failed/retry', failure.retriedAt ? 'Retry again' : 'Retry', { fields })}${actionForm(
    view,
    '/failed/remove',
    'Remove',
    { fields, danger: true },
  )}`;
}

/** The list path with its filter, as the place to come back to after acting on one failure. */
function backTo(filter: ShardFilter): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filterQuery(filter)))
    if (value !== undefined) query.set(key, value);
  const search = query.toString();
  return `${basePath(filter)}${search ? `?${search}` : ''}`;
}

function workerOf(failure: Failure): string {
  const parts = parseWorkerId(failure.record.worker ?? '');
  return parts ? `${parts.host}:${parts.pid}` : String(failure.record.worker ?? '');
}

function backtrace(failure: Failure): Html {
  const frames = Array.isArray(failure.record.backtrace) ? failure.record.backtrace : [];
  return html`<details class="backtrace"><summary><span class="error-message">${failure.record.error}</span></summary><pre>${
    frames.length > 0 ? frames.join('\n') : '(no backtrace)'
  }</pre></details>`;
}

/** The shard a failure of a sharded namespace was read from (its id carries it too). */
function shardBadge(failure: Failure): Html | string {
  const shard = (failure as { shard?: number }).shard;
  return shard === undefined
    ? ''
    : html`<span class="badge shard" title="kept on shard ${String(shard)}">shard ${String(shard)}</span>`;
}

function failureItem(view: View, failure: Failure, filter: ShardFilter): Html {
  const { record } = failure;
  const classLink = failure.className
    ? html`<a href="${view.url(basePath(filter), { ...filterQuery(filter), class: failure.className })}">${jobClass(failure.className, failure.args)}</a>`
    : html`<span class="muted">(unknown)</span>`;
  return html`<article class="failure${failure.retriedAt ? ' retried' : ''}">
<header>
  ${classLink} <span class="exception">${record.exception}</span>
  <span class="muted">on</span> <a href="${view.url(`/queues/${seg(failure.queue)}`)}">${failure.queue}</a>
  <span class="muted">by</span> <span class="mono">${workerOf(failure)}</span>
  <span class="muted">·</span> ${ago(failure.failedAt, view.now)}
  ${shardBadge(failure)}
  ${failure.retriedAt ? html`<span class="badge">retried ${ago(failure.retriedAt, view.now)}</span>` : ''}
  <span class="spacer"></span>
  <a href="${view.url(`/failure/${seg(failure.id)}`)}" class="muted">details</a>
  ${failureActions(view, failure, backTo(filter))}
</header>
<div class="args-line">${argsText(failure.args, 200, storedMember(failure.raw, ['payload', 'args']))}</div>
${backtrace(failure)}
</article>`;
}

export interface FailedView {
  page: FailurePage;
  filter: ShardFilter;
  lists: Array<{ list: string; count: number }>;
  groupLabel: string | undefined;
  /** Each shard's failures, on a sharded namespace. */
  shards?: ShardCounts | undefined;
}

/** Failed jobs a page at a time, newest first, filtered, with per-list tabs, bulk links and per-failure actions. */
export function failedPage(view: View, data: FailedView): Html {
  const { page, filter } = data;
  const total = data.lists.reduce((sum, l) => sum + l.count, 0);
  const shown = page.total !== undefined ? count(page.total) : 'matching';
  const query = { ...filterQuery(filter), order: page.order === 'asc' ? 'asc' : undefined };
  return html`<main>
<h1>Failed jobs <span class="muted">${shown}${isFiltered(filter) || filter.list ? ` of ${count(total)}` : ''}</span></h1>
${
  data.lists.length > 1
    ? html`<nav class="subtabs"><a href="${view.url('/failed')}" class="${!filter.list ? 'active' : undefined}">all lists</a>${data.lists.map(
        (l) =>
          html`<a href="${view.url(l.list === 'failed' ? '/failed/failed' : `/failed/${seg(l.list)}`)}" class="${filter.list === l.list ? 'active' : undefined}">${l.list} <span class="muted">${count(l.count)}</span></a>`,
      )}</nav>`
    : ''
}
${data.groupLabel ? html`<p>Error group: <code>${data.groupLabel}</code></p>` : ''}
<div class="toolbar">${filterForm(view, filter, page.order, data.shards)}${bulkLinks(view, filter)}</div>
${page.failures.length === 0 ? html`<p class="empty">No failed jobs${isFiltered(filter) ? ' match' : ''}.</p>` : ''}
<div class="failures">${page.failures.map((f) => failureItem(view, f, filter))}</div>
${pager(view, basePath(filter), query, page.offset, page.limit, page.total, page.hasMore)}
</main>`;
}

/** One failure: every field, the whole backtrace and the stored bytes. */
export function failurePage(view: View, failure: Failure): Html {
  const { record } = failure;
  const frames = Array.isArray(record.backtrace) ? record.backtrace : [];
  return html`<main>
<h1>Failure <code>${failure.id}</code></h1>
<div class="actions">${failureActions(view, failure)}</div>
<table class="kv">
<tr><th>Class</th><td>${jobClass(failure.className, failure.args)}</td></tr>
<tr><th>Queue</th><td><a href="${view.url(`/queues/${seg(failure.queue)}`)}">${failure.queue}</a></td></tr>
<tr><th>Worker</th><td class="mono">${record.worker}</td></tr>
${payloadId(record.payload) ? html`<tr><th>Job</th><td>${jobLink(view, payloadId(record.payload))}</td></tr>` : html``}
<tr><th>Failed at</th><td>${ago(failure.failedAt, view.now)} <span class="muted">${record.failed_at}</span></td></tr>
<tr><th>Retried at</th><td>${failure.retriedAt ? ago(failure.retriedAt, view.now) : html`<span class="muted">never</span>`}</td></tr>
<tr><th>Exception</th><td><code>${record.exception}</code></td></tr>
<tr><th>Error</th><td><pre class="error-message">${record.error}</pre></td></tr>
<tr><th>Arguments</th><td>${prettyJson(failure.args ?? null)}</td></tr>
<tr><th>Backtrace</th><td><pre>${frames.length > 0 ? frames.join('\n') : '(no backtrace)'}</pre></td></tr>
<tr><th>Error group</th><td><a href="${view.url('/failed', { group: failure.groupId })}"><code>${failure.groupId}</code></a></td></tr>
<tr><th>Stored record</th><td><pre class="json">${failure.raw}</pre></td></tr>
</table>
</main>`;
}

/** The confirmation step of a bulk retry or clear: the count first, then the button. */
export function confirmBulkPage(
  view: View,
  action: 'retry' | 'clear',
  filter: ShardFilter,
  matched: number,
): Html {
  const verb = action === 'retry' ? 'Retry' : 'Remove';
  const criteria = Object.entries(filterQuery(filter)).filter(([, v]) => v !== undefined);
  return html`<main class="confirm">
<h1>${verb} ${count(matched)} failed ${matched === 1 ? 'job' : 'jobs'}?</h1>
<p>${
    criteria.length === 0 && !filter.list
      ? html`Every failed job${action === 'clear' ? ' is removed. It cannot be undone.' : ' goes back on its queue.'}`
      : html`Failed jobs${filter.list ? html` in <code>${filter.list}</code>` : ''} where ${criteria.map(
          ([k, v], i) => html`${i > 0 ? ', ' : ''}${k} = <code>${v}</code>`,
        )}.`
  }${action === 'retry' ? ' Failures already retried are skipped.' : ''}</p>
${
  matched === 0
    ? html`<p class="empty">Nothing matches.</p>`
    : actionForm(view, `/failed/bulk/${action}`, `${verb} ${count(matched)}`, {
        fields: { ...filterQuery(filter), list: filter.list, expected: matched },
        danger: action === 'clear',
      })
}
<a href="${view.url(basePath(filter), filterQuery(filter))}">Cancel</a>
</main>`;
}
