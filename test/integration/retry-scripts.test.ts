import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { defineJob } from '../../src/jobs/define.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { decodePayload } from '../../src/protocol/payload.js';
import { moveRetries, promoteRetryBatch } from '../../src/scheduler/retry-promotion.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { retryHeld } from '../../src/worker/fetch/held.js';
import { Reservation } from '../../src/worker/fetch/reservation.js';
import type { Outcome } from '../../src/worker/outcome.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import { afterFailedAttempt } from '../../src/worker/retrying.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { removeDir, startRedis } from '../harness/redis-server.js';

// retry_held.lua (a failed attempt leaves its slot and is filed for its next attempt in one step) and
// promote_retries.lua (due retries back to their queues), driven with an injected clock.
let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

const config = { failureBackend: 'redis' as const, release: 'test' };
const NOW = 1_800_000_000_000;
const failure = { exception: 'TypeError', error: 'bad input 1', backtrace: ['/app/job.js:3'] };

function retrying(delayMs: number): Outcome {
  return { kind: 'retrying', failure, delayMs, attempt: 1, attempts: 3 };
}

async function reserveOne(client: Redis, keys: Keys, raw: string, now = NOW) {
  const queues = new QueuePatterns(['q']);
  const fetcher = new Fetcher(
    client,
    keys,
    queues,
    config,
    createLogger('silent'),
    () => {},
    async () => now,
  );
  await client.rpush(keys.queue('q'), raw);
  const { reservations } = await fetcher.reserve(['s1']);
  return { fetcher, reservation: reservations[0]! };
}

describe('retry_held.lua', () => {
  it('frees the slot, counts the attempt and files the next one scored by its due time, all together', async () => {
    const keys = new Keys(uniqueNamespace('retry-held'));
    const raw = '{"class":"A","args":[1],"id":"abc","enqueued_at":1764000000.5}';
    const { fetcher, reservation } = await reserveOne(redis, keys, raw);
    await reservation.ack(retrying(1500));

    expect(await redis.exists(keys.inflight('s1'), keys.worker('s1'))).toBe(0);
    expect(await redis.mget(keys.processed, keys.failedCount)).toEqual(['1', '1']);
    expect(await redis.llen(keys.failed)).toBe(0);
    expect(await redis.llen(keys.queue('q'))).toBe(0);
    const [member, score] = await redis.zrange(keys.retrySet, 0, -1, 'WITHSCORES');
    expect(Number(score)).toBe(NOW + 1500);
    expect(member!.startsWith(reservation.header)).toBe(true);
    const next = decodePayload(member!.slice(reservation.header.length));
    expect(next).toMatchObject({
      class: 'A',
      args: [1],
      id: 'abc',
      enqueued_at: (NOW + 1500) / 1000,
      attempt: 2,
      attempts: 3,
      errors: [{ attempt: 1, exception: 'TypeError', error: 'bad input 1', backtrace: ['/app/job.js:3'] }],
    });
    // Counted in its error group and in the slot's own counters, though not listed as a failure.
    const groups = await redis.hvals(keys.failureGroupDetails);
    expect(groups.map((g) => JSON.parse(g).count)).toEqual([1]);
    await fetcher.slotCounters.write(redis, keys);
    expect(await redis.mget(keys.processedBy('s1'), keys.failedBy('s1'))).toEqual(['1', '1']);
  });

  it('does nothing at all when the slot no longer holds that reservation', async () => {
    const keys = new Keys(uniqueNamespace('retry-held-stale'));
    const { fetcher, reservation } = await reserveOne(redis, keys, '{"class":"A","args":[]}');
    const stale = new Reservation({ ...reservation.data(), token: 'ffffffffffffffff' }, fetcher);
    const before = await redis.get(keys.inflight('s1'));
    expect(await retryHeld({ redis, keys, config }, stale, failure, 10, NOW)).toBe('gone');
    expect(await redis.get(keys.inflight('s1'))).toBe(before);
    expect(await redis.exists(keys.retrySet, keys.processed, keys.failedCount, keys.failureGroups)).toBe(0);
  });

  it('a job resque.cancel reached after its attempt failed is not filed: it ends as cancelled, never to run again', async () => {
    const keys = new Keys(uniqueNamespace('retry-held-cancel'));
    const raw = '{"class":"A","args":[1],"id":"late-cancel","status":60000}';
    const { reservation } = await reserveOne(redis, keys, raw);
    // The attempt has failed and the worker wrote its record (`retrying`); before it files the retry, a cancel
    // finds the job still in its slot, too late for its AbortSignal.
    await redis.hset(keys.jobStatus('late-cancel'), 'state', 'retrying');
    await redis.sadd(keys.workers, 's1');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace });
    try {
      expect(await resque.cancel('late-cancel')).toMatchObject({ was: 'running', workerId: 's1' });
    } finally {
      await resque.close();
    }
    expect(await retryHeld({ redis, keys, config }, reservation, failure, 10, NOW)).toBe('cancelled');
    expect(await redis.exists(keys.inflight('s1'))).toBe(1);

    await reservation.ack(retrying(60_000));
    expect(await redis.exists(keys.inflight('s1'), keys.worker('s1'))).toBe(0);
    expect(await redis.zcard(keys.retrySet)).toBe(0);
    expect(await redis.llen(keys.queue('q'))).toBe(0);
    expect(await redis.llen(keys.failed)).toBe(0);
    expect(await redis.mget(keys.processed, keys.failedCount, keys.cancelledCount)).toEqual([
      null,
      null,
      '1',
    ]);
    expect(await redis.zcard(keys.cancelledQueued)).toBe(0);
    expect(await redis.zcard(keys.cancelRunning)).toBe(0);
    expect(await redis.hget(keys.jobStatus('late-cancel'), 'state')).toBe('cancelled');
  });

  it('a retry due at once goes to the tail of its queue and wakes a worker; a later one announces its due time', async () => {
    const keys = new Keys(uniqueNamespace('retry-held-now'));
    const subscriber = rawRedis();
    const heard: Array<[string, string]> = [];
    subscriber.on('message', (channel: string, message: string) => heard.push([channel, message]));
    await subscriber.subscribe(keys.delayedWakeChannel);
    try {
      const first = await reserveOne(redis, keys, '{"class":"A","args":["now"]}');
      await redis.rpush(keys.queue('q'), '{"class":"B","args":[]}');
      await first.reservation.ack(retrying(0));
      expect(await redis.zcard(keys.retrySet)).toBe(0);
      const queued = await redis.lrange(keys.queue('q'), 0, -1);
      expect(queued[0]).toBe('{"class":"B","args":[]}');
      expect(decodePayload(queued[1]!)).toMatchObject({ args: ['now'], attempt: 2 });
      expect(await redis.smembers(keys.queues)).toEqual(['q']);
      expect(await redis.lrange(keys.queueWake('q'), 0, -1)).toEqual(['q']);
      expect(await redis.zscore(keys.nonEmptyQueues, 'q')).toBe('0');

      await redis.del(keys.queue('q'));
      const second = await reserveOne(redis, keys, '{"class":"A","args":["later"]}');
      await second.reservation.ack(retrying(250));
      await waitFor(() => heard.length >= 1, 5000, 'the due time announced');
      expect(heard).toEqual([[keys.delayedWakeChannel, String(NOW + 250)]]);
    } finally {
      subscriber.disconnect();
    }
  });
});

