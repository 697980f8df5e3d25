// resque-ts under benchmark: the client's enqueue/enqueueBulk, and the Worker with its jobs in this process
// (isolation "none") or in one supervised child process (isolation "process", count 1, as `resque work` runs them).
import { existsSync, readFileSync } from 'node:fs';
import { Resque } from '../../dist/index.js';
import { Worker } from '../../dist/worker/worker.js';
import { Noop } from '../jobs/resque-ts.mjs';

export const name = 'resque-ts';
const NAMESPACE = 'bench';
const JOBS_MODULE = new URL('../jobs/resque-ts.mjs', import.meta.url).pathname;

/** `namespaceOptions` replaces the namespace: another one, or a sharded one (bench/cluster.mjs). */
export async function producer(url, queueName, { namespaceOptions = { namespace: NAMESPACE } } = {}) {
  const resque = new Resque({ redis: url, ...namespaceOptions });
  await resque.redis.ping();
  return {
    enqueue: (args) => resque.enqueueTo(queueName, Noop, ...args),
    enqueueBulk: (argsList) => resque.enqueueBulk(Noop, argsList, { queue: queueName }),
    close: () => resque.close(),
  };
}

/** Whether this build's Worker runs jobs in supervised child processes. */
export function supportsChildIsolation() {
  const worker = new URL('../../dist/worker/worker.js', import.meta.url);
  return existsSync(worker) && /supervisor\/|chooseExecutor/.test(readFileSync(worker, 'utf8'));
}

/**
 * Starts a worker; `onFinish` is called per finished job (the in-process job also calls the probe at its start).
 * `isolation: 'child'` runs the jobs in supervised children, loaded from the job module as `resque work` does.
 */
export async function startWorker(
  url,
  { queue: queueName, concurrency, isolation, onFinish, namespaceOptions = { namespace: NAMESPACE } },
) {
  if (isolation === 'child' && !supportsChildIsolation()) throw new Error('pending: no child isolation yet');
  const options = {
    redis: url,
    ...namespaceOptions,
    queues: [queueName],
    concurrency,
    isolation: 'none',
    jobs: [Noop],
    setProcessTitle: false,
    logLevel: 'silent',
  };
  if (isolation === 'child')
    Object.assign(options, { isolation: 'process', count: 1, require: [JOBS_MODULE] });
  const worker = new Worker(options);
  worker.on('job:finish', onFinish);
  worker.on('error', () => {});
  await worker.start();
  return { stop: () => worker.stop('graceful') };
}
