// A job class's tenant (docs/flow-control.md, Fair sharing): who a job is for, worked out from its arguments at
// enqueue with the same rules as a limit key. On a fair queue the job waits on its tenant's own list, and the tenants
// that have jobs are served in turn; it also travels in the payload (`"tenant"`, a member Ruby ignores).
import { ConfigError } from '../errors/index.js';
import type { JsonValue } from '../protocol/json.js';
import { assertLimit, type KeyFunction, limitKeyOf } from './concurrency.js';

/** A tenant function: a non-empty string (or finite number) without line breaks, of at most 200 characters. */
export type TenantFunction<A extends JsonValue[]> = (...args: A) => string | number;

export function assertTenant(value: unknown, className: string): void {
  if (value !== undefined && typeof value !== 'function')
    throw new ConfigError('tenant', `Job ${className}: must be a function of the job's arguments`);
}

/** The tenant of one enqueue, or undefined when the class has no tenant function; throws as a limit key does. */
export function tenantOf(
  className: string,
  tenant: TenantFunction<JsonValue[]> | undefined,
  args: JsonValue[],
): string | undefined {
  return limitKeyOf('tenant', className, tenant as KeyFunction | undefined, args);
}

/** A tenant named to the API (a weight): what a tenant function may return. */
export function assertTenantName(tenant: unknown): asserts tenant is string {
  if (typeof tenant !== 'string' || tenant === '' || /[\r\n]/.test(tenant) || tenant.length > 200)
    throw new ConfigError(
      'tenant',
      'expected a non-empty string without line breaks, at most 200 characters',
    );
}

/** A tenant's weight: how many jobs it is served per turn, a whole number of 1 or more. */
export function assertWeight(weight: unknown, tenant: string): asserts weight is number {
  assertLimit(weight, 'weight', `Tenant ${tenant}`);
}
