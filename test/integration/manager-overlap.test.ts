// The next reservation call goes before the jobs of an answer start, when other slots have finished jobs waiting
// for their acknowledgement: Redis works on it while those jobs run. One call is on its way at a time, and a call
// never names a slot another call still owns (its jobs not yet started).
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import type { Executor } from '../../src/worker/executor.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import type { Reservation } from '../../src/worker/fetch/reservation.js';
import { Manager } from '../../src/worker/manager.js';
import type { Outcome } from '../../src/worker/outcome.js';
import { Processor } from '../../src/worker/processor.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import type { WorkerEvents } from '../../src/worker/worker-events.js';
import { rawRedis, uniqueNamespace } from '../harness/context.js';

const logger = createLogger('silent');
let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

interface CallRecord {
  acked: string[];
  free: string[];
  /** Jobs started when the call was made. */
  startedBefore: number;
}

/**
 * The real fetcher; a call waits at `gate` (when set) once it has taken its acknowledgements, before it goes to
 * Redis, and every call is recorded.
 */
class RecordingFetcher extends Fetcher {
  gate: Promise<void> | undefined;
  readonly records: CallRecord[] = [];
  inFlight = 0;
  maxInFlight = 0;
  started = 0;
  override async reserve(free: readonly string[], woken: readonly string[] = []) {
    this.records.push({ acked: [...this.ackedSlots()], free: [...free], startedBefore: this.started });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await super.reserve(free, woken);
    } finally {
      this.inFlight--;
    }
  }
  override async prepare(free: readonly string[], woken: readonly string[] = []) {
    const call = await super.prepare(free, woken);
    if (this.gate) await this.gate;
    return call;
  }
}

/** Jobs that end when the test says, per slot. */
class HeldExecutor implements Executor {
  private readonly ends = new Map<string, (outcome: Outcome) => void>();
  run(reservation: Reservation): Promise<Outcome> {
    return new Promise((resolve) => this.ends.set(reservation.slotId, resolve));
  }
  finish(slot: string): void {
    const end = this.ends.get(slot);
    if (!end) throw new Error(`no job runs in ${slot}`);
    this.ends.delete(slot);
    end({ kind: 'performed' });
  }
  get running(): string[] {
    return [...this.ends.keys()];
  }
  async close(): Promise<void> {}
}

async function turns(until: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !until(); i++) await new Promise((resolve) => setTimeout(resolve, 1));
  expect(until()).toBe(true);
}

