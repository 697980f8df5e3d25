// The public API of resque-ts. Everything a user may import is listed here by name.
export { Resque, type ClientOptions } from './client/resque.js';
export type { Enqueued, JobRef } from './client/enqueue.js';
export type { QueuedJob } from './client/inspect.js';
export type { ResqueInfo } from './client/info.js';
export {
  DEFAULTS,
  type ResqueOptions,
  type RedisTarget,
  type FailureBackendName,
  type LogLevel,
  type OnTermTimeout,
} from './config/options.js';
export { resolveConfig, type ResolvedConfig } from './config/resolve.js';
export { defineJob, type JobDefinition, type JobSpec, type JobContext, type JobHooks } from './jobs/define.js';
export { JobRegistry } from './jobs/registry.js';
export {
  ResqueError,
  type ResqueErrorCode,
  ConfigError,
  InvalidArgumentsError,
  InvalidQueueNameError,
  InvalidClassNameError,
  NoQueueError,
  RedisConnectionError,
  MalformedPayloadError,
  UnknownJobClassError,
  DontPerform,
  DirtyExit,
  JobTimeoutError,
  TermException,
} from './errors/index.js';
export { Keys } from './protocol/keys.js';
export type { JsonValue, JsonObject, JsonPrimitive } from './protocol/json.js';
export type { JobPayload } from './protocol/payload.js';
export type { FailureRecord } from './protocol/failure-record.js';
export type { WorkerStatus } from './protocol/worker-status.js';
export { VERSION } from './version.js';
