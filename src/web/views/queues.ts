import { TENANTS_READ, type TenantsView } from '../../api/fair.js';
import type { FlowControlView } from '../../api/limits.js';
import type { JobMatch, QueueJobsPage, QueueSearch } from '../../api/queue-jobs.js';
import type { QueueSummary } from '../../api/queues.js';
import type { QueuedJob } from '../../client/inspect.js';
import { seg, type View } from '../context.js';
import { type Html, html } from '../html.js';
import { cancelLink } from './cancel.js';
import { ago, argsText, count, duration, jobClass, storedMember } from './format.js';
import { actionForm, pager } from './layout.js';
import { limitsSection, queueFlow } from './limits.js';
import { queuesTable } from './overview.js';

export function queuesPage(
  view: View,
  queues: readonly QueueSummary[],
  failureLists: ReadonlyArray<{ list: string; count: number }>,
  allPaused: boolean,
  flow: FlowControlView,
): Html {
  const pausedNote = allPaused
    ? html`<p><span class="state state-paused">all workers paused</span> <code>pause-all-workers</code> is set: no worker, Ruby's or resque-ts's, takes jobs.</p>`
    : '';
  const toggle = allPaused
    ? actionForm(view, '/workers/resume-all', 'Resume all workers')
    : actionForm(view, '/workers/pause-all', 'Pause all workers', {
        confirm: 'Stop every worker, Ruby and resque-ts, taking jobs?',
      });
  return html`<main><h1>Queues <span class="muted">${count(queues.length)}</span></h1>
<div class="toolbar"><div class="actions">${toggle}</div></div>
${pausedNote}${queuesTable(view, queues, failureLists)}
${limitsSection(view, flow)}</main>`;
}

function jobsTable(view: View, queue: string, jobs: readonly QueuedJob[], now: number): Html {
  if (jobs.length === 0) return html`<p class="empty">No jobs.</p>`;
  return html`<table class="grid jobs">
<thead><tr><th class="num">#</th><th>Class</th><th>Arguments</th><th>Enqueued</th><th></th></tr></thead>
<tbody>${jobs.map((job) => {
    const enqueued =
      typeof job.payload?.enqueued_at === 'number' ? new Date(job.payload.enqueued_at * 1000) : undefined;
    return html`<tr>
<td class="num muted">${count(job.index)}</td>
<td>${job.payload ? jobClass(job.payload.class, job.payload.args) : html`<span class="bad-text" title="${job.malformed}">malformed</span>`}</td>
<td>${job.payload ? argsText(job.payload.args, 160, storedMember(job.raw, ['args'])) : html`<code class="args">${job.raw.slice(0, 160)}</code>`}</td>
<td>${ago(enqueued, now)}</td>
<td>${cancelLink(view, typeof job.payload?.id === 'string' ? job.payload.id : undefined, `/queues/${seg(queue)}`)}</td>
</tr>`;
  })}</tbody></table>`;
}

function searchForm(view: View, queue: string, match: JobMatch): Html {
  return html`<form method="get" action="${view.url(`/queues/${seg(queue)}`)}" class="filters">
<label>Class <input name="class" value="${match.className}" placeholder="e.g. Archive"></label>
<label>Arguments contain <input name="args" value="${match.argsText}" placeholder="text"></label>
<button type="submit">Search</button>${
    match.className || match.argsText ? html` <a href="${view.url(`/queues/${seg(queue)}`)}">clear</a>` : ''
  }
</form>`;
}

export interface QueueView {
  summary: QueueSummary | undefined;
  /** A fair queue's tenants (undefined when it is not fair). */
  tenants?: TenantsView | undefined;
  page: QueueJobsPage | QueueSearch;
  match: JobMatch;
}

