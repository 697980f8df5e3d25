// What job status tracking (docs/status.md) costs, on one private redis-server with an in-process worker (no-op
// jobs that return a small result):
//   drain     N prefilled jobs drained by one worker at concurrency 50, tracked (`status: true`) against untracked,
//             the runs interleaved in the same process: jobs/s, Redis commands per job, status writes per second
//             (a job that ends in the turn it started has its start and end written as one change).
//   enqueue   M jobs enqueued one at a time, 50 in flight, tracked against untracked, in turn: enqueues/s, commands
//             each.
//   progress  one tracked job calling ctx.progress in a tight loop for a few seconds (yielding every 100 calls):
//             calls per second, and progress writes that reached Redis per second (coalesced: one in flight).
// Usage (after `npm run build`): node bench/status.mjs [--quick | --smoke] [--only drain,enqueue,progress] [--json file]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defineJob, Resque } from '../dist/index.js';
import { Worker } from '../dist/worker/worker.js';
import { describeMachine } from './lib/machine.mjs';
import { redisWork, startRedisServer, workPerJob } from './lib/redis-server.mjs';
import { figureTable, formatNumber } from './lib/report.mjs';
import { median } from './lib/stats.mjs';

const PROFILES = {
  full: { jobs: 50_000, warmup: 5000, runs: 3, enqueues: 20_000, progressMs: 5000 },
  quick: { jobs: 10_000, warmup: 1000, runs: 1, enqueues: 5000, progressMs: 2000 },
  smoke: { jobs: 600, warmup: 100, runs: 1, enqueues: 300, progressMs: 300 },
};
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    smoke: { type: 'boolean' },
    only: { type: 'string' },
    json: { type: 'string' },
  },
});
const profile = values.smoke ? 'smoke' : values.quick ? 'quick' : 'full';
const sizes = PROFILES[profile];
const only = new Set((values.only ?? 'drain,enqueue,progress').split(','));
const NAMESPACE = 'bench';
const QUEUE = 'status';
const began = performance.now();
const log = (text) =>
  process.stderr.write(`[${((performance.now() - began) / 1000).toFixed(0)} s] ${text}\n`);

const perform = async (_ctx, n) => ({ n });
const Untracked = defineJob({ className: 'StatusOff', queue: QUEUE, perform });
const Tracked = defineJob({ className: 'StatusOn', queue: QUEUE, status: true, perform });
let progressFor = 0;
const Reporting = defineJob({
  className: 'StatusProgress',
  queue: QUEUE,
  status: true,
  perform: async (ctx) => {
    const until = performance.now() + progressFor;
    let calls = 0;
    while (performance.now() < until) {
      for (let i = 0; i < 100; i++) ctx.progress({ calls: ++calls });
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { calls };
  },
});

function startWorker(server, jobs, concurrency = 50) {
  return new Worker({
    redis: server.url,
    namespace: NAMESPACE,
    queues: [QUEUE],
    concurrency,
    isolation: 'none',
    jobs,
    setProcessTitle: false,
    logLevel: 'silent',
  });
}

async function fill(server, job, count) {
  const resque = new Resque({ redis: server.url, namespace: NAMESPACE });
  for (let i = 0; i < count; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, count - i) }, (_, k) => [i + k]);
    await resque.enqueueBulk(job, batch);
  }
  await resque.close();
}

/** `warmup` + `jobs` prefilled jobs drained at concurrency 50; timed and counted from the warm-up's end. */
async function drain(server, job) {
  await server.admin.flushall();
  const total = sizes.warmup + sizes.jobs;
  await fill(server, job, total);
  let done = 0;
  let first = 0;
  let before;
  let finished;
  const allDone = new Promise((resolve) => {
    finished = resolve;
  });
  const worker = startWorker(server, [job]);
  worker.on('job:finish', () => {
    if (++done === sizes.warmup) {
      first = performance.now();
      redisWork(server.admin).then((work) => {
        before = work;
      });
    }
    if (done === total) finished(performance.now());
  });
  await worker.start();
  const last = await allDone;
  const after = await redisWork(server.admin);
  await worker.stop('graceful');
  const seconds = (last - first) / 1000;
  const work = workPerJob(before ?? after, after, sizes.jobs);
  const hsets = (after.calls.hset ?? 0) - (before?.calls.hset ?? 0);
  return {
    rate: sizes.jobs / seconds,
    commandsPerJob: work.commandsPerJob,
    statusWritesPerSecond: hsets / seconds,
  };
}

async function drains(server) {
  const runs = [];
  const kinds = [
    ['untracked', Untracked],
    ['tracked', Tracked],
  ];
  for (let run = 0; run < sizes.runs; run++) {
    const result = {};
    for (let k = 0; k < kinds.length; k++) {
      const [kind, job] = kinds[(k + run) % kinds.length];
      log(`drain run ${run + 1}: ${sizes.jobs} jobs, ${kind}`);
      result[kind] = await drain(server, job);
    }
    result.ratio = result.tracked.rate / result.untracked.rate;
    runs.push(result);
  }
  const pick = (kind, key) => median(runs.map((r) => r[kind][key]));
  return {
    runs,
    untracked: pick('untracked', 'rate'),
    tracked: pick('tracked', 'rate'),
    ratio: median(runs.map((r) => r.ratio)),
    commandsUntracked: pick('untracked', 'commandsPerJob'),
    commandsTracked: pick('tracked', 'commandsPerJob'),
    statusWritesPerSecond: pick('tracked', 'statusWritesPerSecond'),
  };
}

