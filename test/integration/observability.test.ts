// What a worker shows of itself besides Redis: a log line per job, the error reporter, and its metrics (over its
// metrics port or on an application's registry). Real workers on the shared redis-server.
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { defineJob, Resque } from '../../src/index.js';
import type { ErrorContext, ReportedJob } from '../../src/observability/error-reporter.js';
import { Worker, type WorkerOptions } from '../../src/worker/worker.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { spawnWorker } from '../harness/processes.js';
import { sample } from '../harness/prometheus.js';

const APP_CONFIG = fileURLToPath(new URL('../fixtures/cli/observed-app.mjs', import.meta.url));

import { freePort } from '../harness/redis-server.js';

const workers: Worker[] = [];
const clients: Resque[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop('term')));
  await Promise.all(clients.splice(0).map((c) => c.close()));
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

function client(namespace: string): Resque {
  const resque = new Resque({ redis: sharedRedisUrl(), namespace });
  clients.push(resque);
  return resque;
}

/** JSON lines written by a pino logger, parsed. */
function jsonLines(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stream, lines };
}

class PaymentDeclined extends Error {
  override name = 'PaymentDeclined';
  constructor(readonly orderId: number) {
    super(`order ${orderId} was declined`);
  }
}

const Ok = defineJob({ className: 'Ok', queue: 'q', perform: async (_ctx, _n: number) => {} });
const Declined = defineJob({
  className: 'Billing::Charge',
  queue: 'q',
  perform: async (_ctx, orderId: number) => {
    throw new PaymentDeclined(orderId);
  },
});

describe('per-job log lines', () => {
  it('logs each start at debug, each finish at info and each failure at warn, with the job and its duration', async () => {
    const namespace = uniqueNamespace('joblog');
    const { stream, lines } = jsonLines();
    const worker = startWorker({
      namespace,
      queues: ['q'],
      jobs: [Ok, Declined],
      logger: pino({ level: 'debug' }, stream),
    });
    await worker.start();
    const resque = client(namespace);
    const ok = await resque.enqueue(Ok, 1);
    const declined = await resque.enqueue(Declined, 7);
    const byMessage = (msg: string) => lines().filter((line) => line['msg'] === msg);
    await waitFor(() => byMessage('Job failed').length === 1, 10_000, 'the failure line');
    const [started] = byMessage('Job started');
    expect(started).toMatchObject({ level: 20, class: 'Ok', queue: 'q', jobId: ok!.id, attempt: 1 });
    expect(started!['worker']).toBe(worker.id);
    const [finished] = byMessage('Job finished');
    expect(finished).toMatchObject({ level: 30, class: 'Ok', outcome: 'performed', jobId: ok!.id });
    expect(finished!['durationMs']).toEqual(expect.any(Number));
    expect(byMessage('Job failed')[0]).toMatchObject({
      level: 40,
      class: 'Billing::Charge',
      queue: 'q',
      jobId: declined!.id,
      attempt: 1,
      outcome: 'failed',
      exception: 'PaymentDeclined',
      error: 'order 7 was declined',
    });
  });

  it('writes only failures at the default level, and nothing is built for the levels that are off', async () => {
    const namespace = uniqueNamespace('joblog');
    const calls: Array<{ level: string; message: string }> = [];
    const asked: string[] = [];
    const logger = {
      error: (message: string) => void calls.push({ level: 'error', message }),
      warn: (message: string) => void calls.push({ level: 'warn', message }),
      info: (message: string) => void calls.push({ level: 'info', message }),
      debug: (message: string) => void calls.push({ level: 'debug', message }),
      isLevelEnabled: (level: string) => {
        asked.push(level);
        return level === 'warn' || level === 'error';
      },
    };
    const worker = startWorker({ namespace, queues: ['q'], jobs: [Ok, Declined], logger });
    await worker.start();
    const resque = client(namespace);
    await resque.enqueue(Ok, 1);
    await resque.enqueue(Declined, 2);
    await waitFor(() => calls.some((c) => c.message === 'Job failed'), 10_000, 'the failure line');
    expect(calls.filter((c) => c.message.startsWith('Job '))).toEqual([
      { level: 'warn', message: 'Job failed' },
    ]);
    expect(asked).toContain('debug');
    expect(asked).toContain('info');
  });
});

