// BullMQ under benchmark, set up as its docs advise for throughput: one Queue per producer, a Worker with a
// concurrency factor, finished jobs removed at once (`removeOnComplete`/`removeOnFail`), connections with
// `maxRetriesPerRequest: null`. Child isolation is its sandboxed processor (a processor file run in a child process).
// On a Redis Cluster (a `redis+cluster://` URL) the connection is an ioredis Cluster, and the queue's `prefix` must be
// a hash tag (`{q0}`) so that every key of a queue lands in one slot, as BullMQ's docs require.
import { Queue, Worker } from 'bullmq';
import { Cluster } from 'ioredis';
import noop from '../jobs/bullmq.mjs';

export const name = 'BullMQ';
const PROCESSOR = new URL('../jobs/bullmq.mjs', import.meta.url).pathname;

function connection(url) {
  if (url.startsWith('redis+cluster://')) {
    const nodes = url
      .slice('redis+cluster://'.length)
      .split(',')
      .map((address) => {
        const [host, port] = address.split(':');
        return { host, port: Number(port) };
      });
    return new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: null } });
  }
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port), maxRetriesPerRequest: null };
}

/** `prefix`: BullMQ's key prefix (its default, `bull`, when not given). */
export async function producer(url, queueName, { prefix } = {}) {
  const queue = new Queue(queueName, { connection: connection(url), ...(prefix ? { prefix } : {}) });
  await queue.waitUntilReady();
  return {
    enqueue: (args) => queue.add('Noop', { args }),
    enqueueBulk: (argsList) => queue.addBulk(argsList.map((args) => ({ name: 'Noop', data: { args } }))),
    close: () => queue.close(),
  };
}

export function supportsChildIsolation() {
  return true;
}

export async function startWorker(url, { queue: queueName, concurrency, isolation, onFinish, prefix }) {
  const processor = isolation === 'child' ? PROCESSOR : noop;
  const worker = new Worker(queueName, processor, {
    connection: connection(url),
    ...(prefix ? { prefix } : {}),
    concurrency,
    autorun: false,
    removeOnComplete: { count: 0 },
    removeOnFail: { count: 0 },
  });
  worker.on('completed', onFinish);
  worker.on('error', () => {});
  await worker.waitUntilReady();
  void worker.run();
  return { stop: () => worker.close() };
}
