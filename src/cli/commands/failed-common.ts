import type { Admin } from '../../api/admin.js';
import type { Failure } from '../../failure/failure.js';
import type { FailureFilter } from '../../failure/scope.js';
import { type CommandIO, UsageError } from '../command.js';
import { type CommandValues, iso, stringOption } from './support.js';

/** A `resque failed` subcommand: gets the Admin, the options and its own positionals. */
export type FailedAction = (
  admin: Admin,
  values: CommandValues,
  args: string[],
  io: CommandIO,
) => Promise<number>;

/** The filter options as a FailureFilter. */
export function filterOf(values: CommandValues): FailureFilter {
  return {
    queue: stringOption(values, 'queue'),
    className: stringOption(values, 'class'),
    group: stringOption(values, 'group'),
    list: stringOption(values, 'list'),
    retried: values['retried'] === true ? true : undefined,
  };
}

export function noArguments(args: string[]): void {
  if (args.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args[0])}`);
}

export function oneId(args: string[]): string {
  const [id, ...extra] = args;
  if (!id) throw new UsageError('a failure id is required (see "resque failed list")');
  noArguments(extra);
  return id;
}

export function failureJson(failure: Failure, withRecord = false) {
  const { record } = failure;
  const shard = (failure as { shard?: number }).shard;
  return {
    id: failure.id,
    ...(shard === undefined ? {} : { shard }),
    list: failure.list,
    index: failure.index,
    queue: failure.queue,
    class: failure.className ?? null,
    args: failure.args ?? null,
    exception: record.exception,
    error: record.error,
    backtrace: record.backtrace,
    worker: record.worker,
    failedAt: iso(failure.failedAt),
    retriedAt: iso(failure.retriedAt),
    group: failure.groupId,
    ...(withRecord ? { record } : {}),
  };
}
