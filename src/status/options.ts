import type { JsonValue } from '../protocol/json.js';

/** How long a status record is kept after its last change, unless a job says otherwise: a day. */
export const DEFAULT_STATUS_TTL_MS = 86_400_000;

/** Status tracking of a job (`defineJob({ status })`, `withStatus`): on with the default TTL, or with its own. */
export type StatusOption = boolean | { readonly ttlMs?: number };

/** Throws a TypeError naming `where` unless `option` is `true`, `false` or `{ ttlMs }` with a positive whole ttlMs. */
export function assertStatusOption(option: unknown, where: string): asserts option is StatusOption {
  if (option === undefined || typeof option === 'boolean') return;
  if (option === null || typeof option !== 'object' || Array.isArray(option))
    throw new TypeError(`${where}: status must be true, false or { ttlMs }, got ${JSON.stringify(option)}`);
  const unknown = Object.keys(option).find((key) => key !== 'ttlMs');
  if (unknown !== undefined)
    throw new TypeError(`${where}: status has no option ${JSON.stringify(unknown)} (only ttlMs)`);
  const ttl = (option as { ttlMs?: unknown }).ttlMs;
  if (ttl !== undefined && (!Number.isSafeInteger(ttl) || (ttl as number) < 1))
    throw new TypeError(
      `${where}: status.ttlMs must be a whole number of ms of 1 or more, got ${String(ttl)}`,
    );
}

/** The TTL (ms) of a tracked job's record, or undefined when `option` does not track it. */
export function statusTtlOf(option: StatusOption | undefined): number | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return DEFAULT_STATUS_TTL_MS;
  return option.ttlMs ?? DEFAULT_STATUS_TTL_MS;
}

/**
 * The payload's `"status"` member, when it marks a tracked job: a positive whole number, the TTL (ms) of its record.
 * Anything else (absent, or written by someone else) means untracked.
 */
export function trackedTtl(marker: JsonValue | undefined): number | undefined {
  return typeof marker === 'number' && Number.isSafeInteger(marker) && marker > 0 ? marker : undefined;
}
