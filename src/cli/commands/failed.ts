import { CONNECTION_OPTIONS, type Command, UsageError } from '../command.js';
import { clearFailures, removeFailure, retryFailures } from './failed-actions.js';
import type { FailedAction } from './failed-common.js';
import { listFailures, listGroups, showFailure } from './failed-reads.js';
import { runAdmin } from './support.js';

const FILTERS = ['queue', 'class', 'group', 'list'] as const;

/** Options each subcommand accepts (beyond --redis, --namespace, --json). */
const ALLOWED: Record<string, readonly string[]> = {
  list: [...FILTERS, 'order', 'limit', 'offset', 'retried'],
  show: [],
  retry: [...FILTERS, 'all', 'remove', 'include-retried'],
  remove: [],
  clear: [...FILTERS, 'all', 'retried'],
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

/** `resque failed …`: list, show, retry, remove and clear failures, by id or in bulk; list error groups. */
export const failedCommand: Command = {
  name: 'failed',
  summary:
    'Failed jobs: list, show <id>, retry <id>|--all|--queue|--class|--group, remove <id>, clear, groups.',
  usage:
    'list [--queue q] [--class C] [--group g] [--retried] [--order asc|desc] [--limit n] [--offset n]\n' +
    '       show <id>\n' +
    '       retry <id> | --all | --queue q | --class C | --group g  [--remove] [--include-retried]\n' +
    '       remove <id>\n' +
    '       clear [--all] [--retried] [--queue q] [--class C] [--group g]\n' +
    '       groups [--sort recent|count] [--limit n]\n' +
    '  (every subcommand: [--redis URL] [--namespace NS] [--json])',
  options: {
    ...CONNECTION_OPTIONS,
    queue: { type: 'string', short: 'q' },
    class: { type: 'string', short: 'c' },
    group: { type: 'string', short: 'g' },
    list: { type: 'string' },
    order: { type: 'string' },
    limit: { type: 'string', short: 'n' },
    offset: { type: 'string' },
    sort: { type: 'string' },
    all: { type: 'boolean' },
    retried: { type: 'boolean' },
    remove: { type: 'boolean' },
    'include-retried': { type: 'boolean' },
  },
  run({ values, positionals }, io) {
    return runAdmin(this, values, io, async (admin) => {
      const [name = 'list', ...args] = positionals;
      const action = ACTIONS[name];
      if (!action) throw new UsageError(`unknown subcommand "${name}"`);
      const allowed = new Set([...Object.keys(CONNECTION_OPTIONS), ...(ALLOWED[name] ?? [])]);
      const stray = Object.keys(values).find((option) => !allowed.has(option));
      if (stray) throw new UsageError(`--${stray} does not apply to "failed ${name}"`);
      return action(admin, values, args, io);
    });
  },
};
