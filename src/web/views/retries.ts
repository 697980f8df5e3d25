import { attemptText, type RetryingJob, type RetryPage } from '../../api/retries.js';
import { seg, type View } from '../context.js';
import { type Html, html } from '../html.js';
import { argsText, count, jobClass, truncate, utc } from './format.js';
import { actionForm, pager } from './layout.js';

function lastError(job: RetryingJob): Html {
  const last = job.errors.at(-1);
  if (!last) return html``;
  return html`<span title="${last.backtrace.join('\n')}"><code>${last.exception}</code> ${truncate(last.error, 160)}</span>`;
}

/** Retries: jobs waiting for their next attempt, earliest due first, each with "Retry now" and "Remove". */
export function retriesPage(view: View, page: RetryPage, offset: number, limit: number): Html {
  return html`<main>
<h1>Retries <span class="muted">${count(page.total)} waiting</span></h1>
<p class="muted">Jobs that failed with attempts left wait here until their next attempt is due; they reach the failed list only when their last attempt fails.</p>
${
  page.jobs.length === 0
    ? html`<p class="empty">No jobs waiting to be retried.</p>`
    : html`<table class="grid retries">
<thead><tr><th>Due (UTC)</th><th>Class</th><th>Queue</th><th>Arguments</th><th class="num">Next attempt</th><th>Last error</th><th></th></tr></thead>
<tbody>${page.jobs.map(
        (job) => html`<tr>
<td>${utc(new Date(job.dueAtMs))}</td>
<td>${job.className ? jobClass(job.className, job.args) : html`<span class="bad-text">not a job</span>`}${
          job.id ? html` <a class="muted" href="${view.url(`/jobs/${seg(job.id)}`)}">job</a>` : html``
        }</td>
<td><code>${job.queue}</code></td>
<td>${job.args ? argsText(job.args, 160) : html`<code class="args">${job.raw.slice(0, 160)}</code>`}</td>
<td class="num">${attemptText(job)}</td>
<td>${lastError(job)}</td>
<td>${actionForm(view, '/retries/retry-now', 'Retry now', { fields: { ref: job.ref } })}${actionForm(
          view,
          '/retries/remove',
          'Remove',
          {
            fields: { ref: job.ref },
            danger: true,
            confirm: 'Remove this job? It will not be retried or listed as failed.',
          },
        )}</td>
</tr>`,
      )}</tbody></table>`
}
${pager(view, '/retries', {}, offset, limit, page.total, offset + limit < page.total)}
</main>`;
}
