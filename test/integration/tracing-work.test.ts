// Tracing with `resque work`: the perform span is made in the process that runs the job (a supervised child, or the
// worker itself with `--isolation none`), by the tracer provider the application's `--require` module registers
// there, and that process flushes it before it leaves.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpanKind, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { spawnWorker, type WorkerProcess } from '../harness/processes.js';
import { type InstalledTracing, installTracing } from '../harness/tracing.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/tracing/', import.meta.url));

interface WrittenSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  attributes: Record<string, unknown>;
  pid: number;
}

let tracing: InstalledTracing;
let dir: string;
const workers: WorkerProcess[] = [];

beforeAll(() => {
  tracing = installTracing();
  dir = mkdtempSync(join(tmpdir(), 'resque-spans-'));
});
afterAll(async () => {
  for (const worker of workers) worker.signal('SIGKILL');
  await tracing.uninstall();
  rmSync(dir, { recursive: true, force: true });
});

function written(file: string): WrittenSpan[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as WrittenSpan);
  } catch {
    return [];
  }
}

describe('tracing with resque work', () => {
  it.each([
    {
      isolation: 'process',
      // The child leaves after one job: its spans reach the file only through its flush on the way out.
      env: { RESQUE_MAX_JOBS_PER_CHILD: '1' },
      ranInWorker: false,
    },
    { isolation: 'none', env: {} as Record<string, string>, ranInWorker: true },
  ])(
    "continues the enqueue's trace where the job runs (isolation $isolation), and flushes the spans as that process leaves",
    async ({ isolation, env, ranInWorker }) => {
      tracing.exporter.reset();
      const namespace = uniqueNamespace('trace-work');
      const file = join(dir, `${namespace}.jsonl`);
      const worker = spawnWorker(
        {
          REDIS_URL: sharedRedisUrl(),
          RESQUE_NAMESPACE: namespace,
          RESQUE_ISOLATION: isolation,
          RESQUE_TEST_SPANS: file,
          COUNT: '1',
          QUEUES: 'q',
          INTERVAL: '0.2',
          ...env,
        },
        ['--tracing', '--require', `${FIXTURES}setup.mjs`, '--require', `${FIXTURES}jobs.mjs`],
      );
      workers.push(worker);
      const resque = new Resque({ redis: sharedRedisUrl(), namespace, tracing: true });
      try {
        const enqueued = await trace.getTracer('app').startActiveSpan('request', async (span) => {
          try {
            return await resque.enqueueTo('q', 'TracedInChild');
          } finally {
            span.end();
          }
        });
        const [enqueue] = tracing.spans('enqueue');
        if (ranInWorker) {
          // The worker's own process exports its spans when it stops.
          const redis = resque.redis;
          await waitFor(
            async () => (await redis.get(`${namespace}:stat:processed`)) === '1',
            45_000,
            'processed',
          );
          worker.signal('SIGQUIT');
        }
        const spans = await waitFor(
          async () => {
            const all = written(file);
            return all.some((span) => span.name === 'inside job') ? all : undefined;
          },
          45_000,
          `spans in ${file}\n${worker.output()}`,
        );
        const perform = spans.find((span) => span.name === 'perform q');
        const inside = spans.find((span) => span.name === 'inside job');
        expect(perform).toMatchObject({
          kind: SpanKind.CONSUMER,
          traceId: enqueue?.spanContext().traceId,
          parentSpanId: enqueue?.spanContext().spanId,
          attributes: {
            'messaging.system': 'resque',
            'messaging.message.id': enqueued?.id,
            'resque.job.class': 'TracedInChild',
            'resque.job.outcome': 'performed',
          },
        });
        expect(perform?.pid === worker.pid).toBe(ranInWorker);
        expect(inside?.parentSpanId).toBe(perform?.spanId);
        expect(inside?.pid).toBe(perform?.pid);
      } finally {
        await resque.close();
      }
    },
  );
});
