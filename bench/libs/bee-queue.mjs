// bee-queue 2.x under benchmark, with the settings its README gives for each side (and nothing beyond them):
// - Producer: a Queue with `isWorker: false` (no blocking connection) and `getEvents: false` (no Pub/Sub
//   connection: it does not wait on its jobs' results), as the README's "producer queues" example sets it, and
//   `storeJobs: false` (it keeps no map of the jobs it saved). One at a time is `createJob(data).save()`; bulk is
//   `saveAll(jobs)`, its documented bulk API: one pipelined write of the jobs' `addJob` script calls.
// - Worker: a Queue with `process(concurrency, handler)`; `removeOnSuccess: true` and `removeOnFailure: true`
//   (finished jobs deleted at once, as BullMQ's adapter does with `removeOnComplete`/`removeOnFail`),
//   `sendEvents: false` (nobody listens for job results: no `PUBLISH` per job), `getEvents: false` and
//   `storeJobs: false` (it needs no events and no job map), `activateDelayedJobs: false` (no delayed jobs here;
//   with it on the queue opens a Pub/Sub connection). The worker counts jobs by the queue's local `succeeded`
//   event, which does not depend on `sendEvents`.
// - Both: connection options for node_redis (bee-queue's own client), a key prefix of its own, everything else
//   at its defaults. The periodic stall check (`checkStalledJobs(interval)`) is not started: its README leaves it
//   to one or two processes of a deployment, and one script call every few seconds would not show here; the
//   worker still runs the check once when `process` starts, as bee-queue always does. Idle workers wait in
//   `BRPOPLPUSH`, so bee-queue has no poll interval to set.
// It has no child isolation: jobs run in the worker's process.
import Queue from 'bee-queue';
import { probe } from '../lib/probe.mjs';

export const name = 'bee-queue';
const PREFIX = 'bench-bq';

function redis(url) {
  const { hostname: host, port } = new URL(url);
  return { host, port: Number(port) };
}

export async function producer(url, queueName) {
  const queue = new Queue(queueName, {
    redis: redis(url),
    prefix: PREFIX,
    isWorker: false,
    getEvents: false,
    storeJobs: false,
  });
  await queue.ready();
  return {
    enqueue: (args) => queue.createJob({ args }).save(),
    enqueueBulk: async (argsList) => {
      const errors = await queue.saveAll(argsList.map((args) => queue.createJob({ args })));
      if (errors.size > 0) throw [...errors.values()][0];
    },
    close: () => queue.close(),
  };
}

export function supportsChildIsolation() {
  return false;
}

export async function startWorker(url, { queue: queueName, concurrency, onFinish }) {
  const queue = new Queue(queueName, {
    redis: redis(url),
    prefix: PREFIX,
    removeOnSuccess: true,
    removeOnFailure: true,
    sendEvents: false,
    getEvents: false,
    storeJobs: false,
    activateDelayedJobs: false,
  });
  queue.on('succeeded', onFinish);
  queue.on('error', () => {});
  await queue.ready();
  queue.process(concurrency, async (job) => probe.onPerform(job.data.args));
  return { stop: () => queue.close() };
}
