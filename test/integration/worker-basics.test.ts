import { afterEach, describe, expect, it } from 'vitest';
import {
  DontPerform,
  defineJob,
  type Executor,
  JobRegistry,
  type JsonValue,
  Resque,
} from '../../src/index.js';
import { decodeFailureRecord } from '../../src/protocol/failure-record.js';
import { InProcessExecutor } from '../../src/worker/in-process-executor.js';
import { Worker, type WorkerOptions } from '../../src/worker/worker.js';
import { onCluster, rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';

const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop('term')));
});

function startWorker(options: Omit<WorkerOptions, 'redis'>): Worker {
  const worker = new Worker({
    redis: sharedRedisUrl(),
    setProcessTitle: false,
    logLevel: 'silent',
    ...options,
  });
  workers.push(worker);
  return worker;
}

describe('worker', () => {
  it('performs a job once, in Resque hook order, and counts it', async () => {
    const namespace = uniqueNamespace('work');
    const calls: string[] = [];
    const Job = defineJob({
      className: 'Ordered',
      queue: 'q',
      perform: async (ctx, n: number) => {
        calls.push(`perform ${n} attempt=${ctx.attempt} queue=${ctx.queue}`);
      },
      hooks: {
        before_perform_b: () => void calls.push('before_perform_b'),
        before_perform: () => void calls.push('before_perform'),
        around_perform_a: async (next) => {
          calls.push('around_a in');
          await next();
          calls.push('around_a out');
        },
        around_perform_b: async (next) => {
          calls.push('around_b in');
          await next();
          calls.push('around_b out');
        },
        after_perform: () => void calls.push('after_perform'),
        on_failure: () => void calls.push('on_failure'),
      },
    });
    const worker = startWorker({ namespace, queues: ['q'], jobs: [Job] });
    await worker.start();
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    await resque.enqueue(Job, 7);
    const redis = rawRedis();
    await waitFor(
      async () => (await redis.get(`${namespace}:stat:processed`)) === '1',
      10_000,
      'processed=1',
    );
    expect(calls).toEqual([
      'before_perform',
      'before_perform_b',
      'around_a in',
      'around_b in',
      'perform 7 attempt=1 queue=q',
      'around_b out',
      'around_a out',
      'after_perform',
    ]);
    // Ruby's per-worker counter is written with the next liveness beat.
    await waitFor(
      async () => (await redis.get(`${namespace}:stat:processed:${worker.id}`)) === '1',
      10_000,
      'the per-worker counter',
    );
    expect(await redis.get(`${namespace}:stat:failed`)).toBeNull();
    expect(await redis.exists(`${namespace}:worker:${worker.id}`)).toBe(0);
    await resque.close();
    redis.disconnect();
  });

  it('records a failure in the exact Ruby format, with on_failure run once', async () => {
    const namespace = uniqueNamespace('fail');
    const seen: string[] = [];
    const Failing = defineJob({
      className: 'Failing',
      queue: 'golden_fail',
      perform: (_ctx, name: string) => {
        throw new RangeError(`could not export ${name}`);
      },
      hooks: { on_failure: (error) => void seen.push(error.message) },
    });
    const worker = startWorker({ namespace, queues: ['golden_fail'], jobs: [Failing] });
    await worker.start();
    const redis = rawRedis();
    await redis.rpush(`${namespace}:queue:golden_fail`, '{"class":"Failing","args":["report-42"]}');
    await redis.publish(`${namespace}:ts:wake`, 'golden_fail');
    const [raw] = await waitFor(async () => {
      const items = await redis.lrange(`${namespace}:failed`, 0, -1);
      return items.length > 0 ? items : undefined;
    });
    expect(raw).toMatch(
      new RegExp(
        `^\\{"failed_at":"\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d UTC","payload":\\{"class":"Failing","args":\\["report-42"\\]\\},"exception":"RangeError","error":"could not export report-42","backtrace":\\[.*\\],"worker":"${worker.id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}","queue":"golden_fail"\\}$`,
      ),
    );
    const record = decodeFailureRecord(raw!)!;
    expect(record.backtrace[0]).toContain('worker-basics.test.ts');
    expect(record.backtrace.join('\n')).not.toContain('/src/worker/');
    expect(seen).toEqual(['could not export report-42']);
    await waitFor(async () => (await redis.get(`${namespace}:stat:processed`)) === '1');
    expect(await redis.get(`${namespace}:stat:failed`)).toBe('1');
    await waitFor(
      async () => (await redis.get(`${namespace}:stat:failed:${worker.id}`)) === '1',
      10_000,
      'the per-worker counter',
    );
    redis.disconnect();
  });

  it('skips quietly on DontPerform and still counts the job as processed', async () => {
    const namespace = uniqueNamespace('dont');
    let performed = false;
    const Skipped = defineJob({
      className: 'Skipped',
      queue: 'q',
      perform: () => {
        performed = true;
      },
      hooks: {
        before_perform: () => {
          throw new DontPerform();
        },
      },
    });
    await startWorker({ namespace, queues: ['q'], jobs: [Skipped] }).start();
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    await resque.enqueue(Skipped);
    const redis = rawRedis();
    await waitFor(async () => (await redis.get(`${namespace}:stat:processed`)) === '1');
    expect(performed).toBe(false);
    expect(await redis.llen(`${namespace}:failed`)).toBe(0);
    await resque.close();
    redis.disconnect();
  });

  it('sends every bad payload to failed with its reason and keeps working', async () => {
    const namespace = uniqueNamespace('bad');
    const done: number[] = [];
    const Ok = defineJob({ className: 'Ok', queue: 'q', perform: (_ctx, n: number) => void done.push(n) });
    const worker = startWorker({ namespace, queues: ['q'], jobs: [Ok] });
    await worker.start();
    const redis = rawRedis();
    const bad = [
      'not json',
      '[1,2]',
      '"text"',
      '{"args":[]}',
      '{"class":"Nope","args":[]}',
      '{"class":"Ok","args":{}}',
      '{"class":"Ok"}',
    ];
    await redis.rpush(`${namespace}:queue:q`, ...bad, '{"class":"Ok","args":[1]}');
    await redis.publish(`${namespace}:ts:wake`, 'q');
    await waitFor(async () => done.length === 1, 10_000, 'the good job');
    const failures = (await redis.lrange(`${namespace}:failed`, 0, -1)).map((r) => decodeFailureRecord(r)!);
    expect(failures.map((f) => [f.exception, f.error.split(':')[0]])).toEqual([
      ['MalformedPayloadError', 'Malformed job payload'],
      ['MalformedPayloadError', 'Malformed job payload'],
      ['MalformedPayloadError', 'Malformed job payload'],
      ['MalformedPayloadError', 'Malformed job payload'],
      ['UnknownJobClassError', 'uninitialized constant Nope (no job class "Nope" is registered)'],
      ['MalformedPayloadError', 'Malformed job payload'],
      ['MalformedPayloadError', 'Malformed job payload'],
    ]);
    expect(failures[0]?.error).toContain('not JSON');
    expect(failures[0]?.payload).toBeNull();
    expect(failures[0]?.['raw']).toBe('not json');
    expect(failures[1]?.error).toContain('expected a JSON object, got an array');
    expect(failures[3]?.error).toContain('"class" is missing');
    expect(failures[5]?.error).toContain('"args" is missing or not an array');
    expect(failures[4]?.payload).toEqual({ class: 'Nope', args: [] });
    expect(await redis.get(`${namespace}:stat:processed`)).toBe(String(bad.length + 1));
    expect(await redis.get(`${namespace}:stat:failed`)).toBe(String(bad.length));
    redis.disconnect();
  });

  it('registers as Ruby expects and unregisters on stop', async () => {
    const namespace = uniqueNamespace('reg');
    const redis = rawRedis();
    const worker = startWorker({ namespace, queues: ['a', 'b'], jobs: [], concurrency: 3 });
    await worker.start();
    expect(worker.id).toMatch(/^[^:]+:\d+:a,b$/);
    expect((await redis.smembers(`${namespace}:workers`)).sort()).toEqual([...worker.slotIds].sort());
    for (const id of worker.slotIds) {
      expect(id.split(':')).toHaveLength(3);
      expect(await redis.get(`${namespace}:worker:${id}:started`)).toMatch(
        /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000$/,
      );
      expect(await redis.hget(`${namespace}:workers:heartbeat`, id)).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/,
      );
    }
    await worker.stop();
    expect(await redis.smembers(`${namespace}:workers`)).toEqual([]);
    expect(await redis.hlen(`${namespace}:workers:heartbeat`)).toBe(0);
    redis.disconnect();
  });

  it('takes queues in priority order and honours pause-all-workers', async () => {
    const namespace = uniqueNamespace('prio');
    const order: string[] = [];
    const Rec = defineJob({
      className: 'Rec',
      perform: (ctx, tag: string) => void order.push(`${ctx.queue}:${tag}`),
    });
    const redis = rawRedis();
    await redis.set(`${namespace}:pause-all-workers`, ' TRUE ');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    await resque.enqueueTo('low', Rec, '1');
    await resque.enqueueTo('high', Rec, '2');
    await resque.enqueueTo('low', Rec, '3');
    await resque.enqueueTo('high', Rec, '4');
    const worker = startWorker({ namespace, queues: ['high', '*'], jobs: [Rec], intervalMs: 50 });
    await worker.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(order).toEqual([]);
    expect(worker.paused).toBe(true);
    await redis.del(`${namespace}:pause-all-workers`);
    await waitFor(() => order.length === 4);
    expect(order).toEqual(['high:2', 'high:4', 'low:1', 'low:3']);
    await resque.close();
    redis.disconnect();
  });

  it('keeps beating while its executor starts and reserves nothing before, even when paused and resumed', async () => {
    const namespace = uniqueNamespace('starting');
    const performed: number[] = [];
    const Job = defineJob({
      className: 'Counted',
      queue: 'q',
      perform: (_ctx, n: number) => void performed.push(n),
    });
    const inner = new InProcessExecutor(new JobRegistry([Job]));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let starting = false;
    // An executor whose start (a supervisor forking its children) lasts until the test lets it end.
    const executor: Executor = {
      start: async () => {
        starting = true;
        await gate;
      },
      run: (reservation, signal) => inner.run(reservation, signal),
      close: async () => {},
    };
    const redis = rawRedis();
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    await resque.enqueue(Job, 1);
    await resque.enqueue(Job, 2);
    const worker = startWorker({ namespace, queues: ['q'], jobs: [Job], executor, heartbeatIntervalMs: 50 });
    const startUp = worker.start();
    try {
      await waitFor(() => starting, 10_000, 'the executor to be starting');
      await worker.pause();
      await worker.resume();
      // The heartbeat comes back while the executor is still starting: it is kept, not written once and left to age.
      await redis.hdel(`${namespace}:workers:heartbeat`, worker.id);
      await waitFor(() => redis.hexists(`${namespace}:workers:heartbeat`, worker.id), 10_000, 'a heartbeat');
      expect(await redis.keys(`${namespace}:ts:inflight:*`)).toEqual([]);
      expect(await resque.size('q')).toBe(2);
      expect(await redis.sismember(`${namespace}:workers`, worker.id)).toBe(0);
    } finally {
      release();
    }
    await startUp;
    await waitFor(() => performed.length === 2, 10_000, 'both jobs');
    expect(performed).toEqual([1, 2]);
    await resque.close();
    redis.disconnect();
  });
});

