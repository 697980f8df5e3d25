// One run of each benchmark scenario for one library. Every run starts from an empty Redis (FLUSHALL on the
// private server) and measures Redis's work (commands, CPU) over exactly the measured interval.
import { spawnChild, treePeakRssMb } from './procs.mjs';
import { redisWork, workPerJob } from './redis-server.mjs';
import { percentile } from './stats.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a producer child to completion; returns its rate and Redis's work over the measured part. */
async function produce(ctx, lib, options) {
  const child = spawnChild('producer', lib, ctx.server.url, options, ctx.producerExecArgv);
  await child.next('ready');
  const before = await redisWork(ctx.server.admin);
  child.send({ type: 'go' });
  const done = await child.next('done');
  const after = await redisWork(ctx.server.admin);
  await child.exited;
  return { rate: (done.jobs / done.ms) * 1000, work: workPerJob(before, after, done.jobs) };
}

/**
 * Starts a worker child that times finished jobs `warmup`+1 to `expect`; `during` runs once it is ready. Redis's
 * work is divided by all `expect` jobs.
 */
async function work(ctx, lib, options, during = async () => {}) {
  const before = await redisWork(ctx.server.admin);
  const child = spawnChild('worker', lib, ctx.server.url, options, ctx.workerExecArgv);
  try {
    await child.next('ready');
    await during();
    const done = await child.next('done');
    const after = await redisWork(ctx.server.admin);
    const rssMb = treePeakRssMb(child.pid);
    child.send({ type: 'stop' });
    await Promise.race([child.exited, sleep(10_000)]);
    return { done, rssMb, work: workPerJob(before, after, options.expect) };
  } finally {
    child.kill();
    await child.exited;
  }
}

export async function enqueueRun(ctx, lib, mode) {
  await ctx.server.admin.flushall();
  const { jobs, chunk, warmup } = ctx.sizes;
  return produce(ctx, lib, { mode, count: jobs, chunk, warmup });
}

/**
 * Prefills `warmup` + `jobs` jobs (`childJobs` under child isolation), then one worker process drains them; the
 * rate is over the last `jobs`.
 */
export async function drainRun(ctx, lib, concurrency, isolation = 'none') {
  await ctx.server.admin.flushall();
  const { warmup } = ctx.sizes;
  const jobs = isolation === 'none' ? ctx.sizes.jobs : (ctx.sizes.childJobs ?? ctx.sizes.jobs);
  await produce(ctx, lib, { mode: 'fill', count: warmup + jobs, chunk: 1000 });
  const options = { expect: warmup + jobs, warmup, concurrency, isolation };
  const { done, rssMb, work: redis } = await work(ctx, lib, options);
  return { rate: (done.jobs / done.ms) * 1000, rssMb, work: redis };
}

/** An idle worker (concurrency 1); jobs enqueued one at a time `gapMs` apart carry their enqueue time. */
export async function latencyRun(ctx, lib) {
  await ctx.server.admin.flushall();
  const { latencyJobs: count, latencyWarmup: warmup } = ctx.sizes;
  const producer = { mode: 'paced', count, warmup, gapMs: 2 };
  const { done } = await work(ctx, lib, { expect: count + warmup, concurrency: 1, pollMs: 5 }, async () => {
    await sleep(200);
    await produce(ctx, lib, producer);
  });
  const ms = done.latencies;
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), max: percentile(ms, 100), samples: ms.length };
}

/**
 * A queue with a backlog of `backlog` jobs against an empty one, side by side on the same Redis: per run, on each
 * queue, `jobs` enqueues one at a time (onto the backlog's tail), then a drain of as many jobs at concurrency 50
 * (from the backlog's head). The backlog is filled once per library, with enough extra that it never drops below
 * `backlog` during the runs; the empty queue is drained back to empty by each run. Runs alternate which goes first.
 */
export async function backlogRuns(ctx, lib, runs) {
  await ctx.server.admin.flushall();
  const { backlog, jobs, chunk, warmup } = ctx.sizes;
  await produce(ctx, lib, {
    mode: 'fill',
    queue: 'backlog',
    count: backlog + runs * (jobs + warmup),
    chunk: 10_000,
  });
  const results = [];
  for (let run = 0; run < runs; run++) {
    const result = {};
    for (const queue of run % 2 === 0 ? ['bench', 'backlog'] : ['backlog', 'bench']) {
      const enqueue = await produce(ctx, lib, { mode: 'one', queue, count: jobs, chunk, warmup });
      const { done } = await work(ctx, lib, { queue, expect: jobs + warmup, warmup, concurrency: 50 });
      result[queue === 'bench' ? 'empty' : 'backlog'] = {
        enqueue: enqueue.rate,
        drain: (done.jobs / done.ms) * 1000,
      };
    }
    results.push(result);
  }
  await ctx.server.admin.flushall();
  return results;
}
