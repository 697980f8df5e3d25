import type { JsonValue } from './json.js';

/** `worker:<id>` while a job runs: `{"queue","run_at","payload"}` in that order (docs/protocol.md, Status while working). */
export interface WorkerStatus {
  queue: string;
  run_at: string;
  payload: JsonValue;
}

/** Builds the status around the queue item's raw bytes, so extra fields and number formats survive exactly. */
export function encodeWorkerStatus(queue: string, runAt: string, rawPayload: string): string {
  return `{"queue":${JSON.stringify(queue)},"run_at":${JSON.stringify(runAt)},"payload":${rawPayload}}`;
}

/** Reads a status written by Ruby, node-resque or us; undefined for empty or unreadable values. */
export function decodeWorkerStatus(raw: string | null | undefined): WorkerStatus | undefined {
  if (!raw) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<WorkerStatus> | null;
    if (!value || typeof value !== 'object' || typeof value.queue !== 'string') return undefined;
    return { queue: value.queue, run_at: String(value.run_at ?? ''), payload: value.payload ?? null };
  } catch {
    return undefined;
  }
}

/** The raw payload bytes inside a status we wrote (`…,"payload":<raw>}`), without re-encoding them. */
export function rawPayloadOfStatus(status: string): string | undefined {
  const marker = '"payload":';
  const at = status.indexOf(marker);
  if (at < 0 || !status.endsWith('}')) return undefined;
  return status.slice(at + marker.length, -1);
}
