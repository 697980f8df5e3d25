import type { JsonValue } from '../protocol/json.js';

/** The states a status record holds (docs/status.md). */
export const JOB_STATES = [
  'queued',
  'delayed',
  'running',
  'retrying',
  'completed',
  'failed',
  'cancelled',
] as const;

export type JobState = (typeof JOB_STATES)[number];

/** An error as a status record keeps it: its class name and message. */
export interface StatusError {
  readonly class: string;
  readonly message: string;
}

/**
 * What is known about one job (`resque.status(id)`). `source` says where it comes from: `record`, the job's status
 * record (a tracked job); `inferred`, what Redis shows of an untracked one (see docs/status.md); `none`, nothing
 * (`state: 'unknown'`). Times are epoch ms.
 */
export interface JobStatus {
  readonly id: string;
  readonly state: JobState | 'unknown';
  readonly source: 'record' | 'inferred' | 'none';
  readonly className?: string;
  readonly queue?: string;
  readonly enqueuedAt?: number;
  readonly updatedAt?: number;
  /** The worker slot running it (running), or that ran it last. */
  readonly worker?: string;
  readonly startedAt?: number;
  /** The attempt running, or (retrying, failed) the one that failed last. */
  readonly attempt?: number;
  /** Times it went back to its queue after the process running it died. */
  readonly returns?: number;
  /** The last value the job passed to `ctx.progress`. */
  readonly progress?: JsonValue;
  /** What `perform` returned (completed). */
  readonly result?: JsonValue;
  readonly error?: StatusError;
  /** When it runs next (retrying) or is due (delayed). */
  readonly nextAt?: number;
  readonly cancelledAt?: number;
}

/** The hash fields of a status record (all strings), by the JobStatus member each becomes. */
const NUMBER_FIELDS = {
  enqueued_at: 'enqueuedAt',
  updated_at: 'updatedAt',
  started_at: 'startedAt',
  attempt: 'attempt',
  returns: 'returns',
  next_at: 'nextAt',
  cancelled_at: 'cancelledAt',
} as const;

const JSON_FIELDS = { progress: 'progress', result: 'result' } as const;

/** A status record read with HGETALL, as a JobStatus; undefined when there is none (or it holds no known state). */
export function parseStatusRecord(id: string, hash: Record<string, string>): JobStatus | undefined {
  const state = hash['state'];
  if (!state || !(JOB_STATES as readonly string[]).includes(state)) return undefined;
  const status: Record<string, unknown> = { id, state, source: 'record' };
  if (hash['class']) status['className'] = hash['class'];
  if (hash['queue']) status['queue'] = hash['queue'];
  if (hash['worker']) status['worker'] = hash['worker'];
  for (const [field, member] of Object.entries(NUMBER_FIELDS)) {
    const value = Number(hash[field]);
    if (hash[field] !== undefined && hash[field] !== '' && Number.isFinite(value)) status[member] = value;
  }
  for (const [field, member] of Object.entries(JSON_FIELDS)) {
    const value = parseJson(hash[field]);
    if (value !== undefined) status[member] = value;
  }
  const error = parseJson(hash['error']);
  if (error && typeof error === 'object' && !Array.isArray(error))
    status['error'] = { class: String(error['class'] ?? 'Error'), message: String(error['message'] ?? '') };
  return status as unknown as JobStatus;
}

function parseJson(text: string | undefined): JsonValue | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}
