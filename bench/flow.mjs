// What flow control (docs/flow-control.md) costs and how it shares the worker, on one private redis-server with
// in-process workers (no-op jobs):
//   overhead  N prefilled jobs drained by one worker at concurrency 50: a class with a concurrency limit that is
//             never reached (1,000) and a class with a rate limit that is never reached (1,000,000 a second),
//             each against a class with no limit; the three runs interleaved in the same process.
//   keys      K keys × J jobs (enqueued key after key) of a class limited to 2 running jobs per key, drained at
//             concurrency 50: jobs per second, and how evenly the keys progressed (see `fairness` below).
//   hot       one key with a backlog of B queued jobs and a rate limit of 10 a second per key, and 100 other keys
//             of the same class on the same queue: pickup latency of the other keys' jobs, enqueued one at a time
//             2 ms apart once the worker has got past the backlog, against the same on an empty queue.
// Usage (after `npm run build`): node bench/flow.mjs [--quick | --smoke] [--only overhead,keys,hot] [--json file]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defineJob, Resque } from '../dist/index.js';
import { Worker } from '../dist/worker/worker.js';
import { describeMachine } from './lib/machine.mjs';
import { nowMicros } from './lib/probe.mjs';
import { redisWork, startRedisServer, workPerJob } from './lib/redis-server.mjs';
import { figureTable, formatNumber } from './lib/report.mjs';
import { median, percentile } from './lib/stats.mjs';

