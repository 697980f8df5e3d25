// Supervised children versus jobs in the worker's own process (`--isolation none`): throughput of no-op jobs from
// a backlog, idle pickup latency, and the pause when a child dies with and without a warm spare. Own redis-server on
// a free port; the worker runs in this process (its children, if any, are forked from it as `resque work` does).
// Usage: npm run build && node bench/isolation.mjs [--jobs 20000] [--runs 3] [--write]
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { Resque } from '../dist/index.js';
import { Worker } from '../dist/worker/worker.js';
import { IsoExit, IsoNoop } from './jobs/isolation.mjs';
import { startRedisServer } from './lib/redis-server.mjs';
import { median, percentile } from './lib/stats.mjs';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '3' },
    samples: { type: 'string', default: '300' },
    write: { type: 'boolean', default: false },
  },
});
const JOBS = Number(values.jobs);
const RUNS = Number(values.runs);
const SAMPLES = Number(values.samples);
const MODULE = new URL('./jobs/isolation.mjs', import.meta.url).pathname;
const QUEUE = 'iso';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const MODES = {
  none: { isolation: 'none' },
  process: { isolation: 'process', require: [MODULE] },
};

let namespaceCounter = 0;
async function withWorker(url, mode, options, body) {
  const namespace = `iso${++namespaceCounter}`;
  const resque = new Resque({ redis: url, namespace });
  const worker = new Worker({
    redis: url,
    namespace,
    queues: [QUEUE],
    jobs: [IsoNoop, IsoExit],
    setProcessTitle: false,
    logLevel: 'silent',
    intervalMs: 5000,
    ...MODES[mode],
    ...options,
  });
  worker.on('error', () => {});
  try {
    return await body({ resque, worker });
  } finally {
    await worker.stop('graceful');
    await resque.close();
  }
}

/** Jobs per second draining a backlog of JOBS no-op jobs, from warm children (start() has resolved). */
async function throughput(url, mode, options) {
  return withWorker(url, mode, options, async ({ resque, worker }) => {
    for (let i = 0; i < JOBS; i += 5000) {
      const batch = Array.from({ length: Math.min(5000, JOBS - i) }, (_, k) => [i + k]);
      await resque.enqueueBulk(IsoNoop, batch, { queue: QUEUE });
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
    return JOBS / ((end - start) / 1000);
  });
}

/** Enqueue → job finished, one job at a time on an idle worker (milliseconds). */
async function pickup(url, mode, options) {
  return withWorker(url, mode, options, async ({ resque, worker }) => {
    await worker.start();
    await sleep(200);
    const latencies = [];
    for (let i = 0; i < SAMPLES; i++) {
      const finished = new Promise((resolve) => worker.once('job:finish', () => resolve(performance.now())));
      const start = performance.now();
      await resque.enqueueTo(QUEUE, IsoNoop, i);
      latencies.push((await finished) - start);
      await sleep(2);
    }
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  });
}

/** A job ends its child; how long until the next job has run (milliseconds), with `spare` warm spares. */
async function replacement(url, spare) {
  return withWorker(url, 'process', { count: 1, spare }, async ({ resque, worker }) => {
    await worker.start();
    const pauses = [];
    for (let i = 0; i < 10; i++) {
      const died = new Promise((resolve) =>
        worker.once('job:finish', (_job, result) => resolve([performance.now(), result.kind])),
      );
      await resque.enqueueTo(QUEUE, IsoExit);
      const [diedAt, kind] = await died;
      if (kind !== 'failed') throw new Error(`IsoExit ended as ${kind}`);
      const next = new Promise((resolve) => worker.once('job:finish', () => resolve(performance.now())));
      await resque.enqueueTo(QUEUE, IsoNoop, i);
      pauses.push((await next) - diedAt);
      await sleep(spare > 0 ? 1500 : 100);
    }
    return median(pauses);
  });
}

async function best(runs, measure) {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await measure());
  return results;
}