/** `enqueues` single enqueues, 50 in flight, on one client. */
async function enqueueRate(server, job) {
  await server.admin.flushall();
  const resque = new Resque({ redis: server.url, namespace: NAMESPACE });
  await resque.enqueue(job, -1);
  const before = await redisWork(server.admin);
  const start = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < sizes.enqueues) await resque.enqueue(job, next++);
  };
  await Promise.all(Array.from({ length: 50 }, lane));
  const seconds = (performance.now() - start) / 1000;
  const after = await redisWork(server.admin);
  await resque.close();
  return {
    rate: sizes.enqueues / seconds,
    commandsPerJob: workPerJob(before, after, sizes.enqueues).commandsPerJob,
  };
}

/** Untracked and tracked in turn, the order alternating, at least twice each; medians of the per-run figures. */
async function enqueues(server) {
  const runs = [];
  for (let run = 0; run < Math.max(2, sizes.runs); run++) {
    log(`enqueue run ${run + 1}: ${sizes.enqueues} jobs one at a time, untracked and tracked`);
    const result = {};
    for (const kind of run % 2 === 0 ? ['untracked', 'tracked'] : ['tracked', 'untracked'])
      result[kind] = await enqueueRate(server, kind === 'tracked' ? Tracked : Untracked);
    result.ratio = result.tracked.rate / result.untracked.rate;
    runs.push(result);
  }
  const pick = (kind, key) => median(runs.map((r) => r[kind][key]));
  return {
    runs,
    untracked: { rate: pick('untracked', 'rate'), commandsPerJob: pick('untracked', 'commandsPerJob') },
    tracked: { rate: pick('tracked', 'rate'), commandsPerJob: pick('tracked', 'commandsPerJob') },
    ratio: median(runs.map((r) => r.ratio)),
  };
}

/** One tracked job reporting progress in a tight loop for `progressMs`. */
async function progress(server) {
  await server.admin.flushall();
  log(`progress: one job reporting for ${sizes.progressMs} ms`);
  progressFor = sizes.progressMs;
  const worker = startWorker(server, [Reporting], 1);
  let result;
  const finished = new Promise((resolve) => worker.on('job:finish', resolve));
  await worker.start();
  const before = await redisWork(server.admin);
  const resque = new Resque({ redis: server.url, namespace: NAMESPACE });
  const { id } = await resque.enqueue(Reporting);
  const done = await resque.waitFor(id, { timeoutMs: sizes.progressMs + 30_000 });
  result = done.result;
  await finished;
  const after = await redisWork(server.admin);
  await resque.close();
  await worker.stop('graceful');
  const seconds = sizes.progressMs / 1000;
  const writes = (after.calls.hset ?? 0) - (before.calls.hset ?? 0) - 3; // less queued, running, completed
  return {
    callsPerSecond: result.calls / seconds,
    writesPerSecond: writes / seconds,
    calls: result.calls,
    writes,
  };
}

const server = await startRedisServer();
const machine = await describeMachine(server);
const results = {};
try {
  if (only.has('drain')) results.drain = await drains(server);
  if (only.has('enqueue')) results.enqueue = await enqueues(server);
  if (only.has('progress')) results.progress = await progress(server);
} finally {
  await server.stop();
}
machine.finish();

// Every figure of the table, flat: what `--json` consumers (and the smoke test) read.
const { figures, rows, row } = figureTable();
const f = formatNumber;
if (results.drain) {
  const d = results.drain;
  row('drainUntracked', 'Drain at concurrency 50, untracked (jobs/s)', d.untracked, f(d.untracked));
  row('drainTracked', '… tracked, each returning a result (jobs/s)', d.tracked, f(d.tracked));
  row('drainRatio', '… tracked ÷ untracked, same runs', d.ratio, f(d.ratio, 2));
  row(
    'commandsUntracked',
    'Redis commands per job (drain): untracked',
    d.commandsUntracked,
    f(d.commandsUntracked, 2),
  );
  row('commandsTracked', '… tracked', d.commandsTracked, f(d.commandsTracked, 2));
  row(
    'statusWritesPerSecond',
    'Status record writes per second while draining tracked jobs',
    d.statusWritesPerSecond,
    f(d.statusWritesPerSecond),
  );
}
if (results.enqueue) {
  const e = results.enqueue;
  row(
    'enqueueUntracked',
    'Single enqueues, 50 in flight, untracked (jobs/s)',
    e.untracked.rate,
    f(e.untracked.rate),
  );
  row(
    'enqueueTracked',
    '… tracked: the push and the record in one MULTI (jobs/s)',
    e.tracked.rate,
    f(e.tracked.rate),
  );
  row('enqueueRatio', '… tracked ÷ untracked', e.ratio, f(e.ratio, 2));
  row(
    'enqueueCommandsUntracked',
    'Redis commands per enqueue: untracked',
    e.untracked.commandsPerJob,
    f(e.untracked.commandsPerJob, 2),
  );
  row('enqueueCommandsTracked', '… tracked', e.tracked.commandsPerJob, f(e.tracked.commandsPerJob, 2));
}
if (results.progress) {
  const p = results.progress;
  row(
    'progressCallsPerSecond',
    'ctx.progress calls per second, one job in a tight loop',
    p.callsPerSecond,
    f(p.callsPerSecond),
  );
  row(
    'progressWritesPerSecond',
    '… progress writes that reached Redis per second (one in flight)',
    p.writesPerSecond,
    f(p.writesPerSecond),
  );
}
const lines = [
  `node bench/status.mjs ${process.argv.slice(2).join(' ')} (${profile})`.trim(),
  `${machine.date}, ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, Redis ${machine.redis}, load average ${machine.loadBefore} before, ${machine.loadAfter} after`,
  '',
  '| Figure | resque-ts | Target |',
  '| --- | ---: | ---: |',
  ...rows,
];
console.log(lines.join('\n'));
if (values.json) writeFileSync(values.json, JSON.stringify({ machine, sizes, figures, results }, null, 2));
process.exit(0);
