// One benchmark process: a worker of one library, or a producer. The runner forks it, so each library's memory and
// JIT state is its own, and talks to it by IPC:
//   worker:   → {ready} … → {done, ms, latencies}   ← {stop}  → {stopped}
//   producer: → {ready}   ← {go}  → {done, ms}
import { nowMicros, probe } from './probe.mjs';

const [role, libName, url, json] = process.argv.slice(2);
const options = JSON.parse(json);
const lib = await import(`../libs/${libName}.mjs`);
// BullMQ's sandbox pipes each child's output into ours: 50 children are 50 pipes, not a listener leak.
process.stdout.setMaxListeners(0);
process.stderr.setMaxListeners(0);
const send = (message) => new Promise((resolve) => process.send(message, resolve));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const nextMessage = (type) =>
  new Promise((resolve) => {
    const listener = (message) => {
      if (message.type !== type) return;
      process.off('message', listener);
      resolve(message);
    };
    process.on('message', listener);
  });

async function runWorker() {
  // Jobs before the timed window (JIT, connections and caches warm up), then the timed ones.
  const { expect, warmup = 0 } = options;
  const startAt = Math.max(warmup, 1);
  const latencies = [];
  let finished = 0;
  let firstAt = 0;
  let signalDone;
  const done = new Promise((resolve) => {
    signalDone = resolve;
  });
  probe.onPerform = (args) => {
    if (options.isolation === 'child')
      throw new Error('a job ran in the worker process under child isolation');
    if (typeof args[1] === 'number') latencies.push((nowMicros() - args[1]) / 1000);
  };
  let cpuAtFirst;
  let cpuMicros = 0;
  // With `markEvery`: the wall-clock time of every markEvery-th timed job, so that the runner can count the jobs of
  // several worker processes over the part of the run where all of them were working.
  const { markEvery } = options;
  const marks = [];
  const onFinish = () => {
    finished += 1;
    if (markEvery && finished > startAt && (finished - startAt) % markEvery === 0)
      marks.push(performance.timeOrigin + performance.now());
    if (finished === startAt) {
      firstAt = performance.now();
      cpuAtFirst = process.cpuUsage();
    }
    if (finished === expect) {
      const cpu = process.cpuUsage(cpuAtFirst);
      cpuMicros = cpu.user + cpu.system;
      signalDone(performance.now() - firstAt);
    }
  };
  const worker = await lib.startWorker(url, { queue: 'bench', ...options, onFinish });
  await send({ type: 'ready' });
  const ms = await done;
  // The window on the wall clock (comparable between processes) and this process's CPU time in it.
  await send({
    type: 'done',
    ms,
    firstAt: performance.timeOrigin + firstAt,
    lastAt: performance.timeOrigin + firstAt + ms,
    cpuMicros,
    marks,
    jobs: expect - startAt,
    latencies,
    maxRssKb: process.resourceUsage().maxRSS,
  });
  await nextMessage('stop');
  await worker.stop();
  await send({ type: 'stopped' });
}

/** mode "one": `count` enqueues, each awaited; "bulk": `count` jobs in calls of `chunk`; "paced": one every `gapMs`. */
async function runProducer() {
  const { mode, count, chunk = 1000, gapMs = 2, warmup = 0 } = options;
  const client = await lib.producer(url, options.queue ?? 'bench', options);
  if (mode === 'bulk') await fill(client, warmup, chunk);
  else for (let i = 0; i < warmup; i++) await client.enqueue([i]);
  await send({ type: 'ready' });
  await nextMessage('go');
  const started = performance.now();
  if (mode === 'one') {
    for (let i = 0; i < count; i++) await client.enqueue([i]);
  } else if (mode === 'bulk') {
    for (let i = 0; i < count; i += chunk) {
      const argsList = Array.from({ length: Math.min(chunk, count - i) }, (_, k) => [i + k]);
      await client.enqueueBulk(argsList);
    }
  } else if (mode === 'paced') {
    for (let i = 0; i < count; i++) {
      await client.enqueue([i, nowMicros()]);
      await sleep(gapMs);
    }
  } else if (mode === 'fill') {
    await fill(client, count, chunk);
  }
  const ms = performance.now() - started;
  await client.close();
  await send({ type: 'done', ms, jobs: count });
}

/** A backlog, fast: bulk calls where the library has them, else `chunk` enqueues in flight at once. */
async function fill(client, count, chunk) {
  for (let i = 0; i < count; i += chunk) {
    const argsList = Array.from({ length: Math.min(chunk, count - i) }, (_, k) => [i + k]);
    if (client.enqueueBulk) await client.enqueueBulk(argsList);
    else await Promise.all(argsList.map((args) => client.enqueue(args)));
  }
}

await (role === 'worker' ? runWorker() : runProducer());
process.exit(0);
