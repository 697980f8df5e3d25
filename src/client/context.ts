import type { Redis } from 'ioredis';
import type { ResolvedConfig } from '../config/resolve.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { TracerSource } from '../observability/tracing.js';
import type { Keys } from '../protocol/keys.js';

/** What the queue operations need: one connection, the key builder, the frozen config, known jobs (inline mode). */
export interface ClientContext {
  readonly redis: Redis;
  readonly keys: Keys;
  readonly config: ResolvedConfig;
  readonly jobs: JobRegistry;
  /** Present when `tracing` is on: enqueues are wrapped in producer spans (observability/tracing.ts). */
  readonly tracing?: TracerSource | undefined;
}
