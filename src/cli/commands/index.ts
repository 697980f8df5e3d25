import type { Command } from '../command.js';

/**
 * Every `resque` command by name, in the order `resque --help` lists them, each loaded only when asked for: a worker
 * started by `resque work` does not load the dashboard, the demo or the admin commands.
 */
const LOADERS: ReadonlyArray<readonly [name: string, load: () => Promise<Command>]> = [
  [
    'work',
    async () => {
      const [{ workCommand }, { WORK_OPTION_HELP }] = await Promise.all([
        import('./work.js'),
        import('./work-help.js'),
      ]);
      return { ...workCommand, optionHelp: { ...WORK_OPTION_HELP, ...workCommand.optionHelp } };
    },
  ],
  ['web', async () => (await import('./web.js')).webCommand],
  ['info', async () => (await import('./info.js')).infoCommand],
  ['demo', async () => (await import('./demo.js')).demoCommand],
  ['queues', async () => (await import('./queues.js')).queuesCommand],
  ['queue', async () => (await import('./queue.js')).queueCommand],
  ['limits', async () => (await import('./limits.js')).limitsCommand],
  ['enqueue', async () => (await import('./enqueue.js')).enqueueCommand],
  ['dequeue', async () => (await import('./dequeue.js')).dequeueCommand],
  ['workers', async () => (await import('./workers.js')).workersCommand],
  ['health', async () => (await import('./health.js')).healthCommand],
  ['failed', async () => (await import('./failed.js')).failedCommand],
  ['retries', async () => (await import('./retries.js')).retriesCommand],
  ['job', async () => (await import('./job.js')).jobCommand],
  ['cancel', async () => (await import('./cancel.js')).cancelCommand],
  ['scheduler', async () => (await import('./scheduler.js')).schedulerCommand],
  ['delayed', async () => (await import('./delayed.js')).delayedCommand],
  ['schedule', async () => (await import('./schedule.js')).scheduleCommand],
  ['migrate-to-cluster', async () => (await import('./migrate-to-cluster.js')).migrateToClusterCommand],
  ['shards', async () => (await import('./shards.js')).shardsCommand],
];

/** The commands' names, in the order `resque --help` lists them. */
export const COMMAND_NAMES: readonly string[] = LOADERS.map(([name]) => name);

/** The command called `name`, loaded; undefined when there is none. */
export async function loadCommand(name: string): Promise<Command | undefined> {
  const loader = LOADERS.find(([known]) => known === name);
  return loader ? loader[1]() : undefined;
}

/** Every command, loaded (the overview help lists each one's summary). */
export function loadCommands(): Promise<Command[]> {
  return Promise.all(LOADERS.map(([, load]) => load()));
}
