// A 1,000,000-job queue: every client operation stays O(1) or works in bounded chunks. MONITOR records each command
// the client sends while it works on the big queue, and no command may read the queue in one go.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEQUEUE_CHUNK } from '../../src/client/dequeue.js';
import { defineJob, Resque } from '../../src/index.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { type CommandRecorder, isWideRange, recordCommands } from '../harness/monitor.js';

const JOBS = 1_000_000;
const BUILD_BATCH = 100_000;

const Bulk = defineJob({
  className: 'Bulk',
  queue: 'big',
  perform: async (_ctx, _n: number) => {},
});

describe('a queue of 1,000,000 jobs', () => {
  const redis = rawRedis();
  let namespace: string;
  let resque: Resque;
  let recorder: CommandRecorder;

  beforeAll(async () => {
    namespace = uniqueNamespace('large');
    resque = new Resque({ redis: sharedRedisUrl(), namespace });
    for (let from = 0; from < JOBS; from += BUILD_BATCH) {
      const batch = Array.from({ length: BUILD_BATCH }, (_, i): [number] => [from + i]);
      const enqueued = await resque.enqueueBulk(Bulk, batch);
      expect(enqueued.length).toBe(BUILD_BATCH);
    }
    recorder = await recordCommands(sharedRedisUrl(), resque.redis);
  }, 180_000);

  afterAll(async () => {
    await redis.unlink(`${namespace}:queue:big`, `${namespace}:queues`);
    await resque.close();
    redis.disconnect();
  });

  it('reports its size and peeks head, middle and tail', async () => {
    expect(await resque.size('big')).toBe(JOBS);
    const [head] = await resque.peek('big');
    expect(head?.payload?.args).toEqual([0]);
    expect(head?.index).toBe(0);
    const middle = await resque.peek('big', JOBS / 2, 3);
    expect(middle.map((j) => j.payload?.args)).toEqual([[JOBS / 2], [JOBS / 2 + 1], [JOBS / 2 + 2]]);
    const [last] = await resque.peek('big', JOBS - 1);
    expect(last?.payload?.args).toEqual([JOBS - 1]);
  });

  it('enqueues onto the tail', async () => {
    await resque.enqueue(Bulk, JOBS);
    expect(await resque.size('big')).toBe(JOBS + 1);
    const [tail] = await resque.peek('big', -1);
    expect(tail?.payload?.args).toEqual([JOBS]);
    expect(tail?.index).toBe(JOBS);
  });

  it('dequeues by class+args a job near the tail, and only that job', async () => {
    const target = JOBS - 10;
    expect(await resque.dequeue(Bulk, target)).toBe(1);
    expect(await resque.size('big')).toBe(JOBS);
    const around = await resque.peek('big', target - 1, 2);
    expect(around.map((j) => j.payload?.args)).toEqual([[target - 1], [target + 1]]);
  });

  it('never read the queue in one go, nor the keyspace', async () => {
    const commands = await recorder.stop();
    const ranges = commands.filter((c) => c.name === 'LRANGE');
    expect(ranges.length).toBeGreaterThanOrEqual(JOBS / DEQUEUE_CHUNK);
    expect(commands.filter((c) => isWideRange(c, 1000))).toEqual([]);
    expect(ranges.filter((c) => c.args[1] === '0' && c.args[2] === '-1')).toEqual([]);
    expect(commands.filter((c) => ['KEYS', 'SCAN', 'SORT', 'LPOS'].includes(c.name))).toEqual([]);
  });
});
