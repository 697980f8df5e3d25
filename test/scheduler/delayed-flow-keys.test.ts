// Delayed and recurring jobs carry the flow-control keys their class works out (docs/flow-control.md): the item
// stays resque-scheduler's `{"class","args","queue"}`, the keys live in the record and reach the promoted payload, and
// a tenant job promoted onto a fair queue lands on its tenant's list, waking a worker.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineJob, Keys, Resque } from '../../src/index.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import { createLogger } from '../../src/logging/logger.js';
import { Promoter } from '../../src/scheduler/promoter.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { rubyDelayedPush } from './delayed-helpers.js';

const Export = defineJob({
  className: 'Export',
  queue: 'exports',
  concurrency: { limit: 2, key: (account: string) => `customer:${account}` },
  rate: { limit: 10, windowMs: 1000, key: (account: string) => `api:${account}` },
  tenant: (account: string) => account,
  perform: async (_ctx, _account: string) => {},
});
const Picky = defineJob({
  className: 'Picky',
  queue: 'exports',
  tenant: (account: string) => {
    if (account === 'bad') throw new Error('no tenant for bad');
    return account;
  },
  perform: async (_ctx, _account: string) => {},
});

const T = 1_900_000_000_000; // a whole second, in ms
const MINUTE = Date.UTC(2030, 0, 1, 12, 0, 0);
const logger = createLogger('silent');

