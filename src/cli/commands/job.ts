import { describeWaitReason, type JobView } from '../../api/job-wait.js';
import { CONNECTION_HELP, CONNECTION_OPTIONS, type Command, EXIT, UsageError } from '../command.js';
import { runAdmin, writeJson } from './support.js';

/** `resque job <id>`: a job's status and story (docs/status.md). Exit 1 when nothing is known of it. */
export const jobCommand: Command = {
  name: 'job',
  summary:
    'A job by its id: its state (queued, delayed, running, retrying, completed, failed, cancelled), progress, result, attempts and errors.',
  usage: '<id> [options]',
  options: CONNECTION_OPTIONS,
  optionHelp: CONNECTION_HELP,
  check({ positionals }) {
    if (!positionals[0]) throw new UsageError('a job id is required (as enqueue returned it)');
    if (positionals.length > 1) throw new UsageError(`one job id at a time, got ${positionals.length}`);
  },
  run({ values, positionals }, io) {
    const id = positionals[0]!;
    return runAdmin(jobCommand, values, io, async (admin) => {
      const story = await admin.job(id);
      if (values['json']) writeJson(io, story);
      else io.stdout.write(describe(story));
      return story.status.state === 'unknown' ? EXIT.failure : EXIT.ok;
    });
  },
};

const SOURCES = {
  record: 'its status record',
  inferred: 'inferred: the job is not tracked',
  none: 'no status record, and Redis shows it nowhere it can be looked for by id',
} as const;

/** The human form: one `name  value` line per thing known, then the attempts' errors. */
export function describe(story: JobView): string {
  const s = story.status;
  const rows: Array<[string, string | undefined]> = [
    ['state', `${s.state} (${SOURCES[s.source]})`],
    ['class', s.className],
    ['queue', s.queue],
    ['enqueued', time(s.enqueuedAt)],
    ['worker', s.worker],
    ['started', time(s.startedAt)],
    ['attempt', s.attempt?.toString()],
    ['returns', s.returns ? String(s.returns) : undefined],
    ['progress', json(s.progress)],
    ['result', json(s.result)],
    ['error', s.error && `${s.error.class}: ${s.error.message}`],
    [s.state === 'delayed' ? 'due' : 'next attempt', time(s.nextAt)],
    ['cancelled', time(s.cancelledAt)],
    ['updated', time(s.updatedAt)],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  let out = `job ${s.id}\n`;
  for (const [name, value] of rows) if (value !== undefined) out += `  ${name.padEnd(width)}  ${value}\n`;
  if (story.waiting) {
    out += 'why it waits\n';
    if (story.waiting.length === 0) out += '  nothing holds it back: a worker should take it at once\n';
    for (const reason of story.waiting) out += `  ${describeWaitReason(reason)}\n`;
  }
  if (story.errors.length > 0) {
    out += 'earlier attempts\n';
    for (const e of story.errors) out += `  ${e.attempt}  ${e.failed_at}  ${e.exception}: ${e.error}\n`;
  }
  if (story.failure) {
    const f = story.failure;
    out += `failure record (${f.list}, ${f.failedAt}, ${f.worker})\n  ${f.exception}: ${f.error}\n`;
    for (const frame of f.backtrace.slice(0, 10)) out += `    ${frame}\n`;
  }
  return out;
}

function time(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function json(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}
