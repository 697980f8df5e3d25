import type { CancelResult } from '../../cancel/cancel-job.js';
import { seg, type View } from '../context.js';
import { type Html, html } from '../html.js';
import { actionForm } from './layout.js';

/** Where a job id is shown: a link to the confirmation step of its cancel (nothing on a read-only dashboard). */
export function cancelLink(view: View, id: string | undefined, back: string): Html {
  if (view.readOnly || id === undefined) return html``;
  return html`<a href="${view.url(`/jobs/${seg(id)}/cancel`, { back })}" class="button danger">Cancel…</a>`;
}

/** The confirmation step: what a cancel does, and the button that does it. */
export function confirmCancelPage(view: View, id: string, back: string | undefined): Html {
  return html`<main class="confirm">
<h1>Cancel job <code>${id}</code>?</h1>
<p>A queued job is dropped when a worker reaches it; a delayed or retrying job is removed; a running job's AbortSignal
fires, and a job running in a child process that has not stopped within the grace period is killed. A cancelled job
is not retried and not listed as failed. It cannot be undone.</p>
${actionForm(view, `/jobs/${seg(id)}/cancel`, 'Cancel job', { fields: { back }, danger: true })}
<a href="${view.url(back ?? '/overview')}">Keep it</a>
</main>`;
}

/** The notice after a cancel: what was found. */
export function cancelNotice(result: CancelResult): string {
  switch (result.was) {
    case 'delayed':
      return `Cancelled job ${result.id}: removed from the delayed jobs.`;
    case 'retrying':
      return `Cancelled job ${result.id}: removed from the jobs waiting to be retried.`;
    case 'running':
      return `Cancelling job ${result.id}: worker ${result.workerId} was asked to stop it.`;
    case 'queued':
      return `Cancelled job ${result.id}: it is dropped when a worker reaches it.`;
    case 'unknown':
      return `Job ${result.id} is not delayed, retrying or running; if it waits on a queue it is dropped when a worker reaches it.`;
    case 'finished':
      return `Job ${result.id} has already ended (${result.state}): nothing to cancel.`;
  }
}
