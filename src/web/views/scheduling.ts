import type { JsonValue } from '../../protocol/json.js';
import type { DelayedItemView } from '../../scheduler/delayed-query.js';
import type { FoundItem } from '../../scheduler/delayed-remove.js';
import type { DelayedBacklog } from '../../scheduler/overdue.js';
import type { ScheduleOverview } from '../../scheduler/schedule-view.js';
import type { View } from '../context.js';
import { type Html, html } from '../html.js';
import { ago, argsText, count, jobClass, utc } from './format.js';
import { actionForm, pager } from './layout.js';

export interface TimestampRow {
  timestamp: number;
  jobs: number;
  /** The job, when the timestamp holds only one (as resque-scheduler's Delayed tab shows). */
  only: DelayedItemView | undefined;
}

export interface DelayedView {
  rows: TimestampRow[];
  timestamps: number;
  offset: number;
  limit: number;
  backlog: DelayedBacklog;
}

const at = (timestamp: number) => utc(new Date(timestamp * 1000));

function itemCells(item: DelayedItemView): Html {
  return html`<td>${item.className ? jobClass(item.className, item.args as JsonValue[]) : html`<span class="bad-text" title="${item.malformed}">malformed</span>`}</td>
<td>${item.queue ? html`<code>${item.queue}</code>` : ''}</td>
<td>${item.args ? argsText(item.args as JsonValue[], 160) : html`<code class="args">${item.raw.slice(0, 160)}</code>`}</td>`;
}

/**
 * The alert the Overview and the Delayed tab show while delayed jobs are overdue, which means no process is promoting
 * them: how many, since when, and what to start.
 */
export function overdueAlert(view: View, backlog: DelayedBacklog, linkToDelayed = false): Html | undefined {
  if (!backlog.overdue || backlog.earliestDueMs === undefined) return undefined;
  const jobs = backlog.overdueJobs;
  const one = jobs === 1 && backlog.overdueJobsExact;
  return html`<section class="risks overdue" role="alert">
<h2>${backlog.overdueJobsExact ? '' : 'At least '}${count(jobs)} delayed job${one ? ' is' : 's are'} overdue</h2>
<p>The earliest was due ${ago(new Date(backlog.earliestDueMs), backlog.nowMs)} (${utc(new Date(backlog.earliestDueMs))} UTC) and no
process is promoting delayed jobs to their queues. Start <code>resque work</code> (workers promote them unless
<code>promoteDelayed</code> is off) or <code>resque scheduler</code>.
${linkToDelayed ? html`<a href="${view.url('/delayed')}">See the delayed jobs</a>` : ''}</p>
</section>`;
}

function searchForm(view: View, className = '', argsText = ''): Html {
  return html`<form method="get" action="${view.url('/delayed/search')}" class="filters">
<label>Class <input name="class" value="${className}" placeholder="e.g. SendFollowUp"></label>
<label>Arguments contain <input name="args" value="${argsText}" placeholder="text"></label>
<button type="submit">Search</button></form>`;
}

/** Delayed: timestamps a page at a time, earliest first, with "Queue now" (resque-scheduler's Delayed tab). */
export function delayedPage(view: View, data: DelayedView): Html {
  return html`<main>
<h1>Delayed jobs <span class="muted">${count(data.timestamps)} timestamps</span></h1>
${overdueAlert(view, data.backlog)}
<div class="toolbar">${searchForm(view)}<div class="actions">${
    view.readOnly || data.timestamps === 0
      ? ''
      : html`<a class="button danger" href="${view.url('/delayed/clear')}">Clear all delayed jobs…</a>`
  }</div></div>
${
  data.rows.length === 0
    ? html`<p class="empty">No delayed jobs.</p>`
    : html`<table class="grid">
<thead><tr><th>Due (UTC)</th><th>Timestamp</th><th class="num">Jobs</th><th>Class</th><th>Queue</th><th>Arguments</th><th></th></tr></thead>
<tbody>${data.rows.map(
        (row) => html`<tr>
<td><a href="${view.url(`/delayed/${row.timestamp}`)}">${at(row.timestamp)}</a></td>
<td class="muted">${row.timestamp}</td>
<td class="num">${count(row.jobs)}</td>
${row.only ? itemCells(row.only) : html`<td colspan="3"><a href="${view.url(`/delayed/${row.timestamp}`)}">all ${count(row.jobs)} jobs</a></td>`}
<td>${actionForm(view, '/delayed/queue-now', 'Queue now', { fields: { timestamp: row.timestamp } })}</td>
</tr>`,
      )}</tbody></table>`
}
${pager(view, '/delayed', {}, data.offset, data.limit, data.timestamps, data.offset + data.limit < data.timestamps)}
</main>`;
}

