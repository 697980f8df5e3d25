import type { App, Reply, Request } from '../context.js';
import { NotFoundError } from '../errors.js';
import { keyPage, keysPage, redisStatsPage, resqueStatsPage, WINDOWS } from '../views/stats.js';
import { cursorParam, series } from './load.js';

export async function resqueStatsData(app: App, request: Request) {
  const window = WINDOWS.find(([name]) => name === request.query.get('window')) ?? WINDOWS[0]!;
  const [info, counters, queues, buckets] = await Promise.all([
    app.admin.info(),
    app.admin.counters(),
    app.admin.queues(),
    series(app, window[1], window[2]),
  ]);
  return { info, counters, queues, series: buckets, window: window[0], bucketMs: window[2] };
}

export async function resqueStats(app: App, request: Request): Promise<Reply> {
  const data = await resqueStatsData(app, request);
  return {
    kind: 'page',
    title: 'Stats',
    tab: 'stats',
    live: true,
    body: resqueStatsPage(request.view, data),
  };
}

/** INFO by section, and the settings under which Redis can lose jobs (api/redis-safety.ts). */
export async function redisStatsData(app: App) {
  const [sections, safety] = await Promise.all([app.admin.redisInfo(), app.admin.redisSafety()]);
  return { sections, warnings: safety.risks };
}

export async function redisStats(app: App, request: Request): Promise<Reply> {
  const { sections, warnings } = await redisStatsData(app);
  return {
    kind: 'page',
    title: 'Redis',
    tab: 'stats',
    body: redisStatsPage(request.view, sections, warnings),
  };
}

export async function keys(app: App, request: Request): Promise<Reply> {
  const cursor = cursorParam(request.query, 'cursor', app.admin.shardCount);
  const page = await app.admin.scanKeys(cursor);
  return { kind: 'page', title: 'Keys', tab: 'stats', body: keysPage(request.view, page, cursor) };
}

export async function keyData(app: App, request: Request) {
  const name = request.params['key']!;
  const start = cursorParam(request.query, 'start');
  const contents = await app.admin.readKey(name, start);
  if (!contents) throw new NotFoundError(`No key ${JSON.stringify(name)} in the namespace`);
  return contents;
}

export async function key(app: App, request: Request): Promise<Reply> {
  const contents = await keyData(app, request);
  return { kind: 'page', title: `Key ${contents.name}`, tab: 'stats', body: keyPage(request.view, contents) };
}
