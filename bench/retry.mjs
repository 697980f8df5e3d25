// Retries against BullMQ on one private redis-server, in-process workers at concurrency 50 (docs/retries.md):
//   retry  N prefilled jobs, each failing on its first two attempts and succeeding on the third
//          (resque-ts `attempts: 3, backoff: { type: 'fixed', delayMs: 0 }`; BullMQ `attempts: 3,
//          backoff: { type: 'fixed', delay: 0 }`): jobs finished per second (each ran three times).
//   plain  the same N jobs succeeding at once, as the yardstick of each library's own retry cost.
// Each library runs alone on an emptied Redis; the order alternates between runs. Redis commands are counted over
// the whole drain and divided by N.
// Usage (after `npm run build`): node bench/retry.mjs [--quick | --smoke] [--json file]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Worker as BullWorker, Queue } from 'bullmq';
import { defineJob, Resque } from '../dist/index.js';
import { Worker } from '../dist/worker/worker.js';
import { describeMachine } from './lib/machine.mjs';
import { redisWork, startRedisServer, workPerJob } from './lib/redis-server.mjs';
import { median } from './lib/stats.mjs';

const PROFILES = {
  full: { jobs: 20_000, runs: 3 },
  quick: { jobs: 5000, runs: 1 },
  smoke: { jobs: 300, runs: 1 },
};
const { values } = parseArgs({
  options: { quick: { type: 'boolean' }, smoke: { type: 'boolean' }, json: { type: 'string' } },
});
const profile = values.smoke ? 'smoke' : values.quick ? 'quick' : 'full';
const sizes = PROFILES[profile];
const NAMESPACE = 'bench';
const QUEUE = 'retry';
const CONCURRENCY = 50;
const FAILING_ATTEMPTS = 2;
const began = performance.now();
const log = (text) =>
  process.stderr.write(`[${((performance.now() - began) / 1000).toFixed(0)} s] ${text}\n`);

class Flaky extends Error {
  name = 'Flaky';
}

const failFirstTwo = (ctx) => {
  if (ctx.attempt <= FAILING_ATTEMPTS) throw new Flaky(`attempt ${ctx.attempt}`);
};
const Retried = defineJob({
  className: 'BenchRetried',
  queue: QUEUE,
  attempts: FAILING_ATTEMPTS + 1,
  backoff: { type: 'fixed', delayMs: 0 },
  perform: failFirstTwo,
});
const Plain = defineJob({ className: 'BenchPlain', queue: QUEUE, perform: () => {} });

/** Resolves with the time the `total`-th call of the returned counter happened. */
function finishLine(total) {
  let done = 0;
  let reached;
  const at = new Promise((resolve) => {
    reached = resolve;
  });
  return {
    at,
    count: () => {
      if (++done === total) reached(performance.now());
    },
  };
}

async function resqueTs(server, failing) {
  const job = failing ? Retried : Plain;
  const resque = new Resque({ redis: server.url, namespace: NAMESPACE });
  for (let i = 0; i < sizes.jobs; i += 1000) {
    const chunk = Array.from({ length: Math.min(1000, sizes.jobs - i) }, (_, k) => [i + k]);
    await resque.enqueueBulk(job, chunk);
  }
  await resque.close();
  const line = finishLine(sizes.jobs);
  const worker = new Worker({
    redis: server.url,
    namespace: NAMESPACE,
    queues: [QUEUE],
    concurrency: CONCURRENCY,
    isolation: 'none',
    jobs: [job],
    setProcessTitle: false,
    logLevel: 'silent',
  });
  worker.on('job:finish', (_reservation, outcome) => {
    if (outcome.kind === 'performed') line.count();
  });
  const before = await redisWork(server.admin);
  const start = performance.now();
  await worker.start();
  const end = await line.at;
  const after = await redisWork(server.admin);
  await worker.stop('graceful');
  return { start, end, before, after };
}

function bullConnection(url) {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port), maxRetriesPerRequest: null };
}

