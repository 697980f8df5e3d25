import type { Redis } from 'ioredis';
import type { FailureBackendName } from '../../src/config/options.js';
import type { GroupLimits } from '../../src/failure/groups.js';
import { type NewFailure, queueFailureWrite } from '../../src/failure/save.js';
import type { JsonValue } from '../../src/protocol/json.js';
import { Keys } from '../../src/protocol/keys.js';
import { encodePayload } from '../../src/protocol/payload.js';

/** A failure as a worker would report it, with overridable parts. */
export function newFailure(
  overrides: Partial<NewFailure> & { className?: string; args?: JsonValue[] } = {},
): NewFailure {
  const { className = 'Archive', args = [1], ...rest } = overrides;
  const rawPayload = encodePayload(className, args);
  return {
    rawPayload,
    payload: JSON.parse(rawPayload) as JsonValue,
    exception: 'Error',
    error: 'boom',
    backtrace: ['perform (/app/jobs/archive.js:12:5)'],
    worker: 'host:1:default',
    queue: 'default',
    failedAt: new Date('2026-11-27T10:00:00Z'),
    ...rest,
  };
}

/** Writes failures through the shared write path, in one pipeline. */
export async function writeFailures(
  redis: Redis,
  namespace: string,
  failures: NewFailure[],
  options: { backend?: FailureBackendName; release?: string; groups?: GroupLimits | false } = {},
): Promise<void> {
  const keys = new Keys(namespace);
  const pipeline = redis.pipeline();
  for (const failure of failures) {
    queueFailureWrite(
      pipeline,
      {
        keys,
        config: { failureBackend: options.backend ?? 'redis', release: options.release ?? 'test-1' },
        groups: options.groups,
      },
      failure,
    );
  }
  const results = (await pipeline.exec()) ?? [];
  for (const [error] of results) if (error) throw error;
}

/** Replaces the time inside `"retried_at":"…"`, so records retried now compare with Ruby's. */
export function anyRetriedAt(raw: string): string {
  return raw.replace(/"retried_at":"[^"]*"/, '"retried_at":"<time>"');
}
