// The public API of resque-ts. Everything a user may import is listed here by name.

export type { Enqueued, JobRef } from './client/enqueue.js';
export type { ResqueInfo } from './client/info.js';
export type { QueuedJob } from './client/inspect.js';
export { type ClientOptions, Resque } from './client/resque.js';
export {
  DEFAULTS,
  type FailureBackendName,
  type LogLevel,
  type OnTermTimeout,
  type RedisTarget,
  type ResqueOptions,
} from './config/options.js';
export { type ResolvedConfig, resolveConfig } from './config/resolve.js';
export {
  ConfigError,
  DirtyExit,
  DontPerform,
  InvalidArgumentsError,
  InvalidClassNameError,
  InvalidQueueNameError,
  JobTimeoutError,
  MalformedPayloadError,
  NoQueueError,
  RedisConnectionError,
  RedisNotInstalledError,
  ResqueError,
  type ResqueErrorCode,
  TermException,
  UnknownJobClassError,
} from './errors/index.js';
export {
  defineJob,
  type JobContext,
  type JobDefinition,
  type JobHooks,
  type JobSpec,
} from './jobs/define.js';
export { JobRegistry } from './jobs/registry.js';
export type { FailureRecord } from './protocol/failure-record.js';
export type { JsonObject, JsonPrimitive, JsonValue } from './protocol/json.js';
export { Keys } from './protocol/keys.js';
export type { JobPayload } from './protocol/payload.js';
export type { WorkerStatus } from './protocol/worker-status.js';
export { VERSION } from './version.js';
