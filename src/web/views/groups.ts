import type { ErrorGroup } from '../../failure/groups.js';
import type { View } from '../context.js';
import { type Html, html } from '../html.js';
import { sparkline } from './charts.js';
import { ago, count, duration } from './format.js';

export interface GroupsView {
  groups: ErrorGroup[];
  trends: Map<string, number[]>;
  trendBucketMs: number;
  order: 'recent' | 'count';
}

/** Error groups: what fails, how often, since when, since which release, and whether it is growing. */
export function groupsPage(view: View, data: GroupsView): Html {
  const sort = (order: string, label: string) =>
    data.order === order
      ? html`<strong>${label}</strong>`
      : html`<a href="${view.url('/errors', { order })}">${label}</a>`;
  return html`<main>
<h1>Errors <span class="muted">${count(data.groups.length)} groups · sort by ${sort('recent', 'last seen')} | ${sort('count', 'count')}</span></h1>
<p class="muted">Failures of the same class with the same exception, message (numbers, ids and quoted values masked) and top frame. Trend: new failures per ${duration(data.trendBucketMs)} over the last hour.</p>
${
  data.groups.length === 0
    ? html`<p class="empty">No error groups yet.</p>`
    : html`<table class="grid groups"><thead><tr><th>Error</th><th class="num">Count</th><th>Trend</th><th>First seen</th><th>Last seen</th><th>First release</th><th>Queues</th><th></th></tr></thead>
<tbody>${data.groups.map((g) => groupRow(view, g, data.trends.get(g.id)))}</tbody></table>`
}
</main>`;
}

function groupRow(view: View, group: ErrorGroup, trend: number[] | undefined): Html {
  const failures = view.url('/failed', { group: group.id });
  return html`<tr>
<td><a href="${failures}"><code>${group.className}</code> <span class="exception">${group.exception}</span></a>
<div class="error-message">${group.message}</div><div class="muted mono">${group.frame}</div></td>
<td class="num">${count(group.count)}</td>
<td>${sparkline(trend ?? [], `${count((trend ?? []).reduce((a, b) => a + b, 0))} in the last hour`)}</td>
<td>${ago(group.firstSeen, view.now)}</td>
<td>${ago(group.lastSeen, view.now)}</td>
<td><code>${group.firstRelease}</code>${group.lastRelease !== group.firstRelease ? html` <span class="muted">→ ${group.lastRelease}</span>` : ''}</td>
<td>${group.queues.join(', ')}</td>
<td class="nowrap">${
    view.readOnly
      ? ''
      : html`<a class="button" href="${view.url('/failed/bulk/retry', { group: group.id })}">Retry…</a> <a class="button danger" href="${view.url('/failed/bulk/clear', { group: group.id })}">Clear…</a>`
  }</td>
</tr>`;
}