describe('reservation calls and running jobs overlap', () => {
  it('sends the next call before an answer’s jobs start, never two at once, never a slot twice', async () => {
    const keys = new Keys(uniqueNamespace('manager-overlap'));
    const items = Array.from({ length: 8 }, (_, i) => `{"class":"A","args":[${i}]}`);
    await redis.rpush(keys.queue('q'), ...items);
    const config = { failureBackend: 'redis' as const, release: 't' };
    let manager!: Manager;
    const fetcher = new RecordingFetcher(redis, keys, new QueuePatterns(['q']), config, logger, () =>
      manager.schedulePump(),
    );
    const started: string[] = [];
    const events = new EventEmitter<WorkerEvents>();
    events.on('job:start', (reservation) => {
      started.push(reservation.raw);
      fetcher.started++;
    });
    const executor = new HeldExecutor();
    const processor = new Processor({
      config: { onTermTimeout: 'requeue', termTimeoutMs: 1000 },
      executor,
      logger,
      events,
      onSlotFree: () => manager.schedulePump(),
      procline: undefined,
    });
    manager = new Manager({
      config: { intervalMs: 60_000 },
      slotIds: ['s1', 's2', 's3', 's4'],
      patterns: new QueuePatterns(['q']),
      fetcher,
      listen: () => {},
      processor,
      executor,
      logger,
      runHooks: async () => {},
      procline: () => {},
      onIdle: () => {},
      onError: () => {},
    });
    manager.accepting = true;
    await manager.pump();
    expect(executor.running.sort()).toEqual(['s1', 's2', 's3', 's4']);

    // s1 and s2 finish: their call is held on its way; s3 finishes meanwhile.
    let open!: () => void;
    fetcher.gate = new Promise((resolve) => {
      open = resolve;
    });
    executor.finish('s1');
    executor.finish('s2');
    await turns(() => fetcher.records.length === 2);
    expect(fetcher.records[1]).toMatchObject({ acked: ['s1', 's2'], free: ['s1', 's2'] });
    executor.finish('s3');
    await turns(() => fetcher.isAcked('s3'));
    // No second call while one is on its way.
    expect(fetcher.records).toHaveLength(2);

    // The answer comes: s3's call goes before the two jobs it brought start, and does not name their slots.
    fetcher.gate = undefined;
    open();
    await turns(() => fetcher.records.length === 3);
    expect(fetcher.records[2]).toEqual({ acked: ['s3'], free: ['s3'], startedBefore: 4 });
    await turns(() => started.length === 7);

    // The rest runs to the end: every job started once, nothing left in flight.
    for (let round = 0; round < 3; round++) {
      for (const slot of executor.running) executor.finish(slot);
      await turns(
        () => fetcher.inFlight === 0 && !fetcher.hasAcks && processor.busy === executor.running.length,
      );
    }
    expect(executor.running).toEqual([]);
    await manager.flush();
    manager.stopIdleTimer();
    expect([...started].sort()).toEqual([...items].sort());
    expect(fetcher.maxInFlight).toBe(1);
    expect(await redis.get(keys.processed)).toBe('8');
    expect(await redis.llen(keys.queue('q'))).toBe(0);
    expect(
      await redis.exists(...['s1', 's2', 's3', 's4'].flatMap((s) => [keys.inflight(s), keys.worker(s)])),
    ).toBe(0);
  });
});

/** HeldExecutor that keeps as many slots filled as the test says (a supervisor's read-ahead does the same). */
class WantingExecutor extends HeldExecutor {
  wanted = 2;
  slotsWanted(): number {
    return this.wanted;
  }
}

describe('the pump after overlapping calls', () => {
  it('takes a wake-up that comes while the queue_empty hooks of the last pump to end run', async () => {
    const keys = new Keys(uniqueNamespace('manager-overlap-idle'));
    await redis.rpush(keys.queue('q'), '{"class":"A","args":[1]}', '{"class":"A","args":[2]}');
    const config = { failureBackend: 'redis' as const, release: 't' };
    let manager!: Manager;
    const fetcher = new RecordingFetcher(redis, keys, new QueuePatterns(['q']), config, logger, () =>
      manager.schedulePump(),
    );
    const executor = new WantingExecutor();
    const processor = new Processor({
      config: { onTermTimeout: 'requeue', termTimeoutMs: 1000 },
      executor,
      logger,
      events: new EventEmitter<WorkerEvents>(),
      onSlotFree: () => manager.schedulePump(),
      procline: undefined,
    });
    let hooksRan = 0;
    manager = new Manager({
      config: { intervalMs: 60_000 },
      slotIds: ['s1', 's2'],
      patterns: new QueuePatterns(['q']),
      fetcher,
      listen: () => {},
      processor,
      executor,
      logger,
      runHooks: async (name) => {
        if (name !== 'queue_empty' || ++hooksRan > 1) return;
        // A job is pushed and its wake-up reaches the worker (a wait begun while its slots were busy) while the hooks
        // run.
        executor.wanted = 2;
        await redis.rpush(keys.queue('q'), '{"class":"A","args":[3]}');
        manager.onWake('q');
      },
      procline: () => {},
      onIdle: () => {},
      onError: () => {},
    });
    manager.accepting = true;
    await manager.pump();
    expect(executor.running.sort()).toEqual(['s1', 's2']);

    // s1's call (acknowledge and refill s1) is held on its way; s2 finishes meanwhile, and the executor wants no
    // slot filled, so the call that follows only acknowledges s2.
    let open!: () => void;
    fetcher.gate = new Promise((resolve) => {
      open = resolve;
    });
    executor.finish('s1');
    await turns(() => fetcher.records.length === 2);
    executor.finish('s2');
    await turns(() => fetcher.isAcked('s2'));
    executor.wanted = 0;
    fetcher.gate = undefined;
    open();

    // The queue emptied while calls overlapped: the last pump to end runs queue_empty, and the wake-up that came
    // meanwhile is used, not left for the poll interval.
    await turns(() => hooksRan === 1 && executor.running.length === 1);
    expect(await redis.llen(keys.queue('q'))).toBe(0);
    executor.finish(executor.running[0] as string);
    await turns(() => fetcher.inFlight === 0 && processor.busy === 0);
    await manager.flush();
    manager.stopIdleTimer();
    expect(await redis.get(keys.processed)).toBe('3');
  });
});

