// A stop that begins while a reservation call is on its way: what that call reserves is given back untouched, never
// started, and the shutdown's last acknowledgements wait for the call. (A worker that unregistered with such a job
// still in its in-flight key left it where no reaper would look again: the job was lost.)
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobRegistry } from '../../src/jobs/registry.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { InProcessExecutor } from '../../src/worker/in-process-executor.js';
import { Manager } from '../../src/worker/manager.js';
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

/** The real fetcher, with a gate the test opens: its reservation calls wait there before they go to Redis. */
class GatedFetcher extends Fetcher {
  gate: Promise<void> = Promise.resolve();
  calls = 0;
  override async reserve(free: readonly string[], woken: readonly string[] = []) {
    this.calls++;
    await this.gate;
    return super.reserve(free, woken);
  }
}

describe('a stop during a reservation call', () => {
  it('gives back what the call reserved, untouched and in order, and starts none of it', async () => {
    const keys = new Keys(uniqueNamespace('manager-stop'));
    await redis.rpush(
      keys.queue('q'),
      '{"class":"A","args":[1]}',
      '{"class":"A","args":[2]}',
      '{"class":"A","args":[3]}',
    );
    const config = { failureBackend: 'redis' as const, release: 't' };
    let manager!: Manager;
    const fetcher = new GatedFetcher(redis, keys, new QueuePatterns(['q']), config, logger, () =>
      manager.schedulePump(),
    );
    let open!: () => void;
    fetcher.gate = new Promise((resolve) => {
      open = resolve;
    });
    const started: string[] = [];
    const events = new EventEmitter<WorkerEvents>();
    events.on('job:start', (reservation) => started.push(reservation.raw));
    const executor = new InProcessExecutor(new JobRegistry());
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
    const pumping = manager.pump();
    await new Promise((resolve) => setImmediate(resolve));
    expect(fetcher.calls).toBe(1);
    // The stop: no more reservations, then the last acknowledgements.
    manager.accepting = false;
    const flushed = manager.flush();
    open();
    await Promise.all([pumping, flushed]);
    manager.stopIdleTimer();
    expect(started).toEqual([]);
    expect(await redis.lrange(keys.queue('q'), 0, -1)).toEqual([
      '{"class":"A","args":[1]}',
      '{"class":"A","args":[2]}',
      '{"class":"A","args":[3]}',
    ]);
    expect(
      await redis.exists(keys.inflight('s1'), keys.inflight('s2'), keys.worker('s1'), keys.worker('s2')),
    ).toBe(0);
  });
});
