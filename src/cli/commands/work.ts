import { spawn } from 'node:child_process';
import type { Isolation, LogFormat, LogLevel, ResqueOptions } from '../../config/options.js';
import { type ResolvedConfig, resolveConfig, splitList } from '../../config/resolve.js';
import { shardLayoutOf } from '../../config/shards.js';
import { ConfigError } from '../../errors/index.js';
import { createLogger, toLogger } from '../../logging/logger.js';
import { parseQueueShards } from '../../protocol/shard-layout.js';
import { loadAppModules } from '../../worker/load-jobs.js';
import { installSignalHandlers } from '../../worker/signals.js';
import { Worker } from '../../worker/worker.js';
import { type Command, EXIT, REDIS_OPTIONS, UsageError } from '../command.js';
import { exitsWithParent, stopWhenParentGone } from '../parent-watch.js';
import { announceRedis } from '../private-redis.js';

export const workCommand: Command = {
  name: 'work',
  noArguments: true,
  summary:
    'Run a worker: a supervisor and child processes that load the application jobs once and work queues in priority order.',
  exitWhenDone: true,
  usage:
    '--require <module> [--require …] [--queues q1,q2|*|q1:5,q2:1] [--count children] [--concurrency jobs-per-child] ' +
    '[--isolation process|none] [--spare n] [--job-timeout seconds] [--memory-soft-limit MB] ' +
    '[--memory-hard-limit MB] [--max-jobs-per-child n] [--interval seconds] [--pidfile path] ' +
    '[--metrics-port n] [--health-port n] [--tracing] [--log-level level] [--log-format auto|json|text] ' +
    '[--verbose|--vverbose] [--redis URL] [--namespace NS] [--shards n] [--queue-shards q=n,…]',
  options: {
    require: { type: 'string', multiple: true },
    config: { type: 'string' },
    queues: { type: 'string', short: 'q' },
    concurrency: { type: 'string', short: 'c' },
    interval: { type: 'string', short: 'i' },
    count: { type: 'string' },
    isolation: { type: 'string' },
    spare: { type: 'string' },
    'job-timeout': { type: 'string' },
    'memory-soft-limit': { type: 'string' },
    'memory-hard-limit': { type: 'string' },
    'max-jobs-per-child': { type: 'string' },
    pidfile: { type: 'string' },
    'metrics-port': { type: 'string' },
    'health-port': { type: 'string' },
    tracing: { type: 'boolean' },
    'log-level': { type: 'string' },
    'log-format': { type: 'string' },
    'exit-with-parent': { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' },
    vverbose: { type: 'boolean' },
    ...REDIS_OPTIONS,
    shards: { type: 'string' },
    'queue-shards': { type: 'string' },
  },
  async run({ values }, io) {
    const modules = [
      ...((values['require'] as string[] | undefined) ?? []),
      ...(values['config'] ? [values['config'] as string] : []),
      ...splitList(io.env['RESQUE_REQUIRE'] ?? ''),
    ];
    if (modules.length === 0) throw new UsageError('give the job code to load with --require <module>');
    const app = await loadAppModules(modules);
    // Options resolved once: the modules' own, then the environment, then the flags; everything below gets this.
    const config = resolveConfig({ ...app.options, ...cliOptions(values) }, io.env);
    if (config.queues.length === 0)
      throw new UsageError('give the queues to work with --queues q1,q2 (or QUEUES), in priority order');
    if (app.jobs.length === 0) {
      throw new ConfigError(
        'require',
        `no job definitions in ${modules.join(', ')}: export each defineJob(…), or a default { jobs: […] }`,
      );
    }
    io.stderr.write(
      `resque work: Redis ${await announceRedis(config, io)}, namespace "${config.namespace}"${shardsWorked(config)}\n`,
    );
    if (exitsWithParent(values['exit-with-parent'] === true, io.env)) stopWhenParentGone(io.stderr);
    // In-process mode keeps Ruby's `rake resque:workers` habit: COUNT independent worker processes.
    if (config.processes > 1) return runMany(config, io.env);
    const logger = app.logger
      ? toLogger(app.logger)
      : createLogger(config.logLevel, process.stderr, config.logFormat);
    const worker = new Worker({
      config,
      logger,
      errorReporter: app.errorReporter,
      jobs: app.jobs,
      hooks: app.hooks,
      require: modules,
    });
    installSignalHandlers(worker, { gracefulTerm: config.gracefulTerm, logger });
    await worker.start();
    await worker.finished;
    return EXIT.ok;
  },
};

function cliOptions(values: Record<string, unknown>): ResqueOptions {
  const options: ResqueOptions = {};
  if (values['queues'] !== undefined) options.queues = splitList(values['queues'] as string);
  if (values['concurrency'] !== undefined) options.concurrency = Number(values['concurrency']);
  if (values['isolation'] !== undefined) options.isolation = values['isolation'] as Isolation;
  if (values['count'] !== undefined) options.count = Number(values['count']);
  if (values['spare'] !== undefined) options.spare = Number(values['spare']);
  if (values['job-timeout'] !== undefined)
    options.jobTimeoutMs = Math.round(Number(values['job-timeout']) * 1000);
  if (values['memory-soft-limit'] !== undefined)
    options.memorySoftLimitMb = Number(values['memory-soft-limit']);
  if (values['memory-hard-limit'] !== undefined)
    options.memoryHardLimitMb = Number(values['memory-hard-limit']);
  if (values['max-jobs-per-child'] !== undefined)
    options.maxJobsPerChild = Number(values['max-jobs-per-child']);
  if (values['interval'] !== undefined) options.intervalMs = Math.round(Number(values['interval']) * 1000);
  if (values['pidfile'] !== undefined) options.pidFile = values['pidfile'] as string;
  if (values['redis'] !== undefined) options.redis = values['redis'] as string;
  if (values['namespace'] !== undefined) options.namespace = values['namespace'] as string;
  if (values['shards'] !== undefined) options.shards = Number(values['shards']);
  if (values['queue-shards'] !== undefined)
    options.queueShards = parseQueueShards(values['queue-shards'] as string, '--queue-shards');
  if (values['metrics-port'] !== undefined) options.metricsPort = Number(values['metrics-port']);
  if (values['health-port'] !== undefined) options.healthPort = Number(values['health-port']);
  if (values['tracing'] === true) options.tracing = true;
  if (values['log-format'] !== undefined) options.logFormat = values['log-format'] as LogFormat;
  if (values['log-level'] !== undefined) options.logLevel = values['log-level'] as LogLevel;
  else if (values['vverbose']) options.logLevel = 'debug';
  else if (values['verbose']) options.logLevel = 'info';
  return options;
}

/** For the start-up line of a sharded worker: the shards its queues touch, each with its namespace and queues. */
function shardsWorked(config: ResolvedConfig): string {
  const layout = shardLayoutOf(config);
  if (!layout) return '';
  const parts = layout.split(config.queues);
  const worked = parts.map((part) => `${part.shard} ${part.namespace} (${part.queues.join(',')})`);
  return ` in ${layout.count} shards; working shard${parts.length === 1 ? '' : 's'} ${worked.join(', ')}`;
}

/**
 * `--isolation none` with COUNT=n: n worker processes, as `rake resque:workers` starts them; signals are passed on to
 * each. Each is told `--count 1`, which outranks a count set by the job modules or the environment, and the metrics
 * and health ports from the one given on: process k listens on port + k (the last of repeated flags wins).
 */
async function runMany(config: ResolvedConfig, env: NodeJS.ProcessEnv): Promise<number> {
  const args = process.argv
    .slice(1)
    .filter((arg, i, all) => arg !== '--count' && all[i - 1] !== '--count' && !arg.startsWith('--count='))
    .concat('--count', '1');
  const ports = (k: number) => [
    ...(config.metricsPort > 0 ? ['--metrics-port', String(config.metricsPort + k)] : []),
    ...(config.healthPort > 0 ? ['--health-port', String(config.healthPort + k)] : []),
  ];
  const children = Array.from({ length: config.processes }, (_, k) =>
    spawn(process.execPath, [...args, ...ports(k)], { stdio: 'inherit', env: { ...env, COUNT: '1' } }),
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
