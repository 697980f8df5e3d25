// Where promotion's time goes: files `--jobs` delayed jobs due at once, then times one promoter moving them all, with
// Redis's CPU (INFO cpu) and per-command calls (INFO commandstats) and this process's CPU, per job.
// Usage: npm run build && node bench/promotion.mjs [--jobs 200000] [--batch 250] [--runs 1] [--slowlog]
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Keys, Promoter, Resque } from '../dist/index.js';
import { createLogger } from '../dist/logging/logger.js';
import { redisWork, startRedisServer, workPerJob } from './lib/redis-server.mjs';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '250' },
    runs: { type: 'string', default: '1' },
    slowlog: { type: 'boolean', default: false },
  },
});
const JOBS = Number(values.jobs);
const log = (text) => process.stderr.write(`${text}\n`);

async function fileJobs(url, namespace, dueAt) {
  const resque = new Resque({ redis: url, namespace });
  for (let i = 0; i < JOBS; i += 1000) {
    const jobs = Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({
      at: dueAt + ((i + k) % 1000),
      args: [i + k],
    }));
    await resque.enqueueAtBulk('Noop', jobs, { queue: 'promoted' });
  }
  return resque;
}

const server = await startRedisServer();
try {
  log(`${cpus().length} × ${cpus()[0]?.model} · node ${process.version} · Redis ${await server.version()}`);
  for (let run = 0; run < Number(values.runs); run++) {
    await server.admin.flushall();
    const namespace = 'bench-promote';
    const dueAt = Math.ceil((Date.now() + 36_000_000) / 1000) * 1000;
    const resque = await fileJobs(server.url, namespace, dueAt);
    await server.admin.config('RESETSTAT');
    // --slowlog: every command's duration, scripts and the commands inside them (SLOWLOG keeps the last 1,000);
    // logging each command costs Redis time of its own.
    await server.admin.config('SET', 'slowlog-log-slower-than', values.slowlog ? '0' : '-1');
    await server.admin.config('SET', 'slowlog-max-len', '1000');
    await server.admin.slowlog('RESET');
    const promoter = new Promoter({
      redis: resque.redis,
      keys: new Keys(namespace),
      strictPayloads: false,
      logger: createLogger('silent'),
      batchSize: Number(values.batch),
    });
    const load = loadavg()[0].toFixed(2);
    const before = await redisWork(server.admin);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const { moved } = await promoter.promoteDue(dueAt + 1000);
    const seconds = (performance.now() - started) / 1000;
    const own = process.cpuUsage(cpu);
    const work = workPerJob(before, await redisWork(server.admin), moved);
    const slow = await server.admin.slowlog('GET', 1000);
    await server.admin.config('SET', 'slowlog-log-slower-than', '10000');
    const byScript = new Map();
    for (const [, , micros, args] of slow) {
      const name =
        args[0] === 'evalsha' ? `evalsha ${String(args[1]).slice(0, 8)} (${args[2]} keys)` : args[0];
      const key = name.replace(/\(\d+ keys\)/, '');
      const entry = byScript.get(key) ?? { calls: 0, micros: 0, keys: 0 };
      entry.calls += 1;
      entry.micros += Number(micros);
      entry.keys += Number(args[2]) || 0;
      byScript.set(key, entry);
    }
    const scripts = [...byScript]
      .map(
        ([name, e]) =>
          `${name}: ${e.calls} calls, mean ${(e.micros / e.calls).toFixed(0)} µs, keys ${(e.keys / e.calls).toFixed(0)}`,
      )
      .join('; ');
    const stats = await server.admin.info('commandstats');
    const evalsha = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(stats);
    const scriptMicros = evalsha ? Number(evalsha[2]) / moved : 0;
    const queued = await resque.redis.llen(`${namespace}:queue:promoted`);
    const byCommand = Object.entries(work.byCommand)
      .sort((a, b) => b[1] - a[1])
      .map(([name, perJob]) => `${name} ${perJob.toFixed(3)}`)
      .join(', ');
    log(
      `moved ${moved} (queued ${queued}) in ${seconds.toFixed(2)} s: ${Math.round(moved / seconds)} jobs/s; ` +
        `Redis CPU ${work.cpuMicrosPerJob.toFixed(2)} µs/job (inside scripts ${scriptMicros.toFixed(2)}); promoter CPU ${((own.user + own.system) / moved).toFixed(2)} µs/job; ` +
        `load ${load} → ${loadavg()[0].toFixed(2)}\n  commands per job: ${byCommand}${values.slowlog ? `\n  last 1,000 commands: ${scripts}` : ''}`,
    );
    await resque.close();
  }
} finally {
  await server.stop();
}
