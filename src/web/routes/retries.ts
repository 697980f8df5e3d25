import { memberOf } from '../../api/retries.js';
import { parseInflight } from '../../worker/fetch/inflight.js';
import type { App, Reply, Request } from '../context.js';
import { BadRequestError, NotFoundError } from '../errors.js';
import { retriesPage } from '../views/retries.js';
import { paging } from './load.js';

/** `/retries`: O(page), one ZCARD and one ZRANGE. */
export async function retries(app: App, request: Request): Promise<Reply> {
  const { offset, limit } = paging(request.query, app.options.pageSize);
  const page = await app.admin.retries(offset, limit);
  if (request.api) return { kind: 'json', body: { ...page, offset, limit } };
  return {
    kind: 'page',
    title: 'Retries',
    tab: 'retries',
    live: offset === 0,
    body: retriesPage(request.view, page, offset, limit),
  };
}

function refOf(request: Request): string {
  const ref = request.form.get('ref');
  if (!ref) throw new BadRequestError('Which job? (ref is missing)');
  return ref;
}

/** What the audit log says about a waiting job: its queue and the start of its item. */
function described(ref: string): string {
  const entry = parseInflight(memberOf(ref.replace(/^\d+@/, '')));
  return entry ? `${entry.queue} ${entry.raw.slice(0, 120)}` : ref.slice(0, 120);
}

const gone = () => new NotFoundError('That job is no longer waiting to be retried');

export async function retryNow(app: App, request: Request): Promise<Reply> {
  const ref = refOf(request);
  if (!(await app.admin.retryNow(ref))) throw gone();
  request.audit('retry now', described(ref), 1);
  if (request.api) return { kind: 'json', body: { queued: true } };
  return { kind: 'redirect', to: '/retries', notice: 'Queued the job for its next attempt now.' };
}

export async function removeRetry(app: App, request: Request): Promise<Reply> {
  const ref = refOf(request);
  if (!(await app.admin.removeRetry(ref))) throw gone();
  request.audit('remove retry', described(ref), 1);
  if (request.api) return { kind: 'json', body: { removed: true } };
  return { kind: 'redirect', to: '/retries', notice: 'Removed the job: it will not be retried.' };
}
