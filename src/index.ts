// The public API of resque-ts. Everything a user may import is listed here by name.

export { Admin } from './api/admin.js';
export type { ClusterSnapshot } from './api/cluster-metrics.js';
export type { HealthThresholds, WorkerCondition, WorkerHealth } from './api/health.js';
export { describeWaitReason, type WaitingJob, type WaitReason } from './api/job-wait.js';
export type { KeyContents, KeyEntry, KeyPage } from './api/keyspace.js';
export type { LivenessQuery, WorkerLiveness } from './api/liveness-check.js';
export type { JobMatch, QueueJobsPage, QueueSearch } from './api/queue-jobs.js';
export type { QueueSummary } from './api/queues.js';
export type { RedisInfoSection } from './api/redis-info.js';
export {
  checkRedisSafety,
  type RedisRisk,
  type RedisRiskCode,
  type RedisSafety,
} from './api/redis-safety.js';
export type { RetryingJob, RetryPage } from './api/retries.js';
export type { StatsSample } from './api/stats.js';
export type { WorkerJob, WorkerSummary } from './api/workers.js';
export type { CancelOptions, CancelResult } from './cancel/cancel-job.js';
export type { Enqueued, JobRef } from './client/enqueue.js';
export type { ResqueInfo } from './client/info.js';
export type { QueuedJob } from './client/inspect.js';
export { type ClientOptions, Resque } from './client/resque.js';
export {
  DEFAULTS,
  type FailureBackendName,
  type Isolation,
  type LogFormat,
  type LogLevel,
  type OnTermTimeout,
  type RedisTarget,
  type ResqueOptions,
} from './config/options.js';
export { type ResolvedConfig, resolveConfig } from './config/resolve.js';
export {
  ConfigError,
  DirtyExit,
  Discard,
  DontPerform,
  DuplicateScheduleError,
  FailureNotFoundError,
  FailureNotRetryableError,
  InvalidArgumentsError,
  InvalidClassNameError,
  InvalidJobIdError,
  InvalidQueueNameError,
  InvalidScheduleError,
  InvalidTimeError,
  JobCancelled,
  JobTimeoutError,
  MalformedPayloadError,
  MemoryLimitError,
  ModuleLoadError,
  NoQueueError,
  NotReplicatedError,
  QueueNotFoundError,
  RateLimited,
  RedisConnectionError,
  RedisNotInstalledError,
  RedisUnsafeError,
  ResqueError,
  type ResqueErrorCode,
  RetryLater,
  TermException,
  UnknownJobClassError,
} from './errors/index.js';
export type { BulkResult, BulkRetryOptions, ClearOptions } from './failure/bulk.js';
export type { RetryOptions, RetryResult } from './failure/by-id.js';
export type { FailureCounts } from './failure/count.js';
export type { Failure } from './failure/failure.js';
export type { ErrorGroup, GroupLimits, GroupOrder } from './failure/groups.js';
export type { FailurePage, PageOptions } from './failure/page.js';
export type { FailureOrder } from './failure/read.js';
export type { FailureFilter } from './failure/scope.js';
export { Failures } from './failure/store.js';
export type { BulkProgress, ProgressCallback } from './failure/sweep.js';
export type {
  ChildStats,
  ExecutorStats,
  RestartReason,
  RestartRecord,
  WorkerStats,
} from './fleet/worker-stats.js';
export {
  defineJob,
  type JobContext,
  type JobDefinition,
  type JobHooks,
  type JobSpec,
  withRetry,
  withStatus,
} from './jobs/define.js';
export { JobRegistry } from './jobs/registry.js';
export type {
  BackoffFunction,
  BackoffSpec,
  EnqueueRetry,
  ErrorMatcher,
  RetrySettings,
} from './jobs/retry-policy.js';
export {
  DEFAULT_LOCK_TTL_MS,
  type UniqueMode,
  type UniqueOptions,
  type UniqueSetting,
} from './jobs/unique.js';
export type { LogFields, Logger } from './logging/logger.js';
export type { PinoLike } from './logging/pino.js';
export type { ErrorContext, ErrorReporter, ReportedJob } from './observability/error-reporter.js';
export type { AttemptError } from './protocol/attempts.js';
export type { FailureRecord } from './protocol/failure-record.js';
export type { JsonObject, JsonPrimitive, JsonValue } from './protocol/json.js';
export { Keys } from './protocol/keys.js';
export type { JobPayload } from './protocol/payload.js';
export type { WorkerStatus } from './protocol/worker-status.js';
export { redisOptionsFromUrl } from './redis/connection.js';
export { DelayedJobs } from './scheduler/delayed-jobs.js';
export type { Scheduled } from './scheduler/delayed-push.js';
export type { DelayedItemView } from './scheduler/delayed-query.js';
export type { FoundItem, SelectionOptions } from './scheduler/delayed-remove.js';
export type { DueAt } from './scheduler/due-time.js';
export { MasterLock } from './scheduler/master-lock.js';
export { type PassReport, Promoter, type PromoterOptions } from './scheduler/promoter.js';
export type { FiredTick } from './scheduler/recurring.js';
export type { MissedRunPolicy, RecurringSchedule, ScheduleConfig } from './scheduler/schedule-config.js';
export { readScheduleFile } from './scheduler/schedule-file.js';
export { ScheduleStore, type StoredSchedule } from './scheduler/schedule-store.js';
export { type ScheduleOverview, type ScheduleRow, scheduleOverview } from './scheduler/schedule-view.js';
export {
  type PassResult,
  Scheduler,
  type SchedulerOptions,
  type ShardTargets,
} from './scheduler/scheduler.js';
export { JobNotCompletedError, JobNotTrackedError, WaitTimeoutError } from './status/errors.js';
export type { JobFailureRecord, JobStory } from './status/lookup.js';
export { DEFAULT_STATUS_TTL_MS, type StatusOption } from './status/options.js';
export { JOB_STATES, type JobState, type JobStatus, type StatusError } from './status/record.js';
export { InvalidResultError } from './status/result.js';
export type { WaitOptions } from './status/wait.js';
export { VERSION } from './version.js';
export type { Executor } from './worker/executor.js';
export type { ReservationData } from './worker/fetch/reservation.js';
export { Reservation } from './worker/fetch/reservation.js';
export type { WorkerHook, WorkerHookName, WorkerHooks } from './worker/hooks.js';
export type { FailureKind, JobFailure, Outcome } from './worker/outcome.js';
export { installSignalHandlers } from './worker/signals.js';
export {
  type StopMode,
  Worker,
  type WorkerEvents,
  type WorkerOptions,
  type WorkerShard,
} from './worker/worker.js';
