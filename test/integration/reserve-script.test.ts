import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/protocol/keys.js';
import { runScript } from '../../src/redis/scripts.js';
import { type Ack, Reserver } from '../../src/worker/reserver.js';
import { rawRedis, uniqueNamespace } from '../harness/context.js';

// reserve.lua on its own: token-checked acknowledgements, refills in the same call, resent calls, pause.
let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

function setup() {
  const keys = new Keys(uniqueNamespace('reserve'));
  return { keys, reserver: new Reserver(redis, keys) };
}

const ack = (slotId: string, token: string, failed = false): Ack => ({ slotId, token, failed });

describe('reserve.lua', () => {
  it('moves a job into the slot with its status, then an ack that refills the slot overwrites both', async () => {
    const { keys, reserver } = setup();
    await redis.rpush(keys.queue('q'), '{"class":"A","args":[1]}', '{"class":"A","args":[2]}');
    const first = await reserver.cycle([], ['s1'], ['q']);
    expect(first.jobs).toEqual([
      { slotId: 's1', token: expect.any(String), queue: 'q', raw: '{"class":"A","args":[1]}' },
    ]);
    const token = first.jobs[0]!.token;
    expect(await redis.get(keys.inflight('s1'))).toBe(`${token}\nq\n{"class":"A","args":[1]}`);

    const second = await reserver.cycle([ack('s1', token)], ['s1'], ['q']);
    expect(second.jobs.map((job) => job.raw)).toEqual(['{"class":"A","args":[2]}']);
    const next = second.jobs[0]!.token;
    expect(next).not.toBe(token);
    expect(await redis.get(keys.inflight('s1'))).toBe(`${next}\nq\n{"class":"A","args":[2]}`);
    expect(JSON.parse((await redis.get(keys.worker('s1')))!)).toMatchObject({
      queue: 'q',
      payload: { class: 'A', args: [2] },
    });
    expect(await redis.get(keys.processed)).toBe('1');
    expect(await redis.get(keys.processedBy('s1'))).toBe('1');
  });

  it('an ack with a stale token changes nothing; the held job is handed back instead of a new one', async () => {
    const { keys, reserver } = setup();
    await redis.rpush(keys.queue('q'), '{"class":"A","args":[1]}', '{"class":"A","args":[2]}');
    const { jobs } = await reserver.cycle([], ['s1'], ['q']);
    const reply = await reserver.cycle([ack('s1', 'f'.repeat(16))], ['s1'], ['q']);
    expect(reply.jobs).toEqual(jobs);
    expect(await redis.get(keys.processed)).toBeNull();
    expect(await redis.llen(keys.queue('q'))).toBe(1);
  });

  it('a resent call (same acks, same fresh tokens) neither counts twice nor takes a second job', async () => {
    const { keys } = setup();
    await redis.rpush(
      keys.queue('q'),
      '{"class":"A","args":[1]}',
      '{"class":"A","args":[2]}',
      '{"class":"A","args":[3]}',
    );
    const call = (acks: string[], slots: string[]) =>
      runScript<Array<number | string>>(
        redis,
        'reserve',
        [keys.pauseAll],
        [
          keys.prefix,
          '2025-01-01T00:00:00Z',
          acks.length / 2,
          ...acks.flatMap((value, i) => (i % 2 === 1 ? [value, '0'] : [value])),
          slots.length / 2,
          ...slots,
          1,
          'q',
          '"q"',
        ],
      );
    const t1 = 'a'.repeat(16);
    const t2 = 'b'.repeat(16);
    await call([], ['s1', t1]);
    const once = await call(['s1', t1], ['s1', t2]);
    const again = await call(['s1', t1], ['s1', t2]);
    expect(again).toEqual(once);
    expect(await redis.get(keys.processed)).toBe('1');
    expect(await redis.llen(keys.queue('q'))).toBe(1);
  });

  it('the same ack twice in one call counts once', async () => {
    const { keys, reserver } = setup();
    await redis.rpush(keys.queue('q'), '{"class":"A","args":[1]}');
    const { jobs } = await reserver.cycle([], ['s1'], ['q']);
    const token = jobs[0]!.token;
    await reserver.cycle([ack('s1', token), ack('s1', token)], [], ['q']);
    expect(await redis.get(keys.processed)).toBe('1');
    expect(await redis.get(keys.processedBy('s1'))).toBe('1');
  });

  it('an acked slot that finds no job, or a paused worker, leaves no in-flight key or status behind', async () => {
    const { keys, reserver } = setup();
    await redis.rpush(keys.queue('q'), '{"class":"A","args":[1]}', '{"class":"A","args":[2]}');
    const a = (await reserver.cycle([], ['s1', 's2'], ['q'])).jobs;
    expect(a).toHaveLength(2);
    const empty = await reserver.cycle([ack('s1', a[0]!.token, true)], ['s1'], ['q']);
    expect(empty.jobs).toEqual([]);
    await redis.set(keys.pauseAll, 'true');
    await redis.rpush(keys.queue('q'), '{"class":"A","args":[3]}');
    const paused = await reserver.cycle([ack('s2', a[1]!.token)], ['s2'], ['q']);
    expect(paused).toEqual({ paused: true, jobs: [] });
    for (const slot of ['s1', 's2']) {
      expect(await redis.exists(keys.inflight(slot), keys.worker(slot))).toBe(0);
    }
    expect(await redis.get(keys.processed)).toBe('2');
    expect(await redis.get(keys.failedCount)).toBe('1');
    expect(await redis.llen(keys.queue('q'))).toBe(1);
  });
});
