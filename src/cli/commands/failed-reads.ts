import type { Admin } from '../../api/admin.js';
import type { ShardPageOptions } from '../../api/shard-failures.js';
import type { ErrorGroup } from '../../failure/groups.js';
import { type CommandIO, EXIT, UsageError } from '../command.js';
import { printTable } from '../output.js';
import { failureJson, filterOf, noArguments, oneId } from './failed-common.js';
import {
  type CommandValues,
  formatTime,
  iso,
  nonNegativeInteger,
  oneOf,
  positiveInteger,
  stringOption,
  truncate,
  writeJson,
} from './support.js';

/** The reading `resque failed` subcommands: list, show, groups. */

export async function listFailures(
  admin: Admin,
  values: CommandValues,
  args: string[],
  io: CommandIO,
): Promise<number> {
  noArguments(args);
  const options: ShardPageOptions = {
    ...filterOf(values),
    order: oneOf(values, 'order', ['desc', 'asc'] as const, 'desc'),
    limit: positiveInteger(values, 'limit', 20),
    offset: nonNegativeInteger(values, 'offset'),
    ...shardOption(admin, values),
  };
  const page = await admin.failures.page(options);
  if (values['json']) {
    writeJson(io, { ...page, total: page.total ?? null, failures: page.failures.map((f) => failureJson(f)) });
    return EXIT.ok;
  }
  printTable(
    io.stdout,
    ['id', 'failed at', 'queue', 'class', 'exception', 'error', 'retried at'],
    page.failures.map((f) => [
      f.id,
      formatTime(f.failedAt),
      f.queue,
      f.className ?? '?',
      f.record.exception,
      truncate(f.record.error, 60),
      formatTime(f.retriedAt),
    ]),
  );
  const shown = page.failures.length;
  const of = page.total === undefined ? '' : ` of ${page.total}`;
  const order = page.order === 'desc' ? 'newest' : 'oldest';
  io.stdout.write(
    shown === 0
      ? `(no failures${page.offset > 0 ? ` after ${page.offset}` : ''})\n`
      : `(${page.offset + 1}-${page.offset + shown}${of}, ${order} first${page.hasMore ? ', more follow' : ''})\n`,
  );
  return EXIT.ok;
}

export async function showFailure(
  admin: Admin,
  values: CommandValues,
  args: string[],
  io: CommandIO,
): Promise<number> {
  const failure = await admin.failures.get(oneId(args));
  if (values['json']) {
    writeJson(io, failureJson(failure, true));
    return EXIT.ok;
  }
  const { record } = failure;
  const rows: Array<[string, string]> = [
    ['id', failure.id],
    ['list', `${failure.list} (index ${failure.index})`],
    ['queue', failure.queue],
    ['class', failure.className ?? '?'],
    ['args', JSON.stringify(failure.args ?? null)],
    ['exception', record.exception],
    ['error', record.error],
    ['worker', record.worker],
    ['failed at', formatTime(failure.failedAt)],
    ['retried at', formatTime(failure.retriedAt)],
    ['group', failure.groupId],
  ];
  for (const [label, value] of rows) io.stdout.write(`${`${label}:`.padEnd(12)}${value}\n`);
  io.stdout.write(`backtrace:\n${record.backtrace.map((frame) => `  ${frame}\n`).join('')}`);
  return EXIT.ok;
}

export async function listGroups(
  admin: Admin,
  values: CommandValues,
  args: string[],
  io: CommandIO,
): Promise<number> {
  noArguments(args);
  const groups = await admin.failures.groups({
    order: oneOf(values, 'sort', ['recent', 'count'] as const, 'recent'),
    limit: positiveInteger(values, 'limit', 50),
  });
  if (values['json']) {
    writeJson(io, groups.map(groupJson));
    return EXIT.ok;
  }
  printTable(
    io.stdout,
    ['group', 'count', 'last seen', 'first seen', 'first release', 'class', 'exception', 'message', 'frame'],
    groups.map((g) => [
      g.id,
      String(g.count),
      formatTime(g.lastSeen),
      formatTime(g.firstSeen),
      g.firstRelease,
      g.className,
      g.exception,
      truncate(g.message, 50),
      g.frame,
    ]),
  );
  return EXIT.ok;
}

function groupJson(group: ErrorGroup) {
  return { ...group, firstSeen: iso(group.firstSeen), lastSeen: iso(group.lastSeen) };
}

/** `--shard n`: one shard's failures of a sharded namespace. */
function shardOption(admin: Admin, values: CommandValues): { shard?: number } {
  const text = stringOption(values, 'shard');
  if (text === undefined) return {};
  if (!admin.layout) throw new UsageError('--shard needs a sharded namespace (--shards n, or RESQUE_SHARDS)');
  if (!/^\d+$/.test(text) || Number(text) >= admin.layout.count)
    throw new UsageError(`--shard must be from 0 to ${admin.layout.count - 1}, got ${JSON.stringify(text)}`);
  return { shard: Number(text) };
}
