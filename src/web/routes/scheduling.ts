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

/** The timestamp of an action: in the path (`/api/delayed/:ts/…`) or the form (`timestamp`). */
const actionTimestamp = (request: Request): number =>
  timestampParam(request.params['ts'] ?? request.form.get('timestamp'));

/** A yes/no form field: absent, '', 0, no, false are no; 1, yes, true are yes; anything else is refused. */
function flag(request: Request, name: string): boolean {
  const text = (request.form.get(name) ?? '').trim().toLowerCase();
  if (['', '0', 'no', 'false'].includes(text)) return false;
  if (['1', 'yes', 'true'].includes(text)) return true;
  throw new BadRequestError(`${name} must be yes or no, got ${JSON.stringify(text.slice(0, 40))}`);
}

const dueAt = (timestamp: number): string => new Date(timestamp * 1000).toISOString();

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
  const api = app.admin.delayed;
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
  if (request.api) {
    const timestamps = rows.map((row) => ({
      timestamp: row.timestamp,
      dueAt: dueAt(row.timestamp),
      jobs: row.jobs,
      job: row.only ?? null,
    }));
    return { kind: 'json', body: { timestamps, total, offset, limit, backlog: backlogJson(backlog) } };
  }
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
    app.admin.delayed.peekAt(timestamp, offset, limit),
    app.admin.delayed.timestampSize(timestamp),
  ]);
  if (size === 0 && offset === 0) throw new NotFoundError(`No delayed jobs at ${timestamp}`);
  if (request.api)
    return { kind: 'json', body: { timestamp, dueAt: dueAt(timestamp), size, offset, limit, jobs } };
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
  const found = await app.admin.delayed.find(
    (args, item) =>
      (argsText === '' || JSON.stringify(args).toLowerCase().includes(argsText)) &&
      (className === '' || item.className?.toLowerCase().includes(className.toLowerCase()) === true),
    { limit: SEARCH_LIMIT, deadlineMs: Date.now() + SEARCH_MS },
  );
  if (request.api) {
    const jobs = found.found.map(({ second, ...item }) => ({
      timestamp: second,
      dueAt: dueAt(second),
      ...item,
    }));
    return { kind: 'json', body: { found: jobs, complete: found.complete } };
  }
  return {
    kind: 'page',
    title: 'Delayed search',
    tab: 'delayed',
    body: delayedSearchPage(request.view, { className, argsText }, found),
  };
}

export async function queueNow(app: App, request: Request): Promise<Reply> {
  const timestamp = actionTimestamp(request);
  const all = flag(request, 'all');
  const api = app.admin.delayed;
  const moved = all ? await api.queueAllAt(timestamp) : await api.queueNextAt(timestamp);
  request.audit('queue delayed now', String(timestamp), moved);
  if (request.api) {
    if (moved === 0) throw new NotFoundError(`No delayed jobs at ${timestamp}`);
    return { kind: 'json', body: { timestamp, queued: moved } };
  }
  return {
    kind: 'redirect',
    to: '/delayed',
    notice: `Queued ${count(moved)} job${moved === 1 ? '' : 's'} now.`,
  };
}

export async function removeDelayed(app: App, request: Request): Promise<Reply> {
  const timestamp = actionTimestamp(request);
  const item = request.form.get('item');
  if (!item) throw new BadRequestError("Which job? Send its exact bytes as item (a job's raw)");
  const removed = await app.admin.delayed.removeRawAt(timestamp, item);
  request.audit('remove delayed', String(timestamp), removed);
  if (request.api) {
    if (removed === 0) throw new NotFoundError(`No delayed job at ${timestamp} with these bytes`);
    return { kind: 'json', body: { timestamp, removed } };
  }
  return {
    kind: 'redirect',
    to: '/delayed',
    notice: `Removed ${count(removed)} delayed job${removed === 1 ? '' : 's'}.`,
  };
}

