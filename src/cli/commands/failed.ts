import { withAdmin } from '../admin-session.js';
import { CONNECTION_OPTIONS, type Command, type OptionHelp, UsageError } from '../command.js';
import { checkClear, checkRetry, clearFailures, removeFailure, retryFailures } from './failed-actions.js';
import type { FailedAction } from './failed-common.js';
import { listFailures, listGroups, showFailure } from './failed-reads.js';

const FILTERS = ['queue', 'class', 'group', 'list'] as const;

/** Options each subcommand accepts (beyond --redis, --namespace, --json). */
const ALLOWED: Record<string, readonly string[]> = {
  list: [...FILTERS, 'order', 'limit', 'offset', 'retried', 'shard'],
  show: [],
  retry: [...FILTERS, 'all', 'remove', 'include-retried'],
  remove: [],
  clear: [...FILTERS, 'all', 'retried', 'yes'],
  groups: ['limit', 'sort'],
};

const ACTIONS: Record<string, FailedAction> = {
  list: listFailures,
  show: showFailure,
  retry: retryFailures,
  remove: removeFailure,
  clear: clearFailures,
  groups: listGroups,
};

const OPTION_HELP: Record<string, OptionHelp> = {
  queue: { value: 'queue', description: 'Only failures of this queue.' },
  class: { value: 'class', description: 'Only failures of this job class.' },
  group: { value: 'group', description: 'Only failures of this error group (see "failed groups").' },
  list: {
    value: 'list',
    description: 'Only this failure list: failed, or <queue>_failed (per-queue layout).',
  },
  order: { value: 'asc|desc', description: 'Oldest or newest first.', default: 'desc' },
  limit: { value: 'n', description: 'How many to show.', default: '20 (list), 50 (groups)' },
  offset: { value: 'n', description: 'Skip this many first.', default: '0' },
  shard: {
    value: 'n',
    description:
      'Only the failures kept on this shard of a sharded namespace: a page of one shard is O(page).',
  },
  sort: {
    value: 'recent|count',
    description: 'Groups most recently seen first, or most frequent first.',
    default: 'recent',
  },
  all: { description: 'Every failure: needed when no filter or id is given.' },
  retried: { description: "Only failures already retried (clear --retried is Ruby's clear_retried)." },
  remove: {
    description: 'Remove each failure once its job is back on its queue (Ruby keeps it, marked retried).',
  },
  'include-retried': { description: "Retry failures retried before too (Ruby's requeue_all does)." },
  yes: { description: 'Do not ask for confirmation on a terminal.' },
};

/** `resque failed …`: list, show, retry, remove and clear failures, by id or in bulk; list error groups. */
export const failedCommand: Command = {
  name: 'failed',
  summary:
    'Failed jobs: list, show <id>, retry <id>|--all|--queue|--class|--group, remove <id>, clear --all|<filter>, groups.',
  usage:
    'list [--queue q] [--class C] [--group g] [--retried] [--order asc|desc] [--limit n] [--offset n] [--shard n]\n' +
    '       show <id>\n' +
    '       retry <id> | --all | --queue q | --class C | --group g  [--remove] [--include-retried]\n' +
    '       remove <id>\n' +
    '       clear --all | [--retried] [--queue q] [--class C] [--group g]  [--yes]\n' +
    '       groups [--sort recent|count] [--limit n]\n' +
    '  (every subcommand also takes --redis, --namespace and --json)',
  options: {
    ...CONNECTION_OPTIONS,
    queue: { type: 'string', short: 'q' },
    class: { type: 'string', short: 'c' },
    group: { type: 'string', short: 'g' },
    list: { type: 'string' },
    order: { type: 'string' },
    limit: { type: 'string', short: 'n' },
    offset: { type: 'string' },
    shard: { type: 'string' },
    sort: { type: 'string' },
    all: { type: 'boolean' },
    retried: { type: 'boolean' },
    remove: { type: 'boolean' },
    'include-retried': { type: 'boolean' },
    yes: { type: 'boolean', short: 'y' },
  },
  optionHelp: Object.fromEntries(
    Object.entries(OPTION_HELP).map(([name, help]) => {
      const subcommands = Object.keys(ALLOWED).filter((sub) => ALLOWED[sub]!.includes(name));
      return [name, { ...help, description: `${help.description} (${subcommands.join(', ')})` }];
    }),
  ),
  check({ values, positionals }) {
    const [name = 'list', ...args] = positionals;
    if (!ACTIONS[name]) {
      throw new UsageError(
        `unknown subcommand "${name}"; the subcommands are ${Object.keys(ACTIONS).join(', ')}`,
      );
    }
    const allowed = new Set([...Object.keys(CONNECTION_OPTIONS), ...(ALLOWED[name] ?? [])]);
    const stray = Object.keys(values).find((option) => !allowed.has(option));
    if (stray) throw new UsageError(`--${stray} does not apply to "failed ${name}"`);
    if (name === 'retry') checkRetry(values, args);
    if (name === 'clear') checkClear(values, args);
  },
  run({ values, positionals }, io) {
    this.check?.({ values, positionals });
    const [name = 'list', ...args] = positionals;
    return withAdmin(values, (admin) => ACTIONS[name]!(admin, values, args, io));
  },
};