/** The jobs of one timestamp, a page at a time, each with "Remove". */
export function timestampPage(
  view: View,
  timestamp: number,
  jobs: DelayedItemView[],
  size: number,
  offset: number,
  limit: number,
): Html {
  return html`<main>
<h1>Delayed at ${at(timestamp)} <span class="muted">${timestamp} · ${count(size)} jobs</span></h1>
<div class="actions">${actionForm(view, '/delayed/queue-now', 'Queue all now', { fields: { timestamp, all: 1 } })}</div>
${itemsTable(
  view,
  jobs.map((item) => ({ ...item, second: timestamp })),
)}
${pager(view, `/delayed/${timestamp}`, {}, offset, limit, size, offset + limit < size)}
</main>`;
}

function itemsTable(view: View, items: FoundItem[]): Html {
  if (items.length === 0) return html`<p class="empty">No jobs.</p>`;
  return html`<table class="grid"><thead><tr><th>Due (UTC)</th><th>Class</th><th>Queue</th><th>Arguments</th><th></th></tr></thead>
<tbody>${items.map(
    (
      item,
    ) => html`<tr><td><a href="${view.url(`/delayed/${item.second}`)}">${at(item.second)}</a></td>${itemCells(item)}
<td>${actionForm(view, '/delayed/remove', 'Remove', { fields: { timestamp: item.second, item: item.raw }, danger: true })}</td></tr>`,
  )}</tbody></table>`;
}

/** Search results: a chunked, time-bounded walk; says when it stopped early. */
export function delayedSearchPage(
  view: View,
  match: { className: string; argsText: string },
  found: { found: FoundItem[]; complete: boolean },
): Html {
  return html`<main><h1>Delayed jobs matching</h1>
<div class="toolbar">${searchForm(view, match.className, match.argsText)}</div>
<p class="muted">${count(found.found.length)} found${found.complete ? '' : ' (the search stopped early: refine it to see more)'}</p>
${itemsTable(view, found.found)}</main>`;
}

/** The count-and-confirm step before clearing every delayed job. */
export function confirmClearPage(view: View, timestamps: number, jobs: number | undefined): Html {
  return html`<main><h1>Clear every delayed job?</h1>
<p>${count(timestamps)} timestamps${jobs === undefined ? '' : html`, ${count(jobs)} jobs`} will be removed. This cannot be undone.</p>
${actionForm(view, '/delayed/clear', 'Clear all delayed jobs', { danger: true, fields: { expected: timestamps } })}
<a href="${view.url('/delayed')}">Cancel</a></main>`;
}

/** Schedule: the stored schedules, the master, next and last runs, with run now / enable / disable. */
export function schedulePage(view: View, overview: ScheduleOverview): Html {
  return html`<main>
<h1>Schedule <span class="muted">${count(overview.schedules.length)} schedules</span></h1>
<p>Master scheduler: ${overview.master ? html`<code>${overview.master}</code>` : html`<span class="bad-text">none</span>`}</p>
${
  overview.schedules.length === 0
    ? html`<p class="empty">No schedules stored in Redis.</p>`
    : html`<table class="grid"><thead><tr><th>Name</th><th>Interval</th><th>Class</th><th>Queue</th><th>Arguments</th><th>Next run (UTC)</th><th>Last enqueued</th><th></th></tr></thead>
<tbody>${overview.schedules.map(
        (s) => html`<tr class="${s.enabled ? undefined : 'muted'}">
<td>${s.name}${s.description ? html`<br><span class="muted">${s.description}</span>` : ''}${s.problem ? html`<br><span class="bad-text">${s.problem}</span>` : ''}</td>
<td><code>${s.interval}</code></td><td>${s.className ?? ''}</td><td>${s.queue ? html`<code>${s.queue}</code>` : ''}</td>
<td><code class="args">${JSON.stringify(s.args)}</code></td>
<td>${s.enabled ? (s.nextRunMs === undefined ? '' : utc(new Date(s.nextRunMs))) : 'disabled'}</td>
<td>${s.lastEnqueuedAt ?? ''}</td>
<td>${actionForm(view, '/schedule/run', 'Run now', { fields: { name: s.name } })}${actionForm(
          view,
          s.enabled ? '/schedule/disable' : '/schedule/enable',
          s.enabled ? 'Disable' : 'Enable',
          { fields: { name: s.name } },
        )}</td></tr>`,
      )}</tbody></table>`
}
</main>`;
}
