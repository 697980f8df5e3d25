import type { App, Reply, Request } from '../context.js';
import { NotFoundError } from '../errors.js';
import { groupsData } from './errors.js';
import { failedData } from './failed.js';
import { cursorParam, failureScope, jobMatch, keysParam, workerRows } from './load.js';
import { overviewData } from './overview.js';
import { queueData } from './queues.js';
import { backlogJson } from './scheduling.js';
import { keyData, redisStatsData, resqueStatsData } from './stats.js';

/** The JSON API behind the pages (docs/dashboard.md): the same reads, as data. */
const json = (body: unknown): Reply => ({ kind: 'json', body });

export const API_INDEX = {
  'GET /api/overview': 'counters, queues, failure lists, workers with health, throughput of the last hour',
  'GET /api/queues': 'queues with size and latency; paused, limit, fair (tenants, jobs on tenant lists)',
  'GET /api/queues/:name?start&limit&class&args':
    'a page of a queue (or of the jobs matching class/args); a fair queue has its busiest tenants',
  'GET /api/queues/:name/count?class&args': 'how many jobs match',
  'POST /api/queues/:name/remove': 'remove the queue',
  'POST /api/queues/:name/remove-matching {class,args,expected?}': 'remove matching jobs',
  'POST /api/queues/:name/pause': 'pause the queue for resque-ts workers',
  'POST /api/queues/:name/resume': 'resume the queue',
  'POST /api/queues/:name/limit {limit}': 'at most that many of its jobs at once',
  'POST /api/queues/:name/unlimit': "remove the queue's limit",
  'GET /api/limits?keys': 'concurrency limits: running, limit, parked, busiest keys; paused queues',
  'GET /api/workers': 'workers with health',
  'GET /api/workers/:id': 'one worker',
  'GET /api/failed?start&limit&order&queue&class&args&error&group&retried&list&shard': 'a page of failures',
  'GET /api/failed/count?…filter': 'how many failures match',
  'GET /api/failed/:id': 'one failure',
  'POST /api/failed/:id/retry {remove?}': 'retry one failure',
  'POST /api/failed/:id/remove': 'remove one failure',
  'POST /api/failed/bulk/retry {…filter, expected?}': 'retry matching failures',
  'POST /api/failed/bulk/clear {…filter, expected?}': 'remove matching failures',
  'GET /api/jobs/:id':
    "one job by its id: its status (its record when tracked, else what Redis shows; 404 when nothing), payload, attempts' errors, failure record",
  'GET /api/retries?start&limit': 'jobs waiting to be retried, earliest due first, each with its ref',
  'POST /api/retries/retry-now {ref}': 'move a waiting job to its queue now',
  'POST /api/retries/remove {ref}': 'drop a waiting job (not retried, not listed as failed)',
  'POST /api/jobs/:id/cancel':
    'cancel a job by id: queued, delayed, retrying or running (says what it found)',
  'GET /api/errors?order=recent|count': 'error groups with trends',
  'GET /api/stats?window=1h|6h|24h': 'Resque info, counters, queue latency, time series',
  'GET /api/redis': 'Redis INFO by section',
  'GET /api/keys?cursor': 'a page of keys (SCAN)',
  'GET /api/keys/:key?start': 'a slice of a key',
  'GET /api/delayed?start&limit':
    'delayed timestamps, earliest first, with their job counts; the overdue backlog',
  'GET /api/delayed/search?class&args':
    'delayed jobs matching class/args (a walk bounded by 2 s and 200 matches)',
  'GET /api/delayed/count': 'how many timestamps (and jobs) "clear" would remove',
  'POST /api/delayed/clear {expected?}': 'remove every delayed job',
  'GET /api/delayed/:ts?start&limit': 'the jobs of one timestamp',
  'POST /api/delayed/:ts/queue-now {all?}': 'move its first job (all: every job) to its queue now',
  'POST /api/delayed/:ts/remove {item}': 'remove a delayed job by its exact bytes',
  'GET /api/schedule': 'stored schedules with next run, last enqueued, and the master',
  'POST /api/schedule/:name/run': 'enqueue one run of a schedule now',
  'POST /api/schedule/:name/enable': 'enable a schedule',
  'POST /api/schedule/:name/disable': 'disable a schedule',
  'GET /api/csrf': 'the CSRF token for POSTs (header X-CSRF-Token) in this session',
};

export const api = {
  index: async (): Promise<Reply> => json({ endpoints: API_INDEX }),
  csrf: async (_app: App, request: Request): Promise<Reply> => json({ token: request.view.csrf }),
  overview: async (app: App): Promise<Reply> => {
    const data = await overviewData(app);
    return json({
      ...data,
      workers: data.workers.map((w) => ({ ...w.worker, ...w.condition })),
      delayed: data.delayed ? backlogJson(data.delayed) : null,
    });
  },
  queues: async (app: App): Promise<Reply> => json({ queues: await app.admin.queues() }),
  limits: async (app: App, request: Request): Promise<Reply> =>
    json(await app.admin.flowControl({ keysShown: keysParam(request.query) })),
  queue: async (app: App, request: Request): Promise<Reply> => json(await queueData(app, request)),
  queueCount: async (app: App, request: Request): Promise<Reply> =>
    json(await app.admin.countQueueMatches(request.params['name']!, jobMatch(request.query))),
  workers: async (app: App): Promise<Reply> =>
    json({ workers: (await workerRows(app)).map((w) => ({ ...w.worker, ...w.condition })) }),
  worker: async (app: App, request: Request): Promise<Reply> => {
    const row = (await workerRows(app)).find((r) => r.worker.id === request.params['id']);
    if (!row) throw new NotFoundError(`No worker ${JSON.stringify(request.params['id'])}`);
    return json({ ...row.worker, ...row.condition, process: await app.admin.workerProcess(row.worker.id) });
  },
  failed: async (app: App, request: Request): Promise<Reply> => {
    const data = await failedData(app, request);
    return json({
      ...data.page,
      filter: data.filter,
      lists: data.lists,
      ...(data.shards ? { shards: data.shards } : {}),
    });
  },
  failedCount: async (app: App, request: Request): Promise<Reply> => {
    const filter = failureScope(app, request.query);
    return json({ filter, count: await app.admin.failures.count(filter) });
  },
  failure: async (app: App, request: Request): Promise<Reply> =>
    json(await app.admin.failures.get(request.params['id']!)),
  errors: async (app: App, request: Request): Promise<Reply> => {
    const data = await groupsData(app, request);
    return json({
      order: data.order,
      trendBucketMs: data.trendBucketMs,
      groups: data.groups.map((g) => ({ ...g, trend: data.trends.get(g.id) ?? [] })),
    });
  },
  stats: async (app: App, request: Request): Promise<Reply> => json(await resqueStatsData(app, request)),
  redis: async (app: App): Promise<Reply> => json(await redisStatsData(app)),
  keys: async (app: App, request: Request): Promise<Reply> => {
    const cursor = cursorParam(request.query, 'cursor', app.admin.shardCount);
    return json(await app.admin.scanKeys(cursor));
  },
  key: async (app: App, request: Request): Promise<Reply> => json(await keyData(app, request)),
};
