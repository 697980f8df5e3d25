// node-resque under benchmark. It has no bulk enqueue and no child isolation. Concurrency n is n Workers in one
// process, each with its own connection: what its MultiWorker runs at n task processors, without MultiWorker's
// ramp-up of one processor per check. Its workers poll: `timeout` (ms) is both the idle poll interval and the
// ping period; throughput runs keep the default (5000, a busy worker polls again at once), the pickup-latency run
// polls every 5 ms.
import { hostname } from 'node:os';
import { Queue, Worker } from 'node-resque';
import { probe } from '../lib/probe.mjs';

export const name = 'node-resque';
const NAMESPACE = 'bench-nr';
const jobs = { Noop: { perform: async (...args) => probe.onPerform(args) } };

function connection(url) {
  const { hostname: host, port } = new URL(url);
  return { pkg: 'ioredis', host, port: Number(port), namespace: NAMESPACE };
}

export async function producer(url, queueName) {
  const queue = new Queue({ connection: connection(url) }, jobs);
  await queue.connect();
  return {
    enqueue: (args) => queue.enqueue(queueName, 'Noop', args),
    enqueueBulk: undefined,
    close: () => queue.end(),
  };
}

export function supportsChildIsolation() {
  return false;
}

export async function startWorker(url, { queue: queueName, concurrency, pollMs = 5000, onFinish }) {
  const workers = Array.from(
    { length: concurrency },
    (_, i) =>
      new Worker(
        {
          connection: connection(url),
          queues: [queueName],
          timeout: pollMs,
          name: `${hostname()}:${process.pid}+${i}`,
        },
        jobs,
      ),
  );
  for (const worker of workers) {
    worker.on('success', onFinish);
    worker.on('error', () => {});
  }
  await Promise.all(workers.map((worker) => worker.connect()));
  await Promise.all(workers.map((worker) => worker.start()));
  return { stop: () => Promise.all(workers.map((worker) => worker.end())) };
}
