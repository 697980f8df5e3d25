// Interop with node-resque 9 on one Redis and one namespace: its jobs carry an extra "queue" field
// (`{"class","queue","args"}`), which our decoded matching must tolerate; its workers must run what we enqueue.
import { Queue, Worker } from 'node-resque';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJob, Resque } from '../../src/index.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';

const Archive = defineJob({
  className: 'Archive',
  queue: 'nr_work',
  perform: async (_ctx, _id: number, _name: string) => {},
});

function connectionOptions(namespace: string) {
  const url = new URL(sharedRedisUrl());
  return { host: url.hostname, port: Number(url.port), namespace };
}

describe('node-resque interop', () => {
  const redis = rawRedis();
  let namespace: string;
  let resque: Resque;
  let queue: Queue;

  beforeAll(async () => {
    namespace = uniqueNamespace('node-resque');
    resque = new Resque({ redis: sharedRedisUrl(), namespace });
    queue = new Queue({ connection: connectionOptions(namespace) });
    queue.on('error', () => {});
    await queue.connect();
  });
  afterAll(async () => {
    await queue.end();
    await resque.close();
    redis.disconnect();
  });

  it('peeks a job node-resque enqueued (with its extra "queue" field) and dequeues it by class+args', async () => {
    await queue.enqueue('nr_in', 'Archive', [44, 'masterbrew']);
    await queue.enqueue('nr_in', 'Archive', [45, 'other']);
    const [raw] = await redis.lrange(`${namespace}:queue:nr_in`, 0, 0);
    expect(raw).toBe('{"class":"Archive","queue":"nr_in","args":[44,"masterbrew"]}');

    expect(await resque.queues()).toContain('nr_in');
    const [first] = await resque.peek('nr_in');
    expect(first?.payload).toMatchObject({ class: 'Archive', args: [44, 'masterbrew'], queue: 'nr_in' });
    expect(first?.raw).toBe(raw);

    expect(await resque.dequeueFrom('nr_in', Archive, 44, 'masterbrew')).toBe(1);
    expect(await queue.length('nr_in')).toBe(1);
    expect(await resque.dequeueFrom('nr_in', 'Archive')).toBe(1);
    expect(await queue.length('nr_in')).toBe(0);
  });

  it('has a node-resque worker perform each job we enqueue exactly once', async () => {
    const strict = new Resque({ redis: sharedRedisUrl(), namespace, strictPayloads: true });
    await resque.enqueue(Archive, 1, 'tagged');
    await strict.enqueue(Archive, 2, 'strict');
    await strict.close();

    const performed: unknown[][] = [];
    const worker = new Worker(
      { connection: connectionOptions(namespace), queues: ['nr_work'], timeout: 20 },
      {
        Archive: {
          perform: async (...args: unknown[]) => {
            performed.push(args);
          },
        },
      },
    );
    const failures: Error[] = [];
    worker.on('failure', (_q, _job, error) => failures.push(error));
    worker.on('error', (error) => failures.push(error));
    await worker.connect();
    await worker.start();
    try {
      await waitFor(() => performed.length >= 2, 15_000, 'node-resque to perform both jobs');
      await waitFor(async () => (await queue.length('nr_work')) === 0, 15_000, 'the queue to drain');
    } finally {
      await worker.end();
    }
    expect(performed).toEqual([
      [1, 'tagged'],
      [2, 'strict'],
    ]);
    expect(failures).toEqual([]);
    expect(await resque.size('nr_work')).toBe(0);
    expect(await redis.llen(`${namespace}:failed`)).toBe(0);
  });
});
