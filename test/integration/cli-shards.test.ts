// The admin commands on a sharded namespace (`--shards 3`, or RESQUE_SHARDS), on one redis-server: what each shard's
// namespace holds (put there directly) is listed with its shard, and actions reach the shard that holds their target.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { Keys } from '../../src/protocol/keys.js';
import { ShardLayout } from '../../src/protocol/shard-layout.js';
import { envWithoutRedis, runCli } from '../harness/cli.js';
import { resqueInProcess } from '../harness/cli-in-process.js';
import { onCluster, rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { registerWorker } from '../web/client.js';
import { newFailure, writeFailures } from './failure-helpers.js';

const base = uniqueNamespace('cli-shards').replace(/[{}]/g, '');
const layout = new ShardLayout(base, 3);
const redis = rawRedis();
const queueOn = (shard: number): string => {
  for (let n = 0; ; n++) if (layout.shardOf(`job${n}`) === shard) return `job${n}`;
};
const queues = [0, 1, 2].map(queueOn);
const cli = (args: string[]) =>
  resqueInProcess([...args, '--redis', sharedRedisUrl(), '--namespace', base, '--shards', '3']);
const json = async <T>(args: string[]): Promise<T> => {
  const result = await cli([...args, '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
};

beforeAll(async () => {
  for (const [shard, namespace] of layout.namespaces.entries()) {
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    await resque.enqueueBulk(
      'Mailer',
      Array.from({ length: shard + 2 }, (_, i) => [i]),
      { queue: queues[shard]! },
    );
    await resque.enqueueAtTo(queues[shard]!, new Date(1_900_000_000_000 + shard * 1000), 'Later', shard);
    await resque.close();
    await writeFailures(redis, namespace, [
      newFailure({
        queue: queues[shard]!,
        args: [shard],
        failedAt: new Date(Date.UTC(2026, 10, 27, 10, shard)),
      }),
    ]);
    await registerWorker(redis, namespace, `host:${shard}:${queues[shard]}`);
  }
});
afterAll(() => redis.disconnect());

describe.skipIf(onCluster)('admin commands with --shards 3', () => {
  it('resque queues and workers list every shard’s, with the shard', async () => {
    const listed = await json<Array<{ name: string; size: number; shard: number }>>(['queues']);
    expect(listed.map((q) => [q.name, q.shard, q.size]).sort()).toEqual(
      queues.map((q, shard) => [q, shard, shard + 2]).sort(),
    );
    const table = (await cli(['queues'])).stdout;
    expect(table.split('\n')[0]).toMatch(/^SHARD\s+QUEUE/);
    const workers = await json<Array<{ id: string; shard: number }>>(['workers']);
    expect(workers.map((w) => [w.id, w.shard]).sort()).toEqual(
      queues.map((q, shard) => [`host:${shard}:${q}`, shard]).sort(),
    );
    const info = await json<{ pending: number; queues: number; workers: number }>(['info']);
    expect(info).toMatchObject({ pending: 9, queues: 3, workers: 3 });
  });

  it('resque failed list merges the shards; retry by id acts on the failure’s shard', async () => {
    const page = await json<{
      total: number;
      failures: Array<{ id: string; shard: number; args: number[] }>;
    }>(['failed', 'list']);
    expect(page.total).toBe(3);
    expect(page.failures.map((f) => [f.shard, f.args])).toEqual([
      [2, [2]],
      [1, [1]],
      [0, [0]],
    ]);
    const onShard1 = page.failures[1]!;
    expect(onShard1.id).toMatch(/^1@failed:0:/);
    const keys1 = new Keys(layout.namespaces[1]!);
    const before = await redis.llen(keys1.queue(queues[1]!));
    const retried = await json<{ queue: string }>(['failed', 'retry', onShard1.id, '--remove']);
    expect(retried.queue).toBe(queues[1]);
    expect(await redis.llen(keys1.queue(queues[1]!))).toBe(before + 1);
    expect(await redis.llen(keys1.failed)).toBe(0);
    expect(await redis.llen(new Keys(layout.namespaces[2]!).failed)).toBe(1);
    const one = await json<{ failures: Array<{ shard: number }> }>(['failed', 'list', '--shard', '2']);
    expect(one.failures.map((f) => f.shard)).toEqual([2]);
    const outOfRange = await cli(['failed', 'list', '--shard', '3']);
    expect(outOfRange.code).toBe(2);
    const bad = await cli(['failed', 'show', 'failed:0:0123456789']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('<shard>@');
  });

  it('resque queue, size, enqueue and dequeue act on the queue’s shard', async () => {
    const keys2 = new Keys(layout.namespaces[2]!);
    const paused = await json<{ queue: string; shard: number }>(['queue', 'pause', queues[2]!]);
    expect(paused).toMatchObject({ queue: queues[2], shard: 2, paused: true });
    expect(await redis.hexists(keys2.pausedQueues, queues[2]!)).toBe(1);
    await json(['queue', 'resume', queues[2]!]);
    const enqueued = await cli(['enqueue', 'Extra', '1', '--queue', queues[2]!]);
    expect(enqueued.code, enqueued.stderr).toBe(0);
    expect(await redis.llen(keys2.queue(queues[2]!))).toBe(5);
    const dequeued = await cli(['dequeue', 'Extra', '1', '--queue', queues[2]!]);
    expect(dequeued.code, dequeued.stderr).toBe(0);
    expect(await redis.llen(keys2.queue(queues[2]!))).toBe(4);
    const cleared = await json<{ removed: number; shard: number }>(['queue', 'clear', queues[0]!]);
    expect(cleared).toMatchObject({ removed: 2, shard: 0 });
    expect(await redis.llen(keys2.queue(queues[2]!))).toBe(4);
  });

  it('resque delayed merges the shards’ schedules', async () => {
    const listed = await json<{ timestamps: Array<{ timestamp: number; jobs: number }>; total: number }>([
      'delayed',
      'list',
    ]);
    expect(listed.timestamps.map((t) => t.jobs)).toEqual([1, 1, 1]);
    expect(listed.total).toBe(3);
    const counted = await json<{ jobs: number }>(['delayed', 'count']);
    expect(counted.jobs).toBe(3);
  });

  it('RESQUE_SHARDS works like --shards, and a bad --shards is a usage error', async () => {
    const spawned = await runCli(['queues', '--json', '--redis', sharedRedisUrl(), '--namespace', base], {
      env: envWithoutRedis({ RESQUE_SHARDS: '3' }),
    });
    expect(spawned.code, spawned.stderr).toBe(0);
    expect((JSON.parse(spawned.stdout) as Array<{ shard: number }>).map((q) => q.shard).sort()).toEqual([
      0, 1, 2,
    ]);
    const bad = await resqueInProcess([
      'queues',
      '--redis',
      sharedRedisUrl(),
      '--namespace',
      base,
      '--shards',
      'x',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--shards');
  });
});