describe('a pause while a reservation call is on its way', () => {
  it('gives back what the call brought instead of starting it, and pause() resolves only then', async () => {
    const keys = new Keys(uniqueNamespace('manager-overlap-pause'));
    const items = ['{"class":"A","args":[1]}', '{"class":"A","args":[2]}', '{"class":"A","args":[3]}'];
    await redis.rpush(keys.queue('q'), ...items);
    const config = { failureBackend: 'redis' as const, release: 't' };
    let manager!: Manager;
    const fetcher = new RecordingFetcher(redis, keys, new QueuePatterns(['q']), config, logger, () =>
      manager.schedulePump(),
    );
    const started: string[] = [];
    const events = new EventEmitter<WorkerEvents>();
    events.on('job:start', (reservation) => started.push(reservation.raw));
    const executor = new HeldExecutor();
    const processor = new Processor({
      config: { onTermTimeout: 'requeue', termTimeoutMs: 1000 },
      executor,
      logger,
      events,
      onSlotFree: () => manager.schedulePump(),
      procline: undefined,
    });
    manager = new Manager({
      config: { intervalMs: 60_000 },
      slotIds: ['s1', 's2'],
      patterns: new QueuePatterns(['q']),
      fetcher,
      listen: () => {},
      processor,
      executor,
      logger,
      runHooks: async () => {},
      procline: () => {},
      onIdle: () => {},
      onError: () => {},
    });
    manager.accepting = true;
    await manager.pump();
    expect(started).toEqual([items[0], items[1]]);

    // s1 finishes; the call that acknowledges it and fills it is held on its way, and the worker pauses meanwhile.
    let open!: () => void;
    fetcher.gate = new Promise((resolve) => {
      open = resolve;
    });
    executor.finish('s1');
    await turns(() => fetcher.records.length === 2);
    let pauseDone = false;
    const pausing = manager.pause().then(() => {
      pauseDone = true;
    });
    await turns(() => manager.paused);
    expect(pauseDone).toBe(false);
    fetcher.gate = undefined;
    open();
    await pausing;

    // The job the call reserved went back to the head of its queue, unstarted.
    expect(started).toEqual([items[0], items[1]]);
    expect(await redis.lrange(keys.queue('q'), 0, -1)).toEqual([items[2]]);
    expect(await redis.get(keys.processed)).toBe('1');
    expect(await redis.exists(keys.inflight('s1'))).toBe(0);

    // CONT: it runs.
    await manager.resume();
    await turns(() => started.length === 3);
    expect(started[2]).toBe(items[2]);
    executor.finish('s2');
    executor.finish(executor.running[0]!);
    await turns(() => processor.busy === 0);
    await manager.flush();
    manager.stopIdleTimer();
    expect(await redis.get(keys.processed)).toBe('3');
  });
});
