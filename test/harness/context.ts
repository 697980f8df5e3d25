import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { isClusterUrl, OneSlotCluster, parseClusterUrl } from '../../src/redis/cluster.js';

/** RESQUE_TEST_CLUSTER=1: the shared Redis is a Redis Cluster and every test namespace lives in one slot. */
export const onCluster = process.env['RESQUE_TEST_CLUSTER'] === '1';

/** The hash tag every test namespace carries on a cluster, so all of them live in one slot. */
const CLUSTER_ROOT = '{resque-test}';

/** URL of the run's shared redis-server (never 6379). */
export function sharedRedisUrl(): string {
  return inject('redisUrl');
}

/**
 * A namespace no other test uses. RESQUE_TEST_NAMESPACE sets its root so the suite can rerun under a
 * non-default prefix (e.g. `alt:ns`) and catch hard-coded key names; on a cluster the root is `{resque-test}`.
 */
export function uniqueNamespace(label = 't'): string {
  const root = process.env['RESQUE_TEST_NAMESPACE'] ?? (onCluster ? CLUSTER_ROOT : 'resque-test');
  return `${root}:${label}-${randomBytes(4).toString('hex')}`;
}

/**
 * A raw connection for checking what is in Redis, independent of the code under test. Tests that stop or restart
 * their Redis see the failures in the commands they send; the connection's own reconnect errors are not printed. On a
 * cluster it is a client for the test namespaces' slot: commands without a key (SCAN, KEYS, INFO) reach that slot's
 * primary.
 */
export function rawRedis(url = sharedRedisUrl()): Redis {
  const redis = isClusterUrl(url)
    ? (new OneSlotCluster(
        parseClusterUrl(url).nodes,
        { redisOptions: { maxRetriesPerRequest: 1 } },
        CLUSTER_ROOT,
      ) as unknown as Redis)
    : new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  return redis;
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Every key under a namespace (SCAN), for asserting that nothing was written. */
export async function keysUnder(redis: Redis, namespace: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  return found.sort();
}
