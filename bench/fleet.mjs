// What resque-ts costs Redis as the fleet and the number of queues grow, on one private redis-server:
//   idle   N idle `resque work` processes (in-process jobs, and supervised with --count 1); jobs enqueued one at a
//          time 2 ms apart: Redis commands and CPU per job, and per second with no jobs at all (the idle fleet's
//          background: heartbeats, liveness beats, reaper and index turns, polls, delayed-job promotion), and per
//          delayed job (filed 200 ms ahead: promotion, then the pickup).
//   queues 50,000 jobs spread evenly over 1…10,000 queues, one in-process worker on `*` (and on an explicit list of
//          100) at concurrency 50: jobs per second.
// Usage (after `npm run build`): node bench/fleet.mjs [--quick | --smoke] [--only idle,queues] [--json file]
// Optional features on in every run: delayed-job promotion (a worker's default), log level silent, no metrics.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Resque } from '../dist/index.js';
import { Worker } from '../dist/worker/worker.js';
import { Noop } from './jobs/resque-ts.mjs';
import { describeMachine } from './lib/machine.mjs';
import { redisWork, startRedisServer, workPerJob } from './lib/redis-server.mjs';
import { formatNumber } from './lib/report.mjs';

const PROFILES = {
  full: {
    fleets: [1, 10, 50],
    supervised: [1, 10, 25],
    paced: 1000,
    quiet: 20_000,
    jobs: 50_000,
    drainRuns: 3,
    queues: [1, 100, 1000, 10_000],
  },
  quick: {
    fleets: [1, 10, 50],
    supervised: [1, 10],
    paced: 300,
    quiet: 10_000,
    jobs: 20_000,
    drainRuns: 3,
    queues: [1, 100, 1000, 10_000],
  },
  smoke: {
    fleets: [1, 3],
    supervised: [1],
    paced: 30,
    quiet: 2000,
    jobs: 600,
    drainRuns: 1,
    queues: [1, 100],
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
const only = new Set((values.only ?? 'idle,queues').split(','));
const NAMESPACE = 'bench';
const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
const JOBS = new URL('./jobs/resque-ts.mjs', import.meta.url).pathname;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const began = performance.now();
const log = (text) =>
  process.stderr.write(`[${((performance.now() - began) / 1000).toFixed(0)} s] ${text}\n`);

async function processed(admin) {
  return Number((await admin.get(`${NAMESPACE}:stat:processed`)) ?? 0);
}

async function waitUntil(test, ms, what) {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Starts `count` `resque work` processes on queue `bench` and waits until every one is registered. */
async function startFleet(server, count, supervised) {
  const args = supervised ? ['--isolation', 'process', '--count', '1'] : ['--isolation', 'none'];
  const children = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'work',
        '--require',
        JOBS,
        '--queues',
        'bench',
        '--redis',
        server.url,
        '--namespace',
        NAMESPACE,
        ...args,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    children.push(child);
  }
  await waitUntil(
    async () => (await server.admin.scard(`${NAMESPACE}:workers`)) >= count,
    120_000,
    'the fleet',
  );
  // Every worker has made its first reservation and waits.
  await sleep(supervised ? 3000 : 1500);
  return {
    async stop() {
      const exits = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
      for (const child of children) child.kill('SIGTERM');
      await Promise.race([Promise.all(exits), sleep(30_000)]);
      for (const child of children) child.kill('SIGKILL');
    },
  };
}

/** One idle fleet: background cost with no jobs, then jobs enqueued one at a time `gapMs` apart. */
async function idleFleet(server, count, supervised) {
  await server.admin.flushall();
  const fleet = await startFleet(server, count, supervised);
  try {
    const quietBefore = await redisWork(server.admin);
    await sleep(sizes.quiet);
    const quietAfter = await redisWork(server.admin);
    const quiet = workPerJob(quietBefore, quietAfter, sizes.quiet / 1000);
    const resque = new Resque({ redis: server.url, namespace: NAMESPACE });
    const start = await processed(server.admin);
    const before = await redisWork(server.admin);
    for (let i = 0; i < sizes.paced; i++) {
      await resque.enqueueTo('bench', Noop, i);
      await sleep(2);
    }
    await waitUntil(
      async () => (await processed(server.admin)) - start >= sizes.paced,
      120_000,
      'the paced jobs',
    );
    const after = await redisWork(server.admin);
    await resque.close();
    const work = workPerJob(before, after, sizes.paced);
    // Delayed jobs, each due 200 ms after it is filed: promotion as well as the pickup.
    const delayedCount = Math.ceil(sizes.paced / 4);
    const delayedStart = await processed(server.admin);
    const delayedBefore = await redisWork(server.admin);
    const delayedClient = new Resque({ redis: server.url, namespace: NAMESPACE });
    for (let i = 0; i < delayedCount; i++) {
      await delayedClient.enqueueIn(200, Noop, i);
      await sleep(10);
    }
    await waitUntil(
      async () => (await processed(server.admin)) - delayedStart >= delayedCount,
      120_000,
      'the delayed jobs',
    );
    const delayedAfter = await redisWork(server.admin);
    await delayedClient.close();
    const delayed = workPerJob(delayedBefore, delayedAfter, delayedCount);
    return {
      commandsPerJob: work.commandsPerJob,
      cpuMicrosPerJob: work.cpuMicrosPerJob,
      byCommand: work.byCommand,
      idleCommandsPerSecond: quiet.commandsPerJob,
      idleCpuMicrosPerSecond: quiet.cpuMicrosPerJob,
      delayedCommandsPerJob: delayed.commandsPerJob,
      delayedCpuMicrosPerJob: delayed.cpuMicrosPerJob,
    };
  } finally {
    await fleet.stop();
  }
}

/**
 * `jobs` jobs over `queueCount` queues, drained by one in-process worker at concurrency 50 on `*`. With an explicit
 * list of 100 queues, those 100 hold the jobs and every other queue one job the worker does not take. Timed from the
 * first finished job to the last: start-up (registration, the first reaper and index passes) is not the drain.
 */
async function drainQueues(server, queueCount, list) {
  await server.admin.flushall();
  const names = Array.from({ length: queueCount }, (_, i) => `q${String(i).padStart(5, '0')}`);
  const listed = list === 'explicit' ? names.filter((_, i) => i % (queueCount / 100) === 0) : names;
  const listedSet = new Set(listed);
  const perQueue = Math.ceil(sizes.jobs / listed.length);
  const resque = new Resque({ redis: server.url, namespace: NAMESPACE });
  for (let i = 0; i < names.length; i += 100) {
    await Promise.all(
      names.slice(i, i + 100).map((queue) => {
        const count = listedSet.has(queue) ? perQueue : 1;
        return resque.enqueueBulk(
          Noop,
          Array.from({ length: count }, (_, n) => [n]),
          { queue },
        );
      }),
    );
  }
  await resque.close();
  const expected = perQueue * listed.length;
  let done = 0;
  let first = 0;
  let before;
  let finished;
  const allDone = new Promise((resolve) => {
    finished = resolve;
  });
  const worker = new Worker({
    redis: server.url,
    namespace: NAMESPACE,
    queues: list === 'explicit' ? listed : ['*'],
    concurrency: 50,
    isolation: 'none',
    jobs: [Noop],
    setProcessTitle: false,
    logLevel: 'silent',
  });
  worker.on('job:finish', () => {
    if (++done === 1) {
      first = performance.now();
      redisWork(server.admin).then((work) => {
        before = work;
      });
    }
    if (done === expected) finished();
  });
  await worker.start();
  await allDone;
  const ms = performance.now() - first;
  const after = await redisWork(server.admin);
  await worker.stop('graceful');
  const work = workPerJob(before ?? after, after, expected - 1);
  return {
    rate: ((expected - 1) / ms) * 1000,
    commandsPerJob: work.commandsPerJob,
    cpuMicrosPerJob: work.cpuMicrosPerJob,
  };
}

/** The median run of `runs`, by rate. */
async function medianDrain(server, queueCount, list) {
  const results = [];
  for (let run = 0; run < sizes.drainRuns; run++) results.push(await drainQueues(server, queueCount, list));
  results.sort((a, b) => a.rate - b.rate);
  return results[Math.floor(results.length / 2)];
}

const server = await startRedisServer();
const results = { idle: {}, supervised: {}, queues: {}, explicit: {} };
const machine = await describeMachine(server);
try {
  if (only.has('idle')) {
    for (const count of sizes.fleets) {
      log(`${count} idle in-process worker(s)`);
      results.idle[count] = await idleFleet(server, count, false);
    }
    for (const count of sizes.supervised) {
      log(`${count} idle supervised worker(s), --count 1`);
      results.supervised[count] = await idleFleet(server, count, true);
    }
  }
  if (only.has('queues')) {
    for (const count of sizes.queues) {
      log(`${sizes.jobs} jobs over ${count} queue(s), worker on *`);
      results.queues[count] = await medianDrain(server, count, 'glob');
      if (count >= 100) {
        log(`${sizes.jobs} jobs over ${count} queue(s), worker on an explicit list of 100`);
        results.explicit[count] = await medianDrain(server, count, 'explicit');
      }
    }
  }
} finally {
  await server.stop();
}
machine.finish();

const f = formatNumber;
const lines = [
  `node bench/fleet.mjs ${process.argv.slice(2).join(' ')} (${profile})`.trim(),
  `${machine.date}, ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, Redis ${machine.redis}, load average ${machine.loadBefore} before, ${machine.loadAfter} after`,
  '',
];
for (const [kind, label] of [
  ['idle', 'idle `resque work --isolation none` processes'],
  ['supervised', 'idle `resque work --count 1` processes'],
]) {
  const rows = Object.entries(results[kind]);
  if (rows.length === 0) continue;
  const base = rows[0][1];
  lines.push(
    `| ${label} | commands per job | Redis CPU per job | × the first | idle: commands/s | idle: Redis CPU/s | delayed job: commands | delayed job: Redis CPU |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const [count, r] of rows)
    lines.push(
      `| ${count} | ${f(r.commandsPerJob, 1)} | ${f(r.cpuMicrosPerJob)} µs | ${f(r.commandsPerJob / base.commandsPerJob, 2)} / ${f(r.cpuMicrosPerJob / base.cpuMicrosPerJob, 2)} | ${f(r.idleCommandsPerSecond, 1)} | ${f(r.idleCpuMicrosPerSecond)} µs | ${f(r.delayedCommandsPerJob, 1)} | ${f(r.delayedCpuMicrosPerJob)} µs |`,
    );
  lines.push('');
}
const queueRows = Object.entries(results.queues);
if (queueRows.length > 0) {
  const base = queueRows[0][1].rate;
  lines.push(
    '| queues | worker on `*`: jobs/s | × 1 queue | commands per job | explicit list of 100: jobs/s |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const [count, r] of queueRows) {
    const explicit = results.explicit[count];
    lines.push(
      `| ${f(Number(count))} | ${f(r.rate)} | ${f(r.rate / base, 2)} | ${f(r.commandsPerJob, 2)} | ${explicit ? f(explicit.rate) : '—'} |`,
    );
  }
}
console.log(lines.join('\n'));
if (values.json) writeFileSync(values.json, JSON.stringify({ machine, sizes, results }, null, 2));
process.exit(0);
