// OneSlotCluster.pipeline: a pipeline whose keyed commands all met MOVED (none of them ran) is sent again once the
// slot map is refreshed, however many such pipelines were on their way when the slot moved, and each keyed command
// runs once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OneSlotCluster } from '../../src/redis/cluster.js';
import { type RedisClusterHarness, startRedisCluster } from '../harness/cluster.js';

let cluster: RedisClusterHarness;
beforeAll(async () => {
  cluster = await startRedisCluster();
});
afterAll(async () => {
  await cluster?.stop();
});

it('resends every pipeline that met MOVED on its keyed commands, not only the first three', {
  timeout: 60_000,
}, async () => {
  const namespace = '{pipeline-resend}';
  const client = new OneSlotCluster(
    cluster.servers.map((s) => ({ host: '127.0.0.1', port: s.port })),
    { redisOptions: { maxRetriesPerRequest: null } },
    namespace,
  );
  client.on('error', () => {});
  try {
    await client.set(`${namespace}:counter`, '0');
    const from = await cluster.ownerOf(namespace);
    const to = cluster.servers.map((s) => s.port).find((port) => port !== from) as number;
    await cluster.moveSlotOf(namespace, to);

    // The client still sends the slot's commands to the old owner: the keyless WAIT (a durable enqueue's) succeeds
    // there, the INCR meets MOVED, so ioredis does not resend the pipeline itself.
    const pipelines = 8;
    const results = await Promise.all(
      Array.from({ length: pipelines }, () =>
        client.pipeline().incr(`${namespace}:counter`).call('WAIT', 0, 1).exec(),
      ),
    );
    const errors = results.flatMap((result) =>
      (result ?? []).flatMap(([error]) => (error ? [error.message] : [])),
    );
    expect(errors).toEqual([]);
    expect(await client.get(`${namespace}:counter`)).toBe(String(pipelines));
  } finally {
    client.disconnect();
  }
});
