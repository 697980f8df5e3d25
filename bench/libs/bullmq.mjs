// BullMQ under benchmark, set up as its docs advise for throughput: one Queue per producer, a Worker with a
// concurrency factor, finished jobs removed at once (`removeOnComplete`/`removeOnFail`), connections with
// `maxRetriesPerRequest: null`. Child isolation is its sandboxed processor (a processor file run in a child process).
import { Queue, Worker } from 'bullmq';
import noop from '../jobs/bullmq.mjs';

export const name = 'BullMQ';
const PROCESSOR = new URL('../jobs/bullmq.mjs', import.meta.url).pathname;

function connection(url) {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port), maxRetriesPerRequest: null };
}

export async function producer(url, queueName) {
  const queue = new Queue(queueName, { connection: connection(url) });
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

export async function startWorker(url, { queue: queueName, concurrency, isolation, onFinish }) {
  const processor = isolation === 'child' ? PROCESSOR : noop;
  const worker = new Worker(queueName, processor, {
    connection: connection(url),
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
