// resque-ts against BullMQ, bee-queue and node-resque on one private redis-server: enqueue, drain, pickup latency,
// backlog, memory and Redis work per job; then delayed jobs against BullMQ (a shorter bench/delayed.mjs: enqueue,
// promotion of many jobs due at once, pickup after the due time). Usage (after `npm run build`):
//   node bench/run.mjs [--quick | --smoke] [--runs n] [--libs resque-ts,bullmq] [--only drain50,latency]
//                      [--json file] [--wait-quiet load]
// --wait-quiet waits (up to an hour) until the 1-minute load average is below `load` before it starts.
// Prints a markdown table of medians over the runs; see bench/RESULTS.md for the latest one and how to read it.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { delayedFigures, delayedReport } from './lib/delayed.mjs';
import { describeMachine } from './lib/machine.mjs';
import { redisBenchmark, startRedisServer } from './lib/redis-server.mjs';
import { table } from './lib/report.mjs';
import { backlogRuns, drainRun, enqueueRun, latencyRun } from './lib/scenarios.mjs';
import { median } from './lib/stats.mjs';

const PROFILES = {
  full: {
    jobs: 50_000,
    childJobs: 20_000,
    warmup: 5000,
    chunk: 1000,
    latencyJobs: 2000,
    latencyWarmup: 50,
    backlog: 1_000_000,
    runs: 3,
    latencyRuns: 3,
    backlogRuns: 3,
    benchmarkRequests: 100_000,
    delayed: { jobs: 5000, due: 200_000, samples: 100 },
  },
  quick: {
    jobs: 10_000,
    childJobs: 3000,
    warmup: 1000,
    chunk: 1000,
    latencyJobs: 500,
    latencyWarmup: 50,
    backlog: 100_000,
    runs: 1,
    latencyRuns: 1,
    backlogRuns: 1,
    benchmarkRequests: 100_000,
    delayed: { jobs: 2000, due: 50_000, samples: 50 },
  },
  smoke: {
    jobs: 300,
    warmup: 50,
    chunk: 100,
    latencyJobs: 20,
    latencyWarmup: 5,
    backlog: 1000,
    runs: 1,
    latencyRuns: 1,
    backlogRuns: 1,
    benchmarkRequests: 1000,
    delayed: { jobs: 100, due: 2000, samples: 5 },
  },
};
const SCENARIOS = ['enqueue', 'drain1', 'drain50', 'child', 'latency', 'backlog', 'ceiling', 'delayed'];
const LIBS = {
  'resque-ts': 'resque-ts',
  bullmq: 'BullMQ',
  'bee-queue': 'bee-queue',
  'node-resque': 'node-resque',
};

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    smoke: { type: 'boolean' },
    runs: { type: 'string' },
    libs: { type: 'string' },
    only: { type: 'string' },
    json: { type: 'string' },
    'wait-quiet': { type: 'string' },
  },
});
const profileName = values.smoke ? 'smoke' : values.quick ? 'quick' : 'full';
const sizes = { ...PROFILES[profileName] };
if (values.runs) sizes.runs = sizes.latencyRuns = sizes.backlogRuns = Number(values.runs);
const libIds = values.libs ? values.libs.split(',') : Object.keys(LIBS);
const only = new Set(values.only ? values.only.split(',') : SCENARIOS);
for (const id of libIds)
  if (!LIBS[id]) throw new Error(`unknown library ${id} (${Object.keys(LIBS).join(', ')})`);
for (const name of only)
  if (!SCENARIOS.includes(name)) throw new Error(`unknown scenario ${name} (${SCENARIOS})`);

const began = performance.now();
const log = (text) =>
  process.stderr.write(`[${((performance.now() - began) / 1000).toFixed(0)} s] ${text}\n`);
const libs = await Promise.all(libIds.map(async (id) => ({ id, ...(await import(`./libs/${id}.mjs`)) })));
const samples = Object.fromEntries(libs.map((lib) => [lib.name, {}]));
const notes = Object.fromEntries(libs.map((lib) => [lib.name, {}]));
const record = (lib, key, value) => {
  samples[lib.name][key] ??= [];
  samples[lib.name][key].push(value);
};