/** One queue: its jobs a page at a time (or the matches of a search), with remove actions. */
export function queuePage(view: View, data: QueueView): Html {
  const { page, match } = data;
  const name = page.queue;
  const searching = Boolean(match.className || match.argsText);
  const query = { class: match.className, args: match.argsText };
  const total = 'scanned' in page ? undefined : page.size;
  const hasMore = 'hasMore' in page ? page.hasMore : page.offset + page.limit < page.size;
  return html`<main>
<h1>Queue <code>${name}</code>${
    data.summary?.pausedAt
      ? html` <span class="state state-paused" title="paused ${data.summary.pausedAt.toISOString()}">paused</span>`
      : ''
  } <span class="muted">${count(page.size)} jobs${
    data.summary?.latencyMs !== undefined ? ` · oldest waiting ${duration(data.summary.latencyMs)}` : ''
  }</span></h1>
<div class="toolbar">${searchForm(view, name, match)}
<div class="actions">${
    view.readOnly
      ? ''
      : html`${
          searching
            ? html`<a class="button danger" href="${view.url(`/queues/${seg(name)}/remove-matching`, query)}">Remove matching jobs…</a>`
            : ''
        }${
          data.summary?.pausedAt
            ? actionForm(view, `/queues/${seg(name)}/resume`, 'Resume')
            : actionForm(view, `/queues/${seg(name)}/pause`, 'Pause', {
                confirm: `Stop resque-ts workers taking jobs from ${name}?`,
              })
        }<a class="button danger" href="${view.url(`/queues/${seg(name)}/remove`)}">Remove queue…</a>`
  }</div></div>
${queueFlow(view, name, data.summary)}
${data.tenants ? tenantsSection(data.tenants) : ''}
${searching ? html`<p class="muted">Matches ${'scanned' in page ? html`(read ${count(page.scanned)} jobs to fill this page)` : ''}</p>` : ''}
${jobsTable(view, name, page.jobs, view.now)}
${pager(view, `/queues/${seg(name)}`, query, page.offset, page.limit, total, hasMore)}
</main>`;
}

/** A fair queue's tenants: how many have jobs, the jobs on their lists, the busiest with their weights. */
function tenantsSection(tenants: TenantsView): Html {
  const rows = tenants.busiest.map(
    (t) =>
      html`<tr><td><code>${t.tenant}</code></td><td class="num">${count(t.size)}</td><td class="num">${
        t.weight === 1 ? html`<span class="muted">1</span>` : count(t.weight)
      }</td></tr>`,
  );
  return html`<section class="tenants" id="tenants"><h2>Tenants <span class="muted">${count(tenants.tenants)}</span></h2>
<p><span class="state state-fair">fair</span> since ${tenants.since.toISOString()}: ${count(tenants.tenants)} tenants with jobs, ${
    tenants.partial ? '≥ ' : ''
  }${count(tenants.jobs)} jobs on their lists, served in turn after the queue's own list (the jobs below).${
    tenants.partial
      ? html` <span class="muted">Only the first ${count(TENANTS_READ)} tenants in serving order were read.</span>`
      : ''
  }</p>
${
  rows.length === 0
    ? html`<p class="empty">No tenant has jobs.</p>`
    : html`<table class="grid tenants"><thead><tr><th>Busiest tenants</th><th class="num">Jobs</th><th class="num">Weight</th></tr></thead><tbody>${rows}</tbody></table>`
}</section>`;
}

/** The confirmation step: how many jobs would go, and the button that removes them. */
export function confirmRemovePage(
  view: View,
  queue: string,
  match: JobMatch | undefined,
  counted: { matched: number; size: number },
): Html {
  const whole = match === undefined;
  const path = whole ? `/queues/${seg(queue)}/remove` : `/queues/${seg(queue)}/remove-matching`;
  const what = whole
    ? html`the queue <code>${queue}</code> and all ${count(counted.size)} of its jobs`
    : html`${count(counted.matched)} of ${count(counted.size)} jobs in <code>${queue}</code>${
        match.className ? html` of class <code>${match.className}</code>` : ''
      }${match.argsText ? html` whose arguments contain <code>${match.argsText}</code>` : ''}`;
  return html`<main class="confirm">
<h1>Remove ${whole ? 'queue' : 'jobs'}?</h1>
<p>This removes ${what}. It cannot be undone.</p>
${
  !whole && counted.matched === 0
    ? html`<p class="empty">Nothing matches: there is nothing to remove.</p>`
    : actionForm(view, path, whole ? 'Remove queue' : `Remove ${count(counted.matched)} jobs`, {
        fields: { class: match?.className, args: match?.argsText, expected: counted.matched },
        danger: true,
      })
}
<a href="${view.url(`/queues/${seg(queue)}`, { class: match?.className, args: match?.argsText })}">Cancel</a>
</main>`;
}