describe('jobs from other clients', () => {
  // node-resque opens a plain connection of its own, which a Redis Cluster refuses (RESQUE_TEST_CLUSTER=1).
  it.skipIf(onCluster)('performs once a job enqueued by node-resque', async () => {
    const { Queue } = await import('node-resque');
    const namespace = uniqueNamespace('nr');
    const url = new URL(sharedRedisUrl());
    const queue = new Queue({ connection: { host: url.hostname, port: Number(url.port), namespace } });
    await queue.connect();
    const seen: unknown[][] = [];
    const Archive = defineJob({
      className: 'Archive',
      perform: (_ctx, ...args: JsonValue[]) => void seen.push(args),
    });
    await startWorker({ namespace, queues: ['files'], jobs: [Archive], intervalMs: 100 }).start();
    await queue.enqueue('files', 'Archive', [44, 'masterbrew']);
    await waitFor(() => seen.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual([[44, 'masterbrew']]);
    await queue.end();
  });

  it('finds a job pushed with a plain RPUSH (no wake-up) within the poll interval', async () => {
    const namespace = uniqueNamespace('foreign');
    const seen: number[] = [];
    const Job = defineJob({ className: 'Plain', perform: (_ctx, n: number) => void seen.push(n) });
    await startWorker({ namespace, queues: ['*'], jobs: [Job], intervalMs: 200 }).start();
    const redis = rawRedis();
    await redis.sadd(`${namespace}:queues`, 'ruby');
    await redis.rpush(`${namespace}:queue:ruby`, '{"class":"Plain","args":[5]}');
    await waitFor(() => seen.length === 1, 10_000, 'the foreign job');
    expect(seen).toEqual([5]);
    redis.disconnect();
  });
});

describe('worker hooks and visibility', () => {
  it('runs worker hooks in Resque order and shows each running job as worker:<slot>', async () => {
    const namespace = uniqueNamespace('hooks');
    const events: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const Held = defineJob({ className: 'Held', queue: 'q', perform: () => gate });
    const worker = startWorker({
      namespace,
      queues: ['q'],
      jobs: [Held],
      concurrency: 2,
      hooks: {
        before_first_fork: () => void events.push('before_first_fork'),
        queue_empty: () => void events.push('queue_empty'),
        before_pause: () => void events.push('before_pause'),
        after_pause: () => void events.push('after_pause'),
        shutdown: () => void events.push('shutdown'),
        worker_exit: () => void events.push('worker_exit'),
      },
    });
    await worker.start();
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    await resque.enqueue(Held);
    await resque.enqueue(Held);
    const redis = rawRedis();
    const statuses = await waitFor(async () => {
      const values = await redis.mget(worker.slotIds.map((id) => `${namespace}:worker:${id}`));
      return values.every((v) => v !== null) ? (values as string[]) : undefined;
    });
    for (const status of statuses) {
      expect(status).toMatch(
        /^\{"queue":"q","run_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ","payload":\{"class":"Held","args":\[\],"id":"[0-9a-f]+","enqueued_at":[\d.]+\}\}$/,
      );
    }
    expect((await resque.info()).working).toBe(2);
    await worker.pause();
    await worker.resume();
    release();
    await waitFor(() => events.includes('queue_empty'));
    await worker.stop();
    expect(events).toEqual([
      'before_first_fork',
      'before_pause',
      'after_pause',
      'queue_empty',
      'shutdown',
      'worker_exit',
    ]);
    await resque.close();
    redis.disconnect();
  });
});
