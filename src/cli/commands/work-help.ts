import type { OptionHelp } from '../command.js';

/**
 * `resque work --help` text for the options that set no ResqueOptions field (the others are described by the
 * option table). Kept beside work.ts until its option definitions carry their own help.
 */
export const WORK_OPTION_HELP: Readonly<Record<string, OptionHelp>> = {
  require: {
    value: 'module',
    description:
      'A compiled module exporting the job definitions (and optionally a config object with jobs, hooks and options); repeat for more.',
    env: 'RESQUE_REQUIRE (comma-separated)',
  },
  config: {
    value: 'module',
    description:
      'A module exporting a config object { jobs, hooks, ...options }, loaded after the --require ones.',
  },
  queues: { value: 'q1,q2' },
  isolation: { value: 'process|none' },
  count: { value: 'n' },
  concurrency: { value: 'n' },
  spare: { value: 'n' },
  'max-jobs-per-child': { value: 'n' },
  pidfile: { value: 'path' },
  'exit-with-parent': {
    description:
      'Stop as on TERM once the process that started the worker has exited (an npx or npm run killed without passing the signal on). On by default when npm started it.',
    env: 'RESQUE_EXIT_WITH_PARENT (0 turns the npm default off)',
  },
  'metrics-port': { value: 'port' },
  'health-port': { value: 'port' },
  'log-level': { value: 'level' },
  'log-format': { value: 'auto|json|text' },
  verbose: { description: 'Log at info level.', env: 'VERBOSE, LOGGING' },
  vverbose: { description: 'Log at debug level.', env: 'VVERBOSE' },
  redis: { value: 'url' },
  namespace: { value: 'ns' },
  shards: { value: 'n' },
  'queue-shards': { value: 'q=n,…' },
};
