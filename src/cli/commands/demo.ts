import type { ResqueInfo } from '../../client/info.js';
import { Resque } from '../../client/resque.js';
import { DEMO_QUEUES, demoJobs } from '../../demo/jobs.js';
import { seedDemo } from '../../demo/seed.js';
import { describeTarget } from '../../redis/connection.js';
import { CONNECTION_OPTIONS, type Command, type CommandIO, EXIT, UsageError } from '../command.js';
import { printTable } from '../output.js';

/** The demo keeps to its own namespace unless told otherwise, so it never mixes with an application's queues. */
export const DEMO_NAMESPACE = 'resque-demo';
const DEFAULT_JOBS = 20;

interface DemoReport {
  redis: string;
  namespace: string;
  enqueued: number;
  queues: Record<string, number>;
  next: Record<string, { class: string; args: unknown } | null>;
  info: ResqueInfo;
}

/**
 * `resque demo`: enqueues a mix of demo jobs (src/demo/jobs.ts) and shows what Resque sees. Each step is its own
 * function so later steps (a worker pool, the dashboard) slot in between seeding and reporting.
 */
export const demoCommand: Command = {
  name: 'demo',
  summary:
    'Enqueue demo jobs (quick, slow, failing) on a private or configured Redis and inspect the queues.',
  usage: '[--jobs n] [--redis URL] [--namespace NS] [--json]',
  options: { ...CONNECTION_OPTIONS, jobs: { type: 'string' } },
  async run({ values }, io) {
    const total = jobCount(values['jobs']);
    const resque = new Resque({
      redis: values['redis'] as string | undefined,
      namespace: (values['namespace'] as string | undefined) ?? io.env['RESQUE_NAMESPACE'] ?? DEMO_NAMESPACE,
      jobs: demoJobs,
    });
    try {
      const enqueued = await seedDemo(resque, total);
      const report = await inspect(resque, enqueued);
      if (values['json']) io.stdout.write(`${JSON.stringify(report)}\n`);
      else printReport(report, io);
      return EXIT.ok;
    } finally {
      await resque.close();
    }
  },
};

function jobCount(value: unknown): number {
  if (value === undefined) return DEFAULT_JOBS;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1)
    throw new UsageError(`--jobs must be a positive integer, got ${String(value)}`);
  return count;
}

async function inspect(resque: Resque, enqueued: number): Promise<DemoReport> {
  const sizes = await resque.queueSizes();
  const next: DemoReport['next'] = {};
  for (const queue of DEMO_QUEUES) {
    const [head] = await resque.peek(queue);
    next[queue] = head?.payload ? { class: head.payload.class, args: head.payload.args } : null;
  }
  return {
    redis: describeTarget(resque.config.redis),
    namespace: resque.config.namespace,
    enqueued,
    queues: Object.fromEntries(DEMO_QUEUES.map((queue) => [queue, sizes[queue] ?? 0])),
    next,
    info: await resque.info(),
  };
}

function printReport(report: DemoReport, io: CommandIO): void {
  const out = io.stdout;
  out.write(
    `Redis ${report.redis}, namespace "${report.namespace}": enqueued ${report.enqueued} demo jobs.\n\n`,
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
  const target = `--namespace ${report.namespace}`;
  out.write(`\nInspect again with: resque info ${target}\n`);
}
