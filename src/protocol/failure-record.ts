import type { JsonValue } from './json.js';

/**
 * A failure as Ruby writes it (docs/protocol.md, The record), keys in Ruby's order. resque-ts may add fields after
 * `queue` (Ruby readers ignore them): `raw` keeps the bytes of a queue item that was not valid JSON.
 */
export interface FailureRecord {
  failed_at: string;
  payload: JsonValue;
  exception: string;
  error: string;
  backtrace: string[];
  worker: string;
  queue: string;
  retried_at?: string;
  [extra: string]: JsonValue | undefined;
}

/**
 * Encodes with `payload` spliced in as raw bytes when given (a job's own bytes, e.g. big integers Ruby wrote,
 * must survive a failure untouched); otherwise JSON-encodes `record.payload`.
 */
export function encodeFailureRecord(record: FailureRecord, rawPayload?: string): string {
  const { failed_at, payload, exception, error, backtrace, worker, queue, ...rest } = record;
  const payloadJson = rawPayload ?? JSON.stringify(payload);
  let out =
    `{"failed_at":${JSON.stringify(failed_at)},"payload":${payloadJson},"exception":${JSON.stringify(exception)},` +
    `"error":${JSON.stringify(error)},"backtrace":${JSON.stringify(backtrace)},"worker":${JSON.stringify(worker)},` +
    `"queue":${JSON.stringify(queue)}`;
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined) out += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
  }
  return `${out}}`;
}

export function decodeFailureRecord(raw: string): FailureRecord | undefined {
  try {
    const value = JSON.parse(raw) as Partial<FailureRecord> | null;
    if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
    return {
      ...value,
      failed_at: String(value.failed_at ?? ''),
      payload: value.payload ?? null,
      exception: String(value.exception ?? ''),
      error: String(value.error ?? ''),
      backtrace: Array.isArray(value.backtrace) ? value.backtrace.map(String) : [],
      worker: String(value.worker ?? ''),
      queue: String(value.queue ?? ''),
    } as FailureRecord;
  } catch {
    return undefined;
  }
}

/**
 * Ruby keeps the frames before the first one inside resque itself; we keep the frames before the first one inside
 * `internalDir` (resque-ts's own code), and drop the leading "Error: message" line V8 puts in `stack`.
 */
export function backtraceOf(error: unknown, internalDir?: string): string[] {
  if (!(error instanceof Error) || !error.stack) return [];
  const frames = error.stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .map((line) => line.trim().replace(/^at /, ''));
  if (!internalDir) return frames;
  const cut = frames.findIndex((frame) => frame.includes(internalDir));
  return cut < 0 ? frames : frames.slice(0, cut);
}