async function bullmq(server, failing) {
  const queue = new Queue(QUEUE, { connection: bullConnection(server.url) });
  const opts = failing ? { attempts: FAILING_ATTEMPTS + 1, backoff: { type: 'fixed', delay: 0 } } : undefined;
  for (let i = 0; i < sizes.jobs; i += 1000) {
    const chunk = Array.from({ length: Math.min(1000, sizes.jobs - i) }, (_, k) => ({
      name: failing ? 'BenchRetried' : 'BenchPlain',
      data: { args: [i + k] },
      opts,
    }));
    await queue.addBulk(chunk);
  }
  await queue.close();
  const line = finishLine(sizes.jobs);
  const processor = async (job) => {
    if (failing && job.attemptsMade < FAILING_ATTEMPTS) throw new Flaky(`attempt ${job.attemptsMade + 1}`);
  };
  const worker = new BullWorker(QUEUE, processor, {
    connection: bullConnection(server.url),
    concurrency: CONCURRENCY,
    autorun: false,
    removeOnComplete: { count: 0 },
    removeOnFail: { count: 0 },
  });
  worker.on('completed', line.count);
  worker.on('error', () => {});
  await worker.waitUntilReady();
  const before = await redisWork(server.admin);
  const start = performance.now();
  void worker.run();
  const end = await line.at;
  const after = await redisWork(server.admin);
  await worker.close();
  return { start, end, before, after };
}

const LIBS = { 'resque-ts': resqueTs, BullMQ: bullmq };

async function measure(server) {
  const samples = {};
  for (let run = 0; run < sizes.runs; run++) {
    const order = Object.keys(LIBS);
    if (run % 2 === 1) order.reverse();
    for (const lib of order) {
      for (const scenario of ['retry', 'plain']) {
        log(`run ${run + 1}/${sizes.runs}: ${lib}, ${scenario}, ${sizes.jobs} jobs`);
        await server.admin.flushall();
        const { start, end, before, after } = await LIBS[lib](server, scenario === 'retry');
        const key = `${lib} ${scenario}`;
        samples[key] ??= { rate: [], commands: [] };
        const figures = samples[key];
        figures.rate.push((sizes.jobs / (end - start)) * 1000);
        figures.commands.push(workPerJob(before, after, sizes.jobs).commandsPerJob);
      }
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([key, list]) => [
      key,
      { rate: median(list.rate), commands: median(list.commands) },
    ]),
  );
}

const server = await startRedisServer();
try {
  const machine = await describeMachine(server);
  const result = await measure(server);
  machine.finish();
  const row = (lib) => {
    const retry = result[`${lib} retry`];
    const plain = result[`${lib} plain`];
    return `| ${lib} | ${Math.round(retry.rate).toLocaleString('en-US')} | ${retry.commands.toFixed(1)} | ${Math.round(plain.rate).toLocaleString('en-US')} | ${(retry.rate / plain.rate).toFixed(2)} |`;
  };
  const ratio = result['resque-ts retry'].rate / result['BullMQ retry'].rate;
  console.log(
    `node bench/retry.mjs ${process.argv.slice(2).join(' ')}`.trim() +
      ` (${profile}: ${sizes.jobs.toLocaleString('en-US')} jobs, concurrency ${CONCURRENCY}, median of ${sizes.runs} run(s))`,
  );
  console.log(
    `${machine.date}, ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, Redis ${machine.redis}, ` +
      `load average ${machine.loadBefore} before, ${machine.loadAfter} after\n`,
  );
  console.log(
    '| library | jobs/s, 2 failures then success | Redis commands per job | jobs/s, no failure | retry/plain |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: |');
  console.log(row('resque-ts'));
  console.log(row('BullMQ'));
  console.log(`\nresque-ts / BullMQ with retries: ${ratio.toFixed(2)}×`);
  if (values.json) writeFileSync(values.json, JSON.stringify({ machine, sizes, result }, null, 2));
} finally {
  await server.stop();
}
process.exit(0);
