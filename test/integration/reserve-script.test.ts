import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { formatSlotIds } from '../../src/protocol/worker-id.js';
import { runScript } from '../../src/redis/scripts.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { giveBackHeld } from '../../src/worker/fetch/held.js';
import { Reservation } from '../../src/worker/fetch/reservation.js';
import { reserveScript } from '../../src/worker/fetch/reserve-script.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import { rawRedis, uniqueNamespace, waitFor } from '../harness/context.js';

// reserve.lua through the fetcher: token-checked acknowledgements, refills in the same call, resent calls, pause,
// and every key the script touches declared in KEYS.
let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

const config = { failureBackend: 'redis' as const, release: 'test', onTermTimeout: 'requeue' as const };

function setup() {
  const keys = new Keys(uniqueNamespace('reserve'));
  return {
    keys,
    fetcher: new Fetcher(redis, keys, new QueuePatterns(['q']), config, createLogger('silent'), () => {}),
  };
}

/** A reservation of `slotId` with a token of the test's choosing (a stale one, say). */
function held(fetcher: Fetcher, slotId: string, token: string): Reservation {
  return new Reservation({ slotId, token, queue: 'q', raw: '' }, fetcher);
}

describe('reserve.lua', () => {
  it("a worker's slots, named by their reference: each job lands in that slot's own keys, also after SCRIPT FLUSH", async () => {
    const keys = new Keys(uniqueNamespace('reserve'));
    const slots = formatSlotIds('box.example:4242:q', 3);
    const fetcher = new Fetcher(
      redis,
      keys,
      new QueuePatterns(['q']),
      config,
      createLogger('silent'),
      () => {},
      undefined,
      slots,
    );
    const items = [1, 2, 3, 4, 5, 6].map((n) => `{"class":"A","args":[${n}]}`);
    await redis.rpush(keys.queue('q'), ...items);
    const first = await fetcher.reserve(slots);
    expect(first.reservations.map((r) => [r.slotId, r.raw])).toEqual(
      slots.map((slot, i) => [slot, items[i]]),
    );
    for (const [i, slot] of slots.entries()) {
      const token = first.reservations[i]!.token;
      expect(await redis.get(keys.inflight(slot))).toBe(`${token}\nq\n${items[i]}`);
      expect(await redis.get(keys.worker(slot))).toMatch(
        new RegExp(`^\\{"queue":"q","run_at":"[^"]+","payload":${items[i]!.replace(/[[\]{}]/g, '\\$&')}\\}$`),
      );
    }
    for (const r of first.reservations) await r.ack({ kind: 'performed' });
    await redis.script('FLUSH');
    const second = await fetcher.reserve(slots.slice(1));
    expect(second.reservations.map((r) => [r.slotId, r.raw])).toEqual([
      [slots[1], items[3]],
      [slots[2], items[4]],
    ]);
    expect(await redis.get(keys.processed)).toBe('3');
    expect(await redis.exists(keys.inflight(slots[0]!), keys.worker(slots[0]!))).toBe(0);
  });

  it('moves a job into the slot with its status, then an ack that refills the slot overwrites both', async () => {
    const { keys, fetcher } = setup();
    await redis.rpush(keys.queue('q'), '{"class":"A","args":[1]}', '{"class":"A","args":[2]}');
    const first = await fetcher.reserve(['s1']);
    expect(first.reservations.map((r) => r.data())).toEqual([
      { slotId: 's1', token: expect.any(String), queue: 'q', raw: '{"class":"A","args":[1]}' },
    ]);
    const token = first.reservations[0]!.token;
    expect(await redis.get(keys.inflight('s1'))).toBe(`${token}\nq\n{"class":"A","args":[1]}`);

    await first.reservations[0]!.ack({ kind: 'performed' });
    const second = await fetcher.reserve(['s1']);
    expect(second.reservations.map((r) => r.raw)).toEqual(['{"class":"A","args":[2]}']);
    const next = second.reservations[0]!.token;
    expect(next).not.toBe(token);
    expect(await redis.get(keys.inflight('s1'))).toBe(`${next}\nq\n{"class":"A","args":[2]}`);
    expect(JSON.parse((await redis.get(keys.worker('s1')))!)).toMatchObject({
      queue: 'q',
      payload: { class: 'A', args: [2] },
    });
    expect(await redis.get(keys.processed)).toBe('1');
    // Ruby's per-worker counters are added up here and written with the liveness beat.
    await fetcher.slotCounters.write(redis, keys);
    expect(await redis.get(keys.processedBy('s1'))).toBe('1');
  });

  it('an ack with a stale token changes nothing; the held job is handed back instead of a new one', async () => {
    const { keys, fetcher } = setup();
    await redis.rpush(keys.queue('q'), '{"class":"A","args":[1]}', '{"class":"A","args":[2]}');
    const { reservations } = await fetcher.reserve(['s1']);
    await held(fetcher, 's1', 'f'.repeat(16)).ack({ kind: 'performed' });
    const reply = await fetcher.reserve(['s1']);
    expect(reply.reservations.map((r) => r.data())).toEqual(reservations.map((r) => r.data()));
    expect(await redis.get(keys.processed)).toBeNull();
    expect(await redis.llen(keys.queue('q'))).toBe(1);
  });

  it('a resent call (same acks, same fresh tokens) neither counts twice nor takes a second job', async () => {
    const { keys } = setup();
    const reserve = reserveScript(keys);
    await redis.rpush(
      keys.queue('q'),
      '{"class":"A","args":[1]}',
      '{"class":"A","args":[2]}',
      '{"class":"A","args":[3]}',
    );
    const list = new QueuePatterns(['q']).storedList;
    const call = (finished: string, fresh: string) =>
      runScript<Array<number | string>>(
        redis,
        reserve,
        [keys.queueList(list.digest)],
        ['2025-01-01T00:00:00Z', '1', '', '', '', '', 's1', finished, '0', fresh, '', ...list.values],
      );
    const t1 = 'a'.repeat(16);
    const t2 = 'b'.repeat(16);
    await call('', t1);
    const once = await call(t1, t2);
    const again = await call(t1, t2);
    // The same job comes back for the slot; the resent finish is reported as not applied (and counts nothing).
    const jobs = (reply: Array<number | string>) => reply.slice(2 + Number(reply[1]));
    expect(jobs(again)).toEqual(jobs(once));
    expect(again.slice(1, 3)).toEqual([1, 1]);
    expect(await redis.get(keys.processed)).toBe('1');
    expect(await redis.llen(keys.queue('q'))).toBe(1);
  });

  it('an acked slot that finds no job, or a paused worker, leaves no in-flight key or status behind', async () => {
    const { keys, fetcher } = setup();
    await redis.rpush(keys.queue('q'), '{"class":"A","args":[1]}', '{"class":"A","args":[2]}');
    const a = (await fetcher.reserve(['s1', 's2'])).reservations;
    expect(a).toHaveLength(2);
    await a[0]!.fail({ exception: 'E', error: 'boom', backtrace: [] });
    const empty = await fetcher.reserve(['s1']);
    expect(empty.reservations).toEqual([]);
    await redis.set(keys.pauseAll, 'true');
    await redis.rpush(keys.queue('q'), '{"class":"A","args":[3]}');
    await a[1]!.ack({ kind: 'performed' });
    const paused = await fetcher.reserve(['s2']);
    expect(paused).toEqual({ paused: true, reservations: [] });
    for (const slot of ['s1', 's2']) {
      expect(await redis.exists(keys.inflight(slot), keys.worker(slot))).toBe(0);
    }
    expect(await redis.get(keys.processed)).toBe('2');
    expect(await redis.get(keys.failedCount)).toBe('1');
    await fetcher.slotCounters.write(redis, keys);
    expect(await redis.get(keys.failedBy('s1'))).toBe('1');
    expect(await redis.llen(keys.failed)).toBe(1);
    expect(await redis.llen(keys.queue('q'))).toBe(1);
  });

  it('a job the reaper gave back while its worker stalled: the late acknowledgement is refused and reported', async () => {
    const { keys, fetcher } = setup();
    await redis.rpush(keys.queue('q'), '{"class":"A","args":[1]}');
    const [job] = (await fetcher.reserve(['s1'])).reservations;
    // What a peer's reaper does to a slot whose liveness beat expired.
    expect(await giveBackHeld({ redis, keys, config }, job!, true, 'reaper')).toBe(true);
    expect(await redis.get(keys.givenBack('s1'))).toBe(job!.token);
    await job!.ack({ kind: 'performed' });
    await fetcher.reserve([]);
    await waitFor(() => fetcher.refusedAcks === 1, 5000, 'the refusal to be reported');
    expect(await redis.get(keys.processed)).toBeNull();
    expect(await redis.exists(keys.givenBack('s1'))).toBe(0);
    expect(await redis.lrange(keys.queue('q'), 0, -1)).toEqual(['{"class":"A","args":[1],"returns":1}']);
  });

  it('acknowledgements whose call failed are sent with the next call', async () => {
    const { keys, fetcher } = setup();
    await redis.rpush(keys.queue('q'), '{"class":"A","args":[1]}');
    const [job] = (await fetcher.reserve(['s1'])).reservations;
    await job!.ack({ kind: 'performed' });
    // A wrong-typed key makes the script fail at its first command, before it writes anything.
    await redis.hset(keys.pauseAll, 'x', '1');
    await expect(fetcher.reserve(['s1'])).rejects.toThrow(/WRONGTYPE/);
    expect(fetcher.hasAcks).toBe(true);
    await redis.del(keys.pauseAll);
    await fetcher.reserve([]);
    expect(fetcher.hasAcks).toBe(false);
    expect(await redis.exists(keys.inflight('s1'))).toBe(0);
    expect(await redis.get(keys.processed)).toBe('1');
  });
});
