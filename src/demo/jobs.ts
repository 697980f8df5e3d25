import { setTimeout as sleep } from 'node:timers/promises';
import { defineJob } from '../jobs/define.js';

/**
 * Jobs for `resque demo` and for trying a worker: quick ones that succeed, ones that fail (always, or for some
 * arguments) and slow ones that honour their abort signal. Load them with `resque work --require <this module>`.
 */

/** Succeeds at once. */
export const SendWelcomeEmail = defineJob({
  className: 'Demo::SendWelcomeEmail',
  queue: 'mail',
  perform: async (_ctx, _userId: number, _email: string) => {},
});

/** Takes `workMs` milliseconds; stops early when the worker aborts it (shutdown, USR1, timeout). */
export const ResizeImage = defineJob({
  className: 'Demo::ResizeImage',
  queue: 'images',
  perform: async (ctx, _path: string, _width: number, workMs: number) => {
    await sleep(workMs, undefined, { signal: ctx.signal });
  },
});

export class CardDeclinedError extends Error {
  override name = 'CardDeclined';
}

/** Fails for amounts divisible by 7 (a declined card), succeeds otherwise. */
export const ChargeCard = defineJob({
  className: 'Demo::ChargeCard',
  queue: 'billing',
  perform: async (_ctx, orderId: number, cents: number) => {
    if (cents % 7 === 0) throw new CardDeclinedError(`card declined for order ${orderId} (${cents} cents)`);
  },
});

/** Always fails, the way a job with a bug does. */
export const ExportReport = defineJob({
  className: 'Demo::ExportReport',
  queue: 'reports',
  perform: async (_ctx, reportId: string) => {
    throw new Error(`could not export ${reportId}: upstream timed out`);
  },
});

/** Fails its first two attempts (a flaky upstream) and succeeds on the third: it waits on the Retries tab meanwhile. */
export const FetchRates = defineJob({
  className: 'Demo::FetchRates',
  queue: 'billing',
  attempts: 3,
  backoff: { type: 'exponential', delayMs: 3000, jitter: 0.2 },
  perform: async (ctx, day: number) => {
    if (ctx.attempt < 3) throw new Error(`rates service unavailable for day ${day} (attempt ${ctx.attempt})`);
  },
});

export const demoJobs = [SendWelcomeEmail, ResizeImage, ChargeCard, ExportReport, FetchRates] as const;

/** The demo's queues, in the priority order a demo worker takes them. */
export const DEMO_QUEUES: readonly string[] = [...new Set(demoJobs.map((job) => job.queue!))];
