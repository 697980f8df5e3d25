import type { Logger } from '../logging/logger.js';

/** Redis bookkeeping that must not be dropped: retried with backoff (up to 5 s) through outages. */
export async function retryForever(
  operation: () => Promise<unknown>,
  logger: Logger,
  attempts = Number.POSITIVE_INFINITY,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await operation();
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
      logger.warn(`Redis write failed (attempt ${attempt}), retrying: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 5000)));
    }
  }
}
