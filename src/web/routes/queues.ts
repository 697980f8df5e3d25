import { queueLimitFromText } from '../../api/limits.js';
import { QueueNotFoundError } from '../../errors/index.js';
import type { App, Reply, Request } from '../context.js';
import { seg } from '../context.js';
import { BadRequestError } from '../errors.js';
import { count } from '../views/format.js';
import { confirmRemovePage, queuePage, queuesPage } from '../views/queues.js';
import { expected, jobMatch, paging } from './load.js';

export async function queues(app: App, request: Request): Promise<Reply> {
  const [list, failureLists, allPaused, flow] = await Promise.all([
    app.admin.queues(),
    app.admin.failures.lists(),
    app.admin.allWorkersPaused(),
    app.admin.flowControl(),
  ]);
  return {
    kind: 'page',
    title: 'Queues',
    tab: 'queues',
    live: true,
    body: queuesPage(request.view, list, failureLists, allPaused, flow),
  };
}

/** POST: pause (`pause`) or resume one queue for every resque-ts worker. */
export function switchQueue(pause: boolean) {
  return async (app: App, request: Request): Promise<Reply> => {
    const name = request.params['name']!;
    if (!(await app.admin.hasQueue(name))) throw new QueueNotFoundError(name);
    const changed = pause ? await app.admin.pauseQueue(name) : await app.admin.resumeQueue(name);
    request.audit(pause ? 'pause queue' : 'resume queue', name, changed ? 1 : 0);
    if (request.api) return { kind: 'json', body: { queue: name, paused: pause, changed } };
    return {
      kind: 'redirect',
      to: `/queues/${seg(name)}`,
      notice: changed
        ? `${pause ? 'Paused' : 'Resumed'} ${name}.`
        : `${name} was ${pause ? 'paused already' : 'not paused'}.`,
    };
  };
}

/** POST `limit`: at most that many of the queue's jobs run at once; checked as the API checks it (400 otherwise). */
export async function limitQueue(app: App, request: Request): Promise<Reply> {
  const name = request.params['name']!;
  const limit = queueLimitFromText(name, request.form.get('limit') ?? '');
  await app.admin.limitQueue(name, limit);
  request.audit('limit queue', name, limit);
  if (request.api) return { kind: 'json', body: { queue: name, limit } };
  return {
    kind: 'redirect',
    to: `/queues/${seg(name)}`,
    notice: `At most ${count(limit)} jobs of ${name} run at once.`,
  };
}

/** POST: remove a queue's limit; its parked jobs go back to the queue. */
export async function unlimitQueue(app: App, request: Request): Promise<Reply> {
  const name = request.params['name']!;
  const changed = await app.admin.unlimitQueue(name);
  request.audit('unlimit queue', name, changed ? 1 : 0);
  if (request.api) return { kind: 'json', body: { queue: name, limit: null, changed } };
  return {
    kind: 'redirect',
    to: `/queues/${seg(name)}`,
    notice: changed ? `Removed the limit of ${name}.` : `${name} had no limit.`,
  };
}

/** POST: set or clear Ruby's `pause-all-workers`, which Ruby and resque-ts workers honour. */
export function switchAllWorkers(pause: boolean) {
  return async (app: App, request: Request): Promise<Reply> => {
    await app.admin.setAllWorkersPaused(pause);
    request.audit(pause ? 'pause all workers' : 'resume all workers', 'pause-all-workers', 1);
    if (request.api) return { kind: 'json', body: { allPaused: pause } };
    return {
      kind: 'redirect',
      to: '/queues',
      notice: pause ? 'Paused all workers (pause-all-workers is set).' : 'Resumed all workers.',
    };
  };
}

export async function queueData(app: App, request: Request) {
  const name = request.params['name']!;
  const { offset, limit } = paging(request.query, app.options.pageSize);
  const match = jobMatch(request.query);
  const searching = Boolean(match.className || match.argsText);
  const page = searching
    ? await app.admin.searchQueue(name, match, offset, limit)
    : await app.admin.queueJobs(name, offset, limit);
  const summary = (await app.admin.queues()).find((q) => q.name === name);
  const tenants = summary?.fair ? await app.admin.tenants(name) : undefined;
  return { summary, page, match, tenants };
}

export async function queue(app: App, request: Request): Promise<Reply> {
  const data = await queueData(app, request);
  const searching = Boolean(data.match.className || data.match.argsText);
  return {
    kind: 'page',
    title: `Queue ${data.page.queue}`,
    tab: 'queues',
    live: !searching,
    body: queuePage(request.view, data),
  };
}

/** GET: the confirmation page with the count. */
export async function confirmRemoveQueue(app: App, request: Request): Promise<Reply> {
  const name = request.params['name']!;
  const counted = await app.admin.countQueueMatches(name, {});
  return {
    kind: 'page',
    title: `Remove ${name}?`,
    tab: 'queues',
    body: confirmRemovePage(request.view, name, undefined, counted),
  };
}

export async function removeQueue(app: App, request: Request): Promise<Reply> {
  const name = request.params['name']!;
  const removed = await app.admin.removeQueue(name);
  request.audit('remove queue', name, removed);
  if (request.api) return { kind: 'json', body: { queue: name, removed } };
  return { kind: 'redirect', to: '/queues', notice: `Removed queue ${name} and its ${count(removed)} jobs.` };
}

export async function confirmRemoveMatching(app: App, request: Request): Promise<Reply> {
  const name = request.params['name']!;
  const match = jobMatch(request.query);
  if (!match.className && !match.argsText)
    throw new BadRequestError('Give a class or argument text to match');
  const counted = await app.admin.countQueueMatches(name, match);
  return {
    kind: 'page',
    title: `Remove jobs from ${name}?`,
    tab: 'queues',
    body: confirmRemovePage(request.view, name, match, counted),
  };
}

/** Removes the matching jobs. A count sent from the confirmation page caps how many may go. */
export async function removeMatching(app: App, request: Request): Promise<Reply> {
  const name = request.params['name']!;
  const match = jobMatch(request.form);
  if (!match.className && !match.argsText)
    throw new BadRequestError('Give a class or argument text to match');
  const limit = expected(request.form);
  if (limit !== undefined) {
    const { matched } = await app.admin.countQueueMatches(name, match);
    if (matched > limit) {
      throw new BadRequestError(
        `${count(matched)} jobs match now, more than the ${count(limit)} confirmed: nothing was removed; confirm again`,
      );
    }
  }
  const removed = await app.admin.removeQueueMatches(name, match);
  request.audit(
    'remove matching jobs',
    `${name}${match.className ? ` class=${match.className}` : ''}${match.argsText ? ` args=${match.argsText}` : ''}`,
    removed,
  );
  if (request.api) return { kind: 'json', body: { queue: name, removed } };
  return {
    kind: 'redirect',
    to: `/queues/${seg(name)}`,
    notice: `Removed ${count(removed)} jobs from ${name}.`,
  };
}
