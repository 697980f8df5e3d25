// The delayed-jobs scenario, resque-ts against BullMQ's `delay` on one redis-server: enqueue one at a time and in
// bulk, promotion of many jobs coming due at once (jobs/s, Redis's CPU and this process's per job, the slowest Redis
// command), and the pickup latency of a job due in 100 ms (from its due time to its perform). bench/delayed.mjs runs it
// on its own; bench/run.mjs runs it after the other scenarios.
import { Worker as BullWorker, Queue } from 'bullmq';
import { defineJob, Keys, Promoter, Resque } from '../../dist/index.js';
import { createLogger } from '../../dist/logging/logger.js';
import { Worker } from '../../dist/worker/worker.js';
import { redisWork, workPerJob } from './redis-server.mjs';
import { percentile } from './stats.mjs';

const HOUR = 3_600_000;
const BATCH = 250;
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

async function enqueueResque(server, jobs) {
  const resque = new Resque({ redis: server.url, namespace: 'bench-one' });
  const one = await rate(jobs, async () => {
    for (let i = 0; i < jobs; i++) await resque.enqueueInTo('delayed', HOUR, 'Noop', i);
  });
  const bulkResque = new Resque({ redis: server.url, namespace: 'bench-bulk' });
  const bulk = await rate(jobs, async () => {
    for (let i = 0; i < jobs; i += 1000) {
      const at = Date.now() + HOUR;
      const chunk = Array.from({ length: Math.min(1000, jobs - i) }, (_, k) => ({
        at: at + k,
        args: [i + k],
      }));
      await bulkResque.enqueueAtBulk('Noop', chunk, { queue: 'delayed' });
    }
  });
  await resque.close();
  await bulkResque.close();
  return { one, bulk };
}

async function enqueueBull(server, jobs) {
  const queue = new Queue('bench-delayed', { connection: bullConnection(server.url) });
  await queue.waitUntilReady();
  const one = await rate(jobs, async () => {
    for (let i = 0; i < jobs; i++) await queue.add('Noop', { args: [i] }, { delay: HOUR });
  });
  const bulk = await rate(jobs, async () => {
    for (let i = 0; i < jobs; i += 1000) {
      const chunk = Array.from({ length: Math.min(1000, jobs - i) }, (_, k) => ({
        name: 'Noop',
        data: { args: [i + k] },
        opts: { delay: HOUR + k },
      }));
      await queue.addBulk(chunk);
    }
  });
  await queue.obliterate({ force: true });
  await queue.close();
  return { one, bulk };
}

/** `due` jobs filed for one future second (and the 999 ms before it), then promoted at once by one promoter. */
async function promotion(server, due) {
  const namespace = 'bench-promote';
  const resque = new Resque({ redis: server.url, namespace });
  const dueAt = Math.ceil((Date.now() + 10 * HOUR) / 1000) * 1000; // a whole second: two lists, S and S + 1
  for (let i = 0; i < due; i += 1000) {
    const jobs = Array.from({ length: Math.min(1000, due - i) }, (_, k) => ({
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
    batchSize: BATCH,
  });
  const before = await redisWork(admin);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const { moved } = await promoter.promoteDue(dueAt + 1000);
  const seconds = (performance.now() - started) / 1000;
  const own = process.cpuUsage(cpu);
  const work = workPerJob(before, await redisWork(admin), moved);
  const slow = await admin.slowlog('GET', 128);
  const stats = await admin.info('commandstats');
  const evalsha = /cmdstat_evalsha:calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/.exec(stats);
  await admin.config('SET', 'slowlog-log-slower-than', '10000');
  await resque.close();
  return {
    moved,
    rate: Math.round(moved / seconds),
    redisCpuMicrosPerJob: work.cpuMicrosPerJob,
    promoterCpuMicrosPerJob: (own.user + own.system) / moved,
    over5ms: slow.length,
    slowestMs: slow.length === 0 ? undefined : Math.max(...slow.map((entry) => Number(entry[2]))) / 1000,
    scriptMeanMs: evalsha ? Number(evalsha[3]) / 1000 : undefined,
  };
}

async function latencyResque(server, samples) {
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
  for (let i = 0; i < samples; i++) {
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

async function latencyBull(server, samples) {
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
  for (let i = 0; i < samples; i++) {
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

/**
 * Every figure of the scenario on `server` (flushed between the parts): `jobs` delayed jobs enqueued each way,
 * `due` promoted at once, `samples` pickups timed. Without `bull`, BullMQ's columns are left out.
 */
export async function delayedFigures(server, { jobs, due, samples, bull = true, log = () => {} }) {
  log(`delayed enqueue of ${jobs.toLocaleString('en-US')} jobs: resque-ts`);
  const resqueEnqueue = await enqueueResque(server, jobs);
  let bullEnqueue;
  if (bull) {
    log(`delayed enqueue of ${jobs.toLocaleString('en-US')} jobs: BullMQ`);
    bullEnqueue = await enqueueBull(server, jobs);
  }
  await server.admin.flushall();
  log(`promotion of ${due.toLocaleString('en-US')} delayed jobs due at once: resque-ts`);
  const promoted = await promotion(server, due);
  await server.admin.flushall();
  log(`delayed pickup latency, ${samples} jobs due in 100 ms`);
  const resqueLatency = summary(await latencyResque(server, samples));
  const bullLatency = bull ? summary(await latencyBull(server, samples)) : undefined;
  await server.admin.flushall();
  return {
    sizes: { jobs, due, samples, batch: BATCH },
    resque: { enqueueOne: resqueEnqueue.one, enqueueBulk: resqueEnqueue.bulk, ...resqueLatency },
    bull: bull ? { enqueueOne: bullEnqueue.one, enqueueBulk: bullEnqueue.bulk, ...bullLatency } : undefined,
    promotion: promoted,
  };
}

const ROWS = [
  ['enqueueOne', 'delayed enqueue, one at a time (jobs/s)'],
  ['enqueueBulk', 'delayed enqueue, bulk of 1,000 (jobs/s)'],
  ['p50', 'pickup latency after the due time, p50 (ms)'],
  ['p99', 'pickup latency after the due time, p99 (ms)'],
];

/** The figures as markdown: a table against BullMQ and a line on promotion. */
export function delayedReport(figures) {
  const { resque, bull, promotion: p } = figures;
  const lines = bull
    ? ['| Figure | resque-ts | BullMQ | resque-ts / BullMQ |', '| --- | ---: | ---: | ---: |']
    : ['| Figure | resque-ts |', '| --- | ---: |'];
  for (const [key, label] of ROWS) {
    lines.push(
      bull
        ? `| ${label} | ${resque[key]} | ${bull[key]} | ${(resque[key] / bull[key]).toFixed(2)} |`
        : `| ${label} | ${resque[key]} |`,
    );
  }
  lines.push(
    '',
    `Promotion of ${p.moved.toLocaleString('en-US')} jobs due at once, one promoter: ${p.rate.toLocaleString('en-US')} jobs/s; ` +
      `Redis CPU ${p.redisCpuMicrosPerJob.toFixed(1)} µs per job, promoter CPU ${p.promoterCpuMicrosPerJob.toFixed(1)} µs per job; ` +
      `Redis commands over 5 ms: ${p.over5ms}${p.slowestMs === undefined ? '' : ` (slowest ${p.slowestMs} ms)`}; ` +
      `mean script call ${p.scriptMeanMs?.toFixed(2)} ms (batches of ${figures.sizes.batch}).`,
  );
  return lines;
}
