// What a unique job's lock (docs/unique-jobs.md) costs at enqueue, on one private redis-server, one client:
//   single     N enqueues with 64 in flight: a class without `unique` against an `until-finished` class (distinct
//              arguments, so every lock is free); the runs interleaved, the median kept.
//   duplicate  N enqueues of a key whose lock is held (nothing is pushed), against the same plain enqueues.
//   bulk       N jobs in enqueueBulk calls of 1,000: plain against unique (one script call per 1,000 jobs).
//   drain      N prefilled jobs drained by one in-process worker at concurrency 50 (no-op jobs): plain against
//              `until-finished` jobs, whose lock is extended when each is reserved and released when it is
//              acknowledged, in the reservation script.
// Each figure: enqueues (or jobs) per second, Redis commands and Redis CPU µs per enqueue (or job); the ratio is
// unique / plain.
// Usage (after `npm run build`): node bench/unique.mjs [--quick | --smoke] [--json file]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defineJob, Resque } from '../dist/index.js';
import { Worker } from '../dist/worker/worker.js';
import { describeMachine } from './lib/machine.mjs';
import { redisWork, startRedisServer, workPerJob } from './lib/redis-server.mjs';
import { median } from './lib/stats.mjs';

const PROFILES = {
  full: { jobs: 50_000, runs: 5 },
  quick: { jobs: 10_000, runs: 3 },
  smoke: { jobs: 300, runs: 1 },
};
const { values } = parseArgs({
  options: { quick: { type: 'boolean' }, smoke: { type: 'boolean' }, json: { type: 'string' } },
});
const profile = values.smoke ? 'smoke' : values.quick ? 'quick' : 'full';
const sizes = PROFILES[profile];
const NAMESPACE = 'bench';
const QUEUE = 'unique';
const IN_FLIGHT = 64;
const BULK = 1000;

const perform = () => {};
const Plain = defineJob({ className: 'UniquePlain', queue: QUEUE, perform });
const Locked = defineJob({ className: 'UniqueLocked', queue: QUEUE, unique: 'until-finished', perform });

/** Runs `count` calls of `call(i)` with IN_FLIGHT at once. */
async function inFlight(count, call) {
  let next = 0;
  const lane = async () => {
    while (next < count) await call(next++);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
}

/** One measured run on an empty namespace: enqueues per second and Redis's work per enqueue. */
async function measure(server, resque, count, body) {
  await server.admin.flushall();
  await server.admin.config('RESETSTAT');
  const before = await redisWork(server.admin);
  const started = performance.now();
  await body();
  const seconds = (performance.now() - started) / 1000;
  const after = await redisWork(server.admin);
  return { perSecond: count / seconds, ...workPerJob(before, after, count) };
}

/** Prefills `n` jobs of `job`, then one worker at concurrency 50 drains them: from its start to the last ack. */
async function drain(server, job, n) {
  await server.admin.flushall();
  const filler = new Resque({ redis: server.url, namespace: NAMESPACE });
  await bulk(filler, job, n);
  await filler.close();
  await server.admin.config('RESETSTAT');
  const before = await redisWork(server.admin);
  const worker = new Worker({
    redis: server.url,
    namespace: NAMESPACE,
    queues: [QUEUE],
    concurrency: 50,
    isolation: 'none',
    jobs: [Plain, Locked],
    setProcessTitle: false,
    logLevel: 'silent',
  });
  const started = performance.now();
  await worker.start();
  const processed = `${NAMESPACE}:stat:processed`;
  while (Number(await server.admin.get(processed)) < n) await new Promise((r) => setTimeout(r, 5));
  const seconds = (performance.now() - started) / 1000;
  const after = await redisWork(server.admin);
  await worker.stop('term');
  const leftLocks = (await server.admin.keys(`${NAMESPACE}:ts:unique:*`)).length;
  if (leftLocks > 0) throw new Error(`${leftLocks} unique locks left after the drain`);
  return { perSecond: n / seconds, ...workPerJob(before, after, n) };
}

const SCENARIOS = {
  single: {
    plain: (resque, n) => inFlight(n, (i) => resque.enqueue(Plain, i)),
    unique: (resque, n) => inFlight(n, (i) => resque.enqueue(Locked, i)),
  },
  duplicate: {
    plain: (resque, n) => inFlight(n, () => resque.enqueue(Plain, 0)),
    unique: async (resque, n) => {
      await resque.enqueue(Locked, 0);
      await inFlight(n, () => resque.enqueue(Locked, 0));
    },
  },
  bulk: {
    plain: (resque, n) => bulk(resque, Plain, n),
    unique: (resque, n) => bulk(resque, Locked, n),
  },
  drain: {
    measured: true,
    plain: (_resque, n, server) => drain(server, Plain, n),
    unique: (_resque, n, server) => drain(server, Locked, n),
  },
};

async function bulk(resque, job, n) {
  for (let i = 0; i < n; i += BULK) {
    await resque.enqueueBulk(
      job,
      Array.from({ length: Math.min(BULK, n - i) }, (_, k) => [i + k]),
    );
  }
}

const server = await startRedisServer();
try {
  const machine = await describeMachine(server);
  const resque = new Resque({ redis: server.url, namespace: NAMESPACE });
  const run = (sides, side, n) =>
    sides.measured
      ? sides[side](resque, n, server)
      : measure(server, resque, n, () => sides[side](resque, n));
  // Warm-up: scripts cached, connection and JIT warm, every path once.
  for (const sides of Object.values(SCENARIOS)) {
    for (const side of ['plain', 'unique']) await run(sides, side, 2000);
  }
  const figures = {};
  for (const [name, sides] of Object.entries(SCENARIOS)) {
    const runs = { plain: [], unique: [] };
    for (let r = 0; r < sizes.runs; r++) {
      for (const side of ['plain', 'unique']) {
        runs[side].push(await run(sides, side, sizes.jobs));
      }
    }
    const pick = (side) => {
      const rates = runs[side].map((run) => run.perSecond);
      const chosen = runs[side].find((run) => run.perSecond === median(rates)) ?? runs[side][0];
      return { ...chosen, perSecond: median(rates) };
    };
    const plain = pick('plain');
    const unique = pick('unique');
    figures[name] = { plain, unique, ratio: unique.perSecond / plain.perSecond };
  }
  machine.finish();
  await resque.close();
  console.log(
    `Unique against plain, enqueue and drain (${profile}: ${sizes.jobs} enqueues or jobs × ${sizes.runs} runs)`,
  );
  console.log(
    '| scenario | plain /s | unique /s | unique / plain | Redis cmds per enqueue or job (plain → unique) | Redis CPU µs per enqueue or job (plain → unique) |',
  );
  console.log('| --- | ---: | ---: | ---: | --- | --- |');
  for (const [name, { plain, unique, ratio }] of Object.entries(figures)) {
    console.log(
      `| ${name} | ${Math.round(plain.perSecond)} | ${Math.round(unique.perSecond)} | ${ratio.toFixed(2)} | ` +
        `${plain.commandsPerJob.toFixed(2)} → ${unique.commandsPerJob.toFixed(2)} | ` +
        `${plain.cpuMicrosPerJob.toFixed(1)} → ${unique.cpuMicrosPerJob.toFixed(1)} |`,
    );
  }
  if (values.json) writeFileSync(values.json, JSON.stringify({ machine, sizes, figures }, null, 2));
} finally {
  await server.stop();
}
process.exit(0);
