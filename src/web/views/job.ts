import { describeWaitReason, type JobView, type WaitReason } from '../../api/job-wait.js';
import type { JobStory } from '../../status/lookup.js';
import type { JobStatus } from '../../status/record.js';
import { seg, type View } from '../context.js';
import { type Html, html } from '../html.js';
import { cancelLink } from './cancel.js';
import { ago, argsText, prettyJson, utc } from './format.js';

const SOURCE_NOTE = {
  record: 'From its status record.',
  inferred:
    'This job is not tracked: what is shown is what Redis holds of it (a worker running it, the retry set, the delayed jobs, the newest failures).',
  none: 'No status record, and Redis holds this id nowhere it can be looked up: an unknown id, a job that is only queued and not tracked, or a record that expired.',
} as const;

/** The link to a job's page, for the pages that show job ids. */
export function jobLink(view: View, id: string | undefined): Html {
  if (!id) return html`<span class="muted">–</span>`;
  return html`<a href="${view.url(`/jobs/${seg(id)}`)}"><code>${id}</code></a>`;
}

/** The resque-ts id a payload carries, if any (Ruby's and strict jobs have none). */
export function payloadId(payload: unknown): string | undefined {
  if (payload === null || typeof payload !== 'object') return undefined;
  const id = (payload as { id?: unknown }).id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

function when(view: View, ms: number | undefined): Html {
  return ms === undefined ? html`<span class="muted">–</span>` : ago(new Date(ms), view.now);
}

function row(name: string, value: Html | string | undefined): Html {
  return value === undefined ? html`` : html`<tr><th>${name}</th><td>${value}</td></tr>`;
}

function facts(view: View, s: JobStatus, story: JobStory): Html {
  const payload = story.payload;
  return html`<table class="kv">
${row('State', html`<span class="state state-${s.state}" data-job-state="${s.state}">${s.state}</span>`)}
${row('Class', s.className && html`<code>${s.className}</code>`)}
${row('Queue', s.queue && html`<a href="${view.url(`/queues/${seg(s.queue)}`)}"><code>${s.queue}</code></a>`)}
${row('Arguments', payload ? argsText(payload.args, 400) : undefined)}
${row('Enqueued', s.enqueuedAt === undefined ? undefined : when(view, s.enqueuedAt))}
${row(
  s.state === 'running' ? 'Running on' : 'Last worker',
  s.worker && html`<a href="${view.url(`/workers/${seg(s.worker)}`)}"><code>${s.worker}</code></a>`,
)}
${row('Started', s.startedAt === undefined ? undefined : when(view, s.startedAt))}
${row('Attempt', s.attempt === undefined ? undefined : String(s.attempt))}
${row('Returns', s.returns ? `${s.returns} (given back after the process running it died)` : undefined)}
${row(
  s.state === 'delayed' ? 'Due' : 'Next attempt',
  s.nextAt === undefined ? undefined : html`${utc(new Date(s.nextAt))} UTC`,
)}
${row('Cancelled', s.cancelledAt === undefined ? undefined : when(view, s.cancelledAt))}
${row('Updated', s.updatedAt === undefined ? undefined : when(view, s.updatedAt))}
</table>`;
}

function errorsSection(story: JobStory): Html {
  const rows = story.errors.map(
    (e) =>
      html`<tr><td class="num">${e.attempt}</td><td>${e.failed_at}</td><td><code>${e.exception}</code></td><td>${e.error}${
        e.backtrace.length > 0 ? html`<pre class="backtrace">${e.backtrace.join('\n')}</pre>` : html``
      }</td></tr>`,
  );
  const last = story.status.error;
  return html`<section class="job-attempts"><h2>Attempts</h2>${
    rows.length === 0 && !last
      ? html`<p class="empty">No failed attempt.</p>`
      : html`<table class="grid"><thead><tr><th class="num">Attempt</th><th>Failed at</th><th>Error</th><th>Message</th></tr></thead><tbody>${rows}${
          last && !story.errors.some((e) => e.attempt === story.status.attempt && e.exception === last.class)
            ? html`<tr class="latest"><td class="num">${story.status.attempt ?? ''}</td><td>${
                story.failure?.failedAt ?? ''
              }</td><td><code>${last.class}</code></td><td>${last.message}</td></tr>`
            : html``
        }</tbody></table>`
  }</section>`;
}

function failureSection(view: View, story: JobStory): Html {
  const f = story.failure;
  if (!f) return html``;
  return html`<section class="job-failure"><h2>Failure record</h2>
<p>In <a href="${view.url(`/failed/${seg(f.list)}`)}"><code>${f.list}</code></a>, failed at ${f.failedAt} on <code>${f.worker}</code>.</p>
<p><code>${f.exception}</code> ${f.error}</p>
${f.backtrace.length > 0 ? html`<pre class="backtrace">${f.backtrace.join('\n')}</pre>` : html``}
</section>`;
}

/** Why a queued job has not started (api/job-wait.ts): every condition holding it back now. */
function waitingSection(reasons: readonly WaitReason[] | undefined): Html {
  if (!reasons) return html``;
  return html`<section class="job-waiting"><h2>Why it waits</h2>${
    reasons.length === 0
      ? html`<p>Nothing holds it back: a worker should take it at once.</p>`
      : html`<ul>${reasons.map((r) => html`<li data-wait="${r.kind}">${describeWaitReason(r)}</li>`)}</ul>`
  }</section>`;
}

/** A job's page: what it is, where it stands, its progress and result, its attempts and their errors. */
export function jobPage(view: View, story: JobView): Html {
  const s = story.status;
  return html`<main class="job-page">
<h1>Job <code>${s.id}</code></h1>
<p class="muted">${SOURCE_NOTE[s.source]}</p>
${facts(view, s, story)}
<div class="job-actions" data-job-actions="${s.id}">${
    s.state === 'completed' || s.state === 'failed' || s.state === 'cancelled'
      ? html``
      : cancelLink(view, s.id, `/jobs/${seg(s.id)}`)
  }</div>
${waitingSection(story.waiting)}
${s.progress === undefined ? html`` : html`<section class="job-progress"><h2>Progress</h2>${prettyJson(s.progress)}</section>`}
${s.result === undefined ? html`` : html`<section class="job-result"><h2>Result</h2>${prettyJson(s.result)}</section>`}
${errorsSection(story)}
${failureSection(view, story)}
${story.payload ? html`<section class="job-payload"><h2>Payload</h2>${prettyJson(story.payload)}</section>` : html``}
</main>`;
}
