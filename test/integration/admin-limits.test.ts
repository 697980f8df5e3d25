// The flow-control read model (Admin.flowControl): each limit with its tokens held and parked jobs, the busiest keys
// of a keyed limit, paused queues; and a queue's limit on its summary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin } from '../../src/api/admin.js';
import { queueLimitFromText } from '../../src/api/limits.js';
import { Resque } from '../../src/client/resque.js';
import { ConfigError } from '../../src/errors/index.js';
import { defineJob } from '../../src/jobs/define.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import { publishClassLimits } from '../../src/limits/definitions.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import { resqueInProcess } from '../harness/cli-in-process.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';

const redis = rawRedis();
afterAll(() => redis.quit());

const config = { failureBackend: 'redis' as const, release: 'test', onTermTimeout: 'requeue' as const };
const Export = defineJob({
  className: 'Export',
  queue: 'exports',
  concurrency: { limit: 1, key: (customer: number) => `customer:${customer}` },
  perform: (_ctx, _customer: number) => {},
});
const Report = defineJob({
  className: 'Report',
  queue: 'reports',
  concurrency: { limit: 2 },
  perform: () => {},
});

let keys: Keys;
let resque: Resque;
let admin: Admin;

beforeAll(async () => {
  keys = new Keys(uniqueNamespace('admin-limits'));
  resque = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace });
  admin = new Admin({ redis: sharedRedisUrl(), namespace: keys.namespace });
  await publishClassLimits({ redis, keys }, new JobRegistry([Export, Report]));
  // Customer 1: one running, two parked; customer 2: one running; customer 3: one running, one parked.
  for (const customer of [1, 1, 1, 2, 3, 3]) await resque.enqueue(Export, customer);
  for (let i = 0; i < 3; i++) await resque.enqueue(Report);
  await resque.limitQueue('billing', 1);
  await resque.enqueueTo('billing', 'Invoice', 1);
  await resque.enqueueTo('billing', 'Invoice', 2);
  await resque.pauseQueue('paused-one');
  const fetcher = (queue: string) =>
    new Fetcher(redis, keys, new QueuePatterns([queue]), config, createLogger('silent'), () => {});
  await fetcher('exports').reserve(['e1', 'e2', 'e3', 'e4']);
  await fetcher('reports').reserve(['r1', 'r2', 'r3']);
  await fetcher('billing').reserve(['b1', 'b2']);
});
afterAll(async () => {
  await resque.close();
  await admin.close();
});

describe('Admin.flowControl', () => {
  it('lists each limit with its running and parked jobs, keyed limits with their busiest keys', async () => {
    const view = await admin.flowControl();
    expect(view.partial).toBe(false);
    expect(view.limits).toEqual([
      { name: 'class:Report', kind: 'class', target: 'Report', limit: 2, running: 2, parked: 1 },
      {
        name: 'key:Export',
        kind: 'key',
        target: 'Export',
        limit: 1,
        running: 3,
        parked: 3,
        activeKeys: 3,
        keys: [
          { key: 'customer:1', running: 1, parked: 2 },
          { key: 'customer:3', running: 1, parked: 1 },
          { key: 'customer:2', running: 1, parked: 0 },
        ],
      },
      { name: 'queue:billing', kind: 'queue', target: 'billing', limit: 1, running: 1, parked: 1 },
    ]);
    expect(view.paused.map((p) => p.queue)).toEqual(['paused-one']);
    expect(view.paused[0]!.pausedAt).toBeInstanceOf(Date);
  });

  it('shows only as many keys as asked, still counting them all', async () => {
    const keyed = (await admin.flowControl({ keysShown: 1 })).limits.find((l) => l.kind === 'key')!;
    expect(keyed.keys).toEqual([{ key: 'customer:1', running: 1, parked: 2 }]);
    expect(keyed.activeKeys).toBe(3);
    expect(keyed.parked).toBe(3);
  });

  it("puts a queue's limit and parked count on its summary", async () => {
    const queues = await admin.queues();
    expect(queues.find((q) => q.name === 'billing')).toMatchObject({ size: 0, limit: 1, parked: 1 });
    expect(queues.find((q) => q.name === 'reports')).not.toHaveProperty('limit');
  });

  it('sets and removes a queue limit; a bad limit is a ConfigError and changes nothing', async () => {
    await admin.limitQueue('spare', 4);
    expect(await redis.hget(keys.limits, 'queue:spare')).toBe('4');
    expect(await admin.unlimitQueue('spare')).toBe(true);
    expect(await admin.unlimitQueue('spare')).toBe(false);
    await expect(admin.limitQueue('spare', 0)).rejects.toThrow(ConfigError);
    expect(await redis.hexists(keys.limits, 'queue:spare')).toBe(0);
  });

  it('reads a limit typed as text as the API checks it', () => {
    expect(queueLimitFromText('q', ' 12 ')).toBe(12);
    for (const bad of ['0', '-1', '2.5', 'ten', '', '1e3'])
      expect(() => queueLimitFromText('q', bad)).toThrow(ConfigError);
  });
});

describe('Admin.flowControl: rate limits', () => {
  it('shows each rate limit with its starts in the window, its parked jobs and when they may run', async () => {
    const ns = new Keys(uniqueNamespace('admin-rates'));
    const client = new Resque({ redis: sharedRedisUrl(), namespace: ns.namespace });
    const reader = new Admin({ redis: sharedRedisUrl(), namespace: ns.namespace });
    try {
      await client.limitQueueRate('mail', 2, 60_000);
      for (let n = 0; n < 3; n++) await client.enqueueTo('mail', 'Send', n);
      const fetcher = new Fetcher(
        redis,
        ns,
        new QueuePatterns(['mail']),
        config,
        createLogger('silent'),
        () => {},
      );
      const { reservations } = await fetcher.reserve(['m1', 'm2', 'm3']);
      expect(reservations).toHaveLength(2);
      const view = await reader.flowControl();
      expect(view.rates).toEqual([
        {
          name: 'queue:mail',
          kind: 'queue',
          target: 'mail',
          limit: 2,
          windowMs: 60_000,
          starts: 2,
          parked: 1,
          nextRoomAt: expect.any(Date),
        },
      ]);
      const cli = await resqueInProcess(['limits', '--redis', sharedRedisUrl(), '--namespace', ns.namespace]);
      expect(cli.stdout).toMatch(/queue:mail\s+2\/2 per 1 min\s+1/);
    } finally {
      await client.close();
      await reader.close();
    }
  });
});
