import type { DelayedBacklog } from '../../scheduler/overdue.js';
import type { App, Reply, Request } from '../context.js';
import { BadRequestError, NotFoundError } from '../errors.js';
import { count } from '../views/format.js';
import {
  confirmClearPage,
  delayedPage,
  delayedSearchPage,
  schedulePage,
  type TimestampRow,
  timestampPage,
} from '../views/scheduling.js';
import { paging } from './load.js';

/** A search reads delayed jobs for at most this long, and shows at most this many matches. */
const SEARCH_MS = 2000;
const SEARCH_LIMIT = 200;
/** Above this many timestamps the clear step shows the timestamp count only (counting jobs walks them all). */
const COUNT_JOBS_UP_TO = 10_000;

function timestampParam(text: string | null | undefined): number {
  if (!text || !/^\d{1,12}$/.test(text))
    throw new BadRequestError(`A timestamp is epoch seconds, got ${JSON.stringify(text ?? '')}`);
  return Number(text);
}

/** The delayed backlog as the JSON API gives it: ISO dates, durations in ms. */
export function backlogJson(backlog: DelayedBacklog) {
  return {
    overdue: backlog.overdue,
    overdueJobs: backlog.overdueJobs,
    overdueJobsExact: backlog.overdueJobsExact,
    overdueSeconds: backlog.overdueSeconds,
    earliestDueAt: backlog.earliestDueMs === undefined ? null : new Date(backlog.earliestDueMs).toISOString(),
    lateMs: backlog.lateMs,
  };
}

/** `/delayed`: O(page): one ZRANGE, one LLEN per timestamp shown, one LRANGE for those holding a single job. */
export async function delayed(app: App, request: Request): Promise<Reply> {
  const { offset, limit } = paging(request.query, 20);
  const api = app.admin.resque.delayed;
  const [timestamps, total, backlog] = await Promise.all([
    api.peekTimestamps(offset, limit),
    api.timestampCount(),
    app.admin.delayedBacklog(),
  ]);
  const rows: TimestampRow[] = await Promise.all(
    timestamps.map(async (timestamp) => {
      const jobs = await api.timestampSize(timestamp);
      return { timestamp, jobs, only: jobs === 1 ? (await api.peekAt(timestamp, 0, 1))[0] : undefined };
    }),
  );
  if (request.api) return { kind: 'json', body: { timestamps: rows, total, backlog: backlogJson(backlog) } };
  return {
    kind: 'page',
    title: 'Delayed',
    tab: 'delayed',
    live: offset === 0,
    body: delayedPage(request.view, {
      rows,
      timestamps: total,
      offset,
      limit,
      backlog,
    }),
  };
}

export async function delayedAt(app: App, request: Request): Promise<Reply> {
  const timestamp = timestampParam(request.params['ts']);
  const { offset, limit } = paging(request.query, 20);
  const [jobs, size] = await Promise.all([
    app.admin.resque.delayed.peekAt(timestamp, offset, limit),
    app.admin.resque.delayed.timestampSize(timestamp),
  ]);
  if (size === 0 && offset === 0) throw new NotFoundError(`No delayed jobs at ${timestamp}`);
  if (request.api) return { kind: 'json', body: { timestamp, size, jobs } };
  return {
    kind: 'page',
    title: `Delayed at ${timestamp}`,
    tab: 'delayed',
    body: timestampPage(request.view, timestamp, jobs, size, offset, limit),
  };
}

/** Class name and/or argument text, over every delayed job in chunks, stopped after SEARCH_MS or SEARCH_LIMIT matches. */
export async function searchDelayed(app: App, request: Request): Promise<Reply> {
  const className = (request.query.get('class') ?? '').trim();
  const argsText = (request.query.get('args') ?? '').trim().toLowerCase();
  const found = await app.admin.resque.delayed.find(
    (args, item) =>
      (argsText === '' || JSON.stringify(args).toLowerCase().includes(argsText)) &&
      (className === '' || item.className?.toLowerCase().includes(className.toLowerCase()) === true),
    { limit: SEARCH_LIMIT, deadlineMs: Date.now() + SEARCH_MS },
  );
  if (request.api) return { kind: 'json', body: found };
  return {
    kind: 'page',
    title: 'Delayed search',
    tab: 'delayed',
    body: delayedSearchPage(request.view, { className, argsText }, found),
  };
}

