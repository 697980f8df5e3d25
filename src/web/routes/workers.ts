import type { App, Reply, Request } from '../context.js';
import { NotFoundError } from '../errors.js';
import { workerPage, workersPage } from '../views/workers.js';
import { shardParam, workerRows } from './load.js';

function hostsOf(rows: Awaited<ReturnType<typeof workerRows>>): Array<[string, number]> {
  const hosts = new Map<string, number>();
  for (const { worker } of rows) hosts.set(worker.host, (hosts.get(worker.host) ?? 0) + 1);
  return [...hosts].sort(([a], [b]) => a.localeCompare(b));
}

export async function workers(app: App, request: Request): Promise<Reply> {
  const rows = await workerRows(app);
  return {
    kind: 'page',
    title: 'Workers',
    tab: 'workers',
    live: true,
    body: workersPage(request.view, rows, hostsOf(rows), undefined),
  };
}

/** `/workers/<host>` lists a host's workers; `/workers/<id>` (ids hold ":") shows one worker, as in resque-web. */
export async function workerOrHost(app: App, request: Request): Promise<Reply> {
  const name = request.params['name']!;
  if (name === 'all') return workers(app, request);
  const rows = await workerRows(app);
  if (name.includes(':')) {
    const shard = shardParam(app, request.query);
    const row = rows.find((r) => r.worker.id === name && (shard === undefined || r.worker.shard === shard));
    if (!row) throw new NotFoundError(`No worker ${JSON.stringify(name)}`);
    const stats = await app.admin.workerProcess(name);
    return {
      kind: 'page',
      title: `Worker ${name}`,
      tab: 'workers',
      live: true,
      body: workerPage(request.view, row, stats),
    };
  }
  const hosts = hostsOf(rows);
  if (!hosts.some(([host]) => host === name))
    throw new NotFoundError(`No workers on host ${JSON.stringify(name)}`);
  return {
    kind: 'page',
    title: `Workers on ${name}`,
    tab: 'workers',
    live: true,
    body: workersPage(request.view, rows, hosts, name),
  };
}
