// OpenTelemetry tracing with a real SDK, real Redis and a worker running jobs in its own process: spans per enqueue
// and per perform, the trace context carried in the payload, delayed jobs carrying it in their record.
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { defineJob, Keys, RateLimited, Resque } from '../../src/index.js';
import { tracerSourceFor } from '../../src/observability/tracing.js';
import { bucketSecond } from '../../src/scheduler/delayed-item.js';
import { promoteEarliestSecond } from '../../src/scheduler/promotion.js';
import { Worker } from '../../src/worker/worker.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { type InstalledTracing, installTracing, traceparentOf } from '../harness/tracing.js';

let redis: Redis;
let tracing: InstalledTracing;
let namespace: string;
let keys: Keys;
const closing: Array<() => Promise<unknown>> = [];

beforeAll(() => {
  redis = rawRedis();
  tracing = installTracing();
});
afterAll(async () => {
  redis.disconnect();
  await tracing.uninstall();
});
beforeEach(() => {
  namespace = uniqueNamespace('trace');
  keys = new Keys(namespace);
  tracing.exporter.reset();
});
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

function client(options: { tracing?: boolean; strictPayloads?: boolean } = {}): Resque {
  const resque = new Resque({ redis: sharedRedisUrl(), namespace, tracing: true, ...options });
  closing.push(() => resque.close());
  return resque;
}

async function startWorker(jobs: Parameters<typeof defineJob>[0][] | unknown[], tracingOn = true) {
  const worker = new Worker({
    redis: sharedRedisUrl(),
    namespace,
    queues: ['q'],
    jobs: jobs as never,
    isolation: 'none',
    tracing: tracingOn,
    setProcessTitle: false,
    logLevel: 'silent',
    promoteDelayed: false,
  });
  closing.push(() => worker.stop('term'));
  await worker.start();
  return worker;
}

/** Runs `work` inside an application span, as a web request's handler would. */
function inRequest<T>(work: () => Promise<T>): Promise<T> {
  return trace.getTracer('app').startActiveSpan('request', async (span) => {
    try {
      return await work();
    } finally {
      span.end();
    }
  });
}

const Traced = defineJob({
  className: 'Traced',
  queue: 'q',
  perform: async (_ctx, n: number) => {
    trace.getTracer('app').startActiveSpan('inside job', (span) => {
      span.setAttribute('n', n);
      span.end();
    });
  },
});

