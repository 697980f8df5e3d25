import { mergeFailureLists, type ShardFilter } from '../../api/shard-failures.js';
import { sum } from '../../api/shard-merge.js';
import { isFailureListName } from '../../failure/identity.js';
import type { App, Reply, Request } from '../context.js';
import { BadRequestError, NotFoundError } from '../errors.js';
import { confirmBulkPage, failedPage, failurePage } from '../views/failed.js';
import { count } from '../views/format.js';
import { expected, failureScope, paging } from './load.js';

export async function failedData(app: App, request: Request) {
  const list = request.params['list'];
  if (list !== undefined && !isFailureListName(list))
    throw new NotFoundError(`No failure list ${JSON.stringify(list)}`);
  const filter = failureScope(app, request.query, list);
  const { offset, limit } = paging(request.query, app.options.pageSize);
  const order = request.query.get('order') === 'asc' ? 'asc' : 'desc';
  const [page, { lists, shards }, group] = await Promise.all([
    app.admin.failures.page({ ...filter, order, offset, limit }),
    failureLists(app, filter.list),
    filter.group ? app.admin.failures.group(filter.group) : undefined,
  ]);
  const groupLabel = group ? `${group.className} ${group.exception}: ${group.message}` : filter.group;
  return { page, filter, lists, groupLabel, shards };
}

/**
 * The failure lists with their counts and, on a sharded namespace, each shard's failures (of `list`, else of every
 * list): one read of each shard's lists (LLEN only) gives both.
 */
async function failureLists(app: App, list: string | undefined) {
  if (app.admin.shardCount === 1) return { lists: await app.admin.failures.lists(), shards: undefined };
  const perShard = await Promise.all(
    Array.from({ length: app.admin.shardCount }, (_, shard) => app.admin.shard(shard).failures.lists()),
  );
  const shards = perShard.map((lists, shard) => ({
    shard,
    count: sum(lists.filter((l) => list === undefined || l.list === list).map((l) => l.count)),
  }));
  return { lists: mergeFailureLists(perShard), shards };
}

export async function failed(app: App, request: Request): Promise<Reply> {
  const data = await failedData(app, request);
  const filtered = Object.keys(data.filter).some((k) => k !== 'list');
  return {
    kind: 'page',
    title: 'Failed',
    tab: 'failed',
    live: !filtered && data.page.offset === 0,
    body: failedPage(request.view, data),
  };
}

export async function failure(app: App, request: Request): Promise<Reply> {
  const found = await app.admin.failures.get(request.params['id']!);
  return { kind: 'page', title: 'Failure', tab: 'failed', body: failurePage(request.view, found) };
}

function idOf(request: Request): string {
  const id = request.params['id'] ?? request.form.get('id');
  if (!id) throw new BadRequestError('Which failure? Send its id');
  return id;
}

export async function retryOne(app: App, request: Request): Promise<Reply> {
  const id = idOf(request);
  const remove = request.form.get('remove') === 'yes';
  const result = await app.admin.failures.retry(id, { remove });
  request.audit(remove ? 'retry and remove failure' : 'retry failure', id, 1);
  if (request.api) return { kind: 'json', body: result };
  return {
    kind: 'redirect',
    to: back(request),
    notice: `Retried a ${result.failure?.className ?? 'job'} on ${result.queue}.`,
  };
}

export async function removeOne(app: App, request: Request): Promise<Reply> {
  const id = idOf(request);
  const removed = await app.admin.failures.remove(id);
  request.audit('remove failure', id, 1);
  if (request.api) return { kind: 'json', body: { removed } };
  return { kind: 'redirect', to: back(request), notice: `Removed a failed ${removed.className ?? 'job'}.` };
}

/**
 * Back where the action was taken: a failure list. The path must stay inside the dashboard and be a plain URL
 * (percent-encoded ASCII only: no CR, LF or other characters a header cannot carry).
 */
function back(request: Request): string {
  const to = request.form.get('back') ?? '';
  return /^\/failed(\/[\w.~%:!$'()*+,;=@-]+)?(\?[\w.~%:!$'()*+,;=@&/?-]*)?$/.test(to) ? to : '/failed';
}

export async function confirmBulk(app: App, request: Request): Promise<Reply> {
  const action = request.params['action'];
  if (action !== 'retry' && action !== 'clear')
    throw new NotFoundError(`No bulk action ${JSON.stringify(action)}`);
  const filter = failureScope(app, request.query);
  const matched = await app.admin.failures.count(countedFilter(action, filter));
  return {
    kind: 'page',
    title: action === 'retry' ? 'Retry failed jobs?' : 'Clear failed jobs?',
    tab: 'failed',
    body: confirmBulkPage(request.view, action, filter, matched),
  };
}

export async function bulk(app: App, request: Request): Promise<Reply> {
  const action = request.params['action'];
  if (action !== 'retry' && action !== 'clear')
    throw new NotFoundError(`No bulk action ${JSON.stringify(action)}`);
  const filter = failureScope(app, request.form);
  const limit = expected(request.form);
  if (limit !== undefined) {
    const now = await app.admin.failures.count(countedFilter(action, filter));
    if (now > limit) {
      throw new BadRequestError(
        `${count(now)} failures match now, more than the ${count(limit)} confirmed: nothing was done; confirm again`,
      );
    }
  }
  const result =
    action === 'retry' ? await app.admin.failures.retryAll(filter) : await app.admin.failures.clear(filter);
  request.audit(
    action === 'retry' ? 'retry failures' : 'clear failures',
    describeFilter(filter),
    result.done,
  );
  if (request.api) return { kind: 'json', body: { action, ...result } };
  const verb = action === 'retry' ? 'Retried' : 'Removed';
  return {
    kind: 'redirect',
    to: '/failed',
    notice: `${verb} ${count(result.done)} failed jobs${result.skipped > 0 ? ` (${count(result.skipped)} could not be retried)` : ''}.`,
  };
}

/** The failures a bulk action is counted over: a retry, unless the filter says otherwise, of those not yet retried. */
function countedFilter(action: 'retry' | 'clear', filter: ShardFilter): ShardFilter {
  return action === 'retry' && filter.retried === undefined ? { ...filter, retried: false } : filter;
}

/** A filter as audit text: `class=Mailer queue=mail`, or `all`. */
function describeFilter(filter: ShardFilter): string {
  const parts = Object.entries(filter).map(([key, value]) => `${key}=${String(value)}`);
  return parts.length > 0 ? parts.join(' ') : 'all';
}
