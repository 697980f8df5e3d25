// Throughput on one redis-server against a 3-primary Redis Cluster, in the same run, and what each job costs each
// primary: the figures the scaling projection in bench/RESULTS.md is made from.
//   drain  three queues q0, q1, q2 with a backlog each, drained at concurrency 50 by one worker process per queue
//          (in-process no-op jobs): jobs/s over all three, the Redis CPU and commands per job on each node (INFO
//          deltas divided by the jobs of the queues that node serves), and the worker processes' own CPU per job.
//          resque-ts: a namespace of 3 shards with q0, q1, q2 placed on shards 0, 1, 2 (`queueShards`), each shard's
//          tag on a different primary; each worker process is a sharded worker naming its one queue. BullMQ, the anchor: one hash-tagged prefix per queue, chosen to land on the
//          three primaries. Both run the same processes and job counts on the single server.
//   idle   what an idle resque-ts worker over `*` costs the cluster each second: unsharded on one shard's namespace,
//          and sharded over all three.
// Usage (after `npm run build`): node bench/cluster.mjs [--quick | --smoke] [--runs n] [--libs resque-ts,bullmq]
//                                                       [--json file] [--wait-quiet load]
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { ShardLayout } from '../dist/protocol/shard-layout.js';
import { Worker } from '../dist/worker/worker.js';
import { Noop } from './jobs/resque-ts.mjs';
import { describeMachine } from './lib/machine.mjs';
import { spawnChild } from './lib/procs.mjs';
import { startRedisCluster, tagServedBy } from './lib/redis-cluster.mjs';
import { redisWork, startRedisServer, workPerJob } from './lib/redis-server.mjs';
import { formatNumber } from './lib/report.mjs';

const PROFILES = {
  full: { jobs: 30_000, warmup: 5000, runs: 3, idleMs: 20_000 },
  quick: { jobs: 6000, warmup: 1000, runs: 1, idleMs: 4000 },
  smoke: { jobs: 300, warmup: 50, runs: 1, idleMs: 1000 },
};
const LIBS = { 'resque-ts': 'resque-ts', bullmq: 'BullMQ' };
const CONCURRENCY = 50;
/** Worker processes report the time of every MARK_EVERY-th job (see `throughput`). */
const MARK_EVERY = 50;
const QUEUES = ['q0', 'q1', 'q2'];
const BASE = 'bench';
const QUEUE_SHARDS = { q0: 0, q1: 1, q2: 2 };
const layout = new ShardLayout(BASE, 3, new Map(Object.entries(QUEUE_SHARDS)));
/**
 * The namespace options of every client and worker: the sharded namespace. Each worker process names one queue, so it
 * runs one part, on that queue's shard; the client sends each queue's jobs to its shard. (The unsharded stand-in, each
 * on its queue's shard namespace, is what these run: `(queue) => ({ namespace: layout.namespaceOf(queue) })`.)
 */
