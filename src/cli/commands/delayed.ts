import type { Admin } from '../../api/admin.js';
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  type Command,
  type CommandIO,
  EXIT,
  UsageError,
} from '../command.js';
import { confirm } from '../confirm.js';
import { printTable } from '../output.js';
import {
  type CommandValues,
  jsonArguments,
  nonNegativeInteger,
  positiveInteger,
  runAdmin,
  stringOption,
  writeJson,
} from './support.js';

const OPTIONS = {
  ...CONNECTION_OPTIONS,
  start: { type: 'string' },
  count: { type: 'string' },
  queue: { type: 'string', short: 'q' },
  yes: { type: 'boolean', short: 'y' },
} as const;

type Action = (admin: Admin, values: CommandValues, args: string[], io: CommandIO) => Promise<number>;

/** A timestamp argument: integer epoch seconds, as resque-scheduler files them. */
function timestampArg(text: string | undefined): number {
  if (text === undefined) throw new UsageError('a timestamp (epoch seconds) is required');
  if (!/^\d+$/.test(text))
    throw new UsageError(`the timestamp must be integer epoch seconds, got ${JSON.stringify(text)}`);
  return Number(text);
}

const isoOf = (second: number) => new Date(second * 1000).toISOString();

/** `delayed [list]`: a page of timestamps with their job counts, earliest first (O(page)). */
const list: Action = async (admin, values, _args, io) => {
  const start = nonNegativeInteger(values, 'start');
  const count = positiveInteger(values, 'count', 20);
  const timestamps = await admin.delayed.peekTimestamps(start, count);
  const sizes = await Promise.all(timestamps.map((ts) => admin.delayed.timestampSize(ts)));
  const total = await admin.delayed.timestampCount();
  if (values['json']) {
    writeJson(io, {
      timestamps: timestamps.map((ts, i) => ({ timestamp: ts, at: isoOf(ts), jobs: sizes[i] })),
      total,
    });
  } else {
    printTable(
      io.stdout,
      ['timestamp', 'at', 'jobs'],
      timestamps.map((ts, i) => [String(ts), isoOf(ts), String(sizes[i])]),
    );
    io.stdout.write(`${total} timestamp${total === 1 ? '' : 's'} in all\n`);
  }
  return EXIT.ok;
};

/** `delayed at <ts>`: a page of the jobs filed under one timestamp. */
const at: Action = async (admin, values, [ts], io) => {
  const second = timestampArg(ts);
  const start = nonNegativeInteger(values, 'start');
  const count = positiveInteger(values, 'count', 20);
  const jobs = await admin.delayed.peekAt(second, start, count);
  if (values['json']) writeJson(io, { timestamp: second, at: isoOf(second), jobs });
  else
    printTable(
      io.stdout,
      ['class', 'queue', 'args'],
      jobs.map((job) => [
        job.className ?? '(malformed)',
        job.queue ?? '',
        job.args ? JSON.stringify(job.args) : job.raw,
      ]),
    );
  return EXIT.ok;
};

/** `delayed count`: every delayed job (walks the schedule in chunks). */
const count: Action = async (admin, values, _args, io) => {
  const [jobs, timestamps] = await Promise.all([admin.delayed.count(), admin.delayed.timestampCount()]);
  if (values['json']) writeJson(io, { jobs, timestamps });
  else
    io.stdout.write(
      `${jobs} delayed job${jobs === 1 ? '' : 's'} at ${timestamps} timestamp${timestamps === 1 ? '' : 's'}\n`,
    );
  return EXIT.ok;
};

/** `delayed remove <class> [args…] [--queue q]`: every delayed copy with exactly these args (remove_delayed). */
const remove: Action = async (admin, values, [className, ...rest], io) => {
  if (!className) throw new UsageError('a job class is required');
  const queue = stringOption(values, 'queue');
  if (!queue) throw new UsageError('--queue is required (the queue the jobs were delayed for)');
  const removed = await admin.delayed.removeInQueue(queue, className, ...jsonArguments(rest));
  if (values['json']) writeJson(io, { removed });
  else io.stdout.write(`removed ${removed} delayed job${removed === 1 ? '' : 's'}\n`);
  return removed > 0 ? EXIT.ok : EXIT.failure;
};

/** `delayed queue-now <ts>`: moves every job of a timestamp to its queue now. */
const queueNow: Action = async (admin, values, [ts], io) => {
  const moved = await admin.delayed.queueAllAt(timestampArg(ts));
  if (values['json']) writeJson(io, { queued: moved });
  else io.stdout.write(`queued ${moved} job${moved === 1 ? '' : 's'} now\n`);
  return moved > 0 ? EXIT.ok : EXIT.failure;
};

/** `delayed clear`: every delayed job, after showing the count on a terminal (unless --yes). */
const clear: Action = async (admin, values, _args, io) => {
  if (io.stdin?.isTTY === true && values['yes'] !== true) {
    const jobs = await admin.delayed.count();
    if (
      jobs > 0 &&
      !(await confirm(io, `Remove every delayed job: ${jobs} job${jobs === 1 ? '' : 's'}? [y/N] `))
    ) {
      io.stderr.write('resque delayed: nothing removed\n');
      return EXIT.failure;
    }
  }
  const timestamps = await admin.delayed.reset();
  if (values['json']) writeJson(io, { clearedTimestamps: timestamps });
  else io.stdout.write(`cleared ${timestamps} timestamp${timestamps === 1 ? '' : 's'}\n`);
  return EXIT.ok;
};

const ACTIONS: Record<string, Action> = { list, at, count, remove, 'queue-now': queueNow, clear };

/** `resque delayed …`: resque-scheduler's delayed jobs. */
export const delayedCommand: Command = {
  name: 'delayed',
  summary:
    'Delayed jobs: "list" timestamps, "at <ts>" jobs at one, "count", "remove <class> [args…] --queue q", "queue-now <ts>", "clear".',
  usage: '[list|at <ts>|count|remove <class> [args…]|queue-now <ts>|clear] [options]',
  options: OPTIONS,
  optionHelp: {
    ...CONNECTION_HELP,
    start: { value: 'n', description: 'First row of the page.', default: '0' },
    count: { value: 'n', description: 'Rows per page.', default: '20' },
    queue: { value: 'queue', description: 'The queue the jobs were delayed for (remove).' },
    yes: { description: 'Clear without asking.' },
  },
  check({ positionals }) {
    const action = positionals[0] ?? 'list';
    if (!ACTIONS[action]) throw new UsageError(`unknown action "${action}"`);
  },
  run({ values, positionals }, io) {
    const [action = 'list', ...args] = positionals;
    return runAdmin(delayedCommand, values, io, (admin) => ACTIONS[action]!(admin, values, args, io));
  },
};
