// What flow control reads from a job's payload, worked out from its arguments by its class's definition: the
// concurrency key, the rate key and the tenant (docs/flow-control.md). Enqueues, delayed jobs and recurring ticks all
// compute them here.
import type { JsonValue } from '../protocol/json.js';
import type { EncodeMetadata } from '../protocol/payload.js';
import { concurrencyKeyOf } from './concurrency.js';
import type { JobDefinition } from './define.js';
import { rateKeyOf } from './rate.js';
import type { JobRegistry } from './registry.js';
import { tenantOf } from './tenant.js';

export type LimitKeys = Pick<EncodeMetadata, 'concurrencyKey' | 'rateKey' | 'tenant'>;

/**
 * The keys and tenant of one job; none for a class this process does not know. Throws InvalidArgumentsError when a
 * key function throws or returns something unusable.
 */
export function limitKeysOf(
  definition: JobDefinition | undefined,
  className: string,
  args: JsonValue[],
): LimitKeys {
  return {
    concurrencyKey: concurrencyKeyOf(className, definition?.concurrency, args),
    rateKey: rateKeyOf(className, definition?.rate, args),
    tenant: tenantOf(className, definition?.tenant, args),
  };
}

/** limitKeysOf for jobs known only by class name (a promotion, a recurring tick), through a registry. */
export function registryLimitKeys(jobs: JobRegistry): (className: string, args: JsonValue[]) => LimitKeys {
  return (className, args) => limitKeysOf(jobs.resolve(className), className, args);
}
