import { InvalidJobIdError } from '../errors/index.js';

/**
 * What a job id may hold to be cancelled: the ids resque-ts gives (24 hex characters) and any id of letters, digits
 * and `_.:-`. Cancelling finds a job by matching `"id":"<id>"` in its bytes and `*-<id>` in the delayed index, so
 * quotes, backslashes and glob characters are refused rather than matched loosely.
 */
const JOB_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export function checkJobId(id: unknown): string {
  if (typeof id !== 'string' || !JOB_ID.test(id)) throw new InvalidJobIdError(id);
  return id;
}
