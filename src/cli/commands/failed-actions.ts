import type { Admin } from '../../api/admin.js';
import { type CommandIO, EXIT, UsageError } from '../command.js';
import { confirm } from '../confirm.js';
import { type FailedAction, failureJson, filterOf, noArguments, oneId } from './failed-common.js';
import { type CommandValues, progressTo, writeJson } from './support.js';

/** The mutating `resque failed` subcommands: retry, remove, clear. */

function hasFilter(values: CommandValues): boolean {
  return ['queue', 'class', 'group', 'list', 'retried'].some((option) => values[option] !== undefined);
}

/** Throws UsageError for a `failed retry` command line that names no failure, or both an id and a filter. */
export function checkRetry(values: CommandValues, args: readonly string[]): void {
  const bulk = values['all'] === true || hasFilter(values);
  if (args.length > 0 && bulk)
    throw new UsageError('give a failure id or --all/--queue/--class/--group, not both');
  if (args.length === 0 && !bulk)
    throw new UsageError('give a failure id, or --all, --queue, --class or --group');
}

/** Throws UsageError for a `failed clear` command line that does not say what to clear. */
export function checkClear(values: CommandValues, args: readonly string[]): void {
  noArguments([...args]);
  const all = values['all'] === true;
  if (all && hasFilter(values)) throw new UsageError('--all clears everything; drop the filters');
  if (!all && !hasFilter(values)) {
    throw new UsageError(
      'add --all to clear every failure, or a filter: --queue, --class, --group, --list, --retried',
    );
  }
}

/** `failed retry <id>` or `failed retry --all|--queue q|--class C|--group g`. */
export const retryFailures: FailedAction = async (admin, values, args, io) => {
  checkRetry(values, args);
  const bulk = args.length === 0;
  const remove = values['remove'] === true;
  if (!bulk) return retryOne(admin, oneId(args), remove, values, io);
  const result = await admin.failures.retryAll(filterOf(values), {
    remove,
    includeRetried: values['include-retried'] === true,
    onProgress: progressTo(io, values, 'retried'),
  });
  if (values['json'])
    writeJson(io, { retried: result.done, scanned: result.scanned, skipped: result.skipped });
  else {
    const skipped =
      result.skipped > 0 ? ` (${result.skipped} could not be retried: no class, args or queue)` : '';
    io.stdout.write(`retried ${result.done} failure${result.done === 1 ? '' : 's'}${skipped}\n`);
  }
  return EXIT.ok;
};

async function retryOne(
  admin: Admin,
  id: string,
  remove: boolean,
  values: CommandValues,
  io: CommandIO,
): Promise<number> {
  const result = await admin.failures.retry(id, { remove });
  if (values['json']) {
    writeJson(io, {
      retried: 1,
      queue: result.queue,
      failure: result.failure ? failureJson(result.failure) : null,
    });
  } else {
    const now = result.failure ? ` (now ${result.failure.id})` : ' and removed it';
    io.stdout.write(`retried ${id} on ${result.queue}${now}\n`);
  }
  return EXIT.ok;
}

/** `failed remove <id>`. */
export const removeFailure: FailedAction = async (admin, values, args, io) => {
  const failure = await admin.failures.remove(oneId(args));
  if (values['json']) writeJson(io, { removed: 1, failure: failureJson(failure) });
  else io.stdout.write(`removed ${failure.id}\n`);
  return EXIT.ok;
};

/** `failed clear --all` or `failed clear <filter>`: asks first on a terminal, unless `--yes`. */
export const clearFailures: FailedAction = async (admin, values, args, io) => {
  checkClear(values, args);
  const all = values['all'] === true;
  const filter = filterOf(values);
  if (io.stdin?.isTTY === true && values['yes'] !== true) {
    const count = await admin.failures.count(filter);
    const what = all ? 'every failure' : 'the failures selected';
    if (
      count > 0 &&
      !(await confirm(io, `Remove ${what}: ${count} failure${count === 1 ? '' : 's'}? [y/N] `))
    ) {
      io.stderr.write('resque failed: nothing removed\n');
      return EXIT.failure;
    }
  }
  const result = await admin.failures.clear(filter, { onProgress: progressTo(io, values, 'removed') });
  if (values['json']) writeJson(io, { removed: result.done, scanned: result.scanned });
  else io.stdout.write(`removed ${result.done} failure${result.done === 1 ? '' : 's'}\n`);
  return EXIT.ok;
};
