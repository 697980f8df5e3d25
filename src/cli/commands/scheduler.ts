import { setTimeout as sleep } from 'node:timers/promises';
import { resolveConfig } from '../../config/resolve.js';
import { JobRegistry } from '../../jobs/registry.js';
import { createLogger, type Logger } from '../../logging/logger.js';
import { parseQueueShards } from '../../protocol/shard-layout.js';
import { readScheduleFile } from '../../scheduler/schedule-file.js';
import { Scheduler } from '../../scheduler/scheduler.js';
import { openSchedulerConnections } from '../../scheduler/shard-targets.js';
import { VERSION } from '../../version.js';
import { loadAppModules } from '../../worker/load-jobs.js';
import { type Command, EXIT, type OptionHelp, REDIS_OPTIONS, UsageError } from '../command.js';
import { announceRedis } from '../private-redis.js';
import { stringOption } from './support.js';

const OPTIONS = {
  ...REDIS_OPTIONS,
  schedule: { type: 'string', short: 's' },
  require: { type: 'string', multiple: true },
  interval: { type: 'string', short: 'i' },
  'lock-timeout': { type: 'string' },
  'lock-prefix': { type: 'string' },
  seconds: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  shards: { type: 'string' },
  'queue-shards': { type: 'string' },
} as const;

const OPTION_HELP: Readonly<Record<string, OptionHelp>> = {
  redis: { value: 'url' },
  namespace: { value: 'ns' },
  shards: { value: 'n' },
  'queue-shards': { value: 'q=n,…' },
  schedule: { value: 'file', description: "Schedule file (YAML or JSON), resque-scheduler's format." },
  require: { value: 'module', description: 'Job modules: default queues and before_delayed_enqueue hooks.' },
  interval: {
    value: 'seconds',
    description: 'Longest time between passes (a pass also runs at each due tick).',
    default: '1',
    env: 'RESQUE_SCHEDULER_INTERVAL',
  },
  'lock-timeout': {
    value: 'seconds',
    description: 'Master lock TTL, renewed every pass.',
    default: '30',
    env: 'LOCK_TIMEOUT',
  },
  'lock-prefix': {
    value: 'prefix',
    description: 'Master lock key prefix.',
    env: 'RESQUE_SCHEDULER_MASTER_LOCK_PREFIX',
  },
  seconds: { value: 'n', description: 'Stop after n seconds instead of at a signal.' },
  verbose: { description: 'Log role changes and fired ticks.' },
};

function secondsOption(text: string | undefined, name: string, fallbackMs: number): number {
  if (text === undefined || text === '') return fallbackMs;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new UsageError(`--${name} must be a number of seconds > 0, got ${JSON.stringify(text)}`);
  return Math.round(value * 1000);
}

/** resque-scheduler's process title: `resque-scheduler-<version>[<APP_NAME>][<env>]: <text>`. */
function procline(env: NodeJS.ProcessEnv, environment: string): (text: string) => void {
  const app = env['APP_NAME'] ? `[${env['APP_NAME']}]` : '';
  return (text) => {
    process.title = `resque-scheduler-${VERSION}${app}[${environment}]: ${text}`;
  };
}

/** How long a stopping scheduler waits for its last pass and the lock's release. */
const STOP_WAIT_MS = 3000;

