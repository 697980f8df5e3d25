import type { Admin } from '../../api/admin.js';
import { attemptText } from '../../api/retries.js';
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  type Command,
  type CommandIO,
  EXIT,
  UsageError,
} from '../command.js';
import { printTable } from '../output.js';
import { type CommandValues, nonNegativeInteger, positiveInteger, runAdmin, writeJson } from './support.js';

const OPTIONS = {
  ...CONNECTION_OPTIONS,
  start: { type: 'string' },
  count: { type: 'string' },
} as const;

type Action = (admin: Admin, values: CommandValues, args: string[], io: CommandIO) => Promise<number>;

/** `retries [list]`: a page of the jobs waiting for their next attempt, earliest due first (O(page)). */
const list: Action = async (admin, values, _args, io) => {
  const start = nonNegativeInteger(values, 'start');
  const count = positiveInteger(values, 'count', 20);
  const page = await admin.retries(start, count);
  if (values['json']) {
    writeJson(io, { ...page, offset: start, limit: count });
    return EXIT.ok;
  }
  printTable(
    io.stdout,
    ['due', 'class', 'queue', 'attempt', 'last error', 'ref'],
    page.jobs.map((job) => {
      const last = job.errors.at(-1);
      return [
        new Date(job.dueAtMs).toISOString(),
        job.className ?? '(malformed)',
        job.queue,
        attemptText(job),
        last ? `${last.exception}: ${last.error}`.slice(0, 80) : '',
        job.ref,
      ];
    }),
  );
  io.stdout.write(`${page.total} job${page.total === 1 ? '' : 's'} waiting to be retried\n`);
  return EXIT.ok;
};

/** `retries count`: one ZCARD. */
const count: Action = async (admin, values, _args, io) => {
  const waiting = await admin.retryCount();
  if (values['json']) writeJson(io, { waiting });
  else io.stdout.write(`${waiting} job${waiting === 1 ? '' : 's'} waiting to be retried\n`);
  return EXIT.ok;
};

function refArg(ref: string | undefined): string {
  if (!ref) throw new UsageError('a ref is required (the last column of `resque retries list`)');
  return ref;
}

/** `retries now <ref>`: the job goes to its queue for its next attempt at once. */
const now: Action = async (admin, values, [ref], io) => {
  const queued = await admin.retryNow(refArg(ref));
  if (values['json']) writeJson(io, { queued });
  else io.stdout.write(queued ? 'queued for its next attempt now\n' : 'no such job waiting to be retried\n');
  return queued ? EXIT.ok : EXIT.failure;
};

/** `retries remove <ref>`: the job is dropped, neither retried nor recorded as failed. */
const remove: Action = async (admin, values, [ref], io) => {
  const removed = await admin.removeRetry(refArg(ref));
  if (values['json']) writeJson(io, { removed });
  else io.stdout.write(removed ? 'removed\n' : 'no such job waiting to be retried\n');
  return removed ? EXIT.ok : EXIT.failure;
};

const ACTIONS: Record<string, Action> = { list, count, now, remove };

/** `resque retries …`: jobs that failed with attempts left, waiting for their next attempt (docs/retries.md). */
export const retriesCommand: Command = {
  name: 'retries',
  summary:
    'Jobs waiting to be retried: "list" (earliest due first, with refs), "count", "now <ref>" to retry one at once, "remove <ref>".',
  usage: '[list|count|now <ref>|remove <ref>] [options]',
  options: OPTIONS,
  optionHelp: {
    ...CONNECTION_HELP,
    start: { value: 'n', description: 'First row of the page.', default: '0' },
    count: { value: 'n', description: 'Rows per page.', default: '20' },
  },
  check({ positionals }) {
    const action = positionals[0] ?? 'list';
    if (!ACTIONS[action]) throw new UsageError(`unknown action "${action}"`);
  },
  run({ values, positionals }, io) {
    const [action = 'list', ...args] = positionals;
    return runAdmin(retriesCommand, values, io, (admin) => ACTIONS[action]!(admin, values, args, io));
  },
};