describe('flow-control keys of delayed and recurring jobs', () => {
  const redis = rawRedis();
  let namespace: string;
  let keys: Keys;
  let resque: Resque;

  const promoter = (jobs?: JobRegistry) =>
    new Promoter({ redis: resque.redis, keys, strictPayloads: false, logger, batchSize: 50, jobs });
  const tenantJobs = async (queue: string, tenant: string) =>
    (await redis.lrange(keys.fairTenant(queue, tenant), 0, -1)).map((raw) => JSON.parse(raw));

  beforeEach(() => {
    namespace = uniqueNamespace('dflow');
    keys = new Keys(namespace);
    resque = new Resque({ redis: sharedRedisUrl(), namespace });
  });
  afterEach(async () => {
    await resque.close();
  });
  afterAll(() => redis.disconnect());

  it("files the keys beside resque-scheduler's item and lands a promoted job on its tenant's list", async () => {
    await resque.fairQueue('exports');
    // Due inside a second (moved one by one) and on a whole second (moved from the head of its list).
    const early = await resque.enqueueAt(T + 1500, Export, 'acme');
    const late = await resque.enqueueAt(T + 3000, Export, 'acme');
    await resque.enqueueAt(T + 3000, Export, 'globex');
    expect(await redis.lrange(keys.delayedAt(T / 1000 + 2), 0, -1)).toEqual([
      '{"class":"Export","args":["acme"],"queue":"exports"}',
    ]);

    await redis.del(keys.queueWake('exports'));
    expect((await promoter().promoteDue(T + 1500)).moved).toBe(1);
    const keyed = { concurrency_key: 'customer:acme', rate_key: 'api:acme', tenant: 'acme' };
    expect(await tenantJobs('exports', 'acme')).toEqual([
      { class: 'Export', args: ['acme'], id: early!.id, enqueued_at: (T + 1500) / 1000, ...keyed },
    ]);
    expect(await redis.llen(keys.queue('exports'))).toBe(0);
    expect(await redis.lrange(keys.fairRotation('exports'), 0, -1)).toEqual(['acme']);
    expect(await redis.zscore(keys.nonEmptyQueues, 'exports')).toBe('0');
    expect(await redis.lrange(keys.queueWake('exports'), 0, -1)).toEqual(['exports']);

    expect((await promoter().promoteDue(T + 3000)).moved).toBe(2);
    expect((await tenantJobs('exports', 'acme')).map((j) => j.id)).toEqual([early!.id, late!.id]);
    expect(await tenantJobs('exports', 'globex')).toEqual([
      expect.objectContaining({
        concurrency_key: 'customer:globex',
        rate_key: 'api:globex',
        tenant: 'globex',
      }),
    ]);
    expect(await redis.lrange(keys.fairRotation('exports'), 0, -1)).toEqual(['acme', 'globex']);
    expect(await redis.llen(keys.queue('exports'))).toBe(0);
  });

  it('puts the keys in the payload on a queue that is not fair, and none in strict mode', async () => {
    await resque.enqueueAt(T + 2000, Export, 'acme');
    expect((await promoter().promoteDue(T + 2000)).moved).toBe(1);
    const [raw] = await redis.lrange(keys.queue('exports'), 0, -1);
    expect(raw).toMatch(/"concurrency_key":"customer:acme","rate_key":"api:acme","tenant":"acme"}$/);

    // Strict payloads: no member is written, but a fair queue still sends the job to its tenant's list.
    const strict = new Resque({ redis: sharedRedisUrl(), namespace, strictPayloads: true });
    await strict.fairQueue('exports');
    await strict.enqueueAt(T + 4000, Export, 'acme');
    expect((await promoter().promoteDue(T + 4000)).moved).toBe(1);
    expect(await redis.lrange(keys.fairTenant('exports', 'acme'), 0, -1)).toEqual([
      '{"class":"Export","args":["acme"]}',
    ]);
    await strict.close();
  });

  it('works the keys out for an item Ruby filed when the promoting process knows its class', async () => {
    await resque.fairQueue('exports');
    const second = T / 1000;
    await rubyDelayedPush(redis, namespace, second, '{"class":"Export","args":["acme"],"queue":"exports"}');
    await rubyDelayedPush(redis, namespace, second, '{"class":"Picky","args":["bad"],"queue":"exports"}');
    await rubyDelayedPush(redis, namespace, second, '{"class":"Unknown","args":["x"],"queue":"exports"}');
    expect((await promoter(new JobRegistry([Export, Picky])).promoteDue(T)).moved).toBe(3);
    expect(await tenantJobs('exports', 'acme')).toEqual([
      expect.objectContaining({ concurrency_key: 'customer:acme', rate_key: 'api:acme', tenant: 'acme' }),
    ]);
    // A class this process does not know goes to the queue's list without keys (its class and queue limits bind it).
    expect((await redis.lrange(keys.queue('exports'), 0, -1)).map((raw) => JSON.parse(raw))).toEqual([
      { class: 'Unknown', args: ['x'], id: expect.any(String), enqueued_at: T / 1000 },
    ]);
    // A key function that throws sets the item aside with its error: never dropped.
    expect((await redis.lrange(keys.delayedUnpromotable, 0, -1)).map((raw) => JSON.parse(raw))).toEqual([
      expect.objectContaining({ reason: expect.stringContaining('no tenant for bad') }),
    ]);
  });

  it('rejects a delayed enqueue whose key function throws before anything is written', async () => {
    await expect(resque.enqueueAt(T + 1000, Picky, 'bad')).rejects.toThrow(/no tenant for bad/);
    expect(await redis.exists(keys.delayedSchedule, keys.delayedDue, keys.delayedRecords)).toBe(0);
  });

  it("fires a recurring job with its keys onto its tenant's list when the scheduler knows the class", async () => {
    await resque.fairQueue('exports');
    const scheduler = new Scheduler({
      redis,
      keys,
      logger,
      pollIntervalMs: 1000,
      jobs: new JobRegistry([Export, Picky]),
      schedules: [
        ['acme', { cron: '* * * * *', class: 'Export', queue: 'exports', args: ['acme'] }],
        ['bad', { cron: '* * * * *', class: 'Picky', queue: 'exports', args: ['bad'] }],
      ],
    });
    await scheduler.pass(MINUTE - 1000);
    const fired = await scheduler.pass(MINUTE);
    expect(fired.fired.map((f) => f.name)).toEqual(['acme']);
    expect(await tenantJobs('exports', 'acme')).toEqual([
      expect.objectContaining({ concurrency_key: 'customer:acme', rate_key: 'api:acme', tenant: 'acme' }),
    ]);
    expect(await redis.lrange(keys.fairRotation('exports'), 0, -1)).toEqual(['acme']);
    expect(await redis.llen(keys.queue('exports'))).toBe(0);
    await scheduler.stop();
  });
});
