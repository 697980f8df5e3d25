// The dashboard at scale: 1,000,000 queued jobs, 100,000 failures (with error groups) and 200 workers (half of them
// working) on its own redis-server, then every page and API call timed over HTTP, plus the searches that must read
// everything (in chunks) and the longest single Redis command they caused (SLOWLOG).
// Usage (after `npm run build`): node bench/dashboard.mjs [--jobs n] [--failures n] [--workers n] [--reps n] [--out file]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { queueFailureWrite } from '../dist/failure/save.js';
import { Keys } from '../dist/protocol/keys.js';
import { createDashboard } from '../dist/web/index.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000000' },
    failures: { type: 'string', default: '100000' },
    workers: { type: 'string', default: '200' },
    reps: { type: 'string', default: '20' },
    out: { type: 'string', default: new URL('./RESULTS-dashboard.md', import.meta.url).pathname },
  },
});
const JOBS = Number(values.jobs);
const FAILURES = Number(values.failures);
const WORKERS = Number(values.workers);
const REPS = Number(values.reps);
const NAMESPACE = 'resque';
const keys = new Keys(NAMESPACE);

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function answers(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'resque-dashboard-bench-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  for (let i = 0; !(await answers(port)); i++) {
    if (i > 200) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  const redis = new Redis({ port, host: '127.0.0.1' });
  return {
    url: `redis://127.0.0.1:${port}`,
    redis,
    async stop() {
      redis.disconnect();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const now = () => Date.now() / 1000;

async function fillQueues(redis) {
  const started = performance.now();
  const big = keys.queue('bulk');
  const t = now() - 3600;
  for (let i = 0; i < JOBS; i += 10_000) {
    const pipeline = redis.pipeline();
    for (let j = i; j < Math.min(JOBS, i + 10_000); j += 1000) {
      const items = [];
      for (let k = j; k < Math.min(JOBS, j + 1000); k++) {
        const cls = k % 1000 === 0 ? 'RareJob' : 'Bulk::Import';
        items.push(
          `{"class":"${cls}","args":[${k},"customer-${k % 5000}@example.com",{"source":"csv","row":${k}}],"id":"${k.toString(16)}","enqueued_at":${t + k / 1000}}`,
        );
      }
      pipeline.rpush(big, ...items);
    }
    await pipeline.exec();
  }
  const pipeline = redis.pipeline().sadd(keys.queues, 'bulk');
  for (let q = 0; q < 20; q++) {
    pipeline.sadd(keys.queues, `queue-${q}`);
    for (let k = 0; k < 50; k++) {
      pipeline.rpush(
        keys.queue(`queue-${q}`),
        `{"class":"Small","args":[${k}],"id":"s${q}-${k}","enqueued_at":${now() - k}}`,
      );
    }
  }
  await pipeline.exec();
  return performance.now() - started;
}

async function fillFailures(redis) {
  const started = performance.now();
  const ctx = { keys, config: { failureBackend: 'redis', release: 'bench-1' } };
  for (let i = 0; i < FAILURES; i += 1000) {
    const pipeline = redis.pipeline();
    for (let k = i; k < Math.min(FAILURES, i + 1000); k++) {
      const kind = k % 50;
      const className = `App::Job${kind % 10}`;
      const rawPayload = `{"class":"${className}","args":[${k},"order-${k}"]}`;
      queueFailureWrite(pipeline, ctx, {
        rawPayload,
        payload: JSON.parse(rawPayload),
        exception: kind === 7 ? 'RareError' : `Error${kind % 5}`,
        error: `could not process order ${k}: upstream ${kind % 3 === 0 ? 'timed out' : 'refused'} after ${k % 997} ms`,
        backtrace: [
          `perform (/app/jobs/job${kind % 10}.js:${10 + (kind % 5)}:5)`,
          'run (node:internal/x:1:1)',
        ],
        worker: `bench-host-${k % 20}:${1000 + (k % 200)}:default`,
        queue: `queue-${k % 20}`,
        failedAt: new Date(Date.now() - (FAILURES - k) * 1000),
      });
    }
    await pipeline.exec();
  }
  return performance.now() - started;
}

async function fillWorkers(redis) {
  const pipeline = redis.pipeline();
  const iso = (ms) => new Date(Date.now() - ms).toISOString().replace(/\.\d+Z$/, 'Z');
  for (let w = 0; w < WORKERS; w++) {
    const id = `bench-host-${w % 20}:${1000 + w}:bulk,queue-${w % 20}`;
    pipeline
      .sadd(keys.workers, id)
      .set(keys.workerStarted(id), '2026-11-27 10:00:00 +0000')
      .hset(keys.heartbeats, id, iso(w === 0 ? 900_000 : 5000))
      .set(keys.processedBy(id), 1000 + w)
      .set(keys.failedBy(id), w);
    if (w % 2 === 1) {
      pipeline.set(
        keys.worker(id),
        `{"queue":"bulk","run_at":"${iso(w === 1 ? 3_600_000 : 2000)}","payload":{"class":"Bulk::Import","args":[${w},"x"]}}`,
      );
    }
  }
  pipeline.set(keys.processed, 52_000_000).set(keys.failedCount, FAILURES);
  // A day of 10-second samples, as a dashboard running all day would have written.
  const end = Math.floor(Date.now() / 10_000) * 10_000;
  for (let i = 8640; i > 0; i--) {
    const at = end - i * 10_000;
    const n = 8640 - i;
    pipeline.zadd(
      keys.statsSamples,
      at,
      JSON.stringify({ t: at, p: 50_000_000 + n * 230, f: n * 3, pend: JOBS, lat: 3_600_000, g: {} }),
    );
  }
  await pipeline.exec();
}

async function time(base, path, reps) {
  const times = [];
  let bytes = 0;
  let status = 0;
  for (let i = 0; i < reps; i++) {
    const started = performance.now();
    const response = await fetch(base + path);
    const body = await response.arrayBuffer();
    times.push(performance.now() - started);
    bytes = body.byteLength;
    status = response.status;
  }
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { path, status, bytes, median: at(0.5), p95: at(0.95), max: times.at(-1) };
}

const ms = (n) => (n < 10 ? n.toFixed(1) : n.toFixed(0));

async function main() {
  const server = await startRedis();
  const { redis } = server;
  const info = await redis.info('server');
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1];
  console.error(`filling: ${JOBS} jobs, ${FAILURES} failures, ${WORKERS} workers …`);
  const fillJobsMs = await fillQueues(redis);
  const fillFailuresMs = await fillFailures(redis);
  await fillWorkers(redis);
  console.error(`filled in ${((fillJobsMs + fillFailuresMs) / 1000).toFixed(1)} s`);

  const dashboard = createDashboard({ redis: server.url, namespace: NAMESPACE, sampleIntervalMs: 10_000 });
  const http = createServer(dashboard.handle);
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${http.address().port}`;
  const failures = await (await fetch(`${base}/api/failed?limit=1`)).json();
  const someFailure = encodeURIComponent(failures.failures[0].id);
  const oldFailure = encodeURIComponent(
    (await (await fetch(`${base}/api/failed?limit=1&start=${FAILURES - 1}`)).json()).failures[0].id,
  );
  const worker = encodeURIComponent('bench-host-1:1001:bulk,queue-1');
  await time(base, '/overview', 3); // warm up

  const pages = [
    '/overview',
    '/api/overview',
    '/working',
    '/queues',
    '/queues/bulk',
    `/queues/bulk?start=${JOBS - 20}`,
    '/workers',
    '/workers/bench-host-3',
    `/workers/${worker}`,
    '/failed',
    `/failed?start=${FAILURES - 20}`,
    `/failure/${someFailure}`,
    `/failure/${oldFailure}`,
    '/errors',
    '/stats/resque',
    '/stats/resque?window=24h',
    '/stats/redis',
    '/stats/keys',
    `/stats/keys/queue%3Abulk?start=${JOBS / 2}`,
    '/stats.txt',
  ];
  const rows = [];
  for (const path of pages) {
    const row = await time(base, path, REPS);
    rows.push(row);
    console.error(`${path}: median ${ms(row.median)} ms`);
  }

  await redis.config('SET', 'slowlog-log-slower-than', '2000');
  await redis.slowlog('RESET');
  const searches = [
    '/queues/bulk?class=RareJob',
    '/api/queues/bulk/count?class=RareJob',
    '/api/queues/bulk/count?args=customer-42%40',
    '/failed?class=App%3A%3AJob3',
    '/failed?error=RareError',
    '/api/failed/count?error=timed%20out',
    '/failed/bulk/clear?class=App%3A%3AJob3',
  ];
  const searchRows = [];
  for (const path of searches) {
    const row = await time(base, path, 3);
    searchRows.push(row);
    console.error(`${path}: median ${ms(row.median)} ms`);
  }
  const slow = await redis.slowlog('GET', 128);
  const longest = slow.reduce((max, entry) => Math.max(max, Number(entry[2])), 0);
  const longestCommand = slow
    .find((entry) => Number(entry[2]) === longest)?.[3]
    ?.slice(0, 4)
    .join(' ');

  await new Promise((r) => http.close(r));
  await dashboard.close();
  await server.stop();

  const table = (list) =>
    [
      '| Request | Status | Median ms | p95 ms | Max ms | KiB |',
      '| --- | --- | ---: | ---: | ---: | ---: |',
      ...list.map(
        (r) =>
          `| \`${decodeURIComponent(r.path).replace(/\|/g, '\\|')}\` | ${r.status} | ${ms(r.median)} | ${ms(r.p95)} | ${ms(r.max)} | ${(r.bytes / 1024).toFixed(1)} |`,
      ),
    ].join('\n');
  const cpu = cpus()[0]?.model ?? 'unknown';
  const load = loadavg()
    .map((n) => n.toFixed(1))
    .join(', ');
  const report = `# Dashboard at scale

Measured by \`node bench/dashboard.mjs\` (after \`npm run build\`) on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpu},
Node ${process.version}, Redis ${redisVersion} on the same machine (its own redis-server on a free port). Each request
is a full HTTP round trip to the dashboard's node handler, one at a time, ${REPS} times (searches 3 times). Load
average when it finished: ${load} (other processes share the machine; the medians are the figures to read).

Data: **${JOBS.toLocaleString('en-US')} jobs** in one queue (\`bulk\`) plus 20 small queues, **${FAILURES.toLocaleString('en-US')}
failures** in \`failed\` (written with their error groups), **${WORKERS} workers** on 20 hosts (half working, one stuck,
one dead), and a day of 10-second stats samples. Filling took ${(fillJobsMs / 1000).toFixed(1)} s (jobs) and
${(fillFailuresMs / 1000).toFixed(1)} s (failures).

## Pages and API calls (O(page))

${table(rows)}

Every one of these reads what it shows and no more: queue and failure pages are one \`LLEN\` + \`LRANGE\` of the page
(the last page of a million-job queue costs the same as the first), workers are one pipeline of \`MGET\`/\`HMGET\` for
all of them, the keys browser is \`SCAN\`, charts read only the samples of their window (the 24 h chart reads 8,640
samples).

## Searches and counts (O(matches scanned), in chunks)

${table(searchRows)}

These have to look inside every job or failure. They read 1,000 items per \`LRANGE\`, so Redis is never busy with
one of them for long: the longest single command they sent took **${(longest / 1000).toFixed(1)} ms**
(\`SLOWLOG\`, threshold 2 ms${longestCommand ? `; \`${longestCommand}\`` : ''}). A search page stops reading as soon as its page is
full, so a class that is common is found at once and a rare one costs a full read.
`;
  writeFileSync(values.out, report);
  console.log(report);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
