import { DontPerform, isCancelReason, RateLimited } from '../errors/index.js';
import type { JsonValue } from '../protocol/json.js';
import { hooksFor, type JobContext, type JobDefinition } from './define.js';

export type PerformOutcome = 'performed' | 'skipped';

/**
 * Runs one job the way Resque's Job#perform does: before hooks → around chain → perform → after hooks.
 * DontPerform from a before hook skips quietly; RateLimited, and any error after the job was cancelled, is rethrown as it is, without on_failure hooks. Any other error runs the on_failure hooks once and is rethrown;
 * if an on_failure hook itself throws, a combined error replaces the original, as in Ruby.
 */
export async function performJob(
  definition: JobDefinition,
  context: JobContext,
  args: JsonValue[],
  /** Given, it receives what `perform` returned (status tracking keeps it). */
  kept?: { result: unknown },
): Promise<PerformOutcome> {
  try {
    for (const hook of hooksFor(definition, 'before_perform')) await hook(...args);
  } catch (error) {
    if (error instanceof DontPerform) return 'skipped';
    if (error instanceof RateLimited || cancelled(context)) throw error;
    throw await failed(definition, error, args);
  }
  try {
    let performed = false;
    const chain = hooksFor(definition, 'around_perform').reduceRight<() => Promise<void>>(
      (next, hook) => async () => {
        await hook(next, ...args);
      },
      async () => {
        const result = await definition.perform(context, ...args);
        if (kept) kept.result = result;
        performed = true;
      },
    );
    await chain();
    for (const hook of hooksFor(definition, 'after_perform')) await hook(...args);
    return performed ? 'performed' : 'skipped';
  } catch (error) {
    if (error instanceof RateLimited || cancelled(context)) throw error;
    throw await failed(definition, error, args);
  }
}

/** A cancelled job stops by throwing; that is its cancel, not a failure (docs/cancel.md). */
function cancelled(context: JobContext): boolean {
  return context.signal.aborted && isCancelReason(context.signal.reason);
}

/** Runs the on_failure hooks for an error raised outside performJob (timeouts, dirty exits, reaped jobs). */
export async function runFailureHooks(
  definition: JobDefinition | undefined,
  error: Error,
  args: JsonValue[],
): Promise<Error> {
  return failed(definition, error, args);
}

/** retries_exhausted hooks: the job failed for good. An error thrown by one is the caller's to report. */
export async function runExhaustedHooks(
  definition: JobDefinition | undefined,
  error: Error,
  args: JsonValue[],
): Promise<void> {
  for (const hook of hooksFor(definition, 'retries_exhausted')) await hook(error, ...args);
}

async function failed(
  definition: JobDefinition | undefined,
  raised: unknown,
  args: JsonValue[],
): Promise<Error> {
  const error = raised instanceof Error ? raised : new Error(String(raised));
  try {
    for (const hook of hooksFor(definition, 'on_failure')) await hook(error, ...args);
    return error;
  } catch (hookError) {
    const message = hookError instanceof Error ? hookError.message : String(hookError);
    return new FailureHookError(`${message}: while trying to handle ${error.name}: ${error.message}`, error);
  }
}

/**
 * An on_failure hook threw: this error, named `Error` as Ruby's combined one is, replaces the job's in the record;
 * whether the job is retried is still decided on the job's own error, its `cause`.
 */
export class FailureHookError extends Error {
  constructor(
    message: string,
    override readonly cause: Error,
  ) {
    super(message, { cause });
    this.name = 'Error';
  }
}