describe('tracing on', () => {
  it("an enqueue's span carries its context in the payload; the perform span continues that trace, with the job's own spans under it", async () => {
    const worker = await startWorker([Traced]);
    const resque = client();
    const enqueued = await inRequest(() => resque.enqueue(Traced, 7));
    const [request] = tracing.spans('request');
    const [enqueue] = tracing.spans('enqueue');
    expect(enqueue?.kind).toBe(SpanKind.PRODUCER);
    expect(enqueue?.name).toBe('enqueue q');
    expect(enqueue?.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    expect(enqueue?.attributes).toEqual({
      'messaging.system': 'resque',
      'messaging.destination.name': 'q',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'enqueue',
      'messaging.message.id': enqueued?.id,
      'resque.job.class': 'Traced',
    });
    const perform = await waitFor(async () => tracing.spans('perform')[0], 10_000, 'a perform span');
    expect(perform.kind).toBe(SpanKind.CONSUMER);
    expect(perform.name).toBe('perform q');
    expect(perform.spanContext().traceId).toBe(request?.spanContext().traceId);
    expect(perform.parentSpanContext?.spanId).toBe(enqueue?.spanContext().spanId);
    expect(perform.attributes).toEqual({
      'messaging.system': 'resque',
      'messaging.destination.name': 'q',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'perform',
      'messaging.message.id': enqueued?.id,
      'resque.job.class': 'Traced',
      'resque.job.attempt': 1,
      'resque.job.returns': 0,
      'resque.worker.id': expect.any(String),
      'resque.job.outcome': 'performed',
    });
    expect(worker.slotIds).toContain(perform.attributes['resque.worker.id']);
    expect(perform.status.code).toBe(SpanStatusCode.UNSET);
    const [inside] = tracing.spans('inside job');
    expect(inside?.parentSpanContext?.spanId).toBe(perform.spanContext().spanId);
  });

  it('writes the context as the last payload key, after the others', async () => {
    const resque = client();
    const { id } = (await inRequest(() => resque.enqueueTo('q', 'Plain', 1))) ?? {};
    const [raw] = await redis.lrange(keys.queue('q'), 0, -1);
    const [enqueue] = tracing.spans('enqueue');
    expect(raw).toMatch(
      new RegExp(
        `^\\{"class":"Plain","args":\\[1\\],"id":"${id}","enqueued_at":[0-9.]+,"trace":\\{"traceparent":"${traceparentOf(enqueue!)}"\\}\\}$`,
      ),
    );
  });

  it('a bulk enqueue is one span whose context every job carries', async () => {
    const resque = client();
    await resque.enqueueBulk(Traced, [[1], [2], [3]]);
    const spans = tracing.spans('enqueue');
    expect(spans).toHaveLength(1);
    expect(spans[0]?.attributes['messaging.batch.message_count']).toBe(3);
    expect(spans[0]?.attributes['messaging.message.id']).toBeUndefined();
    const payloads = (await redis.lrange(keys.queue('q'), 0, -1)).map((raw) => JSON.parse(raw));
    expect(payloads.map((p) => p.trace)).toEqual(Array(3).fill({ traceparent: traceparentOf(spans[0]!) }));
  });

  it('a failed attempt is an error span; its retry continues the same trace', async () => {
    let attempts = 0;
    const Flaky = defineJob({
      className: 'Flaky',
      queue: 'q',
      attempts: 2,
      backoff: { type: 'fixed', delayMs: 0 },
      perform: async () => {
        attempts++;
        throw new TypeError(`broken ${attempts}`);
      },
    });
    await startWorker([Flaky]);
    const resque = client();
    await inRequest(() => resque.enqueue(Flaky));
    const [enqueue] = tracing.spans('enqueue');
    // The retry is filed for now; a worker moves due retries on its own.
    const performs = await waitFor(
      async () => {
        const spans = tracing.spans('perform');
        return spans.length === 2 ? spans : undefined;
      },
      15_000,
      'two perform spans',
    );
    const [first, second] = performs;
    for (const span of performs) {
      expect(span.parentSpanContext?.spanId).toBe(enqueue?.spanContext().spanId);
      expect(span.status).toEqual({
        code: SpanStatusCode.ERROR,
        message: expect.stringMatching(/^TypeError: broken/),
      });
      expect(span.events.find((event) => event.name === 'exception')?.attributes).toMatchObject({
        'exception.type': 'TypeError',
      });
    }
    expect(first?.attributes).toMatchObject({ 'resque.job.attempt': 1, 'resque.job.outcome': 'retrying' });
    expect(second?.attributes).toMatchObject({ 'resque.job.attempt': 2, 'resque.job.outcome': 'failed' });
  });

  it('a rate-limited perform is marked given back, not an error', async () => {
    let calls = 0;
    const Limited = defineJob({
      className: 'Limited',
      queue: 'q',
      perform: async () => {
        calls++;
        if (calls === 1) throw new RateLimited(50, 'slow down');
      },
    });
    await startWorker([Limited]);
    await client().enqueue(Limited);
    const [limited] = await waitFor(
      async () => {
        const spans = tracing.spans('perform');
        return spans.length === 2 ? spans : undefined;
      },
      15_000,
      'two perform spans',
    );
    expect(limited?.attributes).toMatchObject({
      'resque.job.outcome': 'given-back',
      'resque.job.rate_limited_ms': 50,
    });
    expect(limited?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("a delayed job's context waits in its record, not in resque-scheduler's item, and reaches the payload on promotion", async () => {
    const resque = client();
    const dueMs = Date.UTC(2100, 0, 1, 0, 0, 0, 500);
    const scheduled = await inRequest(() => resque.enqueueAt(new Date(dueMs), Traced, 9));
    const [request] = tracing.spans('request');
    const [schedule] = tracing.spans('schedule');
    expect(schedule?.kind).toBe(SpanKind.PRODUCER);
    expect(schedule?.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    expect(schedule?.attributes).toMatchObject({
      'messaging.operation.name': 'schedule',
      'messaging.message.id': scheduled?.id,
    });
    const second = bucketSecond(dueMs);
    expect(await redis.lrange(keys.delayedAt(second), 0, -1)).toEqual([
      '{"class":"Traced","args":[9],"queue":"q"}',
    ]);
    const moved = await promoteEarliestSecond(
      { redis, keys, strictPayloads: false },
      (second + 1) * 1000,
      10,
    );
    expect(moved.moved).toBe(1);
    const [raw] = await redis.lrange(keys.queue('q'), 0, -1);
    expect(JSON.parse(raw!)).toMatchObject({
      class: 'Traced',
      id: scheduled?.id,
      trace: { traceparent: traceparentOf(schedule!) },
    });
    expect(raw).toMatch(/,"trace":\{[^}]*\}\}$/);
  });

  it('strict payloads carry no context; the enqueue still has its span', async () => {
    const resque = client({ strictPayloads: true });
    await resque.enqueue(Traced, 1);
    expect(await redis.lrange(keys.queue('q'), 0, -1)).toEqual(['{"class":"Traced","args":[1]}']);
    expect(tracing.spans('enqueue')).toHaveLength(1);
  });
});

describe('tracing off', () => {
  it('writes no context and makes no span, though the application has a tracer provider', async () => {
    const resque = client({ tracing: false });
    await inRequest(() => resque.enqueue(Traced, 1));
    const [raw] = await redis.lrange(keys.queue('q'), 0, 0);
    expect(raw).not.toContain('"trace"');
    await startWorker([Traced], false);
    await waitFor(async () => (await redis.get(keys.processed)) === '1', 10_000, 'processed');
    expect(tracing.spans('enqueue')).toEqual([]);
    expect(tracing.spans('perform')).toEqual([]);
    expect(tracing.spans('inside job')).toHaveLength(1);
  });

  it('is switched on by RESQUE_TRACING, and is off by default', () => {
    expect(resolveConfig({}, {}).tracing).toBe(false);
    expect(resolveConfig({}, { RESQUE_TRACING: '1' }).tracing).toBe(true);
    expect(resolveConfig({ tracing: false }, { RESQUE_TRACING: '1' }).tracing).toBe(false);
  });

  it('switched on without @opentelemetry/api installed is a clear error where it is switched on', () => {
    expect(() => tracerSourceFor({ tracing: true }, '@opentelemetry/not-installed')).toThrow(
      'Invalid option "tracing": tracing needs the @opentelemetry/not-installed package, which is not installed',
    );
    expect(tracerSourceFor({ tracing: false }, '@opentelemetry/not-installed')).toBeUndefined();
  });
});