export async function queueNow(app: App, request: Request): Promise<Reply> {
  const timestamp = timestampParam(request.form.get('timestamp'));
  const api = app.admin.resque.delayed;
  const moved = request.form.get('all') ? await api.queueAllAt(timestamp) : await api.queueNextAt(timestamp);
  request.audit('queue delayed now', String(timestamp), moved);
  if (request.api) return { kind: 'json', body: { queued: moved } };
  return {
    kind: 'redirect',
    to: '/delayed',
    notice: `Queued ${count(moved)} job${moved === 1 ? '' : 's'} now.`,
  };
}

export async function removeDelayed(app: App, request: Request): Promise<Reply> {
  const timestamp = timestampParam(request.form.get('timestamp'));
  const item = request.form.get('item');
  if (!item) throw new BadRequestError('Which job? (item is missing)');
  const removed = await app.admin.resque.delayed.removeRawAt(timestamp, item);
  request.audit('remove delayed', String(timestamp), removed);
  if (request.api) return { kind: 'json', body: { removed } };
  return {
    kind: 'redirect',
    to: '/delayed',
    notice: `Removed ${count(removed)} delayed job${removed === 1 ? '' : 's'}.`,
  };
}

export async function confirmClear(app: App, request: Request): Promise<Reply> {
  const timestamps = await app.admin.resque.delayed.timestampCount();
  const jobs = timestamps <= COUNT_JOBS_UP_TO ? await app.admin.resque.delayed.count() : undefined;
  return {
    kind: 'page',
    title: 'Clear delayed jobs?',
    tab: 'delayed',
    body: confirmClearPage(request.view, timestamps, jobs),
  };
}

export async function clearDelayed(app: App, request: Request): Promise<Reply> {
  const cleared = await app.admin.resque.delayed.reset();
  request.audit('clear delayed', 'all', cleared);
  if (request.api) return { kind: 'json', body: { clearedTimestamps: cleared } };
  return { kind: 'redirect', to: '/delayed', notice: `Cleared ${count(cleared)} timestamps.` };
}

export async function schedule(app: App, request: Request): Promise<Reply> {
  const overview = await app.admin.scheduleOverview();
  if (request.api) return { kind: 'json', body: overview };
  return {
    kind: 'page',
    title: 'Schedule',
    tab: 'schedule',
    live: true,
    body: schedulePage(request.view, overview),
  };
}

function nameParam(request: Request): string {
  const name = request.form.get('name');
  if (!name) throw new BadRequestError('Which schedule? (name is missing)');
  return name;
}

export async function runSchedule(app: App, request: Request): Promise<Reply> {
  const name = nameParam(request);
  if (!(await app.admin.runSchedule(name))) throw new NotFoundError(`No schedule ${JSON.stringify(name)}`);
  request.audit('run schedule', name, 1);
  if (request.api) return { kind: 'json', body: { enqueued: true } };
  return { kind: 'redirect', to: '/schedule', notice: `Enqueued ${name}.` };
}

export const switchSchedule =
  (enabled: boolean) =>
  async (app: App, request: Request): Promise<Reply> => {
    const name = nameParam(request);
    if (!(await app.admin.schedules.setEnabled(name, enabled)))
      throw new NotFoundError(`No ${enabled ? 'disabled' : 'enabled'} schedule ${JSON.stringify(name)}`);
    request.audit(enabled ? 'enable schedule' : 'disable schedule', name, 1);
    if (request.api) return { kind: 'json', body: { changed: true } };
    return { kind: 'redirect', to: '/schedule', notice: `${enabled ? 'Enabled' : 'Disabled'} ${name}.` };
  };