async function measureRun(ctx, run) {
  for (const lib of libs) {
    const step = (what) => log(`run ${run + 1}/${sizes.runs}: ${lib.name}, ${what}`);
    if (only.has('enqueue')) {
      step('enqueue');
      const one = await enqueueRun(ctx, lib.id, 'one');
      record(lib, 'enqueueOne', one.rate);
      record(lib, 'cmdEnqueue', one.work.commandsPerJob);
      record(lib, 'cpuEnqueue', one.work.cpuMicrosPerJob);
      if (lib.name === 'node-resque') notes[lib.name].enqueueBulk = 'no bulk API';
      else {
        const bulk = await enqueueRun(ctx, lib.id, 'bulk');
        record(lib, 'enqueueBulk', bulk.rate);
        record(lib, 'cmdBulk', bulk.work.commandsPerJob);
      }
    }
    for (const concurrency of [1, 50]) {
      if (!only.has(`drain${concurrency}`)) continue;
      step(`drain at concurrency ${concurrency}`);
      const drain = await drainRun(ctx, lib.id, concurrency);
      record(lib, `drain${concurrency}`, drain.rate);
      record(lib, `rss${concurrency}`, drain.rssMb);
      record(lib, `cmdDrain${concurrency}`, drain.work.commandsPerJob);
      if (concurrency === 50) record(lib, 'cpuDrain50', drain.work.cpuMicrosPerJob);
    }
    if (only.has('child')) {
      step('drains under child isolation');
      await measureChild(ctx, lib);
    }
  }
}

async function measureChild(ctx, lib) {
  if (!lib.supportsChildIsolation()) {
    const why = lib.name === 'resque-ts' ? 'pending' : 'no child isolation';
    for (const key of ['drain1child', 'drain50child', 'rss50child']) notes[lib.name][key] = why;
    return;
  }
  for (const concurrency of [1, 50]) {
    const drain = await drainRun(ctx, lib.id, concurrency, 'child');
    record(lib, `drain${concurrency}child`, drain.rate);
    if (concurrency === 50) record(lib, 'rss50child', drain.rssMb);
  }
}

async function measure(ctx) {
  for (let run = 0; run < sizes.runs; run++) await measureRun(ctx, run);
  if (only.has('latency')) {
    for (let run = 0; run < sizes.latencyRuns; run++) {
      for (const lib of libs) {
        log(`pickup latency ${run + 1}/${sizes.latencyRuns}: ${lib.name}`);
        const latency = await latencyRun(ctx, lib.id);
        for (const key of ['p50', 'p99', 'max']) record(lib, key, latency[key]);
      }
    }
  }
  if (only.has('backlog')) {
    for (const lib of libs) {
      log(`backlog of ${sizes.backlog.toLocaleString('en-US')}: ${lib.name}`);
      for (const { empty, backlog } of await backlogRuns(ctx, lib.id, sizes.backlogRuns)) {
        record(lib, 'backlogEnqueue', backlog.enqueue);
        record(lib, 'backlogDrain', backlog.drain);
        record(lib, 'backlogEnqueueRatio', backlog.enqueue / empty.enqueue);
        record(lib, 'backlogDrainRatio', backlog.drain / empty.drain);
      }
    }
  }
}

function figures() {
  const result = {};
  for (const lib of libs) {
    const own = Object.fromEntries(
      Object.entries(samples[lib.name]).map(([key, list]) => [key, median(list)]),
    );
    result[lib.name] = { ...notes[lib.name], ...own };
  }
  return result;
}

async function waitUntilQuiet(limit) {
  const deadline = Date.now() + 3_600_000;
  while (loadavg()[0] >= limit && Date.now() < deadline) {
    log(`load average ${loadavg()[0].toFixed(2)} ≥ ${limit}: waiting`);
    await new Promise((resolve) => setTimeout(resolve, 30_000));
  }
}