/** `resque scheduler`: the recurring-job scheduler, electing one master with resque-scheduler on its lock. */
export const schedulerCommand: Command = {
  name: 'scheduler',
  noArguments: true,
  summary:
    'Run the scheduler: fires recurring jobs (cron, every) from a schedule file and from Redis, and promotes delayed jobs, as one master shared with resque-scheduler.',
  usage:
    '[--schedule file.yml] [--require module …] [--interval seconds] [--lock-timeout seconds] [--redis URL] [--namespace NS] [--shards n] [--queue-shards q=n,…]',
  options: OPTIONS,
  optionHelp: OPTION_HELP,
  exitWhenDone: true,
  async run({ values }, io) {
    // Stop signals are taken from the start: a TERM during the start-up (modules loading, Redis awaited) stops it too.
    const stopRequested = stopSignal(stringOption(values, 'seconds'));
    const modules = (values['require'] as string[] | undefined) ?? [];
    const app = modules.length > 0 ? await loadAppModules(modules) : undefined;
    const config = resolveConfig(
      {
        ...app?.options,
        ...(stringOption(values, 'redis') ? { redis: stringOption(values, 'redis') } : {}),
        ...(stringOption(values, 'namespace') ? { namespace: stringOption(values, 'namespace') } : {}),
        ...(stringOption(values, 'shards') ? { shards: Number(stringOption(values, 'shards')) } : {}),
        ...(stringOption(values, 'queue-shards')
          ? { queueShards: parseQueueShards(stringOption(values, 'queue-shards')!, '--queue-shards') }
          : {}),
        ...(values['verbose'] ? { logLevel: 'info' as const } : {}),
      },
      io.env,
    );
    const file = stringOption(values, 'schedule');
    const schedules = file ? readScheduleFile(file) : [];
    const pollIntervalMs = secondsOption(
      stringOption(values, 'interval') ?? io.env['RESQUE_SCHEDULER_INTERVAL'],
      'interval',
      1000,
    );
    const lockTimeoutMs = secondsOption(
      stringOption(values, 'lock-timeout') ?? io.env['LOCK_TIMEOUT'],
      'lock-timeout',
      30_000,
    );
    const sharded = config.shards > 1 ? ` in ${config.shards} shards (schedules and lock on shard 0)` : '';
    io.stderr.write(
      `resque scheduler: Redis ${await announceRedis(config, io)}, namespace "${config.namespace}"${sharded}\n`,
    );
    const logger = createLogger(config.logLevel, io.stderr, config.logFormat);
    const { redis, keys, shards, connections } = openSchedulerConnections(config);
    for (const connection of connections)
      connection.on('error', (error) => logger.debug(`Redis: ${error.message}`));
    const scheduler = new Scheduler({
      redis,
      keys,
      shards,
      logger,
      jobs: app ? new JobRegistry(app.jobs) : undefined,
      schedules,
      pollIntervalMs,
      lockTimeoutMs,
      lockPrefix: stringOption(values, 'lock-prefix') ?? io.env['RESQUE_SCHEDULER_MASTER_LOCK_PREFIX'],
      strictPayloads: config.strictPayloads,
      procline: procline(io.env, config.environment),
    });
    handleScheduleSignals(scheduler, logger);
    await Promise.race([scheduler.start(), stopRequested]);
    await stopRequested;
    // With Redis unreachable a pass waits for it: stop anyway; a lock left unreleased expires (--lock-timeout).
    const stopped = await Promise.race([
      scheduler.stop().then(() => true),
      sleep(STOP_WAIT_MS, false, { ref: false }),
    ]);
    for (const connection of connections)
      if (stopped) await connection.quit().catch(() => connection.disconnect());
      else connection.disconnect();
    return EXIT.ok;
  },
};

/** Resolves on INT/TERM/QUIT (the scheduler then stops, releasing the lock) or after `seconds`. */
function stopSignal(seconds: string | undefined): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      for (const signal of STOP_SIGNALS) process.off(signal, stop);
      resolve();
    };
    for (const signal of STOP_SIGNALS) process.on(signal, stop);
    if (seconds !== undefined) setTimeout(stop, secondsOption(seconds, 'seconds', 0)).unref();
  });
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGQUIT'] as const;

/** USR1 logs the schedule; USR2 reloads it. */
function handleScheduleSignals(scheduler: Scheduler, logger: Logger): void {
  process.on('SIGUSR1', () => {
    for (const s of scheduler.schedules.values()) logger.warn(`${s.name}: ${s.className} on ${s.queue}`);
  });
  process.on('SIGUSR2', () => {
    scheduler.reload().catch((error: Error) => logger.warn(`Reloading failed: ${error.message}`));
  });
}
