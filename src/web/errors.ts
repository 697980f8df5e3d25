import { WrongTypeError } from '../api/key-types.js';
import { ResqueError } from '../errors/index.js';
import type { Reply } from './context.js';
import { errorPage } from './views/error.js';

/** A request the dashboard refuses: bad CSRF token, read-only mode. */
export class ForbiddenError extends Error {
  readonly status = 403;
  readonly code = 'FORBIDDEN';
}

/** No such page, worker or key. */
export class NotFoundError extends Error {
  readonly status = 404;
  readonly code = 'NOT_FOUND';
}

/** A bad parameter or body. */
export class BadRequestError extends Error {
  readonly status = 400;
  readonly code = 'BAD_REQUEST';
}

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  REDIS_CONNECTION: 503,
  QUEUE_NOT_FOUND: 404,
  FAILURE_NOT_FOUND: 404,
  FAILURE_NOT_RETRYABLE: 409,
  INVALID_QUEUE_NAME: 400,
  INVALID_CLASS_NAME: 400,
  INVALID_ARGUMENTS: 400,
  INVALID_JOB_ID: 400,
  CONFIG_INVALID: 400,
};

/**
 * Maps an error to a status and code: our named errors by code, keys of the wrong type as 409, RangeErrors (bad
 * paging) as 400, others 500.
 */
export function classify(error: unknown): { status: number; code: string; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ResqueError)
    return { status: STATUS_BY_CODE[error.code] ?? 500, code: error.code, message };
  if (error instanceof ForbiddenError || error instanceof NotFoundError || error instanceof BadRequestError) {
    return { status: error.status, code: error.code, message };
  }
  if (error instanceof WrongTypeError) return { status: 409, code: error.code, message };
  if (error instanceof RangeError) return { status: 400, code: 'BAD_REQUEST', message };
  return { status: 500, code: 'INTERNAL', message: 'Internal error' };
}

/** The error as a page (or a JSON body for the API): `{"error":{"code","message"}}`. */
export function errorReply(error: unknown, api: boolean): Reply {
  const { status, code, message } = classify(error);
  if (status === 500) console.error('resque dashboard:', error);
  if (api) return { kind: 'json', status, body: { error: { code, message } } };
  const body = errorPage(status, code, message);
  // A page that could not reach Redis keeps polling, and shows the real page once Redis answers again.
  return { kind: 'page', status, title: titleOf(status), tab: undefined, body, live: status === 503 };
}

function titleOf(status: number): string {
  if (status === 503) return "Can't connect to Redis";
  if (status === 404) return 'Not found';
  if (status === 403) return 'Forbidden';
  if (status === 400) return 'Bad request';
  if (status === 409) return 'Conflict';
  return 'Error';
}
