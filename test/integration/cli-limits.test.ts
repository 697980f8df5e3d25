// `resque limits`, `resque queue limit|unlimit` and the limit column of `resque queues`, run as the binary runs them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
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
const keys = new Keys(uniqueNamespace('cli-limits'));
const at = ['--redis', sharedRedisUrl(), '--namespace', keys.namespace];
const resque = (...args: string[]) => resqueInProcess([...args, ...at]);

const Export = defineJob({
  className: 'Export',
  queue: 'exports',
  concurrency: { limit: 1, key: (customer: number) => `customer:${customer}` },
  perform: (_ctx, _customer: number) => {},
});

beforeAll(async () => {
  const client = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace });
  await publishClassLimits({ redis, keys }, new JobRegistry([Export]));
  for (const customer of [7, 7, 8]) await client.enqueue(Export, customer);
  await client.enqueueTo('billing', 'Invoice', 1);
  await client.enqueueTo('billing', 'Invoice', 2);
  await client.close();
});
afterAll(() => redis.quit());

const reserve = (queue: string, slots: string[]) =>
  new Fetcher(
    redis,
    keys,
    new QueuePatterns([queue]),
    { failureBackend: 'redis', release: 'test' },
    createLogger('silent'),
    () => {},
  ).reserve(slots);

describe('resque queue limit / unlimit', () => {
  it('limits a queue, shown by resque queues and resque limits; unlimit removes it', async () => {
    const set = await resque('queue', 'limit', 'billing', '1');
    expect(set).toMatchObject({ code: 0, stderr: '' });
    expect(set.stdout).toBe('limited billing to 1 job at once\n');
    expect(await redis.hget(keys.limits, 'queue:billing')).toBe('1');
    await reserve('billing', ['b1', 'b2']);

    const queues = await resque('queues');
    expect(queues.stdout).toMatch(/billing \(limit 1, 1 parked\)/);
    const json = await resque('queues', '--json');
    expect(JSON.parse(json.stdout)).toContainEqual(
      expect.objectContaining({ name: 'billing', limit: 1, parked: 1 }),
    );
    expect(JSON.parse(json.stdout)).toContainEqual(
      expect.objectContaining({ name: 'exports', limit: null, parked: null }),
    );

    const limits = await resque('limits');
    expect(limits.code).toBe(0);
    expect(limits.stdout).toMatch(/queue:billing\s+1\/1\s+1\b/);

    const removed = await resque('queue', 'unlimit', 'billing', '--json');
    expect(JSON.parse(removed.stdout)).toEqual({ queue: 'billing', limit: null, changed: true });
    expect(await redis.hexists(keys.limits, 'queue:billing')).toBe(0);
    expect((await resque('queue', 'unlimit', 'billing')).stdout).toBe('billing had no limit\n');
  });

  it('reads a negative limit as an unknown option: one line, exit 2', async () => {
    const result = await resque('queue', 'limit', 'billing', '-3');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^resque queue: unknown option -3/);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it.each([['0'], ['2.5'], ['many'], ['1e3']])('refuses limit %j with one line and exit 2', async (bad) => {
    const result = await resque('queue', 'limit', 'billing', bad);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^resque queue: Invalid option "limit": Queue billing: must be a whole number/,
    );
    const json = await resque('queue', 'limit', 'billing', bad, '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr).error.code).toBe('CONFIG_INVALID');
    expect(await redis.hexists(keys.limits, 'queue:billing')).toBe(0);
  });

  it('refuses a missing limit and a bad queue name with exit 2', async () => {
    expect((await resque('queue', 'limit', 'billing')).code).toBe(2);
    const badName = await resque('queue', 'limit', 'a:b', '2');
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/Invalid queue name "a:b"/);
  });
});

describe('resque limits', () => {
  it('lists keyed limits with their busiest keys, and --json gives the whole read model', async () => {
    await reserve('exports', ['e1', 'e2', 'e3']);
    const text = await resque('limits');
    expect(text.stdout).toMatch(
      /key:Export \(per key\)\s+2 \(≤1 per key\)\s+1\s+customer:7 1\/1 \+1 parked, customer:8 1\/1/,
    );
    const json = JSON.parse((await resque('limits', '--json')).stdout);
    expect(json.limits).toContainEqual(
      expect.objectContaining({
        name: 'key:Export',
        running: 2,
        parked: 1,
        keys: [
          { key: 'customer:7', running: 1, parked: 1 },
          { key: 'customer:8', running: 1, parked: 0 },
        ],
      }),
    );
    expect(json.paused).toEqual([]);
  });

  it('says so when there are no limits', async () => {
    const empty = await resqueInProcess([
      'limits',
      '--redis',
      sharedRedisUrl(),
      '--namespace',
      uniqueNamespace('none'),
    ]);
    expect(empty).toMatchObject({ code: 0, stdout: 'no concurrency limits\nno rate limits\n' });
  });
});
