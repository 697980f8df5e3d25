// A dead worker's tracked job: the reaper's give-back makes its record `queued` again with `returns`, and the failure
// past `maxReturns` makes it `failed` (docs/status.md). The reaper runs on a clock the test controls.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { beat } from '../../src/fleet/liveness.js';
import { Registration } from '../../src/fleet/registration.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { formatSlotIds } from '../../src/protocol/worker-id.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import { Reaper } from '../../src/worker/reaper.js';
import { rawRedis, uniqueNamespace } from '../harness/context.js';

const logger = createLogger('silent');
const T0 = 1_900_000_000_000;
let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

/** A dead worker `other:1:q` holding `item`, and the reaper of a live one, past the liveness timeout. */
async function reapHeld(item: string) {
  const keys = new Keys(uniqueNamespace('reaper-status'));
  const config = resolveConfig({ namespace: keys.namespace, reaperIntervalMs: 600_000, maxReturns: 2 }, {});
  let now = T0;
  const clock = () => now;
  const ids = formatSlotIds('other:1:q', 1);
  await new Registration(
    redis,
    keys,
    { workerId: 'other:1:q', host: 'other', pid: 1, slots: ids, identity: undefined },
    clock,
  ).register();
  await redis.rpush(keys.queue('q'), item);
  const fetcher = new Fetcher(
    redis,
    keys,
    new QueuePatterns(['q']),
    { failureBackend: 'redis', release: 't' },
    logger,
    () => {},
  );
  await fetcher.reserve([ids[0]!]);
  await redis.hset(keys.jobStatus('job-1'), 'state', 'running', 'worker', ids[0]!, 'started_at', String(T0));
  now += config.livenessTimeoutMs + 1;
  await beat(redis, keys, ['me:2:q'], clock);
  const reaper = new Reaper({ redis, keys, config, logger, clock }, { workerId: 'me:2:q', host: 'me' });
  return { keys, report: await reaper.pass() };
}

describe("the reaper and a dead worker's tracked job", () => {
  it('gives it back: queued again, with the return counted and its slot cleared', async () => {
    const { keys, report } = await reapHeld(
      '{"class":"A","args":[1],"id":"job-1","enqueued_at":1,"status":60000}',
    );
    expect(report.givenBack).toBe(1);
    const record = await redis.hgetall(keys.jobStatus('job-1'));
    expect(record).toMatchObject({ state: 'queued', returns: '1' });
    expect(record).not.toHaveProperty('worker');
    expect(record).not.toHaveProperty('started_at');
    expect(await redis.pttl(keys.jobStatus('job-1'))).toBeGreaterThan(59_000);
  });

  it('fails it once it has been given back maxReturns times', async () => {
    const { keys, report } = await reapHeld(
      '{"class":"A","args":[1],"id":"job-1","enqueued_at":1,"status":60000,"returns":2}',
    );
    expect(report.failed).toBe(1);
    const record = await redis.hgetall(keys.jobStatus('job-1'));
    expect(record['state']).toBe('failed');
    expect(JSON.parse(record['error']!)).toMatchObject({ class: 'Resque::DirtyExit' });
  });
});
