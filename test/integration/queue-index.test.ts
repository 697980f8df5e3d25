// The non-empty-queue index (`ts:queues:non-empty`): a worker on a glob reserves from it in Resque's order, it stays
// exact under concurrent pushes, pops, removals and removeQueue, and it survives a Redis restart.
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJob, JobRegistry, Resque } from '../../src/index.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { globRule } from '../../src/worker/glob-rule.js';
import { bytewise, fnmatch, QueuePatterns } from '../../src/worker/queue-patterns.js';
import { Worker } from '../../src/worker/worker.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { startRedis } from '../harness/redis-server.js';

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

const config = { failureBackend: 'redis' as const, release: 'test' };
const logger = createLogger('silent');

/** Names chosen so that byte order (Ruby's) and UTF-16 order (JavaScript's `sort`) disagree, plus a dot name. */
const NAMES = ['b', 'a', 'Z', 'ä', '😀', '\uFFFD', 'mail_x', 'mail_y', 'low', '.hidden', 'high_1'];

/** Takes one job at a time through reserve.lua and returns the queues in the order they were taken. */
async function takenOrder(keys: Keys, list: string[]): Promise<string[]> {
  const fetcher = new Fetcher(redis, keys, new QueuePatterns(list), config, logger, () => {});
  const order: string[] = [];
  for (;;) {
    const { reservations } = await fetcher.reserve(['slot']);
    const [reservation] = reservations;
    if (!reservation) return order;
    order.push(reservation.queue);
    await reservation.ack({ kind: 'performed' });
  }
}

async function fill(keys: Keys, names: readonly string[]): Promise<void> {
  const resque = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace });
  for (const name of names) await resque.enqueueTo(name, 'Job', name);
  await resque.close();
}

describe('queue order through the index', () => {
  const lists = [
    ['*'],
    ['mail_*', '*', '!low'],
    ['critical', 'high*', '*'],
    ['!low', '*', '!high*'],
    ['?', 'a*'],
    ['[a-m]*', 'low'],
    ['mail_y', '*'],
    ['b', 'a', 'missing', 'Z', 'low', 'mail_x'],
    ['ä', 'mail_y', '!low', 'low', 'b'],
  ];
  for (const list of lists) {
    it(`takes from ${JSON.stringify(list)} in Resque's order: list order, byte order within a glob`, async () => {
      const keys = new Keys(uniqueNamespace('order'));
      await fill(keys, NAMES);
      // Only queues that hold jobs are taken from: a named queue that does not exist is passed over.
      const expected = new QueuePatterns(list).expand(NAMES).filter((queue) => NAMES.includes(queue));
      expect(await takenOrder(keys, list)).toEqual(expected);
    });
  }

  it('sorts by bytes, as Ruby does, where JavaScript’s sort would not', async () => {
    const keys = new Keys(uniqueNamespace('order-bytes'));
    await fill(keys, NAMES);
    expect(await takenOrder(keys, ['*'])).toEqual([
      'Z',
      'a',
      'b',
      'high_1',
      'low',
      'mail_x',
      'mail_y',
      'ä',
      '\uFFFD',
      '😀',
    ]);
    expect([...NAMES].sort()).not.toEqual([...NAMES].sort(bytewise));
  });

  it('Lua’s glob rules agree with fnmatch', async () => {
    const announce = readFileSync(new URL('../../src/redis/lua/wake.lua', import.meta.url), 'utf8');
    const script = `${announce}\nreturn matchesRule(ARGV[1], ARGV[2]) and 1 or 0`;
    const patterns = [
      '*',
      '?',
      'a*',
      '*b',
      'a?c',
      '[abc]*',
      '[!a]*',
      '[^a-c]?',
      'a\\*b',
      'mail_*',
      '.*',
      '*.*',
      'ä?',
    ];
    const names = [
      'a',
      'abc',
      'ab',
      'b',
      'a*b',
      'axb',
      '.hidden',
      'mail_x',
      'x.y',
      'ä',
      'äx',
      'äää',
      'd',
      '',
    ];
    for (const pattern of patterns)
      for (const name of names) {
        const lua = Number(await redis.eval(script, 0, name, globRule(pattern)));
        expect({ pattern, name, matches: lua === 1 }).toEqual({
          pattern,
          name,
          matches: fnmatch(pattern, name),
        });
      }
  });
});

const Work = defineJob({ className: 'IndexWork', queue: 'q0', perform: async (_ctx, _n: number) => {} });

describe('the index stays exact', () => {
  it('under concurrent pushes, pops, removals and removeQueue', async () => {
    const namespace = uniqueNamespace('index-exact');
    const keys = new Keys(namespace);
    const queues = Array.from({ length: 12 }, (_, i) => `q${i}`);
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const worker = new Worker({
      redis: sharedRedisUrl(),
      namespace,
      queues: ['q1*', '*'],
      jobs: new JobRegistry([Work]),
      isolation: 'none',
      concurrency: 4,
      setProcessTitle: false,
      logLevel: 'silent',
      intervalMs: 60_000,
    });
    await worker.start();
    const pushes = (async () => {
      for (let i = 0; i < 600; i++) await resque.enqueueTo(queues[i % queues.length]!, Work, i);
    })();
    const removals = (async () => {
      for (let i = 0; i < 30; i++) {
        await resque.dequeueFrom(queues[(i * 5) % queues.length]!, Work);
        if (i % 10 === 9) await resque.removeQueue(queues[i % queues.length]!);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await Promise.all([pushes, removals]);
    await worker.stop('graceful');
    await resque.close();
    const nonEmpty: string[] = [];
    for (const queue of queues) if ((await redis.llen(keys.queue(queue))) > 0) nonEmpty.push(queue);
    expect((await redis.zrange(keys.nonEmptyQueues, 0, -1)).sort()).toEqual(nonEmpty.sort());
  });

  it('survives a Redis restart, and a worker on a glob drains what it lists', async () => {
    const server = await startRedis({ appendOnly: true });
    const namespace = uniqueNamespace('index-restart');
    const keys = new Keys(namespace);
    try {
      const resque = new Resque({ redis: server.url, namespace });
      for (const queue of ['x', 'y', 'z']) await resque.enqueueTo(queue, Work, 1);
      await resque.close();
      await server.stop();
      await server.restart();
      const direct = rawRedis(server.url);
      expect(await direct.zrange(keys.nonEmptyQueues, 0, -1)).toEqual(['x', 'y', 'z']);
      let done = 0;
      const worker = new Worker({
        redis: server.url,
        namespace,
        queues: ['*'],
        jobs: new JobRegistry([
          defineJob({ className: 'IndexWork', queue: 'x', perform: async () => void done++ }),
        ]),
        isolation: 'none',
        setProcessTitle: false,
        logLevel: 'silent',
        intervalMs: 60_000,
      });
      await worker.start();
      await waitFor(() => done === 3, 15_000, 'three jobs');
      await worker.stop('graceful');
      expect(await direct.exists(keys.nonEmptyQueues)).toBe(0);
      direct.disconnect();
    } finally {
      await server.stop();
    }
  });
});
