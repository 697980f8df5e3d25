// Delayed jobs, resque-ts against BullMQ's `delay`, on one private redis-server in the same run: enqueue one at a
// time and in bulk, promotion of many jobs coming due at once (jobs/s and the slowest Redis command), and the pickup
// latency of a job due in 100 ms (from its due time to its perform).
// Usage: npm run build && node bench/delayed.mjs [--jobs 20000] [--due 1000000] [--samples 300] [--write]
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker as BullWorker, Queue } from 'bullmq';
import { defineJob, Keys, Promoter, Resque } from '../dist/index.js';
import { createLogger } from '../dist/logging/logger.js';
import { Worker } from '../dist/worker/worker.js';
import { startRedisServer } from './lib/redis-server.mjs';
import { percentile } from './lib/stats.mjs';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    due: { type: 'string', default: '1000000' },
    samples: { type: 'string', default: '300' },
    write: { type: 'boolean', default: false },
  },
});
const JOBS = Number(values.jobs);
const DUE = Number(values.due);
const SAMPLES = Number(values.samples);
const HOUR = 3_600_000;
const log = (text) => process.stderr.write(`${text}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const bullConnection = (url) => {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port), maxRetriesPerRequest: null };
};

async function rate(count, body) {
  const started = performance.now();
  await body();
  return Math.round(count / ((performance.now() - started) / 1000));
}

async function enqueueResque(server) {
  const resque = new Resque({ redis: server.url, namespace: 'bench-one' });
  const one = await rate(JOBS, async () => {
    for (let i = 0; i < JOBS; i++) await resque.enqueueInTo('delayed', HOUR, 'Noop', i);
  });
  const bulkResque = new Resque({ redis: server.url, namespace: 'bench-bulk' });
  const bulk = await rate(JOBS, async () => {
    for (let i = 0; i < JOBS; i += 1000) {
      const at = Date.now() + HOUR;
      const jobs = Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({
        at: at + k,
        args: [i + k],
      }));
      await bulkResque.enqueueAtBulk('Noop', jobs, { queue: 'delayed' });
    }
  });
  await resque.close();
  await bulkResque.close();
  return { one, bulk };
}

async function enqueueBull(server) {
  const queue = new Queue('bench-delayed', { connection: bullConnection(server.url) });
  await queue.waitUntilReady();
  const one = await rate(JOBS, async () => {
    for (let i = 0; i < JOBS; i++) await queue.add('Noop', { args: [i] }, { delay: HOUR });
  });
  const bulk = await rate(JOBS, async () => {
    for (let i = 0; i < JOBS; i += 1000) {
      const jobs = Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({
        name: 'Noop',
        data: { args: [i + k] },
        opts: { delay: HOUR + k },
      }));
      await queue.addBulk(jobs);
    }
  });
  await queue.obliterate({ force: true });
  await queue.close();
  return { one, bulk };
}

/** DUE jobs filed for one future second (and the 999 ms before it), then promoted at once by one promoter. */
async function promotion(server) {
  const namespace = 'bench-promote';
  const resque = new Resque({ redis: server.url, namespace });
  const dueAt = Math.ceil((Date.now() + 10 * HOUR) / 1000) * 1000; // a whole second: two lists, S and S + 1
  for (let i = 0; i < DUE; i += 1000) {
    const jobs = Array.from({ length: Math.min(1000, DUE - i) }, (_, k) => ({
      at: dueAt + ((i + k) % 1000),
      args: [i + k],
    }));
    await resque.enqueueAtBulk('Noop', jobs, { queue: 'promoted' });
  }
  const admin = server.admin;
  await admin.config('SET', 'slowlog-log-slower-than', '5000');
  await admin.slowlog('RESET');
  await admin.config('RESETSTAT');
  const promoter = new Promoter({
    redis: resque.redis,
    keys: new Keys(namespace),
    strictPayloads: false,
    logger: createLogger('silent'),
  });
  const started = performance.now();
  const { moved } = await promoter.promoteDue(dueAt + 1000);
  const seconds = (performance.now() - started) / 1000;
  const slow = await admin.slowlog('GET', 128);
  const stats = await admin.info('commandstats');
  const evalsha = /cmdstat_evalsha:calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/.exec(stats);
  await admin.config('SET', 'slowlog-log-slower-than', '10000');
  await resque.close();
  return {
    moved,
    rate: Math.round(moved / seconds),
    over5ms: slow.length,
    slowestMs: slow.length === 0 ? undefined : Math.max(...slow.map((entry) => Number(entry[2]))) / 1000,
    scriptMeanMs: evalsha ? Number(evalsha[3]) / 1000 : undefined,
  };
}

async function latencyResque(server) {
  const lateness = [];
  let resolveOne;
  const Timed = defineJob({
    className: 'Timed',
    queue: 'timed',
    perform: async (_ctx, dueAt) => {
      lateness.push(Date.now() - dueAt);
      resolveOne();
    },
  });
  const worker = new Worker({
    redis: server.url,
    namespace: 'bench-latency',
    queues: ['timed'],
    jobs: [Timed],
    isolation: 'none',
    logLevel: 'silent',
    setProcessTitle: false,
  });
  await worker.start();
  const resque = new Resque({ redis: server.url, namespace: 'bench-latency' });
  for (let i = 0; i < SAMPLES; i++) {
    const done = new Promise((resolve) => {
      resolveOne = resolve;
    });
    const dueAt = Date.now() + 100;
    await resque.enqueueAt(dueAt, Timed, dueAt);
    await done;
    await sleep(5);
  }
  await worker.stop('graceful');
  await resque.close();
  return lateness;
}

async function latencyBull(server) {
  const lateness = [];
  let resolveOne;
  const queue = new Queue('bench-latency', { connection: bullConnection(server.url) });
  const worker = new BullWorker(
    'bench-latency',
    async (job) => {
      lateness.push(Date.now() - job.data.dueAt);
      resolveOne();
    },
    { connection: bullConnection(server.url), removeOnComplete: { count: 0 } },
  );
  await worker.waitUntilReady();
  for (let i = 0; i < SAMPLES; i++) {
    const done = new Promise((resolve) => {
      resolveOne = resolve;
    });
    const dueAt = Date.now() + 100;
    await queue.add('Timed', { dueAt }, { delay: 100 });
    await done;
    await sleep(5);
  }
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return lateness;
}

const summary = (list) => ({ p50: percentile(list, 50), p99: percentile(list, 99), max: Math.max(...list) });

const server = await startRedisServer();
try {
  const loadBefore = loadavg()[0].toFixed(2);
  log(`enqueue ${JOBS} delayed jobs: resque-ts`);
  const resqueEnqueue = await enqueueResque(server);
  log(`enqueue ${JOBS} delayed jobs: BullMQ`);
  const bullEnqueue = await enqueueBull(server);
  await server.admin.flushall();
  log(`promotion of ${DUE} jobs due at once: resque-ts`);
  const promoted = await promotion(server);
  await server.admin.flushall();
  log(`pickup latency, ${SAMPLES} jobs due in 100 ms: resque-ts, BullMQ`);
  const resqueLatency = summary(await latencyResque(server));
  const bullLatency = summary(await latencyBull(server));
  const ratio = (a, b) => (a / b).toFixed(2);
  const lines = [
    `# Delayed jobs: resque-ts and BullMQ`,
    '',
    `${new Date().toISOString()} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} · node ${process.version} · Redis ${await server.version()} · load ${loadBefore} before, ${loadavg()[0].toFixed(2)} after`,
    `Command: \`node bench/delayed.mjs --jobs ${JOBS} --due ${DUE} --samples ${SAMPLES}\``,
    '',
    '| Figure | resque-ts | BullMQ | resque-ts / BullMQ |',
    '| --- | ---: | ---: | ---: |',
    `| delayed enqueue, one at a time (jobs/s) | ${resqueEnqueue.one} | ${bullEnqueue.one} | ${ratio(resqueEnqueue.one, bullEnqueue.one)} |`,
    `| delayed enqueue, bulk of 1,000 (jobs/s) | ${resqueEnqueue.bulk} | ${bullEnqueue.bulk} | ${ratio(resqueEnqueue.bulk, bullEnqueue.bulk)} |`,
    `| pickup latency after the due time, p50 (ms) | ${resqueLatency.p50} | ${bullLatency.p50} | ${ratio(resqueLatency.p50, bullLatency.p50)} |`,
    `| pickup latency after the due time, p99 (ms) | ${resqueLatency.p99} | ${bullLatency.p99} | ${ratio(resqueLatency.p99, bullLatency.p99)} |`,
    '',
    `Promotion of ${promoted.moved.toLocaleString('en-US')} jobs due at once, one promoter: ${promoted.rate.toLocaleString('en-US')} jobs/s; ` +
      `Redis commands over 5 ms: ${promoted.over5ms}${promoted.slowestMs === undefined ? '' : ` (slowest ${promoted.slowestMs} ms)`}; ` +
      `mean script call ${promoted.scriptMeanMs?.toFixed(2)} ms (batches of 250).`,
  ];
  const text = `${lines.join('\n')}\n`;
  process.stdout.write(text);
  if (values.write) writeFileSync(new URL('./RESULTS-delayed.md', import.meta.url), text);
} finally {
  await server.stop();
}