const PROFILES = {
  full: {
    jobs: 50_000,
    warmup: 5000,
    runs: 3,
    keys: 1000,
    jobsPerKey: 100,
    backlog: 50_000,
    otherKeys: 100,
    samples: 2000,
    sampleWarmup: 50,
    hotRuns: 3,
  },
  quick: {
    jobs: 10_000,
    warmup: 1000,
    runs: 1,
    keys: 200,
    jobsPerKey: 50,
    backlog: 10_000,
    otherKeys: 100,
    samples: 500,
    sampleWarmup: 50,
    hotRuns: 1,
  },
  smoke: {
    jobs: 600,
    warmup: 100,
    runs: 1,
    keys: 20,
    jobsPerKey: 10,
    backlog: 500,
    otherKeys: 20,
    samples: 40,
    sampleWarmup: 5,
    hotRuns: 1,
  },
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
const only = new Set((values.only ?? 'overhead,keys,hot').split(','));
const NAMESPACE = 'bench';
const QUEUE = 'flow';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const began = performance.now();
const log = (text) =>
  process.stderr.write(`[${((performance.now() - began) / 1000).toFixed(0)} s] ${text}\n`);

// What the running scenario does when a job starts; each job class calls it with its arguments.
let onPerform = () => {};
const perform = async (_ctx, ...args) => onPerform(args);

const Unlimited = defineJob({ className: 'FlowUnlimited', queue: QUEUE, perform });
const Concurrency = defineJob({
  className: 'FlowConcurrency',
  queue: QUEUE,
  concurrency: { limit: 1000 },
  perform,
});
const Rate = defineJob({
  className: 'FlowRate',
  queue: QUEUE,
  rate: { limit: 1_000_000, windowMs: 1000 },
  perform,
});
const PerKey = defineJob({
  className: 'FlowPerKey',
  queue: QUEUE,
  concurrency: { limit: 2, key: (key) => `k${key}` },
  perform,
});
const RatePerKey = defineJob({
  className: 'FlowRatePerKey',
  queue: QUEUE,
  rate: { limit: 10, windowMs: 1000, key: (key) => key },
  perform,
});

async function waitUntil(test, ms, what) {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function startWorker(server, job) {
  const worker = new Worker({
    redis: server.url,
    namespace: NAMESPACE,
    queues: [QUEUE],
    concurrency: 50,
    isolation: 'none',
    jobs: [job],
    setProcessTitle: false,
    logLevel: 'silent',
  });
  return worker;
}

/** Enqueues `argsList` in bulk calls of 1,000. */
async function fill(server, job, argsList) {
  const resque = new Resque({ redis: server.url, namespace: NAMESPACE });
  for (let i = 0; i < argsList.length; i += 1000) {
    await resque.enqueueBulk(job, argsList.slice(i, i + 1000), { queue: QUEUE });
  }
  await resque.close();
}

/**
 * `warmup` + `jobs` jobs of `job` prefilled, drained by one worker at concurrency 50; the clock runs from the
 * warm-up's last finished job to the last one. Redis's commands are counted over the same part.
 */
async function drain(server, job) {
  await server.admin.flushall();
  const total = sizes.warmup + sizes.jobs;
  await fill(
    server,
    job,
    Array.from({ length: total }, (_, i) => [i]),
  );
  let done = 0;
  let first = 0;
  let before;
  let cpuBefore;
  let finished;
  const allDone = new Promise((resolve) => {
    finished = resolve;
  });
  const worker = startWorker(server, job);
  worker.on('job:finish', () => {
    if (++done === sizes.warmup) {
      first = performance.now();
      cpuBefore = process.cpuUsage();
      redisWork(server.admin).then((work) => {
        before = work;
      });
    }
    if (done === total) finished([performance.now(), process.cpuUsage(cpuBefore)]);
  });
  await worker.start();
  const [last, workerCpu] = await allDone;
  const after = await redisWork(server.admin);
  await worker.stop('graceful');
  const work = workPerJob(before ?? after, after, sizes.jobs);
  return {
    rate: (sizes.jobs / (last - first)) * 1000,
    commandsPerJob: work.commandsPerJob,
    // CPU time per job of Redis and of this process (the in-process worker): what the drain rate is made of when
    // the machine is not shared, and far less disturbed than the rate by other processes on a busy machine.
    cpuMicrosPerJob: work.cpuMicrosPerJob + (workerCpu.user + workerCpu.system) / sizes.jobs,
  };
}

/** The three classes drained in turn, the order rotated each run; ratios are per run, their medians reported. */
async function overhead(server) {
  const runs = [];
  const kinds = [
    ['none', Unlimited],
    ['concurrency', Concurrency],
    ['rate', Rate],
  ];
  // The process's first drain runs on code not yet optimised by V8: it is run and not counted, so the class that
  // comes first in the first run is not the slower for it.
  log('overhead: a drain to warm up, not counted');
  await drain(server, Unlimited);
  for (let run = 0; run < sizes.runs; run++) {
    const result = {};
    for (let k = 0; k < kinds.length; k++) {
      const [kind, job] = kinds[(k + run) % kinds.length];
      log(`overhead run ${run + 1}: ${sizes.jobs} jobs, ${kind === 'none' ? 'no limit' : `${kind} limit`}`);
      result[kind] = await drain(server, job);
    }
    result.concurrencyRatio = result.concurrency.rate / result.none.rate;
    result.rateRatio = result.rate.rate / result.none.rate;
    result.concurrencyCpuRatio = result.none.cpuMicrosPerJob / result.concurrency.cpuMicrosPerJob;
    result.rateCpuRatio = result.none.cpuMicrosPerJob / result.rate.cpuMicrosPerJob;
    runs.push(result);
  }
  return {
    runs,
    none: median(runs.map((r) => r.none.rate)),
    concurrency: median(runs.map((r) => r.concurrency.rate)),
    rate: median(runs.map((r) => r.rate.rate)),
    concurrencyRatio: median(runs.map((r) => r.concurrencyRatio)),
    rateRatio: median(runs.map((r) => r.rateRatio)),
    concurrencyCpuRatio: median(runs.map((r) => r.concurrencyCpuRatio)),
    rateCpuRatio: median(runs.map((r) => r.rateCpuRatio)),
    cpuNone: median(runs.map((r) => r.none.cpuMicrosPerJob)),
    commandsNone: median(runs.map((r) => r.none.commandsPerJob)),
    commandsConcurrency: median(runs.map((r) => r.concurrency.commandsPerJob)),
    commandsRate: median(runs.map((r) => r.rate.commandsPerJob)),
  };
}

/**
 * `keys` × `jobsPerKey` jobs enqueued key after key (every job of key 0, then of key 1, …), a limit of 2 running
 * jobs per key, one worker at concurrency 50. Times are when each job started (`perform`), from the first job's.
 *   fairness: each key's finish (its last job) against the median key's, the earliest key's finish against the
 *   whole drain, and the latest first start of a key against the whole drain. Even progress gives 1, 1 and about
 *   1 ÷ jobsPerKey; keys served one after another (a queue without the limit) give about 2, 1 ÷ keys and 1.
 */
async function keys(server) {
  await server.admin.flushall();
  const { keys: keyCount, jobsPerKey } = sizes;
  const total = keyCount * jobsPerKey;
  const argsList = [];
  for (let key = 0; key < keyCount; key++) for (let n = 0; n < jobsPerKey; n++) argsList.push([key, n]);
  await fill(server, PerKey, argsList);
  const firstStart = new Array(keyCount).fill(-1);
  const lastStart = new Array(keyCount).fill(-1);
  let t0 = 0;
  let done = 0;
  let finished;
  const allDone = new Promise((resolve) => {
    finished = resolve;
  });
  onPerform = ([key]) => {
    const now = performance.now();
    if (t0 === 0) t0 = now;
    if (firstStart[key] < 0) firstStart[key] = now - t0;
    lastStart[key] = now - t0;
  };
  const worker = startWorker(server, PerKey);
  worker.on('job:finish', () => {
    if (++done === total) finished(performance.now());
  });
  await worker.start();
  const end = await allDone;
  await worker.stop('graceful');
  onPerform = () => {};
  const drainMs = Math.max(...lastStart);
  const medianFinish = median(lastStart);
  return {
    keys: keyCount,
    jobsPerKey,
    rate: (total / (end - t0)) * 1000,
    drainMs,
    finishMaxOverMedian: drainMs / medianFinish,
    finishMinOverDrain: Math.min(...lastStart) / drainMs,
    firstStartMaxOverDrain: Math.max(...firstStart) / drainMs,
  };
}

/**
 * Pickup latency of jobs of `otherKeys` keys (round robin, so each key gets one job every 2 × otherKeys ms, under
 * its 10 a second), enqueued one at a time 2 ms apart, each carrying the host's monotonic clock read just before the
 * enqueue call. With `backlog`, the queue first holds that many jobs of one key, "hot", and the probes start once
 * the worker has taken them off it (started 10 a second, the rest parked): that time is `parkMs`.
 */
async function pickup(server, backlog) {
  await server.admin.flushall();
  if (backlog > 0)
    await fill(
      server,
      RatePerKey,
      Array.from({ length: backlog }, (_, i) => ['hot', i]),
    );
  const latencies = [];
  let probes = 0;
  let hot = 0;
  let finished;
  const allDone = new Promise((resolve) => {
    finished = resolve;
  });
  const expected = sizes.samples + sizes.sampleWarmup;
  onPerform = ([key, at]) => {
    if (key === 'hot') {
      hot += 1;
      return;
    }
    if (++probes > sizes.sampleWarmup) latencies.push((nowMicros() - at) / 1000);
    if (probes === expected) finished();
  };
  const worker = startWorker(server, RatePerKey);
  const started = performance.now();
  await worker.start();
  const queueKey = `${NAMESPACE}:queue:${QUEUE}`;
  // Let-backs put at most 10 hot jobs at a time on the head of the queue, and they start at once.
  await waitUntil(async () => (await server.admin.llen(queueKey)) <= 20, 600_000, 'the backlog');
  const parkMs = performance.now() - started;
  await sleep(200);
  const resque = new Resque({ redis: server.url, namespace: NAMESPACE });
  for (let i = 0; i < expected; i++) {
    await resque.enqueueTo(QUEUE, RatePerKey, `key${i % sizes.otherKeys}`, nowMicros());
    await sleep(2);
  }
  await allDone;
  await resque.close();
  await worker.stop('graceful');
  onPerform = () => {};
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
    samples: latencies.length,
    parkMs,
    hotStarted: hot,
  };
}

/** Backlog and empty queue in turn, the order alternating each run; ratios are per run, their medians reported. */
async function hotKey(server) {
  const runs = [];
  for (let run = 0; run < sizes.hotRuns; run++) {
    const result = {};
    for (const kind of run % 2 === 0 ? ['empty', 'backlog'] : ['backlog', 'empty']) {
      log(
        `hot key run ${run + 1}: ${sizes.samples} probes, ${kind === 'empty' ? 'empty queue' : `${sizes.backlog} hot jobs queued`}`,
      );
      result[kind] = await pickup(server, kind === 'empty' ? 0 : sizes.backlog);
    }
    result.p50Ratio = result.backlog.p50 / result.empty.p50;
    result.p99Ratio = result.backlog.p99 / result.empty.p99;
    runs.push(result);
  }
  const pick = (kind, key) => median(runs.map((r) => r[kind][key]));
  return {
    runs,
    emptyP50: pick('empty', 'p50'),
    emptyP99: pick('empty', 'p99'),
    backlogP50: pick('backlog', 'p50'),
    backlogP99: pick('backlog', 'p99'),
    p50Ratio: median(runs.map((r) => r.p50Ratio)),
    p99Ratio: median(runs.map((r) => r.p99Ratio)),
    parkMs: pick('backlog', 'parkMs'),
  };
}

const server = await startRedisServer();
const machine = await describeMachine(server);
const results = {};
try {
  if (only.has('overhead')) results.overhead = await overhead(server);
  if (only.has('keys')) {
    log(`${sizes.keys} keys × ${sizes.jobsPerKey} jobs, limit 2 per key`);
    results.keys = await keys(server);
  }
  if (only.has('hot')) results.hot = await hotKey(server);
} finally {
  await server.stop();
}
machine.finish();

// Every figure of the table, flat: what `--json` consumers (and the smoke test) read.
const { figures, rows, row } = figureTable();
const f = formatNumber;
if (results.overhead) {
  const o = results.overhead;
  row('drainNone', 'Drain at concurrency 50, no limit (jobs/s)', o.none, f(o.none));
  row(
    'drainConcurrency',
    '… class concurrency limit 1,000, never reached (jobs/s)',
    o.concurrency,
    f(o.concurrency),
  );
  row('concurrencyRatio', '… ÷ no limit, same runs', o.concurrencyRatio, f(o.concurrencyRatio, 2), '≥ 0.9');
  row('drainRate', '… class rate limit 1,000,000/s, never reached (jobs/s)', o.rate, f(o.rate));
  row('rateRatio', '… ÷ no limit, same runs', o.rateRatio, f(o.rateRatio, 2), '≥ 0.9');
  row('cpuNone', 'CPU per job, Redis and worker: no limit (µs)', o.cpuNone, f(o.cpuNone, 1));
  row(
    'concurrencyCpuRatio',
    '… no limit ÷ concurrency limit (drain rate when CPU-bound)',
    o.concurrencyCpuRatio,
    f(o.concurrencyCpuRatio, 2),
    '≥ 0.9',
  );
  row('rateCpuRatio', '… no limit ÷ rate limit', o.rateCpuRatio, f(o.rateCpuRatio, 2), '≥ 0.9');
  row('commandsNone', 'Redis commands per job: no limit', o.commandsNone, f(o.commandsNone, 2));
  row('commandsConcurrency', '… concurrency limit', o.commandsConcurrency, f(o.commandsConcurrency, 2));
  row('commandsRate', '… rate limit', o.commandsRate, f(o.commandsRate, 2));
}
if (results.keys) {
  const k = results.keys;
  const what = `${f(k.keys)} keys × ${f(k.jobsPerKey)} jobs, 2 per key`;
  row('keysRate', `Drain at concurrency 50, ${what} (jobs/s)`, k.rate, f(k.rate));
  row(
    'keysFinishMaxOverMedian',
    '… last key finished ÷ median key finished (even: 1)',
    k.finishMaxOverMedian,
    f(k.finishMaxOverMedian, 2),
  );
  row(
    'keysFinishMinOverDrain',
    '… first key finished ÷ drain time (even: 1)',
    k.finishMinOverDrain,
    f(k.finishMinOverDrain, 2),
  );
  row(
    'keysFirstStartMaxOverDrain',
    `… latest first start of a key ÷ drain time (even: about ${f(1 / k.jobsPerKey, 2)})`,
    k.firstStartMaxOverDrain,
    f(k.firstStartMaxOverDrain, 3),
  );
}
if (results.hot) {
  const h = results.hot;
  const what = `${f(sizes.otherKeys)} other keys`;
  row('pickupEmptyP50', `Pickup p50, ${what}, empty queue (ms)`, h.emptyP50, f(h.emptyP50, 2));
  row('pickupEmptyP99', `Pickup p99, ${what}, empty queue (ms)`, h.emptyP99, f(h.emptyP99, 2));
  row(
    'pickupBacklogP50',
    `Pickup p50, ${f(sizes.backlog)} jobs of one key at 10/s queued (ms)`,
    h.backlogP50,
    f(h.backlogP50, 2),
  );
  row(
    'pickupBacklogP99',
    `Pickup p99, ${f(sizes.backlog)} jobs of one key at 10/s queued (ms)`,
    h.backlogP99,
    f(h.backlogP99, 2),
  );
  row('pickupP50Ratio', '… p50 with the backlog ÷ empty queue, same runs', h.p50Ratio, f(h.p50Ratio, 2));
  row('pickupP99Ratio', '… p99 with the backlog ÷ empty queue, same runs', h.p99Ratio, f(h.p99Ratio, 2));
  row('parkMs', 'Time to take the backlog off the queue (ms)', h.parkMs, f(h.parkMs));
}
const lines = [
  `node bench/flow.mjs ${process.argv.slice(2).join(' ')} (${profile})`.trim(),
  `${machine.date}, ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, Redis ${machine.redis}, load average ${machine.loadBefore} before, ${machine.loadAfter} after`,
  '',
  '| Figure | resque-ts | Target |',
  '| --- | ---: | ---: |',
  ...rows,
];
console.log(lines.join('\n'));
if (values.json) writeFileSync(values.json, JSON.stringify({ machine, sizes, figures, results }, null, 2));
process.exit(0);