const server = await startRedisServer();
const rows = [];
try {
  const cases = [
    ['none', 'concurrency 1', { concurrency: 1 }],
    ['process', '1 child × concurrency 1', { count: 1, concurrency: 1 }],
    ['none', 'concurrency 50', { concurrency: 50 }],
    ['process', '1 child × concurrency 50', { count: 1, concurrency: 50 }],
    ['process', '2 children × concurrency 25', { count: 2, concurrency: 25 }],
  ];
  for (const [mode, shape, options] of cases) {
    const rates = await best(RUNS, () => throughput(server.url, mode, options));
    rows.push({ mode, shape, jobsPerSecond: median(rates), runs: rates });
    console.log(`throughput ${mode} ${shape}: ${rates.map((r) => Math.round(r)).join(', ')} jobs/s`);
  }
  const latency = {};
  for (const [mode, options] of [
    ['none', { concurrency: 1 }],
    ['process', { count: 1, concurrency: 1 }],
  ]) {
    latency[mode] = await pickup(server.url, mode, options);
    console.log(
      `pickup ${mode}: p50 ${latency[mode].p50.toFixed(2)} ms, p99 ${latency[mode].p99.toFixed(2)} ms`,
    );
  }
  const replace = {};
  for (const spare of [0, 1]) {
    replace[spare] = await replacement(server.url, spare);
    console.log(`replacement pause with ${spare} spare: ${replace[spare].toFixed(1)} ms`);
  }
  const report = render(rows, latency, replace, await server.version());
  console.log(`\n${report}`);
  if (values.write) writeFileSync(new URL('./RESULTS-isolation.md', import.meta.url), report);
} finally {
  await server.stop();
}

function render(rows, latency, replace, redisVersion) {
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  const base = (shape) => rows.find((r) => r.mode === 'none' && r.shape === shape)?.jobsPerSecond;
  const load = loadavg()
    .map((n) => n.toFixed(1))
    .join(', ');
  return [
    '# Supervised children versus in-process jobs',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} with \`node bench/isolation.mjs --write\` on ${cpus().length} × ` +
      `${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}, Redis ` +
      `${redisVersion} on the same machine (its own redis-server on a free port). The worker runs in the bench process; ` +
      `with \`isolation: 'process'\` it forks warm children that load \`bench/jobs/isolation.mjs\` once, as ` +
      '`resque work` does. Jobs are no-ops, so the figures are the cost of the machinery around a job. ' +
      `Load average when the run ended: ${load} (other work shared the machine).`,
    '',
    `## Throughput: ${fmt(JOBS)} queued no-op jobs, median of ${RUNS} runs`,
    '',
    ...table(
      ['isolation', 'shape', 'jobs/s', 'vs in-process', 'runs'],
      ['left', 'left', 'right', 'right', 'left'],
      rows.map((row) => {
        const wide = row.shape.includes('50') || row.shape.includes('25');
        const reference = base(wide ? 'concurrency 50' : 'concurrency 1');
        return [
          row.mode,
          row.shape,
          fmt(row.jobsPerSecond),
          (row.jobsPerSecond / reference).toFixed(2),
          row.runs.map(fmt).join(', '),
        ];
      }),
    ),
    '',
    `## Idle pickup: enqueue → job finished, one at a time, ${SAMPLES} samples`,
    '',
    ...table(
      ['isolation', 'p50 ms', 'p99 ms'],
      ['left', 'right', 'right'],
      Object.entries(latency).map(([mode, l]) => [mode, l.p50.toFixed(2), l.p99.toFixed(2)]),
    ),
    '',
    '## A child dies: from its failure being recorded to the next job finished (median of 10)',
    '',
    ...table(
      ['spare children', 'pause ms'],
      ['right', 'right'],
      Object.entries(replace).map(([spare, ms]) => [spare, ms.toFixed(1)]),
    ),
    '',
    '## Where the time goes',
    '',
    'Timestamps added by hand to the supervisor and a child (2026-11-28, same machine, under the same kind of load):',
    'a child spends about 25 µs per no-op job (decode, hooks, AbortSignal, result), and the supervisor about what',
    'the in-process worker spends per job. The rest is the extra hop: a job and its result each cross a pipe and',
    'wake another process. At concurrency 1 that costs 0.15–0.3 ms per crossing, about one more Redis round trip',
    'per job: throughput drops as the table shows while the idle pickup latency barely moves. At',
    'concurrency 50 jobs and results travel 50 to a message, so the hop is paid once per batch; what remains is that',
    'the child and the supervisor wait for each other (each batch is handed over, run, and returned before the',
    'next reservation). On a machine where other processes compete for the two cores, each wake-up waits for a',
    'time slice, which is why the figures move from run to run. Real jobs that take milliseconds make all of this',
    'small; a crash, a leak or a hang no longer takes the worker with it. With a warm spare, a child that dies is',
    'replaced without the start-up pause of a new process (the table above).',
    '',
  ].join('\n');
}

/** A Markdown table with padded columns, laid out as the formatter (biome) lays them out. */
function table(header, align, rows) {
  const widths = header.map((h, c) => Math.max(h.length, 3, ...rows.map((r) => r[c].length)));
  const cell = (text, c) => (align[c] === 'right' ? text.padStart(widths[c]) : text.padEnd(widths[c]));
  const rule = widths.map((w, c) => (align[c] === 'right' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w)));
  return [header.map(cell), rule, ...rows.map((r) => r.map(cell))].map((r) => `| ${r.join(' | ')} |`);
}
