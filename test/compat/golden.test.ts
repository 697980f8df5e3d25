// Golden compatibility: the bytes Ruby Resque 3.0 wrote in a live run (test/fixtures/golden) against ours.
// Where JS can express a value exactly we must write Ruby's bytes; where it cannot (Ruby floats `1.0`, `-0.0`,
// `1.0e+20`, integers beyond 2^53) we must read Ruby's bytes, find them by value, and keep them untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureRecordBytes, queueFailureWrite } from '../../src/failure/save.js';
import { defineJob, InvalidArgumentsError, type JsonValue, Keys, Resque } from '../../src/index.js';
import { decodeFailureRecord, encodeFailureRecord } from '../../src/protocol/failure-record.js';
import { cleanPayload, decodePayload } from '../../src/protocol/payload.js';
import { parseResqueTime } from '../../src/protocol/time.js';
import { encodeWorkerStatus, rawPayloadOfStatus } from '../../src/protocol/worker-status.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import {
  GOLDEN_CASES,
  type GoldenCase,
  goldenCase,
  goldenList,
  logicalKey,
  payloadBytesOfRecord,
} from './golden-fixture.js';

const Export = defineJob({
  className: 'App::Jobs::Export',
  queue: 'exports',
  perform: async (_ctx, _id: number) => {},
});

interface EnqueueCase {
  /** The JS call a user would write for Ruby's: `enqueueTo(queue, class, ...args)`, or `enqueue(Export, ...)`. */
  args: JsonValue[];
  viaDefinition?: boolean;
  /** When JS cannot write Ruby's bytes: what we write instead, and why. */
  differs?: { weWrite: string; why: string };
}

/** Every "enqueue:" case of the fixture, with the arguments a JS caller passes for Ruby's. */
const ENQUEUE_CASES: Record<string, EnqueueCase> = {
  'enqueue: no args': { args: [] },
  'enqueue: ints and strings': { args: [44, 'masterbrew'] },
  'enqueue: nil true false': { args: [null, true, false] },
  'enqueue: symbol becomes string': { args: ['sym', { key: 'value' }] },
  'enqueue: nested hash with symbol keys': { args: [{ user: { id: 7, tags: ['a', 'b'] }, count: 3 }] },
  'enqueue: unicode and escapes': {
    args: ['héllo wörld ☃ 😀', 'quote" backslash\\ slash/ tab\t nl\n', '\u0001ctl'],
  },
  'enqueue: empty containers': { args: [[], {}] },
  'enqueue: html-ish': { args: ['<script>alert(1)</script>', '&amp;'] },
  'enqueue: namespaced class': { args: [1], viaDefinition: true },
  'enqueue: float whole and fractional': {
    args: [1.0, 2.5, -0.0, 1.0e20, 1.5e-7],
    differs: {
      weWrite: '{"class":"Archive","args":[1,2.5,0,100000000000000000000,1.5e-7]}',
      why: 'a JS number has no "float-ness": 1.0 is 1, -0 prints as 0, 1e20 prints in full',
    },
  },
  'enqueue: big integer': {
    args: [Number('9007199254740993'), Number('-9223372036854775808')],
    differs: {
      weWrite: '{"class":"Archive","args":[9007199254740992,-9223372036854776000]}',
      why: 'integers beyond 2^53 round to the nearest double (pass them as strings to keep them exact)',
    },
  },
};

/** Cases other suites own, with the reason they are not replayed here. */
const COVERED_ELSEWHERE: Record<string, string> = {
  'stat processed': 'written by workers (worker tests)',
  'stat failed': 'written by workers (worker tests)',
  'delayed item': 'resque-scheduler keys: no scheduler yet',
  'delayed schedule zset': 'resque-scheduler keys: no scheduler yet',
  'timestamps set': 'resque-scheduler keys: no scheduler yet',
};

const FAILURE_LIST_CASES = [
  'failures after worker run',
  'failure after requeue(0)',
  'failure after remove(1)',
  'multi-queue failure list',
];

const queueOfCase = (c: GoldenCase): string => logicalKey(c.key).replace(/^queue:/, '');
const enqueueCases = Object.entries(ENQUEUE_CASES);
const exactCases = enqueueCases.filter(([, c]) => !c.differs);
const differingCases = enqueueCases.filter(([, c]) => c.differs);

