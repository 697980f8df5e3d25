// A worker killed with -9 after a job's attempt failed and before its next attempt was filed loses nothing: the job
// is still in its slot (retry_held.lua, which frees the slot and files the retry in one step, never ran), a live
// worker's reaper gives it back without using up an attempt, and it goes on to succeed exactly once. The job
// (test/fixtures/child-jobs/retries.mjs, StallsAfterFailure) stalls in its first on_failure hook, which runs after
// the failure and before the worker files the retry, and the test kills its worker there. Uses dist/.
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import { keysUnder, rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { spawnWorker, type WorkerProcess } from '../harness/processes.js';
import { childrenOf, kill, readyChildren, startSupervised } from '../harness/supervised.js';

const RETRIES = fileURLToPath(new URL('../fixtures/child-jobs/retries.mjs', import.meta.url));

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(() => redis.disconnect());

const inProcess: WorkerProcess[] = [];
afterEach(() => {
  for (const worker of inProcess.splice(0)) worker.signal('SIGKILL');
});

function startInProcess(namespace: string): WorkerProcess {
  const worker = spawnWorker(
    {
      REDIS_URL: sharedRedisUrl(),
      RESQUE_NAMESPACE: namespace,
      RESQUE_ISOLATION: 'none',
      QUEUES: 'q',
      INTERVAL: '0.2',
    },
    ['--require', RETRIES],
  );
  inProcess.push(worker);
  return worker;
}

const log = (namespace: string) => redis.lrange(`${namespace}:test:log`, 0, -1);

async function killedBetweenFailureAndRetry(start: (namespace: string) => Promise<WorkerProcess>) {
  const namespace = uniqueNamespace('retry-crash');
  const keys = new Keys(namespace);
  const resque = new Resque({ redis: sharedRedisUrl(), namespace });
  try {
    const first = await start(namespace);
    await resque.enqueueTo('q', 'StallsAfterFailure', 1);
    await waitFor(
      async () => (await log(namespace)).some((entry) => entry.includes(' stalled ')),
      60_000,
      'the first attempt to fail and its hook to stall',
    );
    // The attempt has failed; its retry is not filed: the job is in its slot, and nowhere else.
    const held = (await keysUnder(redis, namespace)).filter((key) => key.includes(':ts:inflight:'));
    expect(held).toHaveLength(1);
    expect(await redis.get(held[0]!)).toContain('"class":"StallsAfterFailure"');
    expect(await redis.zcard(keys.retrySet)).toBe(0);
    expect(await redis.llen(keys.queue('q'))).toBe(0);
    expect(await redis.llen(keys.failed)).toBe(0);

    const kids = childrenOf(first.pid);
    first.signal('SIGKILL');
    for (const pid of kids) kill(pid);
    await first.exited;

    await start(namespace);
    await waitFor(
      async () => (await redis.hlen(`${namespace}:test:ledger:1`)) > 0,
      90_000,
      'the job to succeed after its worker was killed',
    );
    // Acknowledged: nothing left in a slot, a queue or the retry set, and never listed as failed.
    await waitFor(async () => (await redis.get(keys.processed)) === '3', 20_000, 'three acknowledgements');
    const runs = (await log(namespace)).filter((entry) => entry.includes(' attempt '));
    // Given back after the kill, the first attempt runs again (a return, which uses up no attempt); then two more.
    expect(runs.map((entry) => entry.replace(/ pid \d+$/, ''))).toEqual([
      'StallsAfterFailure 1 attempt 1 returns 0',
      'StallsAfterFailure 1 attempt 1 returns 1',
      'StallsAfterFailure 1 attempt 2 returns 1',
      'StallsAfterFailure 1 attempt 3 returns 1',
    ]);
    expect(await redis.hlen(`${namespace}:test:ledger:1`)).toBe(1);
    expect(await redis.get(keys.failedCount)).toBe('2');
    expect(await redis.llen(keys.failed)).toBe(0);
    expect(await redis.zcard(keys.retrySet)).toBe(0);
    expect(await redis.llen(keys.queue('q'))).toBe(0);
    const left = (await keysUnder(redis, namespace)).filter((key) => key.includes(':ts:inflight:'));
    expect(left).toEqual([]);
  } finally {
    await resque.close();
  }
}

describe('a worker killed with -9 between a failed attempt and filing its retry', () => {
  it('in its own process (isolation none): the job is given back, retried and succeeds once', async () => {
    await killedBetweenFailureAndRetry(async (namespace) => startInProcess(namespace));
  }, 180_000);

  it('supervised (the hook stalls in the child): the job is given back, retried and succeeds once', async () => {
    await killedBetweenFailureAndRetry(async (namespace) => {
      const worker = startSupervised(namespace);
      await readyChildren(worker);
      return worker;
    });
  }, 240_000);
});
