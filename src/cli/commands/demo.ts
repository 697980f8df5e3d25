import type { ResqueInfo } from '../../client/info.js';
import { Resque } from '../../client/resque.js';
import type { RedisSource } from '../../config/redis-source.js';
import { DEMO_QUEUES, demoJobs } from '../../demo/jobs.js';
import { startDemoWorkers, stopDemoWorkers, trickle } from '../../demo/pool.js';
import { seedDemo } from '../../demo/seed.js';
import { describeTarget } from '../../redis/connection.js';
import { type DashboardServer, startDashboardServer } from '../../web/server.js';
import { CONNECTION_OPTIONS, type Command, type CommandIO, EXIT, UsageError } from '../command.js';
import { printTable } from '../output.js';
import { announceRedis } from '../private-redis.js';
import { stringOption } from './support.js';
import { untilStopped, WEB_OPTION_HELP, WEB_OPTIONS, webSettings } from './web.js';

/** The demo keeps to its own namespace unless told otherwise, so it never mixes with an application's queues. */
export const DEMO_NAMESPACE = 'resque-demo';
const DEFAULT_JOBS = 200;
const DEMO_WORKERS = 3;
const DEMO_CONCURRENCY = 4;

interface DemoReport {
  redis: string;
  /** Where the Redis came from: `embedded`, `REDIS_URL` or `options` (--redis). */
  redisSource: RedisSource;
  namespace: string;
  enqueued: number;
  queues: Record<string, number>;
  next: Record<string, { class: string; args: unknown } | null>;
  info: ResqueInfo;
}

/**
 * `resque demo`: enqueues a mix of demo jobs (src/demo/jobs.ts: quick, slow, failing), starts a pool of workers
 * on them and the dashboard, prints its URL and keeps work coming until Ctrl-C (or `--seconds n`). With
 * `--seed-only` it just enqueues and reports the queues.
 */
export const demoCommand: Command = {
  name: 'demo',
  noArguments: true,
  summary:
    'Run demo jobs (quick, slow, failing) on workers with the dashboard, on a private or configured Redis, until Ctrl-C.',
  usage: '[options]',
  exitWhenDone: true,
  embeddedRedisByDefault: true,
  options: {
    ...CONNECTION_OPTIONS,
    ...WEB_OPTIONS,
    jobs: { type: 'string' },
    'seed-only': { type: 'boolean' },
  },
  optionHelp: {
    ...WEB_OPTION_HELP,
    namespace: {
      value: 'ns',
      description: "Namespace of the demo's keys.",
      default: DEMO_NAMESPACE,
      env: 'RESQUE_NAMESPACE',
    },
    jobs: {
      value: 'n',
      description: 'Demo jobs to enqueue first.',
      default: `${DEFAULT_JOBS} (20 with --seed-only)`,
    },
    'seed-only': {
      description: 'Enqueue the demo jobs, report the queues and exit (no workers, no dashboard).',
    },
  },
  async run({ values }, io) {
    const total = jobCount(values['jobs'], values['seed-only'] === true ? 20 : DEFAULT_JOBS);
    const namespace = stringOption(values, 'namespace') ?? io.env['RESQUE_NAMESPACE'] ?? DEMO_NAMESPACE;
    const redis = stringOption(values, 'redis');
    const resque = new Resque({ redis, namespace, jobs: demoJobs });
    try {
      const redisLine = await announceRedis(resque.config, io);
      const enqueued = await seedDemo(resque, total);
      if (values['seed-only'] === true) {
        const report = await inspect(resque, enqueued, io.redisSource ?? resque.config.redisSource);
        if (values['json']) io.stdout.write(`${JSON.stringify(report)}\n`);
        else printReport(report, redisLine, io);
        return EXIT.ok;
      }
      return await runLive(resque, values, io, enqueued, redisLine);
    } finally {
      await resque.close();
    }
  },
};