describe('errorReporter', () => {
  it('gets the error the job threw, the job and where it ran, once per failed attempt', async () => {
    const namespace = uniqueNamespace('reporter');
    const reports: Array<{ error: Error; job: ReportedJob; context: ErrorContext }> = [];
    const worker = startWorker({
      namespace,
      queues: ['q'],
      jobs: [Ok, Declined],
      errorReporter: (error, job, context) => void reports.push({ error, job, context }),
    });
    await worker.start();
    const resque = client(namespace);
    await resque.enqueue(Ok, 1);
    const declined = await resque.enqueue(Declined, 42);
    await waitFor(() => reports.length === 1, 10_000, 'the report');
    const [{ error, job, context }] = reports as [(typeof reports)[0]];
    expect(error).toBeInstanceOf(PaymentDeclined);
    expect((error as PaymentDeclined).orderId).toBe(42);
    expect(job).toEqual({ class: 'Billing::Charge', args: [42], queue: 'q', id: declined!.id });
    expect(context).toMatchObject({
      workerId: worker.id,
      attempt: 1,
      kind: 'failed',
      exception: 'PaymentDeclined',
    });
    expect(context.backtrace.length).toBeGreaterThan(0);
    expect(context.payload).toMatchObject({ class: 'Billing::Charge', args: [42] });
    // The failure record was written before the reporter heard of it.
    const redis = rawRedis();
    expect(await redis.llen(`${namespace}:failed`)).toBe(1);
    redis.disconnect();
  });

  it('hears of each failed attempt of a retried job, the last one final, and logs each at warn', async () => {
    const namespace = uniqueNamespace('reporter');
    const Flaky = defineJob({
      className: 'Flaky',
      queue: 'q',
      attempts: 2,
      backoff: { type: 'fixed', delayMs: 0 },
      perform: async (ctx, _n: number) => {
        throw new Error(`attempt ${ctx.attempt} failed`);
      },
    });
    const contexts: ErrorContext[] = [];
    const messages: string[] = [];
    const { stream, lines } = jsonLines();
    const worker = startWorker({
      namespace,
      queues: ['q'],
      jobs: [Flaky],
      logger: pino({ level: 'warn' }, stream),
      errorReporter: (error, _job, context) => {
        messages.push(error.message);
        contexts.push(context);
      },
    });
    await worker.start();
    await client(namespace).enqueue(Flaky, 1);
    await waitFor(() => contexts.length === 2, 15_000, 'two reports');
    expect(messages).toEqual(['attempt 1 failed', 'attempt 2 failed']);
    expect(contexts[0]).toMatchObject({ attempt: 1, kind: 'retrying', retry: { attempts: 2, inMs: 0 } });
    expect(contexts[1]).toMatchObject({ attempt: 2, kind: 'failed', retry: undefined });
    const failures = lines().filter((line) => String(line['msg']).startsWith('Job failed'));
    expect(failures.map((line) => [line['msg'], line['attempt'], line['outcome']])).toEqual([
      ['Job failed, retrying', 1, 'retrying'],
      ['Job failed', 2, 'failed'],
    ]);
    expect(failures[0]).toMatchObject({ attempts: 2, retryInMs: 0 });
  });

  it('logs a reporter that throws or rejects, and the worker keeps working', async () => {
    const namespace = uniqueNamespace('reporter');
    const warnings: string[] = [];
    let calls = 0;
    const worker = startWorker({
      namespace,
      queues: ['q'],
      jobs: [Ok, Declined],
      logger: { error() {}, warn: (m: string) => void warnings.push(m), info() {}, debug() {} },
      errorReporter: (error) => {
        calls++;
        if (calls === 1) throw new Error('tracker down');
        return Promise.reject(new Error(`tracker said no to ${error.name}`));
      },
    });
    await worker.start();
    const resque = client(namespace);
    await resque.enqueue(Declined, 1);
    await resque.enqueue(Declined, 2);
    await resque.enqueue(Ok, 3);
    const redis = rawRedis();
    await waitFor(
      async () => (await redis.get(`${namespace}:stat:processed`)) === '3',
      10_000,
      '3 processed',
    );
    await waitFor(() => warnings.length >= 2, 5000, 'the two complaints');
    expect(warnings.filter((w) => w.startsWith('The error reporter failed'))).toEqual([
      'The error reporter failed: tracker down',
      'The error reporter failed: tracker said no to PaymentDeclined',
    ]);
    redis.disconnect();
  });
});