const namespaceOptions = () => ({ namespace: BASE, shards: 3, queueShards: QUEUE_SHARDS });

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    smoke: { type: 'boolean' },
    runs: { type: 'string' },
    libs: { type: 'string' },
    json: { type: 'string' },
    'wait-quiet': { type: 'string' },
  },
});
const profile = values.smoke ? 'smoke' : values.quick ? 'quick' : 'full';
const sizes = { ...PROFILES[profile] };
if (values.runs) sizes.runs = Number(values.runs);
const libIds = values.libs ? values.libs.split(',') : Object.keys(LIBS);
for (const id of libIds)
  if (!LIBS[id]) throw new Error(`unknown library ${id} (${Object.keys(LIBS).join(', ')})`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const began = performance.now();
const log = (text) =>
  process.stderr.write(`[${((performance.now() - began) / 1000).toFixed(0)} s] ${text}\n`);

/** Where each library keeps queue `queue`: the options its adapter takes, and one key that shows the slot. */
function placementOf(lib, queue, prefixes) {
  if (lib === 'resque-ts') {
    return {
      options: { namespaceOptions: namespaceOptions() },
      key: `${layout.namespaceOf(queue)}:queue:${queue}`,
    };
  }
  const prefix = prefixes[QUEUES.indexOf(queue)];
  return { options: { prefix }, key: `${prefix}:${queue}:wait` };
}

async function fill(target, lib, queue, placement) {
  const count = sizes.warmup + sizes.jobs;
  const options = { mode: 'fill', queue, count, chunk: 1000, ...placement.options };
  const child = spawnChild('producer', lib, target.url, options);
  await child.next('ready');
  child.send({ type: 'go' });
  await child.next('done');
  await child.exited;
}

/**
 * One drain: every node flushed, each queue filled with `warmup` + `jobs`, then one worker process per queue. Redis's
 * work is over the whole drain (warm-up included) and divided by the jobs of the queues each node serves.
 */
async function drain(target, lib, prefixes) {
  for (const node of target.nodes) await node.admin.flushall();
  const placements = QUEUES.map((queue) => placementOf(lib, queue, prefixes));
  await Promise.all(QUEUES.map((queue, i) => fill(target, lib, queue, placements[i])));
  const owners = await Promise.all(placements.map((placement) => target.nodeOf(placement.key)));
  const expect = sizes.warmup + sizes.jobs;
  const before = await Promise.all(target.nodes.map((node) => redisWork(node.admin)));
  const children = QUEUES.map((queue, i) =>
    spawnChild('worker', lib, target.url, {
      queue,
      ...placements[i].options,
      expect,
      warmup: sizes.warmup,
      concurrency: CONCURRENCY,
      isolation: 'none',
      markEvery: MARK_EVERY,
    }),
  );
  try {
    await Promise.all(children.map((child) => child.next('ready')));
    const done = await Promise.all(children.map((child) => child.next('done')));
    const after = await Promise.all(target.nodes.map((node) => redisWork(node.admin)));
    for (const child of children) child.send({ type: 'stop' });
    await Promise.race([Promise.all(children.map((child) => child.exited)), sleep(10_000)]);
    const jobs = done.reduce((sum, d) => sum + d.jobs, 0);
    const nodes = target.nodes.map((node, n) => {
      const served = QUEUES.filter((_, i) => owners[i] === node);
      const work = workPerJob(before[n], after[n], Math.max(served.length, 1) * expect);
      return {
        port: node.port,
        queues: served,
        jobs: served.length * expect,
        cpuMicrosPerJob: served.length > 0 ? work.cpuMicrosPerJob : undefined,
        commandsPerJob: served.length > 0 ? work.commandsPerJob : undefined,
        cpuSeconds: after[n].cpuSeconds - before[n].cpuSeconds,
        byCommand: work.byCommand,
      };
    });
    const redisCpuSeconds = nodes.reduce((sum, node) => sum + node.cpuSeconds, 0);
    const workerCpuMicros = done.reduce((sum, d) => sum + d.cpuMicros, 0);
    return {
      ...throughput(done),
      perQueue: Object.fromEntries(QUEUES.map((queue, i) => [queue, (done[i].jobs / done[i].ms) * 1000])),
      redisCpuMicrosPerJob: (redisCpuSeconds * 1e6) / (expect * QUEUES.length),
      workerCpuMicrosPerJob: workerCpuMicros / jobs,
      nodes,
    };
  } finally {
    for (const child of children) child.kill();
    await Promise.all(children.map((child) => child.exited));
  }
}

/**
 * Jobs per second of all the worker processes together, counted while all of them were past their warm-up and none
 * had finished (`overlap`: that part's share of the longest process's timed window). When that part is too short to
 * count (the processes started too far apart), over the whole span from the first start to the last finish instead.
 */
function throughput(done) {
  const from = Math.max(...done.map((d) => d.firstAt));
  const to = Math.min(...done.map((d) => d.lastAt));
  const longest = Math.max(...done.map((d) => d.ms));
  const counted = done.reduce((sum, d) => sum + d.marks.filter((t) => t >= from && t <= to).length, 0);
  if (to - from >= longest / 4 && counted >= done.length * 4)
    return { rate: ((counted * MARK_EVERY) / (to - from)) * 1000, overlap: (to - from) / longest };
  const jobs = done.reduce((sum, d) => sum + d.jobs, 0);
  const span = Math.max(...done.map((d) => d.lastAt)) - Math.min(...done.map((d) => d.firstAt));
  return { rate: (jobs / span) * 1000, overlap: 0 };
}

/** The run whose rate is the median of `results`. */
function medianRun(results) {
  const sorted = [...results].sort((a, b) => a.rate - b.rate);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * An idle resque-ts worker over `*` (empty queues): Redis commands and CPU per second on each node, after its start-up.
 * `shards` 0: no worker (the cluster's own background). 1: an unsharded worker on shard 0's namespace. 3: a sharded
 * worker, which runs a part on every shard (each registers, beats, reaps and looks for work there).
 */
async function idleWorkers(target, shards) {
  for (const node of target.nodes) await node.admin.flushall();
  const namespace = shards === 1 ? { namespace: layout.namespaces[0] } : namespaceOptions();
  const workers = (shards === 0 ? [] : [namespace]).map(
    (options) =>
      new Worker({
        redis: target.url,
        ...options,
        queues: ['*'],
        concurrency: CONCURRENCY,
        isolation: 'none',
        jobs: [Noop],
        setProcessTitle: false,
        logLevel: 'silent',
      }),
  );
  await Promise.all(workers.map((worker) => worker.start()));
  try {
    await sleep(2000);
    const before = await Promise.all(target.nodes.map((node) => redisWork(node.admin)));
    await sleep(sizes.idleMs);
    const after = await Promise.all(target.nodes.map((node) => redisWork(node.admin)));
    const nodes = target.nodes.map((node, n) => {
      const work = workPerJob(before[n], after[n], sizes.idleMs / 1000);
      return {
        port: node.port,
        commandsPerSecond: work.commandsPerJob,
        cpuMicrosPerSecond: work.cpuMicrosPerJob,
        byCommand: work.byCommand,
      };
    });
    return {
      commandsPerSecond: nodes.reduce((sum, node) => sum + node.commandsPerSecond, 0),
      cpuMicrosPerSecond: nodes.reduce((sum, node) => sum + node.cpuMicrosPerSecond, 0),
      nodes,
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.stop('graceful')));
  }
}

async function waitUntilQuiet(limit) {
  const deadline = Date.now() + 3_600_000;
  while (loadavg()[0] >= limit && Date.now() < deadline) {
    log(`load average ${loadavg()[0].toFixed(2)} ≥ ${limit}: waiting`);
    await sleep(30_000);
  }
}

if (values['wait-quiet']) await waitUntilQuiet(Number(values['wait-quiet']));
log('starting one redis-server and a 3-primary cluster');
const server = await startRedisServer();
const cluster = await startRedisCluster(3);
const single = { name: 'one Redis', url: server.url, nodes: [server], nodeOf: async () => server };
const clustered = { name: 'cluster', url: cluster.url, nodes: cluster.nodes, nodeOf: cluster.ownerOf };
const machine = await describeMachine(server);
const results = {};
const placement = [];
let idle;
try {
  // Where everything lands: each shard's tag and each BullMQ prefix, asked of the cluster.
  const ranges = await cluster.slotRanges();
  const prefixes = QUEUES.map((_, i) => tagServedBy('bq', i, ranges[i].ranges));
  for (const [i, queue] of QUEUES.entries()) {
    const shardKey = placementOf('resque-ts', queue, prefixes).key;
    const bullKey = placementOf('bullmq', queue, prefixes).key;
    placement.push({
      queue,
      shard: layout.shardOf(queue),
      namespace: layout.namespaceOf(queue),
      slot: Number(await cluster.nodes[0].admin.call('CLUSTER', 'KEYSLOT', shardKey)),
      primary: (await cluster.ownerOf(shardKey)).port,
      prefix: prefixes[i],
      bullSlot: Number(await cluster.nodes[0].admin.call('CLUSTER', 'KEYSLOT', bullKey)),
      bullPrimary: (await cluster.ownerOf(bullKey)).port,
    });
  }
  for (const what of ['primary', 'bullPrimary'])
    if (new Set(placement.map((p) => p[what])).size !== QUEUES.length)
      log(`warning: the three queues do not land on three different primaries (${what})`);
  for (const p of placement)
    log(
      `${p.queue}: shard ${p.shard} ${p.namespace} slot ${p.slot} on :${p.primary}; BullMQ ${p.prefix} slot ${p.bullSlot} on :${p.bullPrimary}`,
    );

  const runs = {};
  for (let run = 0; run < sizes.runs; run++) {
    for (const lib of libIds) {
      for (const target of run % 2 === 0 ? [single, clustered] : [clustered, single]) {
        log(`run ${run + 1}/${sizes.runs}: ${LIBS[lib]} on ${target.name}`);
        runs[lib] ??= { single: [], cluster: [] };
        runs[lib][target === single ? 'single' : 'cluster'].push(await drain(target, lib, prefixes));
      }
    }
  }
  for (const [lib, byTarget] of Object.entries(runs))
    results[LIBS[lib]] = { single: medianRun(byTarget.single), cluster: medianRun(byTarget.cluster) };
  if (libIds.includes('resque-ts')) {
    log('idle resque-ts worker over * on the cluster: none (the cluster alone), one shard, then three');
    idle = {
      none: await idleWorkers(clustered, 0),
      one: await idleWorkers(clustered, 1),
      three: await idleWorkers(clustered, 3),
    };
  }
} finally {
  await cluster.stop();
  await server.stop();
}
machine.finish();

const f = formatNumber;
const lines = [
  `node bench/cluster.mjs ${process.argv.slice(2).join(' ')}`.trim() +
    ` (${profile}: 3 queues × ${f(sizes.jobs)} jobs after ${f(sizes.warmup)} untimed each, ` +
    `concurrency ${CONCURRENCY} per queue, median of ${sizes.runs} run(s))`,
  `${machine.date}, ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, Redis ${machine.redis}, load average ${machine.loadBefore} before, ${machine.loadAfter} after`,
  '',
  '| queue | resque-ts shard | its namespace | slot | primary | BullMQ prefix | slot | primary |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...placement.map(
    (p) =>
      `| ${p.queue} | ${p.shard} | \`${p.namespace}\` | ${p.slot} | :${p.primary} | \`${p.prefix}\` | ${p.bullSlot} | :${p.bullPrimary} |`,
  ),
  '',
];
const columns = Object.entries(results).flatMap(([lib, byTarget]) => [
  [`${lib}, one Redis`, byTarget.single],
  [`${lib}, cluster`, byTarget.cluster],
]);
if (columns.length > 0) {
  const row = (label, cell) => `| ${label} | ${columns.map(([, r]) => cell(r)).join(' | ')} |`;
  const perNode = (r, key, digits) =>
    r.nodes
      .filter((node) => node[key] !== undefined)
      .map((node) => f(node[key], digits))
      .join(' / ');
  const coresBusy = (r) => {
    // A node's share of the jobs is its queues' share: the queues are the same size.
    const redis = Math.max(
      ...r.nodes.map(
        (node) => ((node.cpuMicrosPerJob ?? 0) * r.rate * node.queues.length) / QUEUES.length / 1e6,
      ),
    );
    const workers = (r.workerCpuMicrosPerJob * r.rate) / 1e6;
    const allRedis = (r.redisCpuMicrosPerJob * r.rate) / 1e6;
    return `${f(redis, 2)} / ${f(allRedis, 2)} / ${f(workers, 2)} / ${f(allRedis + workers, 2)}`;
  };
  lines.push(
    `| Drain, 3 queues, one worker process each | ${columns.map(([name]) => name).join(' | ')} |`,
    `| --- | ${columns.map(() => '---:').join(' | ')} |`,
    row('jobs/s, all three queues (while all three processes worked)', (r) => f(r.rate)),
    row('… that part of the longest process window', (r) =>
      r.overlap > 0 ? `${f(r.overlap * 100)} %` : 'too short: whole span',
    ),
    row('jobs/s per queue (q0 / q1 / q2, each over its own window)', (r) =>
      QUEUES.map((q) => f(r.perQueue[q])).join(' / '),
    ),
    row('Redis CPU per job, all nodes (µs)', (r) => f(r.redisCpuMicrosPerJob, 1)),
    row('Redis CPU per job of its queue(s), per node (µs)', (r) => perNode(r, 'cpuMicrosPerJob', 1)),
    row('Redis commands per job, per node', (r) => perNode(r, 'commandsPerJob', 2)),
    row('worker processes: CPU per job (µs)', (r) => f(r.workerCpuMicrosPerJob, 1)),
    row('cores busy: busiest Redis / all Redis / workers / total', coresBusy),
  );
  lines.push('');
  for (const [lib, byTarget] of Object.entries(results))
    lines.push(`${lib}: cluster ÷ one Redis ${f(byTarget.cluster.rate / byTarget.single.rate, 2)}×`);
  lines.push('');
}
let projection;
const ours = results['resque-ts']?.cluster;
if (ours) {
  // A primary's ceiling is the jobs/s at which its one command thread would be busy all the time.
  const perPrimary = ours.nodes.filter((node) => node.cpuMicrosPerJob !== undefined);
  const worst = Math.max(...perPrimary.map((node) => node.cpuMicrosPerJob));
  const mean = perPrimary.reduce((sum, node) => sum + node.cpuMicrosPerJob, 0) / perPrimary.length;
  const singleCost = results['resque-ts'].single.redisCpuMicrosPerJob;
  projection = {
    worstMicrosPerJob: worst,
    meanMicrosPerJob: mean,
    singleMicrosPerJob: singleCost,
    perPrimary: 1e6 / worst,
    primaries: Object.fromEntries([1, 3, 10, 30].map((n) => [n, (n * 1e6) / worst])),
  };
  lines.push(
    `Projection (resque-ts, from the costliest primary's ${f(worst, 1)} µs per job; mean ${f(mean, 1)} µs, one Redis ${f(singleCost, 1)} µs): one primary's command thread is saturated at ${f(projection.perPrimary)} jobs/s`,
    '',
    '| primaries | jobs/s ceiling (queues spread evenly, enough worker machines) |',
    '| --- | ---: |',
    ...[1, 3, 10, 30].map((n) => `| ${n} | ${f(projection.primaries[n])} |`),
    '',
  );
}
if (idle) {
  lines.push(
    '| idle resque-ts worker over `*`, concurrency 50, on the cluster | commands/s, all nodes | Redis CPU/s, all nodes | commands/s per node |',
    '| --- | ---: | ---: | --- |',
    ...[
      ['none (the cluster alone)', idle.none],
      ['one shard (one worker)', idle.one],
      ['three shards (a sharded worker: a part per shard)', idle.three],
    ].map(
      ([label, r]) =>
        `| ${label} | ${f(r.commandsPerSecond, 1)} | ${f(r.cpuMicrosPerSecond)} µs | ${r.nodes.map((node) => f(node.commandsPerSecond, 1)).join(' / ')} |`,
    ),
    '',
    `three shards ÷ one: ${f(idle.three.commandsPerSecond / idle.one.commandsPerSecond, 2)}× the commands/s (Redis CPU/s is mostly the cluster's own timers, ${f(idle.none.cpuMicrosPerSecond)} µs/s with no worker: too noisy to divide)`,
  );
}
console.log(lines.join('\n'));
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify({ machine, sizes, placement, results, idle, projection }, null, 2),
  );
process.exit(0);
