import { defineJob, Resque } from '../src/index.js';

// A job: its class name on the wire (what Ruby's constantize would look up), its default queue, and perform,
// whose argument types are what enqueue accepts.
export const Archive = defineJob({
  className: 'Archive',
  queue: 'file_serve',
  perform: async (ctx, repoId: number, branch: string) => {
    console.log(
      `archiving ${repoId}@${branch} (job ${ctx.id ?? 'enqueued by Ruby'}, attempt ${ctx.attempt})`,
    );
  },
});

// Redis from REDIS_URL, else redis://127.0.0.1:6379; keys under the "resque:" namespace, as Ruby Resque uses.
const resque = new Resque();

await resque.enqueue(Archive, 44, 'masterbrew'); // {"class":"Archive","args":[44,"masterbrew"],"id":…,"enqueued_at":…}
await resque.enqueueTo('urgent', Archive, 45, 'main'); // another queue
await resque.enqueueBulk(Archive, [
  [1, 'a'],
  [2, 'b'],
]); // one round trip
console.log(await resque.size('file_serve')); // 3
console.log((await resque.peek('file_serve', 0, 2)).map((job) => job.payload?.args)); // [[44,"masterbrew"],[1,"a"]]
console.log(await resque.dequeue(Archive, 2, 'b')); // 1: removed by class and arguments
console.log(await resque.info()); // { pending, processed, queues, workers, working, failed, servers, environment }
await resque.close();
