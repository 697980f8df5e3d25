import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defineJob,
  InvalidArgumentsError,
  InvalidClassNameError,
  InvalidQueueNameError,
  NoQueueError,
  Resque,
} from '../../src/index.js';
import { keysUnder, rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';

const Archive = defineJob({
  className: 'Archive',
  queue: 'file_serve',
  perform: async (_ctx, _id: number, _name: string) => {},
});

describe('queue API', () => {
  const redis = rawRedis();
  let namespace: string;
  let resque: Resque;

  beforeAll(() => {
    namespace = uniqueNamespace('client');
    resque = new Resque({ redis: sharedRedisUrl(), namespace });
  });
  afterAll(async () => {
    await resque.close();
    redis.disconnect();
  });

  it('enqueues to the class queue as SADD queues + RPUSH queue:<name>', async () => {
    const result = await resque.enqueue(Archive, 44, 'masterbrew');
    expect(result?.queue).toBe('file_serve');
    expect(result?.id).toMatch(/^[0-9a-f]{24}$/);
    expect(await redis.smembers(`${namespace}:queues`)).toEqual(['file_serve']);
    const [raw] = await redis.lrange(`${namespace}:queue:file_serve`, 0, -1);
    expect(raw).toMatch(
      /^\{"class":"Archive","args":\[44,"masterbrew"\],"id":"[0-9a-f]{24}","enqueued_at":\d+(\.\d+)?\}$/,
    );
  });

  it('enqueues to an explicit queue, with a bare class name too', async () => {
    await resque.enqueueTo('other', 'Some::Job', 1, { a: [true, null] });
    const [item] = await resque.peek('other');
    expect(item?.payload?.class).toBe('Some::Job');
    expect(item?.payload?.args).toEqual([1, { a: [true, null] }]);
  });

  it('peeks ranges in FIFO order and reports sizes and queues', async () => {
    await resque.enqueueBulk(Archive, [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
    expect(await resque.size('file_serve')).toBe(4);
    const page = await resque.peek('file_serve', 1, 2);
    expect(page.map((j) => j.payload?.args)).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    expect(page.map((j) => j.index)).toEqual([1, 2]);
    expect(await resque.queues()).toEqual(['file_serve', 'other']);
    expect(await resque.queueSizes()).toEqual({ file_serve: 4, other: 1 });
  });

  it('dequeues by class+args and by class, matching decoded values whoever pushed them', async () => {
    const key = `${namespace}:queue:deq`;
    await redis.rpush(
      key,
      '{"class":"Archive","args":[2,"b"]}',
      '{"class":"Other","args":[1,"a"]}',
      '{"class":"Archive","args":[1,"a"],"id":"x1"}',
      '{"args":[1,"a"],"class":"Archive"}',
      '{"class":"Archive","queue":"deq","args":[1.0,"a"]}',
      'not json',
    );
    expect(await resque.dequeueFrom('deq', Archive, 1, 'a')).toBe(3);
    expect(await redis.lrange(key, 0, -1)).toEqual([
      '{"class":"Archive","args":[2,"b"]}',
      '{"class":"Other","args":[1,"a"]}',
      'not json',
    ]);
    expect(await resque.dequeueFrom('deq', 'Archive')).toBe(1);
    expect(await redis.lrange(key, 0, -1)).toEqual(['{"class":"Other","args":[1,"a"]}', 'not json']);
  });

  it('flags malformed items in peek instead of throwing', async () => {
    await redis.rpush(`${namespace}:queue:bad`, '[1,2]');
    const [item] = await resque.peek('bad');
    expect(item?.payload).toBeUndefined();
    expect(item?.malformed).toMatch(/expected a JSON object/);
    expect(item?.raw).toBe('[1,2]');
  });

  it('removes and watches queues', async () => {
    await resque.watchQueue('watched');
    expect(await resque.queues()).toContain('watched');
    await resque.removeQueue('other');
    expect(await resque.queues()).not.toContain('other');
    expect(await redis.exists(`${namespace}:queue:other`)).toBe(0);
  });

  it('reports Resque.info fields', async () => {
    await redis.set(`${namespace}:stat:processed`, '7');
    await redis.rpush(`${namespace}:failed`, '{}');
    await redis.sadd(`${namespace}:workers`, 'h:1:a', 'h:2:a');
    await redis.set(`${namespace}:worker:h:1:a`, '{"queue":"a","run_at":"x","payload":{}}');
    const info = await resque.info();
    expect(info).toMatchObject({ processed: 7, failed: 1, workers: 2, working: 1 });
    // Like Ruby, only queues named in the `queues` set count (deq and bad were pushed raw, without SADD).
    expect(info.pending).toBe(await resque.size('file_serve'));
    expect(info.queues).toBe((await resque.queues()).length);
  });
});

describe('strict payloads', () => {
  it('emit exactly {"class","args"}', async () => {
    const namespace = uniqueNamespace('strict');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace, strictPayloads: true });
    const redis = rawRedis();
    const result = await resque.enqueue(Archive, 44, 'masterbrew');
    expect(result?.id).toBeUndefined();
    expect(await redis.lrange(`${namespace}:queue:file_serve`, 0, -1)).toEqual([
      '{"class":"Archive","args":[44,"masterbrew"]}',
    ]);
    await resque.close();
    redis.disconnect();
  });
});

describe('hooks', () => {
  it('run before/after enqueue and dequeue in alphabetical order, and false vetoes', async () => {
    const calls: string[] = [];
    let veto = false;
    const Hooked = defineJob({
      className: 'Hooked',
      queue: 'hooks',
      perform: async (_ctx, _n: number) => {},
      hooks: {
        before_enqueue_b: (n) => {
          calls.push(`before_enqueue_b ${n}`);
        },
        before_enqueue: (n) => {
          calls.push(`before_enqueue ${n}`);
          return veto ? false : undefined;
        },
        before_enqueue_a: (n) => {
          calls.push(`before_enqueue_a ${n}`);
        },
        after_enqueue: (n) => {
          calls.push(`after_enqueue ${n}`);
        },
        before_dequeue: () => {
          calls.push('before_dequeue');
          return !veto;
        },
        after_dequeue: () => {
          calls.push('after_dequeue');
        },
      },
    });
    const namespace = uniqueNamespace('hooks');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    expect(await resque.enqueue(Hooked, 1)).not.toBeNull();
    expect(calls).toEqual([
      'before_enqueue 1',
      'before_enqueue_a 1',
      'before_enqueue_b 1',
      'after_enqueue 1',
    ]);
    calls.length = 0;
    veto = true;
    expect(await resque.enqueue(Hooked, 2)).toBeNull();
    expect(calls).toEqual(['before_enqueue 2', 'before_enqueue_a 2', 'before_enqueue_b 2']);
    expect(await resque.size('hooks')).toBe(1);
    expect(await resque.dequeue(Hooked)).toBeNull();
    expect(await resque.size('hooks')).toBe(1);
    veto = false;
    calls.length = 0;
    expect(await resque.dequeue(Hooked)).toBe(1);
    expect(calls).toEqual(['before_dequeue', 'after_dequeue']);
    await resque.close();
  });
});

describe('bad input', () => {
  it('is rejected with a typed error and nothing reaches Redis', async () => {
    const namespace = uniqueNamespace('bad');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const redis = rawRedis();
    const NoQueue = defineJob({ className: 'NoQueue', perform: () => {} });
    const cycle: Record<string, unknown> = {};
    cycle['me'] = cycle;
    const anyArgs = (...args: unknown[]) => args as never[];
    const attempts: Array<[() => Promise<unknown>, new (...args: never[]) => Error]> = [
      [() => resque.enqueueTo('q', 'Job', ...anyArgs(undefined)), InvalidArgumentsError],
      [() => resque.enqueueTo('q', 'Job', ...anyArgs(() => 1)), InvalidArgumentsError],
      [() => resque.enqueueTo('q', 'Job', ...anyArgs(Symbol('x'))), InvalidArgumentsError],
      [() => resque.enqueueTo('q', 'Job', ...anyArgs(1n)), InvalidArgumentsError],
      [() => resque.enqueueTo('q', 'Job', ...anyArgs(cycle)), InvalidArgumentsError],
      [() => resque.enqueueTo('q', 'Job', ...anyArgs(Number.NaN)), InvalidArgumentsError],
      [() => resque.enqueueTo('q', 'Job', ...anyArgs(Number.NEGATIVE_INFINITY)), InvalidArgumentsError],
      [() => resque.enqueueTo('q', 'Job', ...anyArgs(new Date())), InvalidArgumentsError],
      [() => resque.enqueueBulk('Job', anyArgs([1], [undefined]), { queue: 'q' }), InvalidArgumentsError],
      [() => resque.enqueueTo('', 'Job'), InvalidQueueNameError],
      [() => resque.enqueueTo('a,b', 'Job'), InvalidQueueNameError],
      [() => resque.enqueueTo('a:b', 'Job'), InvalidQueueNameError],
      [() => resque.enqueueTo('q', ''), InvalidClassNameError],
      [() => resque.enqueueTo('q', 'Bad,Name'), InvalidClassNameError],
      [() => resque.enqueueTo('q', 'Bad:Name'), InvalidClassNameError],
      [() => resque.enqueue(NoQueue), NoQueueError],
    ];
    for (const [attempt, errorClass] of attempts) {
      await expect(attempt()).rejects.toBeInstanceOf(errorClass);
    }
    expect(await keysUnder(redis, namespace)).toEqual([]);
    await resque.close();
    redis.disconnect();
  });
});