async function runLive(
  resque: Resque,
  values: Record<string, unknown>,
  io: CommandIO,
  enqueued: number,
  redisLine: string,
): Promise<number> {
  const settings = webSettings(values, io.env);
  const { namespace, redis } = resque.config;
  const workers = await startDemoWorkers(redis, namespace, DEMO_WORKERS, DEMO_CONCURRENCY);
  const stopTrickle = trickle(resque);
  let served: DashboardServer | undefined;
  try {
    served = await serve(settings, redis, namespace, io);
    const line = {
      url: served.url,
      redis: describeTarget(redis),
      namespace,
      enqueued,
      workers: workers.map((w) => w.id),
    };
    if (values['json']) io.stdout.write(`${JSON.stringify(line)}\n`);
    else {
      io.stdout.write(
        `Enqueued ${enqueued} demo jobs on Redis ${redisLine}, namespace "${namespace}"; ` +
          `${DEMO_WORKERS} workers (concurrency ${DEMO_CONCURRENCY}) are running them, and more arrive every second.\n\n` +
          `  Dashboard: ${served.url}\n\n` +
          `${settings.seconds ? `Stopping after ${settings.seconds} s.` : 'Press Ctrl-C to stop.'}\n`,
      );
    }
    await untilStopped(settings.seconds);
  } finally {
    stopTrickle();
    await served?.close();
    await stopDemoWorkers(workers);
  }
  if (!values['json']) io.stdout.write('Demo stopped.\n');
  return EXIT.ok;
}

/** The dashboard on the asked port, or on a free one when that is taken (another demo, a resque-web). */
async function serve(
  settings: ReturnType<typeof webSettings>,
  redis: Resque['config']['redis'],
  namespace: string,
  io: CommandIO,
): Promise<DashboardServer> {
  const options = {
    redis,
    namespace,
    host: settings.host,
    prefix: settings.prefix,
    readOnly: settings.readOnly,
    auth: settings.auth,
    stuckJobMs: 20_000,
    sampleIntervalMs: 5_000,
  };
  try {
    return await startDashboardServer({ ...options, port: settings.port });
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
    io.stderr.write(`resque demo: port ${settings.port} is taken; using a free port instead\n`);
    return startDashboardServer({ ...options, port: 0 });
  }
}

function jobCount(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1)
    throw new UsageError(`--jobs must be a positive integer, got ${String(value)}`);
  return count;
}

async function inspect(resque: Resque, enqueued: number, redisSource: RedisSource): Promise<DemoReport> {
  const sizes = await resque.queueSizes();
  const next: DemoReport['next'] = {};
  for (const queue of DEMO_QUEUES) {
    const [head] = await resque.peek(queue);
    next[queue] = head?.payload ? { class: head.payload.class, args: head.payload.args } : null;
  }
  return {
    redis: describeTarget(resque.config.redis),
    redisSource,
    namespace: resque.config.namespace,
    enqueued,
    queues: Object.fromEntries(DEMO_QUEUES.map((queue) => [queue, sizes[queue] ?? 0])),
    next,
    info: await resque.info(),
  };
}

function printReport(report: DemoReport, redisLine: string, io: CommandIO): void {
  const out = io.stdout;
  out.write(
    `Redis ${redisLine}, namespace "${report.namespace}": enqueued ${report.enqueued} demo jobs.\n\n`,
  );
  printTable(
    out,
    ['queue', 'size', 'next job'],
    Object.entries(report.queues).map(([queue, size]) => {
      const head = report.next[queue];
      return [queue, String(size), head ? `${head.class} ${JSON.stringify(head.args)}` : '-'];
    }),
  );
  out.write('\n');
  printTable(
    out,
    ['info', 'value'],
    Object.entries(report.info).map(([key, value]) => [
      key,
      Array.isArray(value) ? value.join(' ') : String(value),
    ]),
  );
  const target = `${report.redisSource === 'embedded' ? '--embedded-redis ' : ''}--namespace ${report.namespace}`;
  out.write(`\nInspect again with: resque info ${target}\n`);
}
