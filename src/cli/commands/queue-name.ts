import type { Admin } from '../../api/admin.js';
import { QueueNotFoundError } from '../../errors/index.js';
import { assertQueueName } from '../../protocol/names.js';

/**
 * Passes when the queue exists, whatever its name (Ruby may have made it). Otherwise a name no queue may have is a
 * bad command line (InvalidQueueNameError, exit 2) and a valid one is simply not there (QueueNotFoundError, exit 1).
 */
export async function existingQueue(admin: Admin, name: string): Promise<void> {
  if (await admin.hasQueue(name)) return;
  assertQueueName(name);
  throw new QueueNotFoundError(name);
}
