// What observability costs a worker: in-process concurrency-50 throughput of no-op jobs with the default log level
// (warn) and metrics off, the same with metrics on (prom-client, a metrics port), and with a log line per job
// (info), and with OpenTelemetry tracing on (a real SDK: batch span processor, an exporter that drops the spans).
// Runs are interleaved so that the machine's load drifts over all of them alike. Own redis-server on a free port;
// logs go to /dev/null.
// Then the per-job cost alone: the same job events fed straight to the observers, without Redis, in ns per job, and
// a perform span alone.
// Usage: npm run build && node bench/observability.mjs [--quick] [--jobs 30000] [--runs 6] [--write]

import { EventEmitter } from 'node:events';
import { createWriteStream, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { defineJob, Resque } from '../dist/index.js';
import { createLogger } from '../dist/logging/logger.js';
import { jobLog } from '../dist/observability/job-log.js';
import { JobObserver } from '../dist/observability/job-observer.js';
import { WorkerMetrics } from '../dist/observability/metrics.js';
import { loadJobTracer } from '../dist/observability/tracing.js';
import { freeLoopbackPort } from '../dist/redis/server-process.js';
import { Reservation } from '../dist/worker/fetch/reservation.js';
import { Worker } from '../dist/worker/worker.js';
import { startRedisServer } from './lib/redis-server.mjs';
import { median } from './lib/stats.mjs';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string' },
    runs: { type: 'string' },
    quick: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
  },
});
const JOBS = Number(values.jobs ?? (values.quick ? 10_000 : 30_000));
const RUNS = Number(values.runs ?? (values.quick ? 3 : 6));
const QUEUE = 'obs';
const ObsNoop = defineJob({ className: 'ObsNoop', queue: QUEUE, perform: async () => {} });
const devNull = createWriteStream('/dev/null');

const CASES = [
  { name: 'warn, metrics off', level: 'warn', metrics: false },
  { name: 'warn, metrics on', level: 'warn', metrics: true },
  { name: "warn, metrics on an application's registry", level: 'warn', metrics: 'registry' },
  { name: 'info (a line per job), metrics on', level: 'info', metrics: true },
  { name: 'warn, metrics off, tracing on', level: 'warn', metrics: false, tracing: true },
  { name: 'warn, metrics on, tracing on', level: 'warn', metrics: true, tracing: true },
];

/** The application's OpenTelemetry setup, as a real one is, but its exporter only counts the spans. */
const exported = { spans: 0 };
const provider = new BasicTracerProvider({
  spanProcessors: [
    new BatchSpanProcessor({
      export(spans, done) {
        exported.spans += spans.length;
        done({ code: 0 });
      },
      shutdown: async () => {},
    }),
  ],
});
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(provider);

let namespaceCounter = 0;

/** Jobs per second draining a backlog of JOBS no-op jobs with one in-process worker at concurrency 50. */
async function throughput(url, { level, metrics, tracing = false }) {
  const namespace = `obs${++namespaceCounter}`;
  const resque = new Resque({ redis: url, namespace, tracing });
  const port = metrics === true ? await freeLoopbackPort() : 0;
  const registry = metrics === 'registry' ? new Registry() : undefined;
  const worker = new Worker({
    redis: url,
    namespace,
    queues: [QUEUE],
    jobs: [ObsNoop],
    concurrency: 50,
    isolation: 'none',
    setProcessTitle: false,
    logger: createLogger(level, devNull, 'json'),
    metricsPort: port,
    metricsRegistry: registry,
    listenHost: '127.0.0.1',
    tracing,
  });
  try {
    for (let i = 0; i < JOBS; i += 5000) {
      const batch = Array.from({ length: Math.min(5000, JOBS - i) }, (_, k) => [i + k]);
      await resque.enqueueBulk(ObsNoop, batch);
    }
    let finished = 0;
    let resolveDone;
    const done = new Promise((resolve) => {
      resolveDone = resolve;
    });
    worker.on('job:finish', () => {
      if (++finished === JOBS) resolveDone(performance.now());
    });
    const start = performance.now();
    await worker.start();
    const end = await done;
    if (metrics) {
      const text = registry
        ? await registry.metrics()
        : await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      if (!text.includes(`resque_jobs_total{queue="${QUEUE}",class="ObsNoop",outcome="performed"} ${JOBS}`))
        throw new Error('the metrics did not count every job');
    }
    if (tracing) {
      const before = exported.spans;
      await provider.forceFlush();
      if (exported.spans === before) throw new Error('tracing made no spans');
    }
    return JOBS / ((end - start) / 1000);
  } finally {
    await worker.stop('graceful');
    await resque.close();
  }
}

/**
 * ns per job of the observers alone: `job:start` and `job:finish` of `n` reservations (payloads decoded beforehand,
 * as the executor has done by then) on an emitter with the case's watchers, median of 5 passes.
 */
function perJobCost({ level, metrics }, n = 200_000) {
  const events = new EventEmitter();
  const logger = createLogger(level, devNull, 'json');
  const observer = new JobObserver(events, logger);
  observer.add(jobLog(logger));
  if (metrics) {
    observer.add(
      new WorkerMetrics(
        { slots: 50, busySlots: () => 0, paused: () => false, executorStats: () => undefined },
        { registry: new Registry() },
      ),
    );
  }
  const reservations = Array.from({ length: 1000 }, (_, i) => {
    const r = new Reservation({
      slotId: 'h:1:obs',
      token: 't',
      queue: QUEUE,
      raw: `{"class":"ObsNoop","args":[${i}],"id":"id${i}","enqueued_at":${Date.now() / 1000}}`,
    });
    void r.payload;
    return r;
  });
  const outcome = { kind: 'performed' };
  const passes = [];
  for (let pass = 0; pass < 5; pass++) {
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const r = reservations[i % 1000];
      events.emit('job:start', r);
      events.emit('job:finish', r, outcome);
    }
    passes.push(((performance.now() - start) * 1e6) / n);
  }
  observer.close();
  return median(passes);
}

