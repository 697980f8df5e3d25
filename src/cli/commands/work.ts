import { spawn } from 'node:child_process';
import type { ResqueOptions } from '../../config/options.js';
import { splitList } from '../../config/resolve.js';
import { loadAppModules } from '../../worker/load-jobs.js';
import { createLogger } from '../../worker/logger.js';
import { installSignalHandlers } from '../../worker/signals.js';
import { Worker } from '../../worker/worker.js';
import { type Command, EXIT, UsageError } from '../command.js';

export const workCommand: Command = {
  name: 'work',
  summary: 'Run a worker: load the application jobs once, then work queues in priority order.',
  exitWhenDone: true,
  usage:
    '--require <module> [--require …] [--queues q1,q2|*] [--concurrency n] [--interval seconds] [--count n] ' +
    '[--pidfile path] [--verbose|--vverbose] [--redis URL] [--namespace NS]',
  options: {
    require: { type: 'string', multiple: true },
    config: { type: 'string' },
    queues: { type: 'string', short: 'q' },
    concurrency: { type: 'string', short: 'c' },
    interval: { type: 'string', short: 'i' },
    count: { type: 'string' },
    pidfile: { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
    vverbose: { type: 'boolean' },
    redis: { type: 'string', short: 'r' },
    namespace: { type: 'string', short: 'N' },
  },
  async run({ values }, io) {
    const count = Number(values['count'] ?? io.env['COUNT'] ?? 1);
    if (!Number.isInteger(count) || count < 1)
      throw new UsageError(`--count must be a positive integer, got ${String(values['count'])}`);
    if (count > 1) return runMany(count, io.env);
    const modules = [
      ...((values['require'] as string[] | undefined) ?? []),
      ...(values['config'] ? [values['config'] as string] : []),
    ];
    if (modules.length === 0 && !io.env['RESQUE_REQUIRE'])
      throw new UsageError('give the job code to load with --require <module>');
    if (io.env['RESQUE_REQUIRE']) modules.push(...splitList(io.env['RESQUE_REQUIRE']));
    const app = await loadAppModules(modules);
    const options: ResqueOptions = { ...app.options, ...cliOptions(values) };
    const logger = createLogger(
      options.logLevel ?? (io.env['VVERBOSE'] ? 'debug' : io.env['VERBOSE'] ? 'info' : 'warn'),
    );
    const worker = new Worker({ ...options, jobs: app.jobs, hooks: app.hooks, logger });
    installSignalHandlers(worker, { gracefulTerm: worker.config.gracefulTerm, logger });
    await worker.start();
    await worker.finished;
    return EXIT.ok;
  },
};

function cliOptions(values: Record<string, unknown>): ResqueOptions {
  const options: ResqueOptions = {};
  if (values['queues'] !== undefined) options.queues = splitList(values['queues'] as string);
  if (values['concurrency'] !== undefined) options.concurrency = Number(values['concurrency']);
  if (values['interval'] !== undefined) options.intervalMs = Math.round(Number(values['interval']) * 1000);
  if (values['pidfile'] !== undefined) options.pidFile = values['pidfile'] as string;
  if (values['redis'] !== undefined) options.redis = values['redis'] as string;
  if (values['namespace'] !== undefined) options.namespace = values['namespace'] as string;
  if (values['vverbose']) options.logLevel = 'debug';
  else if (values['verbose']) options.logLevel = 'info';
  return options;
}

/** COUNT=n: n worker processes, as `rake resque:workers` starts them; signals are passed on to each. */
async function runMany(count: number, env: NodeJS.ProcessEnv): Promise<number> {
  const args = process.argv
    .slice(1)
    .filter((arg, i, all) => arg !== '--count' && all[i - 1] !== '--count' && !arg.startsWith('--count='));
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, args, { stdio: 'inherit', env: { ...env, COUNT: '1' } }),
  );
  for (const signal of ['SIGQUIT', 'SIGTERM', 'SIGINT', 'SIGUSR1', 'SIGUSR2', 'SIGCONT'] as const) {
    process.on(signal, () => {
      for (const child of children) child.kill(signal);
    });
  }
  const codes = await Promise.all(
    children.map((child) => new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)))),
  );
  return codes.every((code) => code === 0) ? EXIT.ok : EXIT.failure;
}