describe('golden vectors from Ruby Resque 3.0', () => {
  const redis = rawRedis();
  let namespace: string;
  let strict: Resque;
  let tagged: Resque;
  const real = (rubyKey: string) => `${namespace}:${logicalKey(rubyKey)}`;

  beforeAll(() => {
    namespace = uniqueNamespace('golden');
    strict = new Resque({ redis: sharedRedisUrl(), namespace, strictPayloads: true });
    tagged = new Resque({ redis: sharedRedisUrl(), namespace: `${namespace}-tagged` });
  });
  afterAll(async () => {
    await strict.close();
    await tagged.close();
    redis.disconnect();
  });

  it('has a replay or a stated owner for every case in the fixture', () => {
    const handled = new Set([
      ...Object.keys(ENQUEUE_CASES),
      ...Object.keys(COVERED_ELSEWHERE),
      ...FAILURE_LIST_CASES,
      'queues set',
      'dequeue class+args',
      'dequeue class only',
      'queue after requeue(0)',
      'failed_queues set',
    ]);
    expect(GOLDEN_CASES.map((c) => c.case).filter((name) => !handled.has(name))).toEqual([]);
    expect(GOLDEN_CASES.filter((c) => c.case.startsWith('enqueue:')).length).toBe(enqueueCases.length);
  });

  describe('enqueue: Ruby bytes exactly, under our namespace', () => {
    it.each(exactCases)('%s', async (name, spec) => {
      const golden = goldenCase(name);
      const className = decodePayload(goldenList(name)[0]!).class;
      if (spec.viaDefinition) await strict.enqueue(Export, ...(spec.args as [number]));
      else await strict.enqueueTo(queueOfCase(golden), className, ...spec.args);
      expect(await redis.type(real(golden.key))).toBe(golden.type);
      expect(await redis.lrange(real(golden.key), 0, -1)).toEqual(golden.value);
    });

    it.each(exactCases)(
      '%s: without strictPayloads, Ruby bytes then "id" and "enqueued_at"',
      async (name, spec) => {
        const golden = goldenCase(name);
        const ruby = goldenList(name)[0]!;
        const queue = queueOfCase(golden);
        const added = spec.viaDefinition
          ? await tagged.enqueue(Export, ...(spec.args as [number]))
          : await tagged.enqueueTo(queue, decodePayload(ruby).class, ...spec.args);
        const [raw] = await redis.lrange(`${namespace}-tagged:${logicalKey(golden.key)}`, -1, -1);
        expect(raw!.startsWith(`${ruby.slice(0, -1)},"id":"${added!.id}","enqueued_at":`)).toBe(true);
        expect(decodePayload(raw!).args).toEqual(decodePayload(ruby).args);
      },
    );

    it.each(differingCases)(
      '%s: JS cannot write these bytes; we write the nearest JSON',
      async (name, spec) => {
        const golden = goldenCase(name);
        await strict.enqueueTo(queueOfCase(golden), 'Archive', ...spec.args);
        expect(await redis.lrange(real(golden.key), 0, -1)).toEqual([spec.differs!.weWrite]);
      },
    );

    it('rejects BigInt arguments before writing, pointing at strings', async () => {
      const big = 9007199254740993n as unknown as number;
      await expect(strict.enqueueTo('golden_bigint_rejected', 'Archive', big)).rejects.toThrow(
        InvalidArgumentsError,
      );
      await expect(strict.enqueueTo('golden_bigint_rejected', 'Archive', big)).rejects.toThrow(/as a string/);
      expect(await redis.exists(`${namespace}:queue:golden_bigint_rejected`)).toBe(0);
    });

    it('leaves the queues set as Ruby did after the same enqueues', async () => {
      const golden = goldenCase('queues set');
      expect(await redis.type(real(golden.key))).toBe('set');
      expect((await redis.smembers(real(golden.key))).sort()).toEqual([...(golden.value as string[])].sort());
    });
  });

  describe.each(differingCases)('%s: Ruby bytes we cannot write but must carry', (name, spec) => {
    const ruby = () => goldenList(name)[0]!;

    it('decodes them to the values a JS caller would pass', () => {
      const payload = decodePayload(ruby());
      expect(payload.class).toBe('Archive');
      expect(payload.args).toEqual(spec.args);
    });

    it('peeks them with the raw bytes intact and dequeues them by decoded class+args', async () => {
      const queue = `ruby_${queueOfCase(goldenCase(name))}`;
      await redis.rpush(`${namespace}:queue:${queue}`, ruby());
      const [item] = await strict.peek(queue);
      expect(item?.raw).toBe(ruby());
      expect(item?.payload?.args).toEqual(spec.args);
      expect(await strict.dequeueFrom(queue, 'Archive', ...spec.args)).toBe(1);
      expect(await strict.size(queue)).toBe(0);
    });

    it('keeps them byte for byte inside failure records and worker statuses', () => {
      const bytes = failureRecordBytes({
        rawPayload: ruby(),
        payload: decodePayload(ruby()) as unknown as JsonValue,
        exception: 'Boom',
        error: 'boom',
        backtrace: [],
        worker: 'vm:1:q',
        queue: 'q',
        failedAt: new Date(Date.UTC(2026, 10, 27, 22, 9, 46)),
      });
      expect(payloadBytesOfRecord(bytes)).toBe(ruby());
      expect(decodeFailureRecord(bytes)?.payload).toEqual(decodePayload(ruby()));
      const status = encodeWorkerStatus('q', '2026-11-27T22:09:46Z', ruby());
      expect(rawPayloadOfStatus(status)).toBe(ruby());
    });
  });

  describe('dequeue', () => {
    // Ruby's "class+args" vector shows the list after Job.destroy('deq', 'Archive', 1, 'a') removed one item: the
    // byte-identical {"class":"Archive","args":[1,"a"]}. We replay it with that item put back at the head.
    const afterRuby = () => goldenList('dequeue class+args');
    const exactItem = '{"class":"Archive","args":[1,"a"]}';

    it('by class+args: removes every item whose decoded class and args match (Ruby removes exact bytes only)', async () => {
      const key = `${namespace}:queue:deq_args`;
      await redis.rpush(key, exactItem, ...afterRuby());
      expect(await strict.dequeueFrom('deq_args', 'Archive', 1, 'a')).toBe(3);
      const left = await redis.lrange(key, 0, -1);
      expect(left).toEqual(['{"class":"Archive","args":[2,"b"]}', '{"class":"Other","args":[1,"a"]}']);
      // Deliberate difference: Ruby's LREM left the item with an extra "id" key and the one with another key order.
      const rubyLeft = afterRuby().filter((item) => !left.includes(item));
      expect(rubyLeft).toEqual([
        '{"class":"Archive","args":[1,"a"],"id":"x1"}',
        '{"args":[1,"a"],"class":"Archive"}',
      ]);
    });

    it('by class only: removes what Ruby removes', async () => {
      const key = `${namespace}:queue:deq_class`;
      await redis.rpush(key, ...afterRuby());
      expect(await strict.dequeueFrom('deq_class', 'Archive')).toBe(3);
      expect(await redis.lrange(key, 0, -1)).toEqual(goldenList('dequeue class only'));
    });
  });

  describe('failure records', () => {
    const records = FAILURE_LIST_CASES.flatMap((name) => goldenList(name).map((raw) => [name, raw] as const));

    it.each(records)('%s: decode → encode is byte-exact: %s', (_name, raw) => {
      const record = decodeFailureRecord(raw);
      expect(record).toBeDefined();
      expect(encodeFailureRecord(record!, payloadBytesOfRecord(raw))).toBe(raw);
      expect(encodeFailureRecord(record!)).toBe(raw);
    });

    it.each(records)('%s: failureRecordBytes rebuilds it from its parts: %s', (_name, raw) => {
      const record = decodeFailureRecord(raw)!;
      const bytes = failureRecordBytes({
        rawPayload: payloadBytesOfRecord(raw),
        payload: record.payload,
        exception: record.exception,
        error: record.error,
        backtrace: record.backtrace,
        worker: record.worker,
        queue: record.queue,
        failedAt: parseResqueTime(record.failed_at),
        ...(record.retried_at ? { extra: { retried_at: record.retried_at } } : {}),
      });
      expect(bytes).toBe(raw);
    });

    it('writes Ruby\'s "failed" list and its RedisMultiQueue lists through the shared write path', async () => {
      const keys = new Keys(namespace);
      for (const [name, backend] of [
        ['failures after worker run', 'redis'],
        ['multi-queue failure list', 'redis_multi_queue'],
      ] as const) {
        const pipeline = redis.pipeline();
        for (const raw of goldenList(name)) {
          const record = decodeFailureRecord(raw)!;
          queueFailureWrite(
            pipeline,
            { keys, config: { failureBackend: backend } },
            {
              rawPayload: payloadBytesOfRecord(raw),
              payload: record.payload,
              exception: record.exception,
              error: record.error,
              backtrace: record.backtrace,
              worker: record.worker,
              queue: record.queue,
              failedAt: parseResqueTime(record.failed_at),
            },
          );
        }
        await pipeline.exec();
        expect(await redis.lrange(real(goldenCase(name).key), 0, -1)).toEqual(goldenList(name));
      }
      const failedQueues = goldenCase('failed_queues set');
      expect(await redis.smembers(real(failedQueues.key))).toEqual(failedQueues.value);
    });

    it('retries with the clean {"class","args"} Ruby pushes back', () => {
      const record = decodeFailureRecord(goldenList('failures after worker run')[0]!)!;
      expect([cleanPayload(record.payload as { class: string; args: JsonValue[] })]).toEqual(
        goldenList('queue after requeue(0)'),
      );
    });
  });
});
