import type { Logger } from '../logging/logger.js';

/** Resque's worker hooks (docs/protocol.md, Worker hooks). */
export type WorkerHookName =
  | 'before_first_fork'
  | 'queue_empty'
  | 'worker_exit'
  | 'before_pause'
  | 'after_pause'
  | 'shutdown';

export interface WorkerHandle {
  readonly id: string;
}

export type WorkerHook = (worker: WorkerHandle) => void | Promise<void>;
export type WorkerHooks = Partial<Record<WorkerHookName, WorkerHook | WorkerHook[]>>;

/** Runs every hook of a kind in registration order; a hook that throws is logged and does not stop the worker. */
export async function runWorkerHooks(
  hooks: WorkerHooks,
  name: WorkerHookName,
  worker: WorkerHandle,
  logger: Logger,
) {
  const registered = hooks[name];
  const list = registered === undefined ? [] : Array.isArray(registered) ? registered : [registered];
  for (const hook of list) {
    try {
      await hook(worker);
    } catch (error) {
      logger.error(`${name} hook failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
