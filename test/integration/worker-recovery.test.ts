import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { decodeFailureRecord } from '../../src/protocol/failure-record.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { spawnWorker, type WorkerProcess } from '../harness/processes.js';
import { type RedisServer, removeDir, startRedis } from '../harness/redis-server.js';

const FAST_REAPER = {
  RESQUE_HEARTBEAT_INTERVAL: '0.2',
  RESQUE_PRUNE_INTERVAL: '1',
  RESQUE_REAPER_INTERVAL: '0.3',
};
let redis: Redis;
const spawned: WorkerProcess[] = [];
beforeAll(() => {
  redis = rawRedis();
});
afterAll(() => redis.disconnect());
afterEach(() => {
  for (const w of spawned.splice(0)) w.child.kill('SIGKILL');
});

function start(url: string, namespace: string, env: Record<string, string> = {}): WorkerProcess {
  const worker = spawnWorker({
    REDIS_URL: url,
    RESQUE_NAMESPACE: namespace,
    QUEUES: 'q',
    INTERVAL: '0.2',
    // One process with CONCURRENCY slots; supervised children are tested in supervisor-*.test.ts.
    RESQUE_ISOLATION: 'none',
    ...env,
  });
  spawned.push(worker);
  return worker;
}

async function ledger(client: Redis, namespace: string, ids: number[]): Promise<number[]> {
  const pipeline = client.pipeline();
  for (const id of ids) pipeline.hlen(`${namespace}:test:ledger:${id}`);
  return ((await pipeline.exec()) ?? []).map(([, n]) => Number(n));
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('no job is lost', () => {
  it('kill -9 of a worker in the middle of jobs: another worker returns them after the heartbeat expires', async () => {
    const namespace = uniqueNamespace('kill9');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const victim = start(sharedRedisUrl(), namespace, { ...FAST_REAPER, CONCURRENCY: '3' });
    await waitFor(async () => (await redis.scard(`${namespace}:workers`)) === 3, 15_000, 'three slots');
    for (const n of range(3)) await resque.enqueueTo('q', 'Slow', n, 60_000);
    for (const n of range(5)) await resque.enqueueTo('q', 'Record', 100 + n);
    await waitFor(
      async () => (await redis.hlen(`${namespace}:test:started`)) === 3,
      15_000,
      'three slow jobs running',
    );
    victim.signal('SIGKILL');
    await victim.exited;
    expect(await redis.keys(`${namespace}:ts:inflight:*`)).toHaveLength(3);

    const rescuer = start(sharedRedisUrl(), namespace, { ...FAST_REAPER, CONCURRENCY: '4' });
    await resque.enqueueTo('q', 'Record', 999);
    // The rescuer runs the five quick jobs at once; the three slow ones come back at the head of the queue once
    // the victim's heartbeat is older than RESQUE_PRUNE_INTERVAL, and start again (Slow records only after 60 s).
    await waitFor(async () =>
      (await ledger(redis, namespace, [101, 102, 103, 104, 105, 999])).every((n) => n === 1),
    );
    const rescuerKeys = async () =>
      (await redis.keys(`${namespace}:ts:inflight:*`)).filter((key) => key.includes(`:${rescuer.pid}`));
    await waitFor(
      async () => (await rescuerKeys()).length === 3,
      20_000,
      'slow jobs re-reserved by the rescuer',
    );
    expect(await redis.keys(`${namespace}:ts:inflight:*`)).toHaveLength(3);
    const held = await Promise.all((await rescuerKeys()).map((key) => redis.get(key)));
    expect(held.every((value) => value?.includes('"class":"Slow"') && value.includes('"returns":1'))).toBe(
      true,
    );
    expect(await resque.size('q')).toBe(0);
    const workers = await redis.smembers(`${namespace}:workers`);
    expect(workers.every((id) => id.includes(`:${rescuer.pid}`))).toBe(true);
    expect(await redis.llen(`${namespace}:failed`)).toBe(0);
    await resque.close();
  });

  it('a job that kills its worker every time ends up failed after maxReturns returns', async () => {
    const namespace = uniqueNamespace('suicide');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    await resque.enqueueTo('q', 'Suicide', 1);
    await resque.enqueueTo('q', 'Record', 2);
    const env = { ...FAST_REAPER, RESQUE_MAX_RETURNS: '2' };
    let deaths = 0;
    // Each worker dies on the job; a fresh one reaps the previous and takes the job again, until it is quarantined.
    while ((await redis.llen(`${namespace}:failed`)) === 0 && deaths < 6) {
      const worker = start(sharedRedisUrl(), namespace, env);
      const outcome = await Promise.race([
        worker.exited,
        waitFor(async () => (await redis.llen(`${namespace}:failed`)) > 0, 20_000).then(() => 'failed'),
      ]);
      if (outcome !== 'failed') deaths++;
    }
    expect(deaths).toBe(3);
    const [record] = (await redis.lrange(`${namespace}:failed`, 0, -1)).map((r) => decodeFailureRecord(r)!);
    expect(record?.exception).toBe('Resque::DirtyExit');
    expect(record?.error).toMatch(/given back to its queue 2 times.*maxReturns is 2/);
    expect(record?.payload).toMatchObject({ class: 'Suicide', args: [1], returns: 2 });
    await waitFor(async () => (await ledger(redis, namespace, [2]))[0] === 1, 20_000, 'the next job to run');
    expect(await resque.size('q')).toBe(0);
    await resque.close();
  });

  it('Redis (AOF) stopped for a few seconds under load: no job lost, none performed twice', async () => {
    const server: RedisServer = await startRedis({ appendOnly: true });
    const local = rawRedis(server.url);
    local.on('error', () => {});
    try {
      const namespace = uniqueNamespace('outage');
      const resque = new Resque({ redis: server.url, namespace });
      const ids = range(400);
      const worker = start(server.url, namespace, { CONCURRENCY: '4' });
      await waitFor(async () => (await local.scard(`${namespace}:workers`)) === 4, 15_000, 'registration');
      await resque.enqueueBulk(
        'Record',
        ids.slice(0, 200).map((n) => [n]),
        { queue: 'q' },
      );
      await waitFor(
        async () => (await ledger(local, namespace, ids.slice(0, 20))).some((n) => n > 0),
        15_000,
        'work under way',
      );
      await server.stop();
      await new Promise((r) => setTimeout(r, 3000));
      await server.restart();
      await resque.enqueueBulk(
        'Record',
        ids.slice(200).map((n) => [n]),
        { queue: 'q' },
      );
      await waitFor(
        async () => (await ledger(local, namespace, ids)).every((n) => n >= 1),
        30_000,
        'every job performed',
      );
      const counts = await ledger(local, namespace, ids);
      expect(counts.filter((n) => n !== 1)).toEqual([]);
      expect(await local.llen(`${namespace}:failed`)).toBe(0);
      await waitFor(
        async () => (await local.get(`${namespace}:stat:processed`)) === '400',
        10_000,
        'processed=400',
      );
      worker.signal('SIGQUIT');
      expect((await worker.exited).code).toBe(0);
      expect(await local.keys(`${namespace}:ts:inflight:*`)).toEqual([]);
      await resque.close();
    } finally {
      local.disconnect();
      await server.stop();
      removeDir(server.dir);
    }
  });
});