/**
 * ns per job of a perform span alone: one with a payload's context around a job that does nothing, made and ended
 * on the SDK above, median of 5 passes.
 */
async function perSpanCost(n = 100_000) {
  const tracer = await loadJobTracer();
  const carrier = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
  const info = {
    queue: QUEUE,
    className: 'ObsNoop',
    jobId: 'id',
    attempt: 1,
    returns: 0,
    workerId: 'h:1:obs',
  };
  const outcome = { kind: 'performed' };
  const perform = async () => outcome;
  const passes = [];
  for (let pass = 0; pass < 5; pass++) {
    const start = performance.now();
    for (let i = 0; i < n; i++) await tracer.consume(info, carrier, perform);
    passes.push(((performance.now() - start) * 1e6) / n);
    await provider.forceFlush();
  }
  const base = [];
  for (let pass = 0; pass < 5; pass++) {
    const start = performance.now();
    for (let i = 0; i < n; i++) await perform();
    base.push(((performance.now() - start) * 1e6) / n);
  }
  return median(passes) - median(base);
}

const server = await startRedisServer();
const loadBefore = loadavg();
const rates = CASES.map(() => []);
try {
  const began = performance.now();
  for (let run = 0; run < RUNS; run++) {
    for (const [i, c] of CASES.entries()) {
      const rate = await throughput(server.url, c);
      rates[i].push(rate);
      console.log(`run ${run + 1}, ${c.name}: ${Math.round(rate)} jobs/s`);
    }
  }
  const seconds = (performance.now() - began) / 1000;
  // Tracing adds nothing to the observers: its per-job cost is the perform span's, measured alone.
  const observed = CASES.filter((c) => !c.tracing);
  const costs = observed.map((c) => perJobCost(c));
  for (const [i, c] of observed.entries()) console.log(`per job, ${c.name}: ${costs[i].toFixed(0)} ns`);
  const spanCost = await perSpanCost();
  console.log(`per job, a perform span: ${spanCost.toFixed(0)} ns`);
  const report = render(await server.version(), seconds, costs, spanCost);
  console.log(`\n${report}`);
  if (values.write) writeFileSync(new URL('./RESULTS-observability.md', import.meta.url), report);
} finally {
  await server.stop();
  await provider.shutdown();
  devNull.end();
}

function render(redisVersion, seconds, costs, spanCost) {
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  const load = (figures) => figures.map((n) => n.toFixed(1)).join(', ');
  const rows = CASES.map((c, i) => {
    // Each round ran the cases side by side: the ratio within a round is what survives the machine's drift.
    const ratios = rates[i].map((rate, round) => rate / rates[0][round]);
    return (
      `| ${c.name} | ${fmt(median(rates[i]))} | ${fmt(Math.max(...rates[i]))} | ` +
      `${median(ratios).toFixed(2)} | ${rates[i].map(fmt).join(', ')} |`
    );
  });
  return [
    '# What observability costs a worker',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} with \`node bench/observability.mjs --write\` on ` +
      `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}, ` +
      `Redis ${redisVersion} on the same machine (its own redis-server on a free port). One in-process worker ` +
      `(\`isolation: 'none'\`) at concurrency 50 drains ${fmt(JOBS)} queued no-op jobs, so the figures are the ` +
      'cost of the machinery around a job. The cases run in turn, each once per round, ' +
      `${RUNS} rounds in ${seconds.toFixed(0)} s. Logs go to /dev/null through the default pino logger; "metrics on" ` +
      "serves a metrics port with prom-client's process metrics (GC, event-loop lag, memory); on an application's " +
      'registry the worker adds its own metrics only. Each run ends with a scrape that checks every job was counted. ' +
      '"tracing on" turns `tracing` on for the client and the worker, with the OpenTelemetry SDK registered (a ' +
      'batch span processor whose exporter drops the spans): a span per bulk enqueue of 5,000 and per perform, the ' +
      'context carried in every payload.',
    '',
    `Load average before the run: ${load(loadBefore)}; after: ${load(loadavg())}. On a shared machine rates swing ` +
      'from run to run by more than observability costs at the default level: the ratios compare runs made side by ' +
      'side, and the per-job table below isolates the cost itself.',
    '',
    `## Throughput, median of ${RUNS}`,
    '',
    '| case | median jobs/s | best jobs/s | vs metrics off (median of per-round ratios) | runs |',
    '| --- | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    '## Per-job cost alone',
    '',
    'The same `job:start` and `job:finish` events fed straight to the observers, 200,000 jobs, without Redis or a',
    'worker around them (median of 5 passes): what each case adds to every job, less sensitive to the load than the',
    'throughput above.',
    '',
    '| case | ns per job |',
    '| --- | ---: |',
    ...CASES.filter((c) => !c.tracing).map((c, i) => `| ${c.name} | ${fmt(costs[i])} |`),
    `| a perform span alone (context extracted from the payload, span made, attributes set, ended, batched) | ${fmt(spanCost)} |`,
    '',
    'At the default level a job costs the observers two timestamps (for the duration in the failure line) and a',
    'level check per line. Metrics add a counter and a histogram per job (and a queue-wait histogram for jobs that',
    'carry `enqueued_at`), kept as plain numbers per label combination and read by prom-client only when scraped',
    "(`src/observability/tally.ts`): prom-client's own Counter and Histogram validate and hash the labels at every",
    'observation, which cost about 3.5 µs a job here before. A line per job (info) is the one real cost: pino',
    'builds and writes a JSON line for every job.',
    '',
  ].join('\n');
}
