// During a deploy two releases share one Redis: each one's reaper must give back the other's in-flight jobs, and a
// job one release reserved must be finished by no one else. The scripts of release 0.1.0 are kept verbatim in
// test/fixtures/release-0.1.0 and run beside today's.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { isoOffset } from '../../src/protocol/time.js';
import { defineScript, runScript } from '../../src/redis/scripts.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { parseInflight } from '../../src/worker/fetch/inflight.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import { Reaper } from '../../src/worker/reaper.js';
import { rawRedis, uniqueNamespace } from '../harness/context.js';

const OLD_RESERVE = defineScript(new URL('../fixtures/release-0.1.0/reserve.lua', import.meta.url));
const OLD_RETURN = defineScript(new URL('../fixtures/release-0.1.0/return_job.lua', import.meta.url));
const JOB = '{"class":"Archive","args":[1],"id":"j1","enqueued_at":1700000000.5}';
const logger = createLogger('silent');

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

function setup() {
  const keys = new Keys(uniqueNamespace('deploy'));
  const config = resolveConfig(
    { namespace: keys.namespace, heartbeatIntervalMs: 1000, deadWorkerAfterMs: 5000 },
    {},
  );
  return { keys, config };
}

/** Release 0.1.0's reservation of one slot: its reserve.lua with its own argument layout. */
async function oldReserve(keys: Keys, slot: string, token: string): Promise<void> {
  await runScript(
    redis,
    OLD_RESERVE,
    [keys.pauseAll],
    [keys.prefix, '2026-01-01T00:00:00Z', 0, 1, slot, token, 1, 'q', '"q"'],
  );
}

/** Marks `dead` as silent for an hour and `alive` (the reaper) as beating now. */
async function beats(keys: Keys, dead: string, alive: string): Promise<void> {
  const [seconds] = await redis.time();
  const now = new Date(Number(seconds) * 1000);
  await redis.sadd(keys.workers, dead, alive);
  await redis.hset(
    keys.heartbeats,
    dead,
    isoOffset(new Date(now.getTime() - 3_600_000)),
    alive,
    isoOffset(now),
  );
}

describe('in-flight jobs across releases', () => {
  it('today’s reaper gives back a job reserved by release 0.1.0', async () => {
    const { keys, config } = setup();
    await redis.rpush(keys.queue('q'), JOB);
    await oldReserve(keys, 'h:1:q', 'a'.repeat(16));
    expect(parseInflight(await redis.get(keys.inflight('h:1:q')))).toEqual({
      token: 'a'.repeat(16),
      queue: 'q',
      raw: JOB,
    });
    await beats(keys, 'h:1:q', 'h:2:q');
    const report = await new Reaper(
      { redis, keys, config, logger },
      { workerId: 'h:2:q', host: 'h' },
    ).rubyPass();
    expect(report).toMatchObject({ ran: true, reaped: ['h:1:q'], givenBack: 1 });
    expect(await redis.lrange(keys.queue('q'), 0, -1)).toEqual([JOB.replace(/}$/, ',"returns":1}')]);
    expect(await redis.exists(keys.inflight('h:1:q'), keys.worker('h:1:q'))).toBe(0);
  });

  it('release 0.1.0’s reaper script gives back a job reserved today, and the late ack of today’s worker is refused', async () => {
    const { keys, config } = setup();
    await redis.rpush(keys.queue('q'), JOB);
    const fetcher = new Fetcher(redis, keys, new QueuePatterns(['q']), config, logger, () => {});
    const [reservation] = (await fetcher.reserve(['h:1:q'])).reservations;
    const value = await redis.get(keys.inflight('h:1:q'));
    // What release 0.1.0's reaper did: read the value, take its first 16 characters as the token, run return_job.lua.
    const token = value!.slice(0, 16);
    const done = await runScript<number>(
      redis,
      OLD_RETURN,
      [keys.inflight('h:1:q'), keys.worker('h:1:q')],
      [keys.prefix, token, 'return', JOB, '', '', `${keys.prefix}ts:wake`],
    );
    expect(done).toBe(1);
    expect(await redis.lrange(keys.queue('q'), 0, -1)).toEqual([JOB]);
    await reservation!.ack({ kind: 'performed' });
    await fetcher.reserve([]);
    expect(await redis.get(keys.processed)).toBeNull();
    expect(await redis.lrange(keys.queue('q'), 0, -1)).toEqual([JOB]);
  });

  it('a job reserved by release 0.1.0 is finished by its own release’s acknowledgement, not given back by today’s', async () => {
    const { keys, config } = setup();
    await redis.rpush(keys.queue('q'), JOB);
    await oldReserve(keys, 'h:1:q', 'b'.repeat(16));
    // Release 0.1.0 acknowledges (reserve.lua with one ack and no slot to fill); then today's reaper finds nothing.
    await runScript(
      redis,
      OLD_RESERVE,
      [keys.pauseAll],
      [keys.prefix, '2026-01-01T00:00:00Z', 1, 'h:1:q', 'b'.repeat(16), '0', 0, 0],
    );
    await beats(keys, 'h:1:q', 'h:2:q');
    const report = await new Reaper(
      { redis, keys, config, logger },
      { workerId: 'h:2:q', host: 'h' },
    ).rubyPass();
    expect(report.givenBack).toBe(0);
    expect(await redis.llen(keys.queue('q'))).toBe(0);
    expect(await redis.get(keys.processed)).toBe('1');
  });
});