describe('a retry schedule, attempt by attempt', () => {
  it('files each attempt its backoff after the failure, promotes it then and not a millisecond before, and fails the last one with its whole history', async () => {
    const keys = new Keys(uniqueNamespace('retry-schedule'));
    const Job = defineJob({
      className: 'Scheduled',
      queue: 'q',
      attempts: 4,
      backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 3000 },
      perform: () => {},
    });
    let now = NOW;
    const fetcher = new Fetcher(
      redis,
      keys,
      new QueuePatterns(['q']),
      config,
      createLogger('silent'),
      () => {},
      async () => now,
    );
    await redis.rpush(keys.queue('q'), '{"class":"Scheduled","args":[7],"id":"sched-1"}');
    const expectedDelays = [1000, 2000, 3000];
    for (let attempt = 1; attempt <= 4; attempt++) {
      const { reservations } = await fetcher.reserve(['s1']);
      const reservation = reservations[0]!;
      expect(reservation.payload?.attempt ?? 1).toBe(attempt);
      const failure = {
        exception: 'TypeError',
        error: `failure ${attempt}`,
        backtrace: [`/app/job.js:${attempt}`],
      };
      const outcome = afterFailedAttempt(
        'failed',
        failure,
        new TypeError(failure.error),
        Job,
        reservation.payload,
      );
      if (attempt === 4) {
        expect(outcome).toEqual({ kind: 'failed', failure });
        await reservation.ack(outcome);
        await fetcher.reserve([]);
        break;
      }
      const delayMs = expectedDelays[attempt - 1]!;
      expect(outcome).toEqual({ kind: 'retrying', failure, delayMs, attempt, attempts: 4 });
      await reservation.ack(outcome);
      const [, score] = await redis.zrange(keys.retrySet, 0, -1, 'WITHSCORES');
      expect(Number(score)).toBe(now + delayMs);
      expect(await promoteRetryBatch({ redis, keys }, now + delayMs - 1, 10)).toEqual({ moved: 0, seen: 0 });
      now += delayMs;
      expect(await promoteRetryBatch({ redis, keys }, now, 10)).toEqual({ moved: 1, seen: 1 });
      // The next worker takes it a little after it fell due.
      now += 25;
    }
    expect(await redis.zcard(keys.retrySet)).toBe(0);
    expect(await redis.exists(keys.inflight('s1'))).toBe(0);
    expect(await redis.mget(keys.processed, keys.failedCount)).toEqual(['4', '4']);
    const records = await redis.lrange(keys.failed, 0, -1);
    expect(records).toHaveLength(1);
    const record = JSON.parse(records[0]!);
    expect(record).toMatchObject({
      exception: 'TypeError',
      error: 'failure 4',
      backtrace: ['/app/job.js:4'],
    });
    expect(record.payload).toMatchObject({
      class: 'Scheduled',
      args: [7],
      id: 'sched-1',
      attempt: 4,
      attempts: 4,
    });
    // Each earlier attempt, with the time it failed on the injected clock.
    const failedAt = (ms: number) =>
      new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC')
        .replaceAll('-', '/');
    expect(record.payload.errors).toEqual([
      {
        attempt: 1,
        failed_at: failedAt(NOW),
        exception: 'TypeError',
        error: 'failure 1',
        backtrace: ['/app/job.js:1'],
      },
      {
        attempt: 2,
        failed_at: failedAt(NOW + 1025),
        exception: 'TypeError',
        error: 'failure 2',
        backtrace: ['/app/job.js:2'],
      },
      {
        attempt: 3,
        failed_at: failedAt(NOW + 3050),
        exception: 'TypeError',
        error: 'failure 3',
        backtrace: ['/app/job.js:3'],
      },
    ]);
  });
});