describe('metrics', () => {
  it('serves jobs by outcome, durations, queue waits, slots and process metrics on the metrics port', async () => {
    const namespace = uniqueNamespace('metrics');
    const port = await freePort();
    const worker = startWorker({
      namespace,
      queues: ['q'],
      concurrency: 3,
      jobs: [Ok, Declined],
      metricsPort: port,
      listenHost: '127.0.0.1',
    });
    await worker.start();
    const resque = client(namespace);
    await resque.enqueueBulk(Ok, [[1], [2]]);
    await resque.enqueue(Declined, 3);
    const scrape = async () => {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return response.text();
    };
    const text = await waitFor(
      async () => {
        const body = await scrape();
        return sample(body, 'resque_jobs_total', { class: 'Billing::Charge' }) === 1 ? body : undefined;
      },
      10_000,
      'the failure counted',
    );
    expect(sample(text, 'resque_jobs_total', { queue: 'q', class: 'Ok', outcome: 'performed' })).toBe(2);
    expect(sample(text, 'resque_jobs_total', { class: 'Billing::Charge', outcome: 'failed' })).toBe(1);
    expect(sample(text, 'resque_job_duration_seconds_count', { queue: 'q', class: 'Ok' })).toBe(2);
    expect(sample(text, 'resque_job_queue_wait_seconds_count', { queue: 'q' })).toBe(3);
    expect(sample(text, 'resque_worker_slots', { state: 'idle' })).toBe(3);
    expect(sample(text, 'resque_worker_slots', { state: 'busy' })).toBe(0);
    expect(sample(text, 'resque_worker_paused')).toBe(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${port}/nothing`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(405);
    await worker.pause();
    expect(sample(await scrape(), 'resque_worker_paused')).toBe(1);
    await worker.stop('term');
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it("puts the metrics of several workers on an application's registry, their slots summed", async () => {
    const namespace = uniqueNamespace('metrics');
    const registry = new Registry();
    // Workers of one process need queue lists of their own: their ids (host:pid:queues) must differ.
    const first = startWorker({
      namespace,
      queues: ['q'],
      concurrency: 2,
      jobs: [Ok],
      metricsRegistry: registry,
    });
    const second = startWorker({
      namespace,
      queues: ['other'],
      concurrency: 3,
      jobs: [Ok],
      metricsRegistry: registry,
    });
    await first.start();
    await second.start();
    const resque = client(namespace);
    await resque.enqueueBulk(Ok, [[1], [2]]);
    await resque.enqueueTo('other', Ok, 3);
    await resque.enqueueTo('other', Ok, 4);
    await waitFor(
      async () => {
        const text = await registry.metrics();
        return (
          sample(text, 'resque_jobs_total', { queue: 'q', outcome: 'performed' }) === 2 &&
          sample(text, 'resque_jobs_total', { queue: 'other', outcome: 'performed' }) === 2
        );
      },
      10_000,
      '2 jobs counted per queue',
    );
    const text = await registry.metrics();
    expect(sample(text, 'resque_worker_slots', { state: 'idle' })).toBe(5);
    expect(sample(text, 'process_resident_memory_bytes')).toBeUndefined();
    await second.stop('term');
    expect(sample(await registry.metrics(), 'resque_worker_slots', { state: 'idle' })).toBe(2);
  });

  it('refuses to start when its port is taken, leaving nothing registered', async () => {
    const namespace = uniqueNamespace('metrics');
    const taken = createServer();
    const port = await new Promise<number>((resolve) =>
      taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)),
    );
    try {
      const worker = startWorker({
        namespace,
        queues: ['q'],
        jobs: [Ok],
        healthPort: port,
        listenHost: '127.0.0.1',
      });
      await expect(worker.start()).rejects.toMatchObject({ code: 'EADDRINUSE', option: '--health-port' });
      const redis = rawRedis();
      expect(await redis.scard(`${namespace}:workers`)).toBe(0);
      redis.disconnect();
    } finally {
      taken.close();
    }
  });
});

describe('resque work with an application config module', () => {
  it("takes the module's logger and error reporter; a supervised child's error reaches the reporter rebuilt", async () => {
    const namespace = uniqueNamespace('app-config');
    const worker = spawnWorker(
      {
        REDIS_URL: sharedRedisUrl(),
        RESQUE_NAMESPACE: namespace,
        QUEUES: 'q',
        INTERVAL: '0.2',
        COUNT: '1',
      },
      ['--config', APP_CONFIG],
    );
    try {
      const resque = client(namespace);
      await resque.enqueueTo('q', 'Refund', 7);
      const redis = rawRedis();
      const raw = await waitFor(
        async () => (await redis.lrange(`${namespace}:test:reports`, 0, -1))[0],
        45_000,
        'the report',
      );
      redis.disconnect();
      expect(JSON.parse(raw)).toEqual({
        name: 'RangeError',
        message: 'refund 7 is over the limit',
        job: { class: 'Refund', args: [7], queue: 'q', id: expect.any(String) },
        kind: 'failed',
        pid: worker.pid,
      });
      const failed = await waitFor(
        () =>
          worker
            .output()
            .split('\n')
            .filter((line) => line.startsWith('{'))
            .map((line) => JSON.parse(line) as Record<string, unknown>)
            .find((line) => line['msg'] === 'Job failed'),
        5000,
        'the failure line',
      );
      expect(failed).toMatchObject({ app: 'billing', level: 40, class: 'Refund', exception: 'RangeError' });
    } finally {
      worker.child.kill('SIGKILL');
    }
  });
});
