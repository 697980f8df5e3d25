import { WrongTypeError } from '../../api/key-types.js';
import type { App, Reply, Request } from '../context.js';
import { NotFoundError } from '../errors.js';
import { overviewPage } from '../views/overview.js';
import { jobDetail, workingPage } from '../views/workers.js';
import { series, shardParam, workerRows } from './load.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;

export async function overviewData(app: App) {
  const [counters, queues, failureLists, workers, buckets, retrying, delayed] = await Promise.all([
    app.admin.counters(),
    app.admin.queues(),
    app.admin.failures.lists(),
    workerRows(app),
    series(app, HOUR, MINUTE),
    app.admin.retryCount(),
    // Damaged scheduler keys are the Delayed tab's to report: the Overview then says nothing of delayed jobs.
    app.admin.delayedBacklog().catch((error: unknown) => {
      if (error instanceof WrongTypeError) return undefined;
      throw error;
    }),
  ]);
  return {
    processed: counters.processed,
    failedStat: counters.failed,
    queues,
    failureLists,
    retrying,
    workers,
    series: buckets,
    bucketMs: MINUTE,
    delayed,
    shards: app.admin.shardCount,
  };
}

export async function overview(app: App, request: Request): Promise<Reply> {
  const data = await overviewData(app);
  return {
    kind: 'page',
    title: 'Overview',
    tab: 'overview',
    live: true,
    body: overviewPage(request.view, data),
  };
}

export async function working(app: App, request: Request): Promise<Reply> {
  const rows = await workerRows(app);
  return {
    kind: 'page',
    title: 'Working',
    tab: 'working',
    live: true,
    body: workingPage(request.view, rows),
  };
}

export async function workingOne(app: App, request: Request): Promise<Reply> {
  const id = request.params['id']!;
  const worker = await app.admin.worker(id, shardParam(app, request.query));
  if (!worker) throw new NotFoundError(`No worker ${JSON.stringify(id)}`);
  return {
    kind: 'page',
    title: `Working: ${id}`,
    tab: 'working',
    live: true,
    body: jobDetail(request.view, worker),
  };
}

/** resque-web's /stats.txt, for monitoring scripts. */
export async function statsText(app: App): Promise<Reply> {
  const [info, queues] = await Promise.all([app.admin.info(), app.admin.queues()]);
  const lines = [
    `resque.pending=${info.pending}`,
    `resque.processed+=${info.processed}`,
    `resque.failed+=${info.failed}`,
    `resque.workers=${info.workers}`,
    `resque.working=${info.working}`,
    ...queues.map((q) => `queues.${q.name}=${q.size}`),
  ];
  return { kind: 'text', contentType: 'text/plain; charset=utf-8', body: `${lines.join('\n')}\n` };
}