/** How many timestamps, and jobs when there are at most COUNT_JOBS_UP_TO timestamps (counting walks them all). */
async function clearCounts(app: App): Promise<{ timestamps: number; jobs: number | undefined }> {
  const timestamps = await app.admin.delayed.timestampCount();
  const jobs = timestamps <= COUNT_JOBS_UP_TO ? await app.admin.delayed.count() : undefined;
  return { timestamps, jobs };
}

/** `/api/delayed/count`: what "Clear all" would remove; `jobs` is null above 10,000 timestamps. */
export async function delayedCount(app: App): Promise<Reply> {
  const { timestamps, jobs } = await clearCounts(app);
  return { kind: 'json', body: { timestamps, jobs: jobs ?? null } };
}

export async function confirmClear(app: App, request: Request): Promise<Reply> {
  const { timestamps, jobs } = await clearCounts(app);
  return {
    kind: 'page',
    title: 'Clear delayed jobs?',
    tab: 'delayed',
    body: confirmClearPage(request.view, timestamps, jobs),
  };
}

export async function clearDelayed(app: App, request: Request): Promise<Reply> {
  const text = request.form.get('expected');
  if (text !== null && text !== '') {
    if (!/^\d{1,12}$/.test(text))
      throw new BadRequestError(
        `expected is a count of timestamps, got ${JSON.stringify(text.slice(0, 40))}`,
      );
    const now = await app.admin.delayed.timestampCount();
    if (now > Number(text)) {
      throw new BadRequestError(
        `${count(now)} timestamps are delayed now, more than the ${count(Number(text))} confirmed: nothing was done; confirm again`,
      );
    }
  }
  const cleared = await app.admin.delayed.reset();
  request.audit('clear delayed', 'all', cleared);
  if (request.api) return { kind: 'json', body: { clearedTimestamps: cleared } };
  return { kind: 'redirect', to: '/delayed', notice: `Cleared ${count(cleared)} timestamps.` };
}

export async function schedule(app: App, request: Request): Promise<Reply> {
  const overview = await app.admin.scheduleOverview();
  if (request.api) {
    const schedules = overview.schedules.map(({ nextRunMs, ...row }) => ({
      ...row,
      nextRunAt: nextRunMs === undefined ? null : new Date(nextRunMs).toISOString(),
    }));
    return { kind: 'json', body: { master: overview.master, schedules } };
  }
  return {
    kind: 'page',
    title: 'Schedule',
    tab: 'schedule',
    live: true,
    body: schedulePage(request.view, overview),
  };
}

/** The schedule of an action: in the path (`/api/schedule/:name/…`) or the form (`name`). */
function nameParam(request: Request): string {
  const name = request.params['name'] ?? request.form.get('name');
  if (!name) throw new BadRequestError('Which schedule? Send its name');
  return name;
}

export async function runSchedule(app: App, request: Request): Promise<Reply> {
  const name = nameParam(request);
  if (!(await app.admin.runSchedule(name))) throw new NotFoundError(`No schedule ${JSON.stringify(name)}`);
  request.audit('run schedule', name, 1);
  if (request.api) return { kind: 'json', body: { name, enqueued: true } };
  return { kind: 'redirect', to: '/schedule', notice: `Enqueued ${name}.` };
}

export const switchSchedule =
  (enabled: boolean) =>
  async (app: App, request: Request): Promise<Reply> => {
    const name = nameParam(request);
    if (!(await app.admin.schedules.setEnabled(name, enabled)))
      throw new NotFoundError(`No ${enabled ? 'disabled' : 'enabled'} schedule ${JSON.stringify(name)}`);
    request.audit(enabled ? 'enable schedule' : 'disable schedule', name, 1);
    if (request.api) return { kind: 'json', body: { name, enabled } };
    return { kind: 'redirect', to: '/schedule', notice: `${enabled ? 'Enabled' : 'Disabled'} ${name}.` };
  };
