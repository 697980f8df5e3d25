import type { Admin } from '../../api/admin.js';
import { type CommandIO, EXIT, UsageError } from '../command.js';
import { type FailedAction, failureJson, filterOf, noArguments, oneId } from './failed-common.js';
import { type CommandValues, progressTo, writeJson } from './support.js';

/** The mutating `resque failed` subcommands: retry, remove, clear. */

function hasFilter(values: CommandValues): boolean {
  return ['queue', 'class', 'group', 'list', 'retried'].some((option) => values[option] !== undefined);
}

/** `failed retry <id>` or `failed retry --all|--queue q|--class C|--group g`. */
export const retryFailures: FailedAction = async (admin, values, args, io) => {
  const bulk = values['all'] === true || hasFilter(values);
  if (args.length > 0 && bulk)
    throw new UsageError('give a failure id or --all/--queue/--class/--group, not both');
  if (args.length === 0 && !bulk)
    throw new UsageError('give a failure id, or --all, --queue, --class or --group');
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

/** `failed clear [--all] [--retried] [--queue q] [--class C] [--group g]`: with no filter, every failure. */
export const clearFailures: FailedAction = async (admin, values, args, io) => {
  noArguments(args);
  if (values['all'] === true && hasFilter(values))
    throw new UsageError('--all clears everything; drop the filters');
  const result = await admin.failures.clear(filterOf(values), {
    onProgress: progressTo(io, values, 'removed'),
  });
  if (values['json']) writeJson(io, { removed: result.done, scanned: result.scanned });
  else io.stdout.write(`removed ${result.done} failure${result.done === 1 ? '' : 's'}\n`);
  return EXIT.ok;
};