if (values['wait-quiet']) await waitUntilQuiet(Number(values['wait-quiet']));
const server = await startRedisServer();
try {
  const ctx = { server, sizes };
  const machine = await describeMachine(server);
  let ceiling;
  if (only.has('ceiling')) ceiling = await redisBenchmark(server.port, sizes.benchmarkRequests);
  await measure(ctx);
  let delayed;
  if (only.has('delayed') && libIds.includes('resque-ts')) {
    delayed = await delayedFigures(server, { ...sizes.delayed, bull: libIds.includes('bullmq'), log });
  }
  machine.finish();
  const result = figures();
  const command = `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim();
  const mainScenarios = SCENARIOS.some((name) => name !== 'delayed' && name !== 'ceiling' && only.has(name));
  const described = [
    mainScenarios
      ? `${sizes.jobs.toLocaleString('en-US')} jobs per run, ` +
        `${sizes.childJobs ?? sizes.jobs} under child isolation, after ${sizes.warmup} untimed; ` +
        `median of ${sizes.runs} run(s); ` +
        `latency ${sizes.latencyJobs} jobs × ${sizes.latencyRuns}; ` +
        `backlog ${sizes.backlog.toLocaleString('en-US')} × ${sizes.backlogRuns}`
      : undefined,
    delayed
      ? `delayed: ${sizes.delayed.jobs.toLocaleString('en-US')} enqueued each way, ` +
        `${sizes.delayed.due.toLocaleString('en-US')} promoted, ${sizes.delayed.samples} pickups`
      : undefined,
  ].filter((part) => part !== undefined);
  console.log(`${command} (${profileName}: ${described.join('; ')})`);
  console.log(
    `${machine.date}, ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, Redis ${machine.redis}, ` +
      `load average ${machine.loadBefore} before, ${machine.loadAfter} after\n`,
  );
  if (mainScenarios) {
    console.log(
      table(
        result,
        libs.map((lib) => lib.name),
      ),
    );
  }
  if (ceiling) {
    console.log(
      `\nredis-benchmark -q -n ${sizes.benchmarkRequests} -t lpush,lpop on the same server: ` +
        `LPUSH ${Math.round(ceiling.lpush).toLocaleString('en-US')}/s, LPOP ${Math.round(ceiling.lpop).toLocaleString('en-US')}/s`,
    );
  }
  if (delayed) {
    console.log(`\n## Delayed jobs (bench/RESULTS-delayed.md has a full-size run)\n`);
    console.log(delayedReport(delayed).join('\n'));
  }
  if (values.json)
    writeFileSync(
      values.json,
      JSON.stringify({ machine, sizes, ceiling, figures: result, samples, delayed }, null, 2),
    );
} finally {
  await server.stop();
}
// The whole benchmark also measures cost as the fleet, the queues and flow control grow (bench/fleet.mjs,
// bench/flow.mjs), retries against BullMQ (bench/retry.mjs), what a unique job's lock costs at enqueue
// (bench/unique.mjs), what status tracking costs (bench/status.mjs) and one Redis against a 3-primary Redis Cluster
// (bench/cluster.mjs), each on servers of its own, at the same size (skipped when --only picks scenarios).
if (!values.only) {
  const profileFlag = values.smoke ? ['--smoke'] : values.quick ? ['--quick'] : [];
  for (const script of ['fleet.mjs', 'flow.mjs', 'retry.mjs', 'unique.mjs', 'status.mjs', 'cluster.mjs']) {
    console.log(`\n## node bench/${script} ${profileFlag.join(' ')}\n`);
    const code = await new Promise((resolve) =>
      spawn(process.execPath, [new URL(script, import.meta.url).pathname, ...profileFlag], {
        stdio: 'inherit',
      }).once('exit', resolve),
    );
    if (code !== 0) process.exit(Number(code) || 1);
  }
}
process.exit(0);