describe('promote_retries.lua', () => {
  async function filed(keys: Keys, count: number, delayMs: (i: number) => number) {
    for (let i = 0; i < count; i++) {
      const { reservation } = await reserveOne(redis, keys, `{"class":"A","args":[${i}]}`);
      await redis.del(keys.queue('q'));
      await reservation.ack(retrying(delayMs(i)));
    }
  }

  it('moves what is due by now, earliest first, to the tail of its queue, and nothing twice', async () => {
    const keys = new Keys(uniqueNamespace('retry-promote'));
    await filed(keys, 3, (i) => 1000 * (3 - i));
    await redis.rpush(keys.queue('q'), '{"class":"Other","args":[]}');

    expect(await promoteRetryBatch({ redis, keys }, NOW + 999, 10)).toEqual({ moved: 0, seen: 0 });
    await redis.del(keys.queueWake('q'), keys.nonEmptyQueues);
    expect(await promoteRetryBatch({ redis, keys }, NOW + 2000, 10)).toEqual({ moved: 2, seen: 2 });
    const queued = (await redis.lrange(keys.queue('q'), 0, -1)).map((raw) => decodePayload(raw).args);
    expect(queued).toEqual([[], [2], [1]]);
    expect(await redis.lrange(keys.queueWake('q'), 0, -1)).toEqual(['q']);
    expect(await redis.zscore(keys.nonEmptyQueues, 'q')).toBe('0');
    expect(await promoteRetryBatch({ redis, keys }, NOW + 2000, 10)).toEqual({ moved: 0, seen: 0 });
    expect(await redis.zcard(keys.retrySet)).toBe(1);
  });

  it('two promoters given the same batch move each job once', async () => {
    const keys = new Keys(uniqueNamespace('retry-promote-race'));
    await filed(keys, 20, () => 10);
    const members = await redis.zrange(keys.retrySet, 0, -1);
    const other = rawRedis();
    try {
      const moved = await Promise.all([
        moveRetries({ redis, keys }, members, NOW + 10),
        moveRetries({ redis: other, keys }, members, NOW + 10),
      ]);
      expect(moved[0] + moved[1]).toBe(20);
    } finally {
      other.disconnect();
    }
    expect(await redis.llen(keys.queue('q'))).toBe(20);
    expect(await redis.zcard(keys.retrySet)).toBe(0);
  });

  it('"retry now" is a move at the member\'s own due time; a removed member is not moved', async () => {
    const keys = new Keys(uniqueNamespace('retry-now'));
    await filed(keys, 2, () => 3_600_000);
    const [first, due, second] = await redis.zrange(keys.retrySet, 0, -1, 'WITHSCORES');
    await redis.zrem(keys.retrySet, second!);
    expect(await moveRetries({ redis, keys }, [first!, second!], Number(due))).toBe(1);
    expect(await redis.llen(keys.queue('q'))).toBe(1);
  });
});

describe('a retry waiting in the set', () => {
  it('survives a Redis crash with AOF and is promoted after the restart', async () => {
    const server = await startRedis({ appendOnly: true });
    const client = rawRedis(server.url);
    try {
      const keys = new Keys(uniqueNamespace('retry-aof'));
      const { reservation } = await reserveOne(client, keys, '{"class":"A","args":["kept"]}');
      await client.del(keys.queue('q'));
      await reservation.ack(retrying(60_000));
      await server.kill();
      await server.restart();
      const after = rawRedis(server.url);
      try {
        expect(await after.zcard(keys.retrySet)).toBe(1);
        expect(await after.exists(keys.inflight('s1'))).toBe(0);
        expect(await promoteRetryBatch({ redis: after, keys }, NOW + 60_000, 10)).toEqual({
          moved: 1,
          seen: 1,
        });
        const [item] = await after.lrange(keys.queue('q'), 0, -1);
        expect(decodePayload(item!)).toMatchObject({ args: ['kept'], attempt: 2 });
      } finally {
        after.disconnect();
      }
    } finally {
      client.disconnect();
      await server.stop();
      removeDir(server.dir);
    }
  });
});
